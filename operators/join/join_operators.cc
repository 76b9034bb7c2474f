// registerJoinOperators: maps the join kind names to their factories.
#include "operators/join/join_operators.h"

#include <mutex>

#include "operators/join/join_factory.h"

namespace sluice {

void registerJoinOperators() {
  static std::once_flag once;
  std::call_once(once, [] {
    NodeRegistry& registry = NodeRegistry::instance();
    registry.registerOperator("join", planRegularJoinNode);
    registry.registerOperator("interval_join", planIntervalJoinNode);
    registry.registerOperator("window_join", planWindowJoinNode);
  });
}

}  // namespace sluice
