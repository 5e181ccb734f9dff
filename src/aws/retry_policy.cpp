#include "aws/retry_policy.h"

#include <atomic>

#include <algorithm>
#include <cstdio>
#include <random>

namespace ddb2pg::aws {
namespace {

double ThreadLocalJitter() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

uint64_t Load(const std::atomic<uint64_t>& counter) { return counter.load(std::memory_order_relaxed); }

}  // namespace

void RetryStats::RecordRetry(AwsOperation operation, core::StatusCode cause) {
  by_cause_[static_cast<size_t>(cause)].fetch_add(1, std::memory_order_relaxed);
  by_operation_[static_cast<size_t>(operation)].fetch_add(1, std::memory_order_relaxed);
}

void RetryStats::RecordGaveUp(AwsOperation operation) {
  gave_up_[static_cast<size_t>(operation)].fetch_add(1, std::memory_order_relaxed);
}

void RetryStats::RecordUnprocessedItems(uint64_t items) {
  unprocessed_items_.fetch_add(items, std::memory_order_relaxed);
}

uint64_t RetryStats::retries() const {
  uint64_t total = 0;
  for (const auto& counter : by_operation_) total += Load(counter);
  return total;
}

uint64_t RetryStats::retries(core::StatusCode cause) const { return Load(by_cause_[static_cast<size_t>(cause)]); }

uint64_t RetryStats::retries(AwsOperation operation) const {
  return Load(by_operation_[static_cast<size_t>(operation)]);
}

uint64_t RetryStats::gave_up() const {
  uint64_t total = 0;
  for (const auto& counter : gave_up_) total += Load(counter);
  return total;
}

uint64_t RetryStats::gave_up(AwsOperation operation) const { return Load(gave_up_[static_cast<size_t>(operation)]); }

uint64_t RetryStats::unprocessed_items() const { return Load(unprocessed_items_); }

RetryPolicy::RetryPolicy(RetryOptions options, JitterSource jitter)
    : options_(options), jitter_(jitter ? std::move(jitter) : JitterSource(ThreadLocalJitter)) {
  options_.max_attempts = std::max(options_.max_attempts, 1);
}

std::chrono::nanoseconds RetryPolicy::BackoffCeiling(int retry) const {
  const std::chrono::nanoseconds cap = options_.max_delay;
  std::chrono::nanoseconds ceiling = options_.base_delay;
  // Doubling stops at the cap, so the shift can never overflow.
  for (int i = 1; i < retry && ceiling < cap; ++i) ceiling *= 2;
  return std::min(ceiling, cap);
}

std::chrono::nanoseconds RetryPolicy::Backoff(int retry) const {
  const double fraction = std::clamp(jitter_(), 0.0, 1.0);
  const auto ceiling = BackoffCeiling(retry);
  return std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(ceiling.count()) * fraction));
}

namespace {
std::atomic<bool> g_retries_stopped{false};
}  // namespace

void StopAllRetries() { g_retries_stopped = true; }
void AllowRetries() { g_retries_stopped = false; }
bool RetriesStopped() { return g_retries_stopped.load(); }

RetryLoop::RetryLoop(const RetryPolicy& policy, AwsOperation operation, const core::Clock& clock,
                     RetryStats& stats)
    : policy_(policy),
      operation_(operation),
      clock_(clock),
      stats_(stats),
      start_(clock.Monotonic()),
      deadline_(start_ + policy.options().deadline) {}

core::Status RetryLoop::OnFailure(const core::Status& failure) {
  if (failure.ok() || !failure.retryable()) return failure;
  if (RetriesStopped()) return core::Status::Cancelled(failure.message() + " (not retried: stopping)");

  const auto now = clock_.Monotonic();
  const auto sleep = policy_.Backoff(attempts_in_round_);
  const bool out_of_attempts = attempts_in_round_ >= policy_.options().max_attempts;
  if (out_of_attempts || now + sleep >= deadline_) {
    stats_.RecordGaveUp(operation_);
    const double seconds = std::chrono::duration<double>(now - start_).count();
    char elapsed[32];
    std::snprintf(elapsed, sizeof(elapsed), "%.1f", seconds);
    std::string message = failure.message();
    message += " (gave up after ";
    message += std::to_string(attempts_);
    message += attempts_ == 1 ? " attempt in " : " attempts in ";
    message += elapsed;
    message += " s: ";
    message += out_of_attempts ? "attempt limit reached)" : "retry deadline reached)";
    return {core::StatusCode::kDeadlineExceeded, std::move(message)};
  }
  stats_.RecordRetry(operation_, failure.code());
  clock_.SleepFor(sleep);  // SystemClock::StopSleeping ends it early at shutdown
  if (RetriesStopped()) return core::Status::Cancelled(failure.message() + " (not retried: stopping)");
  ++attempts_;
  ++attempts_in_round_;
  return core::Status::Ok();
}

}  // namespace ddb2pg::aws
