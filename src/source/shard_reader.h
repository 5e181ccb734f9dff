// ShardReader: one stream shard, as one partition (the shard id), read in steps on the runner's
// ShardPoller (no thread of its own).
//
// Reads the shard after the partition's position (AFTER_SEQUENCE_NUMBER), from TRIM_HORIZON when
// it has none, from LATEST for a fresh stream-only start at latest, or from a snapshot's
// watermark (source/stream_watermark.h): its stored iterator, else TRIM_HORIZON skipping records
// older than the watermark's time less the fallback margin. Each change is a record
// whose offset is its sequence number; when GetRecords returns no NextShardIterator the shard is
// closed and fully read: a marker with partition_done goes out and the reader ends.
//
// Polling: back to back while pages come back full (a backlog); after a partial page it waits
// poll_interval; after each empty page in a row it waits twice as long as the last time, from
// poll_interval up to idle_poll_ceiling (so a quiet shard costs about 1000 / idle_poll_ceiling_ms
// GetRecords calls a second, and the first change after a quiet spell waits at most that long,
// plus the runner's GetRecords ceiling: see ShardPoller; while the runner reads a Scan, up to
// kIdlePollCeilingFactorWhileScanning times that). An expired iterator resumes after the
// last sequence number read. TrimmedDataAccessException ends the reader with kTrimmedData.
//
// Each page is fetched holding a slot of the lane's fetch gate, kept until every record of the
// page is in the lane's queue; a full queue or gate parks the step (ShardPoller::Next), never
// the thread. An idle poll (the last page was not a backlog) waits at the gate behind readers
// that are catching up, for at most the gate's idle patience (core/fetch_gate.h).
//
// Ownership: borrows the API, the clock, the queue, the gate and the poller (they outlive it).
// Thread-safety: Stop(), status(), records(), skipped_before_watermark() and catching_up() from any
// thread.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "aws/dynamodb_api.h"
#include "core/bounded_queue.h"
#include "core/clock.h"
#include "core/fetch_gate.h"
#include "core/option_defaults.h"
#include "core/record.h"
#include "pipeline/record_source.h"
#include "source/reader_thread_slots.h"
#include "source/shard_poller.h"

namespace ddb2pg::source {

struct ShardReaderOptions {
  std::string table;
  std::string stream_arn;
  std::string shard_id;
  int poll_interval_ms = core::defaults::kPollIntervalMs;  // after a partial page; backlog pages are read back to back
  int idle_poll_ceiling_ms = core::defaults::kIdlePollCeilingMs;  // the longest wait between polls of a quiet shard
  // The runner's Scan reader threads: while one runs, a quiet shard backs off up to
  // idle_poll_ceiling_ms × kIdlePollCeilingFactorWhileScanning. Null: never.
  const ReaderThreadSlots* scans = nullptr;
  int get_records_limit = core::defaults::kGetRecordsLimit;  // the service maximum
  std::shared_ptr<const aws::AttributeSelection> decode_only;
};

class ShardReader final : public pipeline::PartitionReader, private ShardPoller::Task {
 public:
  // `resume_after`: the last sequence number read, "" for TRIM_HORIZON, or
  // pipeline::ClaimedPartition::kLatestPosition. `gate`: null for unbounded.
  ShardReader(ShardReaderOptions options, std::string resume_after, aws::StreamsApi& api, const core::Clock& clock,
              core::BoundedQueue<core::Record>* out, uint64_t tag, core::FetchGate* gate, ShardPoller& poller);
  ~ShardReader() override { Stop(); }

  // The wait after an empty page that follows `empty_pages_before` empty pages in a row:
  // poll_interval doubled each time, up to idle_poll_ceiling (× kIdlePollCeilingFactorWhileScanning
  // while `scanning`).
  static int64_t IdleWaitMs(int empty_pages_before, const ShardReaderOptions& options, bool scanning);

  void Start();
  void Stop() override;
  core::Status status() const override;
  int64_t records() const override { return records_.load(); }
  int64_t skipped_before_watermark() const override { return skipped_before_watermark_.load(); }
  bool catching_up() const override { return catching_up_.load(std::memory_order_relaxed); }

 private:
  ShardPoller::Next Step() override;
  bool Urgent() const override { return catching_up_.load(std::memory_order_relaxed) || !pending_.empty(); }
  bool WantsGetRecords() const override { return pending_.empty() && !iterator_.empty(); }

  // Pushes what the last page left; then the page's own next step.
  ShardPoller::Next Deliver();
  ShardPoller::Next Fail(core::Status status);
  ShardPoller::Next After(std::chrono::milliseconds wait) const;
  void ReleaseSlot();
  // Reading from TRIM_HORIZON instead of a watermark's iterator: skips records until one at or
  // after the cutoff time is pushed.
  void FallBackFromWatermark(const std::string& why);

  const ShardReaderOptions options_;
  aws::StreamsApi& api_;
  const core::Clock& clock_;
  core::BoundedQueue<core::Record>* const out_;
  const uint64_t tag_;
  core::FetchGate* const gate_;
  ShardPoller& poller_;

  // Step state (one step at a time, on the poller).
  std::string iterator_;
  bool on_watermark_iterator_ = false;
  std::string last_sequence_number_;
  bool start_latest_ = false;
  int64_t watermark_taken_ms_ = 0;   // 0: the position was no watermark
  int64_t watermark_margin_ms_ = 0;  // skipped: older than the watermark less this
  int64_t cutoff_ms_ = 0;            // 0: nothing is skipped
  bool slot_held_ = false;
  std::deque<core::Record> pending_;  // the page's records not in the queue yet
  bool closed_after_pending_ = false;  // pending_ ends with the shard's done marker
  ShardPoller::Next after_page_;
  int empty_pages_ = 0;               // in a row

  uint64_t poll_id_ = 0;  // written by ShardPoller::Add under its lock, before the first step
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> records_{0};
  std::atomic<int64_t> skipped_before_watermark_{0};
  std::atomic<bool> catching_up_{true};  // no page yet, or the last one was a backlog page
  mutable std::mutex mutex_;
  core::Status status_;
};

}  // namespace ddb2pg::source
