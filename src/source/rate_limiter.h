// RateLimiter: an items-per-second budget shared by the snapshot's Scan segments.
//
// Debt-based token bucket: a caller reports the items it just read and is told how long to wait
// before reading more, so the long-run rate over all callers stays at or under the limit while
// a single page is never split. A rate of 0 disables it.
// Thread-safety: Reserve() is safe from any thread.
#pragma once

#include <chrono>
#include <mutex>

namespace ddb2pg::source {

class RateLimiter {
 public:
  explicit RateLimiter(double items_per_second) : items_per_second_(items_per_second) {}

  // Accounts `items` read at `now`; returns how long the caller should wait before its next read.
  std::chrono::nanoseconds Reserve(int64_t items, std::chrono::steady_clock::time_point now) {
    if (items_per_second_ <= 0 || items <= 0) return std::chrono::nanoseconds(0);
    std::lock_guard lock(mutex_);
    if (next_free_ < now) next_free_ = now;
    next_free_ += std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(items) * 1e9 / items_per_second_));
    return next_free_ - now;
  }

 private:
  const double items_per_second_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point next_free_{};
};

}  // namespace ddb2pg::source
