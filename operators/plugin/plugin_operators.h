// Registration of the plugin node kinds (`process`, `plugin`) with the planner.
#pragma once

namespace sluice {

/// Registers the `process` and `plugin` kinds in NodeRegistry::instance().
/// Idempotent and thread-safe. Plugins themselves are loaded when the first
/// node of a job that uses one is planned (every plugin the job declares is
/// loaded then).
void registerPluginOperators();

}  // namespace sluice
