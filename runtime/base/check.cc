#include "runtime/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace sluice::detail {

void checkFailed(const char* file, int line, const char* condition, const std::string& message) {
  std::fprintf(stderr, "sluice: check failed at %s:%d: %s (%s)\n", file, line, condition, message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace sluice::detail
