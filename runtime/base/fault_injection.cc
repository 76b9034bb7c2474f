#include "runtime/base/fault_injection.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "runtime/base/logging.h"

namespace sluice {
namespace {

struct FaultSpec {
  bool active = false;
  std::string point;
  std::string action;
  long skip = 0;
};

const FaultSpec& spec() {
  static const FaultSpec parsed = [] {
    FaultSpec out;
    const char* value = std::getenv("SLUICE_FAULT_INJECTION");
    if (value == nullptr || *value == '\0') return out;
    std::string text = value;
    size_t first = text.find(':');
    if (first == std::string::npos) return out;
    size_t second = text.find(':', first + 1);
    out.point = text.substr(0, first);
    out.action = text.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
    if (second != std::string::npos) out.skip = std::strtol(text.c_str() + second + 1, nullptr, 10);
    out.active = out.action == "kill" || out.action == "fail" || out.action == "stall";
    return out;
  }();
  return parsed;
}

std::atomic<long> hits{0};
constexpr long kStallMillis = 4000;

}  // namespace

Status faultPoint(std::string_view point) {
  const FaultSpec& fault = spec();
  if (!fault.active || point != fault.point) return Status::OK();
  const long hit = hits.fetch_add(1);
  if (hit < fault.skip) return Status::OK();
  if (fault.action == "stall") {
    if (hit > fault.skip) return Status::OK();  // once
    logger("fault")->warn("fault injection: stall for {} ms at '{}'", kStallMillis, point);
    std::this_thread::sleep_for(std::chrono::milliseconds(kStallMillis));
    return Status::OK();
  }
  logger("fault")->warn("fault injection: {} at '{}'", fault.action, point);
  if (fault.action == "kill") {
    ::kill(::getpid(), SIGKILL);
    ::pause();
  }
  return Status::internal("fault injected at '" + std::string(point) + "'");
}

}  // namespace sluice
