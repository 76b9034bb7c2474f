#include "runtime/base/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <mutex>

namespace sluice {
namespace {

std::mutex& registryMutex() {
  static std::mutex mutex;
  return mutex;
}

spdlog::level::level_enum& currentLevel() {
  static spdlog::level::level_enum level = spdlog::level::warn;
  return level;
}

}  // namespace

std::shared_ptr<spdlog::logger> logger(const std::string& module) {
  std::lock_guard lock(registryMutex());
  if (auto existing = spdlog::get(module)) return existing;
  auto created = spdlog::stderr_color_mt(module);
  created->set_level(currentLevel());
  created->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [%n] %v");
  return created;
}

bool setLogLevel(const std::string& level) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;
  std::lock_guard lock(registryMutex());
  currentLevel() = parsed;
  spdlog::apply_all([parsed](const std::shared_ptr<spdlog::logger>& each) { each->set_level(parsed); });
  return true;
}

void initLoggingFromEnvironment() {
  if (const char* level = std::getenv("SLUICE_LOG_LEVEL")) {
    setLogLevel(level);
  }
}

}  // namespace sluice
