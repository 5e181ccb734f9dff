// Lane: one share of a runner's partitions, with its own queue, mapping, batching, committer and
// PostgreSQL connection (Sink). Lanes run in parallel; each partition is in one lane at a time,
// so per-item order holds inside a lane (a partition's records are committed in reader order).
//
//   readers (one per held partition) ──queue──▶ mapper (Run) ──batch──▶ Committer ──▶ Sink
//
// The lease manager Assign()s claimed partitions, Release()s some (balancing: done at the next
// batch boundary, after committing what was read) and Drop()s lost ones. A batch whose commit
// finds a lease gone is discarded; the lost partitions are dropped, the others rewound to their
// committed positions and read again (nothing committed twice, nothing skipped).
//
// Ownership: borrows the source, plans, metrics and clock; owns its sink, readers and threads.
// Thread-safety: Assign/Release/Drop/RequestStop/Take*/progress from any thread; Run on one.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/option_defaults.h"
#include "core/bounded_queue.h"
#include "core/clock.h"
#include "core/fetch_gate.h"
#include "pipeline/batch_builder.h"
#include "pipeline/committer.h"
#include "pipeline/lease_store.h"
#include "pipeline/commit_counters.h"
#include "pipeline/metrics.h"
#include "pipeline/record_source.h"
#include "pipeline/sink.h"

namespace ddb2pg::pipeline {

struct LaneOptions {
  size_t queue_capacity = core::defaults::kQueueMaxRecords;  // records read, not yet mapped
  size_t queue_max_bytes = core::defaults::kQueueMaxBytes;   // the same in Record::ApproxBytes
  int batch_max_rows = core::defaults::kBatchMaxRows;
  int batch_max_bytes = core::defaults::kBatchMaxBytes;
  std::chrono::milliseconds batch_max_delay{core::defaults::kBatchMaxDelayMs};
  std::chrono::milliseconds reconnect_backoff_max{5000};
  // Source pages the lane's readers may hold at once (core/fetch_gate.h): bounds memory whatever
  // the number of partitions; enough to keep the mapper busy.
  int fetch_slots = core::defaults::kFetchSlots;  // config runtime.fetch_slots
};

struct LaneProgress : CommitCounters {
  int64_t last_lag_ms = -1;
  // When the oldest record read but not committed yet was read (steady clock); none: caught up.
  std::optional<std::chrono::steady_clock::time_point> oldest_uncommitted_read;
  int64_t snapshot_records = 0;  // committed records that came from the Scan
  int partitions = 0;
  int segments = 0;
  bool connected = false;
};

// A partition a lane finished or gave up, for the lease manager.
struct LaneEvent {
  enum class Kind { kFinished, kReleased, kLost } kind = Kind::kFinished;
  HeldLease lease;
  std::string why;
};

class Lane {
 public:
  Lane(int index, RecordSource& source, std::unique_ptr<Sink> sink, std::vector<const processor::MappingPlan*> plans,
       Metrics& metrics, const std::string& source_name, LaneOptions options, const core::Clock& clock);
  ~Lane();

  // The mapper loop: until RequestStop (→ Ok after the final commit) or a fatal error.
  core::Status Run();
  void RequestStop() { stop_requested_ = true; }

  void Assign(ClaimedPartition lease, const std::string& stream_arn);
  void Release(const std::string& partition_id, const std::string& why);
  void Drop(const std::string& partition_id);
  std::vector<LaneEvent> TakeEvents();
  // Partition ids held now (assigned, not yet released, dropped or finished).
  std::vector<std::string> Held() const;
  LaneProgress progress() const;
  // True once the partition's final record is committed but the lane has not reported it yet.
  bool FinishedUncollected(const std::string& partition_id) const { return Committed(partition_id) == kDonePosition; }
  // A reader's error (kTrimmedData: data lost upstream), Ok while healthy; taken once (cleared).
  core::Status TakeSourceError();
  int index() const { return index_; }

 private:
  struct Slot {
    ClaimedPartition lease;
    std::string stream_arn;
    std::unique_ptr<PartitionReader> reader;
    uint64_t tag = 0;
    std::string flushed;    // position at the end of the last batch handed to the committer
    bool done_read = false;  // its final record was mapped
    int64_t before_watermark_counted = 0;  // of reader->skipped_before_watermark(), in the metric
  };
  struct Control {
    enum class Kind { kAssign, kRelease, kDrop } kind;
    ClaimedPartition lease;
    std::string stream_arn;
    std::string why;
  };

  void HandleControl();
  void StartReader(Slot& slot);
  void RemoveSlot(const std::string& id, LaneEvent::Kind kind, const std::string& why);
  // Whether a segment partition of this lane still has pages to come (its last record not mapped).
  bool ReadingASegment() const;
  // Whether more records are about to come: a segment still read, or a shard reader catching up
  // (PartitionReader::catching_up).
  bool ReaderCatchingUp() const;
  core::Status Flush();
  core::Status HandleProblem(CommitProblem problem);
  void RewindAll();
  void OnCommitted(const BuiltBatch& batch, const CommitResult& result, double seconds);
  void Emit(LaneEvent event);
  std::string Committed(const std::string& id) const;

  static constexpr const char* kDonePosition = "\x01done";

  const int index_;
  RecordSource& source_;
  std::unique_ptr<Sink> sink_;
  Metrics& metrics_;
  const std::string source_name_;
  const LaneOptions options_;
  const core::Clock& clock_;
  core::BoundedQueue<core::Record> queue_;
  core::FetchGate fetch_gate_;
  BatchBuilder builder_;
  std::atomic<bool> stop_requested_{false};
  std::unique_ptr<Committer> committer_;

  std::map<std::string, Slot> slots_;          // mapper thread only (contents of committed: mutex_)
  std::map<uint64_t, std::string> tag_owner_;  // reader tag → partition id (mapper thread)
  uint64_t next_tag_ = 1;
  std::optional<std::chrono::steady_clock::time_point> batch_deadline_;
  std::optional<std::chrono::steady_clock::time_point> batch_first_read_;   // the batch being built (mutex_)

  mutable std::mutex mutex_;  // guards what follows
  std::vector<Control> control_;
  std::vector<LaneEvent> events_;
  std::vector<std::string> held_;
  std::map<std::string, std::string> committed_;  // partition → position committed (kDonePosition once done)
  std::vector<std::string> newly_done_;            // partitions committed done since HandleControl last looked
  LaneProgress progress_;
  core::Status source_error_;

  prometheus::Counter* commits_counter_;
  prometheus::Histogram* commit_latency_;
  prometheus::Histogram* lag_;
  std::vector<prometheus::Counter*> rows_written_, dead_letters_, skipped_;  // per pipeline, plan order
  std::vector<prometheus::Counter*> direct_writes_, staged_writes_;          // ddb2pg_table_writes_total
};

}  // namespace ddb2pg::pipeline
