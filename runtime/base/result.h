// Result<T>: a value or the Status that explains why there is none.
#pragma once

#include <optional>
#include <utility>

#include "runtime/base/check.h"
#include "runtime/base/status.h"

namespace sluice {

/// Holds either a `T` or a non-OK `Status`. Construct from a value or from an
/// error; constructing from an OK status is a bug and aborts.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    SLUICE_CHECK(!status_.ok(), "Result constructed from an OK status");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  /// REQUIRES: ok().
  T& value() & {
    SLUICE_CHECK(ok(), status_.toString());
    return *value_;
  }
  const T& value() const& {
    SLUICE_CHECK(ok(), status_.toString());
    return *value_;
  }
  T&& value() && {
    SLUICE_CHECK(ok(), status_.toString());
    return std::move(*value_);
  }
  T valueOr(T fallback) const { return ok() ? *value_ : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace sluice

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)
#define SLUICE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

/// `SLUICE_ASSIGN_OR_RETURN(auto x, f());` binds the value or returns the error.
#define SLUICE_ASSIGN_OR_RETURN(lhs, expr) \
  SLUICE_ASSIGN_OR_RETURN_IMPL(SLUICE_CONCAT(_sluiceResult, __LINE__), lhs, expr)
