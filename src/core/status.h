// Status and Result: expected failures as values.
//
// A Status says what went wrong and, through its code, whether retrying the same call can help
// (leveldb's status.h, Redpanda's errc). Exceptions are kept for start-up, configuration and
// fatal errors; everything a running pipeline can meet comes back as a Status.
//
// Thread-safety: plain values; safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ddb2pg::core {

enum class StatusCode {
  kOk,
  kInvalidArgument,    // bad input: a malformed item, a bad setting. Final.
  kNotFound,           // a table, stream or key that does not exist. Final.
  kPermissionDenied,   // credentials refused. Final.
  kUnavailable,        // network error, 5xx, a server not up yet. Retryable.
  kThrottled,          // the server asked us to slow down. Retryable.
  kExpiredIterator,    // DynamoDB Streams: the shard iterator is older than 15 min.
  kTrimmedData,        // DynamoDB Streams: the position is older than the trim point (data lost upstream).
  kConflict,           // another runner holds the checkpoint (fenced out). Final.
  kDeadlineExceeded,   // retries ran out of time.
  kCancelled,          // shutdown was requested.
  kFailedPrecondition, // the environment is not as required (a stream not NEW_AND_OLD_IMAGES, a
                       // target table without a usable key). Final; a check failure.
  kDataError,          // a record or row that cannot be written and must stop the run: a mapping
                       // error or a row PostgreSQL rejects, under on_error: stop. Final.
  kInternal,           // a bug or an impossible state. Final.
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Throttled(std::string m) { return {StatusCode::kThrottled, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status DataError(std::string m) { return {StatusCode::kDataError, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // True when the same call may succeed later without any change on our side.
  bool retryable() const { return code_ == StatusCode::kUnavailable || code_ == StatusCode::kThrottled; }
  // A fault that passes by itself: retryable(), or a call whose own retries ran out of time (a
  // server down or restarting longer than the client's retry deadline). Waited out, not fatal.
  bool transient() const { return retryable() || code_ == StatusCode::kDeadlineExceeded; }

  // "Unavailable: connection refused" — the form used in logs and error lines.
  std::string ToString() const;

  // Prefixes context: Status::NotFound("x").WithContext("DescribeTable users") →
  // "DescribeTable users: x", same code.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : data_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(data_).ok() && "a Result holding a Status must hold an error");
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace ddb2pg::core

// Returns early with the Status of `expr` when it is not ok.
#define DDB2PG_RETURN_IF_ERROR(expr)                \
  do {                                              \
    ::ddb2pg::core::Status ddb2pg_status_ = (expr); \
    if (!ddb2pg_status_.ok()) return ddb2pg_status_; \
  } while (false)

#define DDB2PG_CONCAT_INNER(a, b) a##b
#define DDB2PG_CONCAT(a, b) DDB2PG_CONCAT_INNER(a, b)
// Declares `lhs` from a Result, returning its Status early when it failed.
#define DDB2PG_ASSIGN_OR_RETURN(lhs, expr) \
  DDB2PG_ASSIGN_OR_RETURN_IMPL(DDB2PG_CONCAT(ddb2pg_result_, __LINE__), lhs, expr)
#define DDB2PG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
