// ReaderThreadSlots: a runner-wide bound on Scan reader threads running at once, over every source.
// A file of 50 tables with 4 Scan segments each would otherwise start 200 threads at once; with
// this, the first `max` run and each further one starts, in the order asked, when one ends.
//
// Start(work) runs `work` on a new thread now if a slot is free, else queues it; the thread gives
// its slot to the next queued start when `work` returns (started on that ending thread). Cancel()
// takes a queued start back, or waits until a start already under way has created its thread.
//
// Ownership: created by src/app for the runner and borrowed by its sources' readers (it outlives
// them). Thread-safety: every method from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <set>

namespace ddb2pg::source {

class ReaderThreadSlots {
 public:
  // Creates the thread (returning it to its owner); `run_then_release` is what it must run.
  using Launch = std::function<void(std::function<void()> run_then_release)>;

  explicit ReaderThreadSlots(int max) : max_(max < 1 ? 1 : max) {}

  // A ticket: Cancel() it when the reader stops.
  uint64_t Start(Launch launch);
  // Takes a queued start back (true), or waits for one under way to have launched (false).
  bool Cancel(uint64_t ticket);

  int running() const;
  int queued() const;

 private:
  struct Pending {
    uint64_t ticket;
    Launch launch;
  };
  // Launches `pending` with a slot already counted for it.
  void LaunchWithSlot(Pending pending);
  void Release();

  const int max_;
  mutable std::mutex mutex_;
  std::condition_variable launched_;
  int running_ = 0;
  uint64_t next_ticket_ = 1;
  std::deque<Pending> queue_;
  std::set<uint64_t> launching_;  // popped from the queue, thread not created yet
};

}  // namespace ddb2pg::source
