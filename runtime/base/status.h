// Status and error codes: the value every fallible engine call returns.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace sluice {

/// The error families a caller may want to tell apart. Messages carry the detail.
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,  // bad user input: job file, flag, expression, config key
  kNotFound,         // a file, node, field or plugin that does not exist
  kAlreadyExists,    // e.g. an output directory that already holds committed files
  kTypeError,        // an expression or schema type mismatch
  kParseError,       // a malformed input record or message
  kCorruption,       // a message or stored file that fails validation
  kIOError,          // the operating system refused a file or socket operation
  kCancelled,        // the work was stopped on request
  kUnavailable,      // a peer is unreachable; retrying may help
  kInternal,         // a bug: an invariant that should have held did not
  kUserCodeError,    // user code (plugin, function) threw
};

std::string_view statusCodeName(StatusCode code);

/// Outcome of an operation. A `Status` is cheap to pass when OK (no allocation).
/// It must not be ignored: discarding one is a compile error unless spelled
/// `(void)` or passed to `ignoreError()`, so every dropped error is greppable.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);

  static Status OK() { return Status(); }
  static Status invalidArgument(std::string message) { return {StatusCode::kInvalidArgument, std::move(message)}; }
  static Status notFound(std::string message) { return {StatusCode::kNotFound, std::move(message)}; }
  static Status alreadyExists(std::string message) { return {StatusCode::kAlreadyExists, std::move(message)}; }
  static Status typeError(std::string message) { return {StatusCode::kTypeError, std::move(message)}; }
  static Status parseError(std::string message) { return {StatusCode::kParseError, std::move(message)}; }
  static Status corruption(std::string message) { return {StatusCode::kCorruption, std::move(message)}; }
  static Status ioError(std::string message) { return {StatusCode::kIOError, std::move(message)}; }
  static Status cancelled(std::string message) { return {StatusCode::kCancelled, std::move(message)}; }
  static Status unavailable(std::string message) { return {StatusCode::kUnavailable, std::move(message)}; }
  static Status internal(std::string message) { return {StatusCode::kInternal, std::move(message)}; }
  static Status userCodeError(std::string message) { return {StatusCode::kUserCodeError, std::move(message)}; }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  const std::string& message() const;

  /// "code: message", or "OK".
  std::string toString() const;

  /// Returns a copy whose message is `context + ": " + message`.
  Status withContext(std::string_view context) const;

  bool operator==(const Status& other) const { return code() == other.code() && message() == other.message(); }

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const State> state_;
};

/// Drops a status on purpose; the name makes every such place searchable.
inline void ignoreError(const Status&) {}

}  // namespace sluice

/// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define SLUICE_RETURN_NOT_OK(expr)                 \
  do {                                             \
    ::sluice::Status _sluiceStatus = (expr);       \
    if (!_sluiceStatus.ok()) return _sluiceStatus; \
  } while (false)
