// Registration of the built-in sources, sinks and operator kinds.
#pragma once

namespace sluice {

/// Registers in NodeRegistry::instance(): sources `file` and `generator`;
/// sinks `file`, `print` and `discard`; operator kind `map`. Idempotent and
/// thread-safe: later calls do nothing.
void registerBuiltinOperators();

}  // namespace sluice
