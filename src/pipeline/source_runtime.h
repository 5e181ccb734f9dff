// SourceRuntime: one DynamoDB source and every pipeline that reads it, into PostgreSQL.
//
//   source threads ──BoundedQueue<Record>──▶ mapper thread ──batch──▶ committer thread ──▶ PostgresSink
//
// The source is read once and fanned out: each record is mapped by every pipeline of the source
// (one MappingPlan per target table), and the rows of all tables, the dead letters and the
// source position after the batch's last record are committed in one transaction. Records are
// processed in queue order, so the position folded from committed records has no gap: after any
// crash the restart resumes exactly after the last commit (exactly-once effect).
//
// Batches close at batch_max_rows rows, batch_max_bytes bytes or batch_max_delay after their
// first record, whichever comes first, so a quiet stream still commits promptly. The mapper
// hands each closed batch to the committer and maps the next one meanwhile: at most one batch
// is in flight, commits happen in order, and PostgreSQL's work overlaps the mapping.
//
// Failure handling: a lost PostgreSQL connection → reconnect with backoff and resume from the
// committed checkpoint (a commit whose acknowledgement was lost is recognised by the checkpoint
// it wrote); another runner taking over the checkpoint (fence) → kConflict, stop; a mapping error
// → the pipeline's on_error policy; a fatal source error → commit what was read, then stop with it.
//
// Thread-safety: Run() on one thread; RequestStop() and progress() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aws/dynamodb_api.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/status.h"
#include "pipeline/metrics.h"
#include "processor/mapping_plan.h"

namespace ddb2pg::pipeline {

struct RuntimeOptions {
  size_t queue_capacity = 512;  // records between the source and the mapper (~6 KB per decoded 2 KB item: bounds memory)
  int batch_max_rows = 10000;                    // rows over all tables of the source
  int batch_max_bytes = 16 * 1024 * 1024;        // row bytes over all tables
  std::chrono::milliseconds batch_max_delay{100};  // from a batch's first record to its commit
  std::chrono::milliseconds reconnect_backoff_max{5000};
  std::chrono::seconds stop_grace{4};            // SIGTERM → flush, commit, exit within 5 s
};

// A point-in-time view for progress lines and the status command.
struct RuntimeProgress {
  int64_t records_committed = 0;
  int64_t rows_committed = 0;
  int64_t dead_letters = 0;
  int64_t skipped = 0;
  int64_t commits = 0;
  int64_t last_commit_unix_ms = 0;
  int64_t last_change_time_ms = 0;  // the newest change time committed (stream records)
  int64_t last_lag_ms = -1;         // at the last commit with stream records: commit time − newest change time
  bool snapshot_complete = false;
  int64_t snapshot_items_read = 0;
  int64_t snapshot_items_estimate = 0;
  int shards_active = 0;
  int shards_finished = 0;
  std::string state;  // "starting", "snapshot", "streaming", "reconnecting", "stopped", "failed"
};

class SourceRuntime {
 public:
  // `plans` are the pipelines reading `source`; they and the APIs must outlive the runtime.
  SourceRuntime(const config::SourceConfig& source, std::vector<const processor::MappingPlan*> plans,
                std::string conninfo, std::string checkpoint_id, aws::TableApi& table_api,
                aws::StreamsApi& streams_api, Metrics& metrics, RuntimeOptions options = {},
                const core::Clock& clock = core::SystemClock::Instance());
  ~SourceRuntime();

  // Enables the table's stream when the source is configured with stream.enable_stream.
  void SetStreamEnabler(std::function<core::Status(const std::string& table)> enabler);

  // Blocks until RequestStop() (→ Ok after the final commit) or a fatal error (→ that error).
  core::Status Run();
  void RequestStop();
  RuntimeProgress progress() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddb2pg::pipeline
