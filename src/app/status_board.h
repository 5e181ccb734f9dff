// StatusBoard: what the live status page (`/`) and `/api/status` show, as one JSON document.
//
// The run loop hands it a SourceStatus per source a few times a second (Update); the board keeps
// one sample per second for the last five minutes (rows/s, commit latency, snapshot items/s) and
// derives rates and a snapshot ETA. What the ddb2pg schema holds — the latest dead letters, the
// pipelines' phases, the runners and the partitions with their leases (at most 200) — is read
// through the schema's owner (sink::SystemStatus, sink::PipelineRegistry) over the board's own
// PostgreSQL connection, by its own thread every two seconds, so the HTTP handlers never wait for
// the database. Above 8 sources the page groups them (status_page.cpp). Every string goes out JSON-escaped; the page shows all
// values as text (item data is user data).
//
// Ownership: owned by RunPipelines for the duration of a run. Thread-safety: Update from one
// thread, Json from any (civetweb's handler threads); internally locked.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/commit_counters.h"
#include "sink/system/pipeline_registry.h"
#include "sink/system/system_status.h"

namespace ddb2pg::app {

// One source at one moment, as the runtime reports it (see run_pipelines.cpp: SourceStatusOf).
struct SourceStatus {
  std::string name;
  std::string table;
  std::string checkpoint;  // its checkpoint id: which runners, pipelines and partitions are its
  std::string phase;  // starting, snapshot, streaming, reconnecting, stopped, failed
  bool snapshot_complete = false;
  int64_t snapshot_items_read = 0;
  int64_t snapshot_items_estimate = 0;
  int snapshot_segments_done = 0;
  int snapshot_segments = 0;
  int shards_active = 0;
  int shards_finished = 0;
  int64_t lag_ms = -1;  // at the last commit with stream records; -1 unknown
  pipeline::CommitCounters committed;
  double commit_seconds_total = 0;  // the commit-latency histogram's sum and count
  uint64_t commit_count = 0;
  // snapshot.export.s3_bucket: the requested export's last state (ExportProgressLine); "" otherwise.
  std::string export_progress;
};

class StatusBoard {
 public:
  // `conninfo` reaches the PostgreSQL that holds ddb2pg.dead_letters; `pipelines` are the names
  // whose dead letters are shown. Starts nothing.
  // `checkpoints` are the sources' checkpoint ids whose runners and partitions are shown.
  StatusBoard(std::string conninfo, std::vector<std::string> pipelines, std::vector<std::string> checkpoints = {});
  ~StatusBoard();
  StatusBoard(const StatusBoard&) = delete;
  StatusBoard& operator=(const StatusBoard&) = delete;

  // Starts the dead-letter reader thread (idempotent).
  void StartDeadLetterReader();
  void Stop();

  void Update(std::vector<SourceStatus> sources);
  std::string Json() const;

  // How many dead letters the page lists, and how much of each item it shows.
  static constexpr int kDeadLettersShown = 10;
  static constexpr int kItemExcerptChars = 400;

 private:
  struct Sample {
    int64_t unix_ms = 0;
    double rows_per_second = 0;
    double commit_latency_ms = -1;  // -1: no commit in the interval
    double snapshot_items_per_second = 0;
  };
  struct SourceTrack {
    SourceStatus last;     // newest status
    SourceStatus sampled;  // status at the newest sample
    std::chrono::steady_clock::time_point sampled_at;
    std::deque<Sample> history;
  };
  struct DeadLetterView {
    std::string id, pipeline, key, operation, reason, item_excerpt, created_at;
  };
  using RunnerView = sink::SystemStatus::Runner;
  using PartitionView = sink::SystemStatus::Partition;
  // A pipeline's stored progress (ddb2pg.pipelines): its phase, and how far its snapshot is.
  struct PipelineView {
    std::string checkpoint;
    sink::PipelineProgress progress;
  };

  void ReadDeadLetters();

  const std::string conninfo_;
  const std::vector<std::string> pipelines_;
  const std::vector<std::string> checkpoints_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

  mutable std::mutex mutex_;
  std::vector<SourceTrack> sources_;
  std::vector<DeadLetterView> dead_letters_;
  std::vector<RunnerView> runners_;          // read with the dead letters (same connection, same cadence)
  std::vector<PartitionView> partitions_;
  std::vector<PipelineView> pipeline_views_;
  std::string dead_letters_error_;  // why they cannot be read now ("" when they can)
  bool dead_letters_read_ = false;

  mutable std::atomic<int64_t> last_viewed_ms_{0};  // steady-clock ms of the last Json(); 0 never
  mutable std::condition_variable wake_;
  bool stopping_ = false;
  std::thread reader_;
};

}  // namespace ddb2pg::app
