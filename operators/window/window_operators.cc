// registerWindowOperators: maps the window kind names to their factories.
#include "operators/window/window_operators.h"

#include <mutex>

#include "operators/window/window_factories.h"
#include "runtime/job/node_factory.h"

namespace sluice {

void registerWindowOperators() {
  static std::once_flag once;
  std::call_once(once, [] {
    NodeRegistry& registry = NodeRegistry::instance();
    registry.registerOperator("window", window::planWindowAggregateNode);
    registry.registerOperator("window_top_n", window::planWindowTopNNode);
  });
}

}  // namespace sluice
