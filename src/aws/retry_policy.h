// Retrying AWS calls: exponential backoff with full jitter, bounded by a number of attempts and a
// total deadline, with every retry counted for metrics.
//
// The sleep before retry n (n = 1 for the first retry) is uniform in [0, min(max_delay,
// base_delay * 2^(n-1))] ("full jitter", the AWS Architecture Blog's recommendation: it spreads
// many throttled clients apart). Time is read with Clock::Monotonic and slept with
// Clock::SleepFor, so tests use a fake clock and never really sleep.
//
// Only retryable statuses (core::Status::retryable(): kThrottled, kUnavailable) are retried.
// When the attempts or the deadline run out, the result is kDeadlineExceeded with the last
// error's message and how long was tried, e.g. "Scan users: ThrottlingException: Rate exceeded
// (gave up after 10 attempts in 31.2 s)"; the last error's kind is in RetryStats.
//
// Thread-safety: RetryPolicy is immutable after construction and safe to share (the default
// jitter source is thread-local). RetryStats is atomic and safe from any thread. A RetryLoop is
// one call's state: one thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "aws/aws_error.h"
#include "core/clock.h"
#include "core/retry_counts.h"
#include "core/status.h"

namespace ddb2pg::aws {

struct RetryOptions {
  std::chrono::milliseconds base_delay{50};   // upper bound of the first retry's sleep
  std::chrono::milliseconds max_delay{5000};  // upper bound of any one sleep
  int max_attempts = 10;                      // attempts in all, the first included; >= 1
  std::chrono::milliseconds deadline{60000};  // from the start of the first attempt; no retry
                                              // starts (nor sleep) that would end after it
};

using core::kStatusCodeCount;

// Counters the metrics layer reads: retries by the error kind that caused them and by operation,
// calls that gave up, and BatchWriteItem items re-sent because DynamoDB left them unprocessed.
class RetryStats : public core::RetryCounts {
 public:
  void RecordRetry(AwsOperation operation, core::StatusCode cause);
  void RecordGaveUp(AwsOperation operation);
  void RecordUnprocessedItems(uint64_t items);

  uint64_t retries() const;  // all retries
  uint64_t retries(core::StatusCode cause) const override;
  uint64_t retries(AwsOperation operation) const;
  uint64_t gave_up() const;
  uint64_t gave_up(AwsOperation operation) const;
  uint64_t unprocessed_items() const;

 private:
  std::array<std::atomic<uint64_t>, kStatusCodeCount> by_cause_{};
  std::array<std::atomic<uint64_t>, kAwsOperationCount> by_operation_{};
  std::array<std::atomic<uint64_t>, kAwsOperationCount> gave_up_{};
  std::atomic<uint64_t> unprocessed_items_{0};
};

class RetryPolicy {
 public:
  // Returns a number in [0, 1); must be safe to call from any thread that uses the policy.
  using JitterSource = std::function<double()>;

  // An empty `jitter` uses a thread-local pseudo-random generator. Tests pass a constant.
  explicit RetryPolicy(RetryOptions options = {}, JitterSource jitter = {});

  const RetryOptions& options() const { return options_; }

  // The sleep before retry number `retry` (1 = the first retry), jitter applied.
  std::chrono::nanoseconds Backoff(int retry) const;
  // The upper bound Backoff(retry) draws from: min(max_delay, base_delay * 2^(retry-1)).
  std::chrono::nanoseconds BackoffCeiling(int retry) const;

 private:
  RetryOptions options_;
  JitterSource jitter_;
};

// One call's retry state: counts attempts, keeps the deadline, sleeps between attempts.
//
//   RetryLoop loop(policy, AwsOperation::kScan, clock, stats);
//   while (true) {
//     auto result = attempt();
//     if (result.ok()) return result;
//     DDB2PG_RETURN_IF_ERROR(loop.OnFailure(result.status()));  // slept; try again
//   }
class RetryLoop {
 public:
  // The deadline starts now. `policy`, `clock` and `stats` must outlive the loop.
  RetryLoop(const RetryPolicy& policy, AwsOperation operation, const core::Clock& clock, RetryStats& stats);

  // After a failed attempt: Ok after sleeping when another attempt may be made; otherwise the
  // status to return — `failure` itself when it is not retryable, kDeadlineExceeded when the
  // attempts or the deadline ran out.
  core::Status OnFailure(const core::Status& failure);

  // Forgets the attempts made so far (the deadline stays): for work that made progress, such as
  // a BatchWriteItem whose unprocessed items shrank.
  void ResetAttempts() { attempts_in_round_ = 1; }

  int attempts() const { return attempts_; }  // attempts made so far, resets not counting

 private:
  const RetryPolicy& policy_;
  AwsOperation operation_;
  const core::Clock& clock_;
  RetryStats& stats_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point deadline_;
  int attempts_ = 1;
  int attempts_in_round_ = 1;
};

// Process-wide: once called (a stop was requested: SIGTERM), every RetryLoop gives up at once —
// a failure is returned as kCancelled instead of being retried (with core::SystemClock::
// StopSleeping, a backoff in progress ends too) — so a shutdown during an AWS outage takes
// seconds, not the 60 s retry deadline.
void StopAllRetries();
void AllowRetries();  // undoes StopAllRetries (tests)
bool RetriesStopped();

// Runs `attempt` under a RetryLoop until it succeeds or the loop says stop.
template <typename T>
core::Result<T> RunWithRetries(const RetryPolicy& policy, AwsOperation operation, const core::Clock& clock,
                               RetryStats& stats, const std::function<core::Result<T>()>& attempt) {
  RetryLoop loop(policy, operation, clock, stats);
  while (true) {
    core::Result<T> result = attempt();
    if (result.ok()) return result;
    DDB2PG_RETURN_IF_ERROR(loop.OnFailure(result.status()));
  }
}

}  // namespace ddb2pg::aws
