// Status and Result: how errors flow through Fachadapter (never as exceptions).
//
// Header-only, shared by the core library and the connector SDK. Status codes are the gRPC
// codes, chosen by the rules in docs/errors.md (after Abseil's status guidance).
#ifndef FACHADAPTER_STATUS_H_
#define FACHADAPTER_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace fachadapter {

/// gRPC status codes, same numbers as grpc::StatusCode.
enum class StatusCode : int {
  kOk = 0,                  ///< Success.
  kCancelled = 1,           ///< The caller cancelled.
  kUnknown = 2,             ///< Error without a better code.
  kInvalidArgument = 3,     ///< The request is wrong whatever the state (bad field, type, value).
  kDeadlineExceeded = 4,    ///< The deadline passed.
  kNotFound = 5,            ///< Entity or record does not exist.
  kAlreadyExists = 6,       ///< A record with that key exists.
  kPermissionDenied = 7,    ///< The caller may not do this.
  kResourceExhausted = 8,   ///< A limit was reached.
  kFailedPrecondition = 9,  ///< The state forbids it; fix the state first (idempotency key reused).
  kAborted = 10,            ///< Concurrency conflict; retry at a higher level (stale etag).
  kOutOfRange = 11,         ///< Past the valid range.
  kUnimplemented = 12,      ///< The operation is not supported here.
  kInternal = 13,           ///< A bug: an invariant broke.
  kUnavailable = 14,        ///< The back end is unreachable; the caller may retry.
  kDataLoss = 15,           ///< Unrecoverable data corruption.
  kUnauthenticated = 16,    ///< No valid credentials.
};

/// Returns the upper-case gRPC name of a code, e.g. "INVALID_ARGUMENT".
inline const char* StatusCodeName(StatusCode code) {
  static const char* const kNames[] = {
      "OK",           "CANCELLED",         "UNKNOWN",          "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",    "ALREADY_EXISTS",   "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",   "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE",      "DATA_LOSS",
      "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return (i >= 0 && i <= 16) ? kNames[i] : "UNKNOWN";
}

/// The outcome of an operation: OK, or a code with a plain message, a machine-readable
/// reason (UPPER_SNAKE_CASE) and the offending field.
class [[nodiscard]] Status {
 public:
  /// OK.
  Status() = default;
  /// An error (or OK if code is kOk).
  Status(StatusCode code, std::string message, std::string reason = {}, std::string field = {})
      : code_(code), message_(std::move(message)), reason_(std::move(reason)),
        field_(std::move(field)) {}

  /// The OK status.
  static Status OK() { return Status(); }

  /// True on success.
  bool ok() const { return code_ == StatusCode::kOk; }
  /// The code.
  StatusCode code() const { return code_; }
  /// The plain message.
  const std::string& message() const { return message_; }
  /// The machine-readable reason; may be empty.
  const std::string& reason() const { return reason_; }
  /// The offending field; may be empty.
  const std::string& field() const { return field_; }

  /// Returns a copy with `prefix` put in front of the message ("prefix: message").
  Status WithContext(std::string_view prefix) const {
    if (ok()) return *this;
    std::string msg(prefix);
    msg += ": ";
    msg += message_;
    return Status(code_, std::move(msg), reason_, field_);
  }
  /// Returns a copy with the field set.
  Status WithField(std::string field) const {
    Status s = *this;
    s.field_ = std::move(field);
    return s;
  }

  /// "CODE: message" for logs.
  std::string ToString() const {
    if (ok()) return "OK";
    std::string s = StatusCodeName(code_);
    s += ": ";
    s += message_;
    return s;
  }

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_ && a.reason_ == b.reason_ &&
           a.field_ == b.field_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string reason_;
  std::string field_;
};

/// INVALID_ARGUMENT with reason and field.
inline Status InvalidArgument(std::string message, std::string reason = "INVALID_ARGUMENT",
                              std::string field = {}) {
  return Status(StatusCode::kInvalidArgument, std::move(message), std::move(reason),
                std::move(field));
}
/// NOT_FOUND with reason and field.
inline Status NotFound(std::string message, std::string reason = "NOT_FOUND",
                       std::string field = {}) {
  return Status(StatusCode::kNotFound, std::move(message), std::move(reason), std::move(field));
}
/// FAILED_PRECONDITION with reason.
inline Status FailedPrecondition(std::string message, std::string reason = "FAILED_PRECONDITION",
                                 std::string field = {}) {
  return Status(StatusCode::kFailedPrecondition, std::move(message), std::move(reason),
                std::move(field));
}
/// UNAVAILABLE with reason.
inline Status Unavailable(std::string message, std::string reason = "BACKEND_UNAVAILABLE") {
  return Status(StatusCode::kUnavailable, std::move(message), std::move(reason));
}
/// INTERNAL with reason.
inline Status Internal(std::string message, std::string reason = "INTERNAL") {
  return Status(StatusCode::kInternal, std::move(message), std::move(reason));
}
/// UNIMPLEMENTED with reason.
inline Status Unimplemented(std::string message, std::string reason = "UNIMPLEMENTED") {
  return Status(StatusCode::kUnimplemented, std::move(message), std::move(reason));
}

/// A value of type T, or the Status why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  /// A value.
  Result(T value) : rep_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  /// An error; `status` must not be OK.
  Result(Status status) : rep_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(rep_).ok());
  }

  /// True if a value is held.
  bool ok() const { return rep_.index() == 1; }
  /// The error, or OK.
  Status status() const { return ok() ? Status() : std::get<Status>(rep_); }
  /// The value; only when ok().
  T& value() & { return std::get<T>(rep_); }
  /// The value; only when ok().
  const T& value() const& { return std::get<T>(rep_); }
  /// The value moved out; only when ok().
  T&& value() && { return std::get<T>(std::move(rep_)); }
  /// Access to the value; only when ok().
  T* operator->() { return &value(); }
  /// Access to the value; only when ok().
  const T* operator->() const { return &value(); }
  /// The value; only when ok().
  T& operator*() & { return value(); }
  /// The value; only when ok().
  const T& operator*() const& { return value(); }

 private:
  std::variant<Status, T> rep_;
};

}  // namespace fachadapter

#define FA_STATUS_CONCAT_INNER_(a, b) a##b
#define FA_STATUS_CONCAT_(a, b) FA_STATUS_CONCAT_INNER_(a, b)

/// Returns the Status of `expr` from the enclosing function if it is not OK.
#define FA_RETURN_IF_ERROR(expr)                       \
  do {                                                 \
    ::fachadapter::Status fa_status_ = (expr);         \
    if (!fa_status_.ok()) return fa_status_;           \
  } while (false)

/// Evaluates `rexpr` (a Result<T>); returns its Status if not OK, else assigns the value to `lhs`.
#define FA_ASSIGN_OR_RETURN(lhs, rexpr) \
  FA_ASSIGN_OR_RETURN_IMPL_(FA_STATUS_CONCAT_(fa_result_, __LINE__), lhs, rexpr)
#define FA_ASSIGN_OR_RETURN_IMPL_(result, lhs, rexpr) \
  auto result = (rexpr);                              \
  if (!result.ok()) return result.status();           \
  lhs = std::move(result).value()

#endif  // FACHADAPTER_STATUS_H_
