// Registration of the join node kinds with the planner.
#pragma once

namespace sluice {

/// Registers operator kinds `join`, `interval_join` and `window_join` in
/// NodeRegistry::instance(). Idempotent and thread-safe.
void registerJoinOperators();

}  // namespace sluice
