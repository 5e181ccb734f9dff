// BoundedQueue: a blocking multi-producer, multi-consumer FIFO with a fixed capacity, in items
// and optionally in bytes.
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
// The byte budget (when a sizer is given) counts what the sizer says of each item, measured by the
// producer before it takes the lock. One item is always let in, however large, so an item bigger
// than the budget passes alone instead of blocking forever.
//
// Thread-safety: every method is safe to call from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

namespace ddb2pg::core {

template <typename T>
class BoundedQueue {
 public:
  using Sizer = std::function<size_t(const T&)>;

  explicit BoundedQueue(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  // Also full while the items hold `byte_capacity` bytes or more, as `sizer` measures them.
  BoundedQueue(size_t capacity, size_t byte_capacity, Sizer sizer)
      : capacity_(capacity == 0 ? 1 : capacity), byte_capacity_(byte_capacity), sizer_(std::move(sizer)) {}

  // Blocks while full. False when the queue was closed (the item is dropped).
  bool Push(T item) {
    const size_t bytes = Measure(item);
    std::unique_lock lock(mutex_);
    if (!closed_ && FullLocked()) {
      ++waiting_producers_;
      not_full_.wait(lock, [&] { return closed_ || !FullLocked(); });
      --waiting_producers_;
    }
    if (closed_) return false;
    AddLocked(std::move(item), bytes);
    return true;
  }

  // Like Push, but also gives up (false, item dropped) once *cancelled turns true while waiting
  // for room: how one producer among many is stopped without closing the queue for the others.
  bool PushUnless(T item, const std::atomic<bool>& cancelled) {
    const size_t bytes = Measure(item);
    std::unique_lock lock(mutex_);
    while (!closed_ && FullLocked()) {
      if (cancelled.load()) return false;
      ++waiting_producers_;
      not_full_.wait_for(lock, std::chrono::milliseconds(20));
      --waiting_producers_;
    }
    if (closed_ || cancelled.load()) return false;
    AddLocked(std::move(item), bytes);
    return true;
  }

  // Never blocks: moves `item` in and returns true when there is room; false (item untouched)
  // while full or once closed. For producers that must not park a shared thread (ShardPoller).
  bool TryPush(T& item) {
    const size_t bytes = Measure(item);
    std::lock_guard lock(mutex_);
    if (closed_ || FullLocked()) return false;
    AddLocked(std::move(item), bytes);
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
      out->push_back(std::move(items_.front().item));
      bytes_ -= items_.front().bytes;
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
  // What the items now in the queue hold, as the sizer measures them (0 without one).
  size_t bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
  }

 private:
  std::optional<T> TakeLocked() {
    if (items_.empty()) return std::nullopt;
    std::optional<T> item(std::move(items_.front().item));
    bytes_ -= items_.front().bytes;
    items_.pop_front();
    WakeProducersLocked();
    return item;
  }

  struct Entry {
    T item;
    size_t bytes;
  };

  size_t Measure(const T& item) const { return sizer_ ? sizer_(item) : 0; }
  bool FullLocked() const {
    return items_.size() >= capacity_ || (byte_capacity_ > 0 && !items_.empty() && bytes_ >= byte_capacity_);
  }
  void AddLocked(T item, size_t bytes) {
    items_.push_back(Entry{std::move(item), bytes});
    bytes_ += bytes;
    not_empty_.notify_one();
  }

  // Blocked producers wait for the queue to drain to half its capacity (items and bytes), then
  // all refill it.
  void WakeProducersLocked() {
    if (waiting_producers_ > 0 && items_.size() <= capacity_ / 2 &&
        (byte_capacity_ == 0 || bytes_ <= byte_capacity_ / 2)) {
      not_full_.notify_all();
    }
  }

  const size_t capacity_;
  const size_t byte_capacity_ = 0;  // 0: no byte budget
  const Sizer sizer_;
  size_t bytes_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<Entry> items_;
  size_t waiting_producers_ = 0;
  bool closed_ = false;
};

}  // namespace ddb2pg::core
