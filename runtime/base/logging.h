// One named spdlog logger per module, all writing to stderr with a shared level.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace sluice {

/// Returns the logger for `module` ("runtime", "task", "client", ...), creating it
/// on first use. Thread-safe. Its level follows `setLogLevel` / SLUICE_LOG_LEVEL.
std::shared_ptr<spdlog::logger> logger(const std::string& module);

/// Sets the level of every module logger ("trace", "debug", "info", "warn",
/// "error", "off"). Returns false for an unknown level name.
bool setLogLevel(const std::string& level);

/// Applies SLUICE_LOG_LEVEL when it is set; the default level is "warn".
void initLoggingFromEnvironment();

}  // namespace sluice
