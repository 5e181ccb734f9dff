// BoundedQueue: a blocking multi-producer, multi-consumer FIFO with a fixed capacity.
//
// Joins pipeline stages: a full queue blocks the producer, which is how backpressure travels
// from a slow sink back to the Scan and GetRecords calls, and why memory stays bounded whatever
// the table size. Close() wakes everyone: producers then fail to push, consumers drain what is
// left and then get nullopt.
//
// Wake-ups are batched, because each one is a futex call and a context switch (expensive on
// this class of VM: per-record hand-offs cost the snapshot more than its mapping did): a full
// queue wakes its blocked producers once it has drained to half its capacity, not on every pop,
// and consumers take many items per lock with PopMany.
//
// Thread-safety: every method is safe to call from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace ddb2pg::core {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Blocks while full. False when the queue was closed (the item is dropped).
  bool Push(T item) {
    std::unique_lock lock(mutex_);
    if (!closed_ && items_.size() >= capacity_) {
      ++waiting_producers_;
      not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
      --waiting_producers_;
    }
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Like Push, but also gives up (false, item dropped) once *cancelled turns true while waiting
  // for room: how one producer among many is stopped without closing the queue for the others.
  bool PushUnless(T item, const std::atomic<bool>& cancelled) {
    std::unique_lock lock(mutex_);
    while (!closed_ && items_.size() >= capacity_) {
      if (cancelled.load()) return false;
      ++waiting_producers_;
      not_full_.wait_for(lock, std::chrono::milliseconds(20));
      --waiting_producers_;
    }
    if (closed_ || cancelled.load()) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Blocks while empty. nullopt once closed and drained.
  std::optional<T> Pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    return TakeLocked();
  }

  // Like Pop, but gives up after `timeout` (nullopt, queue still open).
  template <typename Rep, typename Period>
  std::optional<T> PopFor(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mutex_);
    not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
    return TakeLocked();
  }

  // Moves up to `max` items into *out (appended) under one lock; waits up to `timeout` while the
  // queue is empty. Returns how many were taken: 0 on timeout, or once closed and drained.
  template <typename Rep, typename Period>
  size_t PopMany(std::vector<T>* out, size_t max, std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mutex_);
    if (items_.empty() && !closed_ && timeout.count() > 0) {
      not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
    }
    const size_t n = std::min(max, items_.size());
    for (size_t i = 0; i < n; ++i) {
      out->push_back(std::move(items_.front()));
      items_.pop_front();
    }
    if (n > 0) WakeProducersLocked();
    return n;
  }

  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }

 private:
  std::optional<T> TakeLocked() {
    if (items_.empty()) return std::nullopt;
    std::optional<T> item(std::move(items_.front()));
    items_.pop_front();
    WakeProducersLocked();
    return item;
  }

  // Blocked producers wait for the queue to drain to half its capacity, then all refill it.
  void WakeProducersLocked() {
    if (waiting_producers_ > 0 && items_.size() <= capacity_ / 2) not_full_.notify_all();
  }

  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<T> items_;
  size_t waiting_producers_ = 0;
  bool closed_ = false;
};

}  // namespace ddb2pg::core
