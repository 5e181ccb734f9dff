// ReaderThread: what a threaded partition reader (SegmentReader; shards are steps on the
// ShardPoller instead) has — its thread, its stop flag, its final status
// and its record count, and the interruptible sleep its retries and polls use.
//
// A subclass implements Read() (runs on the thread; returns when the partition is read to its end,
// on a fatal error, or once stopping() turns true). Start() once; Stop() (also from the destructor
// of the subclass, which must call it) sets the flag and joins; a push blocked on a full queue
// gives up within ~20 ms (BoundedQueue::PushUnless). With thread slots, the thread starts when
// the runner has a slot free; Stop() before then means it never starts.
//
// Thread-safety: Stop(), status() and records() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "core/bounded_queue.h"
#include "core/clock.h"
#include "core/fetch_gate.h"
#include "core/record.h"
#include "pipeline/record_source.h"
#include "source/reader_thread_slots.h"

namespace ddb2pg::source {

class ReaderThread : public pipeline::PartitionReader {
 public:
  ReaderThread(core::BoundedQueue<core::Record>* out, uint64_t tag, const core::Clock& clock)
      : out_(out), tag_(tag), clock_(clock) {}
  ~ReaderThread() override { Stop(); }

  // The lane's bound on pages held at once (see core/fetch_gate.h); before Start().
  void SetFetchGate(core::FetchGate* gate) { gate_ = gate; }
  // The runner's bound on such threads (reader_thread_slots.h); before Start(). Null: none.
  void SetThreadSlots(ReaderThreadSlots* slots) { slots_ = slots; }
  void Start(std::string thread_name);
  void Stop() override;
  core::Status status() const override;
  int64_t records() const override { return records_.load(); }

 protected:
  virtual core::Status Read() = 0;
  bool stopping() const { return stopping_.load(); }
  // Tags and pushes; false once stopping.
  bool Push(core::Record record);
  void CountRecord() { records_.fetch_add(1); }
  // Sleeps on the injected clock in short steps; returns early once stopping.
  void SleepUnlessStopping(std::chrono::nanoseconds duration) const;
  const core::Clock& clock() const { return clock_; }
  // A slot for one page: held from the fetch until its records are queued.
  core::FetchGate::Slot PageSlot() { return core::FetchGate::Slot(gate_, stopping_); }

 private:
  core::BoundedQueue<core::Record>* out_;
  const uint64_t tag_;
  core::FetchGate* gate_ = nullptr;
  const core::Clock& clock_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> records_{0};
  mutable std::mutex mutex_;
  core::Status status_;
  ReaderThreadSlots* slots_ = nullptr;
  std::atomic<uint64_t> ticket_{0};
  std::mutex thread_mutex_;  // thread_: created on the slot's thread, joined by Stop()
  std::thread thread_;
};

}  // namespace ddb2pg::source
