// FetchGate: a counting semaphore that bounds how many source pages a lane holds at once.
//
// A partition reader takes a slot before each Scan or GetRecords call and gives it back once
// every record of that page is in the lane's queue (or dropped). A decoded page is the largest
// thing a reader holds (up to ~1 MB on the wire, several MB decoded), so with many partitions per
// lane (16 segments, then 16 shards) the slots, not the partition count, bound the lane's memory:
// about slots × a decoded page + the queue + two batches. Waiting for a slot is interruptible.
// A reader on a shared thread (source/shard_poller.h) never waits: TryAcquire leaves a waiter
// that a Release calls (FIFO) until one still wants the slot.
//
// Thread-safety: every method is safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

namespace ddb2pg::core {

class FetchGate {
 public:
  explicit FetchGate(int slots) : free_(slots < 1 ? 1 : slots) {}

  // Waits for a slot; false (no slot taken) once *cancelled turns true.
  bool Acquire(const std::atomic<bool>& cancelled) {
    std::unique_lock lock(mutex_);
    while (free_ == 0) {
      if (cancelled.load()) return false;
      released_.wait_for(lock, std::chrono::milliseconds(20));
    }
    if (cancelled.load()) return false;
    --free_;
    return true;
  }
  // Takes a slot now (true), or (false) queues `on_free`, called from a later Release (on the
  // releasing thread, no lock held): it returns whether its owner still wants a slot (it then
  // calls TryAcquire again; a false passes the turn to the next waiter).
  bool TryAcquire(std::function<bool()> on_free) {
    std::lock_guard lock(mutex_);
    if (free_ > 0) {
      --free_;
      return true;
    }
    waiters_.push_back(std::move(on_free));
    return false;
  }
  void Release() {
    {
      std::lock_guard lock(mutex_);
      ++free_;
    }
    released_.notify_one();
    for (;;) {
      std::function<bool()> waiter;
      {
        std::lock_guard lock(mutex_);
        if (waiters_.empty() || free_ == 0) return;
        waiter = std::move(waiters_.front());
        waiters_.pop_front();
      }
      if (waiter()) return;
    }
  }

  // Holds one slot for a scope (or none, when the gate is null or the wait was cancelled).
  class Slot {
   public:
    Slot(FetchGate* gate, const std::atomic<bool>& cancelled)
        : gate_(gate != nullptr && gate->Acquire(cancelled) ? gate : nullptr), held_(gate == nullptr || gate_ != nullptr) {}
    ~Slot() { Release(); }
    // Gives the slot back early (before a pause: a sleeping reader holds no page).
    void Release() {
      if (gate_ != nullptr) gate_->Release();
      gate_ = nullptr;
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    // False when the wait for a slot was cancelled: the caller must not fetch.
    bool held() const { return held_; }

   private:
    FetchGate* gate_;
    bool held_;
  };

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  int free_;
  std::deque<std::function<bool()>> waiters_;
};

}  // namespace ddb2pg::core
