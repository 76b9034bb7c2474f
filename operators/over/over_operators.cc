// registerOverOperators: maps the sort and over kind names to their factories.
#include "operators/over/over_operators.h"

#include <mutex>

#include "operators/over/over_factories.h"
#include "runtime/job/node_factory.h"

namespace sluice {

void registerOverOperators() {
  static std::once_flag once;
  std::call_once(once, [] {
    NodeRegistry& registry = NodeRegistry::instance();
    registry.registerOperator("sort", over::planSortNode);
    registry.registerOperator("over", over::planOverNode);
  });
}

}  // namespace sluice
