// FetchGate: a counting semaphore that bounds how many source pages a lane holds at once.
//
// A partition reader takes a slot before each Scan or GetRecords call and gives it back once
// every record of that page is in the lane's queue (or dropped). A decoded page is the largest
// thing a reader holds (up to ~1 MB on the wire, several MB decoded), so with many partitions per
// lane (16 segments, then 16 shards) the slots, not the partition count, bound the lane's memory:
// about slots × a decoded page + the queue + two batches. Waiting for a slot is interruptible.
// A reader on a shared thread (source/shard_poller.h) never waits: TryAcquire leaves a waiter
// that a Release calls until one still wants the slot.
//
// Waiters come in two kinds. A reader with a backlog (records waiting behind its last page, or
// no page read yet) is urgent; an idle poll (a quiet shard checking for news) is not. A freed slot
// goes to the urgent waiters first, in FIFO order, so a runner catching up on 1,000 shards does
// not spend every other slot on asking drained shards whether they have news (each such call
// costs as much as a page's own). An idle waiter that has waited `idle_patience` goes first
// instead (taking turns with the urgent ones when every idle waiter is that old): a quiet shard
// waits about that long more behind busy ones, never for ever, and a busy one is never starved.
//
// Thread-safety: every method is safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

#include "core/option_defaults.h"

namespace ddb2pg::core {

class FetchGate {
 public:
  explicit FetchGate(int slots,
                     std::chrono::milliseconds idle_patience = std::chrono::milliseconds(defaults::kIdlePollCeilingMs))
      : free_(slots < 1 ? 1 : slots), idle_patience_(idle_patience) {}

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
  // calls TryAcquire again; a false passes the turn to the next waiter). `urgent`: see above.
  bool TryAcquire(std::function<bool()> on_free, bool urgent = true) {
    std::lock_guard lock(mutex_);
    if (free_ > 0) {
      --free_;
      return true;
    }
    if (urgent) {
      waiters_.push_back(std::move(on_free));
    } else {
      idle_waiters_.push_back({std::move(on_free), std::chrono::steady_clock::now()});
    }
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
        if (free_ == 0) return;
        // An idle waiter past its patience goes first, but never twice in a row while an urgent
        // one waits (else, with every idle waiter that old, the urgent ones would never go).
        const bool idle_aged = !idle_waiters_.empty() &&
                               std::chrono::steady_clock::now() - idle_waiters_.front().since >= idle_patience_;
        const bool take_idle = !idle_waiters_.empty() && (waiters_.empty() || (idle_aged && !aged_idle_went_last_));
        aged_idle_went_last_ = take_idle && !waiters_.empty();
        if (take_idle) {
          waiter = std::move(idle_waiters_.front().on_free);
          idle_waiters_.pop_front();
        } else if (!waiters_.empty()) {
          waiter = std::move(waiters_.front());
          waiters_.pop_front();
        } else {
          return;
        }
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
  struct IdleWaiter {
    std::function<bool()> on_free;
    std::chrono::steady_clock::time_point since;
  };
  const std::chrono::milliseconds idle_patience_;
  std::deque<std::function<bool()>> waiters_;  // urgent
  std::deque<IdleWaiter> idle_waiters_;
  bool aged_idle_went_last_ = false;
};

}  // namespace ddb2pg::core
