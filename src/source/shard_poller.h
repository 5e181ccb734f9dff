// ShardPoller: the runner's stream readers — a fixed pool of threads that steps every held
// shard (of every source) instead of a thread per shard.
//
// A Task is one shard's reader as a state machine: Step() does at most one AWS call and never
// waits on a queue or a fetch gate; it says when it wants to run again: at once (a backlog: it
// goes to the back of the ready queue, behind every other ready shard, so one busy shard cannot
// starve the others), at a time (its poll interval or idle back-off, a retry), when its lane's
// fetch gate has a slot (the gate calls Wake), or never (the shard is read or failed).
//
// Ready tasks wait in two queues. A task with a backlog (Task::Urgent) runs before one that only
// polls a quiet shard: at 1,000 shards, the quiet ones' polls (up to the GetRecords ceiling a
// second) would otherwise stand in front of every page of the shards still catching up, and a
// catch-up's last pages came at a trickle. A quiet shard's poll that has waited idle_patience_ms
// runs next regardless (taking turns with the backlogs when every quiet poll is that old), so
// busy shards delay a quiet one by at most about that much, and neither kind starves.
//
// The ceiling on GetRecords calls a second is the runner's: a step that will call GetRecords
// takes its turn from a shared budget first (source/rate_limiter.h), so many idle shards cost at
// most that many calls a second; the wait spreads over the shards in FIFO order.
//
// Ownership: borrows its tasks between Add() and Remove(); owns its threads (started at the
// first Add, joined by the destructor, which needs every task removed).
// Thread-safety: every method is safe from any thread; one task's steps never overlap.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/option_defaults.h"
#include "source/rate_limiter.h"

namespace ddb2pg::source {

struct ShardPollerOptions {
  int threads = core::defaults::kStreamReaderThreads;
  double max_get_records_per_second = core::defaults::kMaxGetRecordsPerSecond;  // 0: no ceiling
  int idle_patience_ms = core::defaults::kIdlePollCeilingMs;  // the longest a ready quiet poll waits behind backlogs
};

class ShardPoller {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  struct Next {
    enum class Kind {
      kNow,   // ready again at once (behind the other ready tasks)
      kAt,    // ready at `at`
      kGate,  // parked until Wake() (a fetch gate's slot came free)
      kEnd,   // never again
    };
    Kind kind = Kind::kNow;
    TimePoint at{};
    static Next Now() { return {Kind::kNow, {}}; }
    static Next At(TimePoint at) { return {Kind::kAt, at}; }
    static Next Gate() { return {Kind::kGate, {}}; }
    static Next End() { return {Kind::kEnd, {}}; }
  };

  class Task {
   public:
    virtual ~Task() = default;
    // Runs on a pool thread; at most one AWS call; never blocks on a queue or a gate.
    virtual Next Step() = 0;
    // Whether the next Step() will call GetRecords (it waits for the runner's budget first).
    virtual bool WantsGetRecords() const = 0;
    // Whether the task has a backlog (or has not read yet, or holds a page): it runs before quiet
    // polls. Called with the poller's lock held and never while the task's step runs: it must not
    // block or call back into the poller.
    virtual bool Urgent() const { return true; }
  };

  explicit ShardPoller(ShardPollerOptions options = {}, const core::Clock& clock = core::SystemClock::Instance());
  ~ShardPoller();
  ShardPoller(const ShardPoller&) = delete;
  ShardPoller& operator=(const ShardPoller&) = delete;

  // Schedules `task` at once. Its id is written to *id before its first step can run (a step
  // may hand the id to a fetch gate's waiter).
  void Add(Task* task, uint64_t* id);
  // Waits for a step in progress to end; then the task is never stepped again.
  void Remove(uint64_t id);
  // A parked task (Next::kGate) is ready again. False when the task is gone or ended: a fetch
  // gate then offers the slot to its next waiter.
  bool Wake(uint64_t id);

  // GetRecords calls made through this poller since it started (the metric).
  int64_t get_records_calls() const { return get_records_calls_.load(); }
  void CountGetRecords() { get_records_calls_.fetch_add(1); }
  int tasks() const;
  const ShardPollerOptions& options() const { return options_; }

 private:
  enum class State { kReady, kTimed, kRunning, kParked, kEnded };
  struct Entry {
    Task* task = nullptr;
    State state = State::kReady;
    bool woken = false;     // Wake() while running
    bool removing = false;  // Remove() while running: erased when the step ends
    std::multimap<TimePoint, uint64_t>::iterator timed;
  };

  void Work();
  void StartThreadsLocked();
  void MakeReadyLocked(uint64_t id, Entry& entry, TimePoint now);
  // The next ready task (0: none): the oldest quiet poll once it has waited idle_patience_ms (but
  // not twice in a row while an urgent task is ready), else the first urgent task, else the first
  // quiet poll.
  uint64_t TakeReadyLocked(TimePoint now);
  bool AnyReadyLocked() const { return !ready_.empty() || !idle_ready_.empty(); }

  const ShardPollerOptions options_;
  const core::Clock& clock_;
  RateLimiter budget_;
  std::atomic<int64_t> get_records_calls_{0};

  mutable std::mutex mutex_;
  std::condition_variable wake_;      // workers: a task is ready, a time came, or shutdown
  std::condition_variable finished_;  // Remove(): a step ended
  std::unordered_map<uint64_t, Entry> entries_;
  std::deque<uint64_t> ready_;                                // urgent
  std::deque<std::pair<uint64_t, TimePoint>> idle_ready_;     // quiet polls, with when they became ready
  bool aged_idle_went_last_ = false;  // the last pick was a quiet poll past its patience, ahead of a backlog
  std::multimap<TimePoint, uint64_t> timed_;
  TimePoint timer_deadline_ = TimePoint::max();  // what the worker that watches the time waits for
  uint64_t next_id_ = 1;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ddb2pg::source
