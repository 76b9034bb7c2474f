// Invariant checks: a failed check is a bug, so it logs where and why and aborts.
#pragma once

#include <sstream>
#include <string>

namespace sluice::detail {
[[noreturn]] void checkFailed(const char* file, int line, const char* condition, const std::string& message);
}  // namespace sluice::detail

/// SLUICE_CHECK(cond, message): aborts with file, line, condition and message when false.
#define SLUICE_CHECK(condition, ...)                                                           \
  do {                                                                                         \
    if (!(condition)) [[unlikely]] {                                                           \
      ::sluice::detail::checkFailed(__FILE__, __LINE__, #condition, std::string(__VA_ARGS__)); \
    }                                                                                          \
  } while (false)

/// SLUICE_CHECK_EQ(a, b) etc.: like SLUICE_CHECK and prints both operands.
#define SLUICE_CHECK_OP(a, b, op)                                                                \
  do {                                                                                           \
    const auto& _sluiceA = (a);                                                                  \
    const auto& _sluiceB = (b);                                                                  \
    if (!(_sluiceA op _sluiceB)) [[unlikely]] {                                                  \
      std::ostringstream _sluiceStream;                                                          \
      _sluiceStream << _sluiceA << " vs " << _sluiceB;                                           \
      ::sluice::detail::checkFailed(__FILE__, __LINE__, #a " " #op " " #b, _sluiceStream.str()); \
    }                                                                                            \
  } while (false)
#define SLUICE_CHECK_EQ(a, b) SLUICE_CHECK_OP(a, b, ==)
#define SLUICE_CHECK_NE(a, b) SLUICE_CHECK_OP(a, b, !=)
#define SLUICE_CHECK_LT(a, b) SLUICE_CHECK_OP(a, b, <)
#define SLUICE_CHECK_LE(a, b) SLUICE_CHECK_OP(a, b, <=)
#define SLUICE_CHECK_GE(a, b) SLUICE_CHECK_OP(a, b, >=)
