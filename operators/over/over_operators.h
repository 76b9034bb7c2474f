// Registration of the over node kinds (`sort`, `over`) with the planner.
#pragma once

namespace sluice {

/// Registers the `sort` and `over` kinds in NodeRegistry::instance().
/// Idempotent and thread-safe; called from the worker's job preparation.
void registerOverOperators();

}  // namespace sluice
