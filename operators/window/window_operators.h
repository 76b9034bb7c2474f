// Registration of the window node kinds (`window`, `window_top_n`) with the planner.
#pragma once

namespace sluice {

/// Registers the window kinds in NodeRegistry::instance(). Idempotent and
/// thread-safe; called from the built-in registration.
void registerWindowOperators();

}  // namespace sluice
