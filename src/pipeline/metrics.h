// Metrics: every Prometheus series ddb2pg exports, in one registry (see docs/metrics.md).
//
// The runtime updates them as records flow; the HTTP endpoint serialises the registry on each
// scrape. Counters are labelled by pipeline (a target table's mapping) or source.
// Thread-safety: every method is safe from any thread (prometheus-cpp metrics are atomic).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/retry_counts.h"

namespace ddb2pg::pipeline {

class Metrics {
 public:
  Metrics();

  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() { return registry_; }
  // The text exposition format (what /metrics serves).
  std::string Serialize() const;

  // Source side.
  prometheus::Counter& RecordsRead(const std::string& source, const std::string& operation);
  prometheus::Gauge& SnapshotItemsRead(const std::string& source);
  prometheus::Gauge& SnapshotItemsEstimate(const std::string& source);
  prometheus::Gauge& SnapshotSegmentsDone(const std::string& source);
  prometheus::Gauge& SnapshotComplete(const std::string& source);
  prometheus::Gauge& ShardsActive(const std::string& source);
  prometheus::Gauge& ShardsFinished(const std::string& source);
  // Stream records read and not applied because the snapshot already reflects them (the
  // watermark's fallback; docs/consistency.md).
  prometheus::Counter& StreamRecordsBeforeWatermark(const std::string& source);
  prometheus::Counter& Retries(const std::string& kind);  // mirrored from the AWS clients' counters

  // Pipeline / sink side.
  prometheus::Counter& RowsWritten(const std::string& pipeline);
  // A commit that wrote rows to the pipeline's table, by path: "direct_copy" or "staged".
  prometheus::Counter& TableWrites(const std::string& pipeline, const std::string& path);
  prometheus::Counter& DeadLetters(const std::string& pipeline);
  prometheus::Counter& RecordsSkipped(const std::string& pipeline);
  prometheus::Counter& RecordsFiltered(const std::string& pipeline);
  prometheus::Counter& Errors(const std::string& kind);
  prometheus::Counter& Commits(const std::string& source);
  prometheus::Histogram& CommitLatency(const std::string& source);
  prometheus::Histogram& EndToEndLag(const std::string& source);
  prometheus::Gauge& LastCommitTime(const std::string& source);
  prometheus::Gauge& Ready();
  prometheus::Counter& GetRecordsCalls();   // the runner's, mirrored from its shard readers
  prometheus::Gauge& GetRecordsCeiling();   // runtime.max_get_records_per_second
  // DescribeStream calls of a source (listing shards: full listings, children, new ones).
  prometheus::Counter& DescribeStreamCalls(const std::string& source);

  // Partitions and leases (per runner: each process exports its own).
  prometheus::Counter& LeaseEvents(const std::string& event);  // claimed, released, lost, finished, rewind
  prometheus::Gauge& PartitionsHeld(const std::string& source);
  prometheus::Gauge& LiveRunners(const std::string& source);
  // 1 while this runner stands by: its configuration is superseded by a newer one.
  prometheus::Gauge& Standby(const std::string& source);
  // How long the oldest record read but not committed has waited (0 when caught up).
  prometheus::Gauge& Behind(const std::string& source);  // 1 once the pipelines run (snapshot started or stream reading)

  // AWS clients' retry counters, mirrored into ddb2pg_aws_retries_total{kind} (summed over every
  // added RetryCounts, by the cause's StatusCode name) each time Serialize() runs. Keeps them alive.
  void AddRetryStats(std::shared_ptr<const core::RetryCounts> stats);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& records_read_;
  prometheus::Family<prometheus::Gauge>& snapshot_items_read_;
  prometheus::Family<prometheus::Gauge>& snapshot_items_estimate_;
  prometheus::Family<prometheus::Gauge>& snapshot_segments_done_;
  prometheus::Family<prometheus::Gauge>& snapshot_complete_;
  prometheus::Family<prometheus::Gauge>& shards_active_;
  prometheus::Family<prometheus::Gauge>& shards_finished_;
  prometheus::Family<prometheus::Counter>& before_watermark_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& rows_written_;
  prometheus::Family<prometheus::Counter>& table_writes_;
  prometheus::Family<prometheus::Counter>& dead_letters_;
  prometheus::Family<prometheus::Counter>& records_skipped_;
  prometheus::Family<prometheus::Counter>& records_filtered_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Family<prometheus::Counter>& commits_;
  prometheus::Family<prometheus::Histogram>& commit_latency_;
  prometheus::Family<prometheus::Histogram>& end_to_end_lag_;
  prometheus::Family<prometheus::Gauge>& last_commit_time_;
  prometheus::Family<prometheus::Gauge>& ready_;
  prometheus::Family<prometheus::Counter>& get_records_calls_;
  prometheus::Family<prometheus::Gauge>& get_records_ceiling_;
  prometheus::Family<prometheus::Counter>& describe_stream_calls_;
  prometheus::Family<prometheus::Counter>& lease_events_;
  prometheus::Family<prometheus::Gauge>& partitions_held_;
  prometheus::Family<prometheus::Gauge>& live_runners_;
  prometheus::Family<prometheus::Gauge>& standby_;
  prometheus::Family<prometheus::Gauge>& behind_;
  mutable std::mutex retry_stats_mutex_;
  std::vector<std::shared_ptr<const core::RetryCounts>> retry_stats_;
};

}  // namespace ddb2pg::pipeline
