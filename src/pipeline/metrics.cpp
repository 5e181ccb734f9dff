#include "pipeline/metrics.h"

#include <prometheus/text_serializer.h>


namespace ddb2pg::pipeline {
namespace {
using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// Seconds, from 1 ms to 60 s: commit latency and end-to-end lag share them.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return buckets;
}
}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      records_read_(BuildCounter().Name("ddb2pg_records_read_total")
                        .Help("Records read from the source, by operation (snapshot, create, update, delete)")
                        .Register(*registry_)),
      snapshot_items_read_(BuildGauge().Name("ddb2pg_snapshot_items_read")
                               .Help("Items read by the snapshot so far").Register(*registry_)),
      snapshot_items_estimate_(BuildGauge().Name("ddb2pg_snapshot_items_estimate")
                                   .Help("DescribeTable's ItemCount estimate (refreshed by DynamoDB about every 6 h)")
                                   .Register(*registry_)),
      snapshot_segments_done_(BuildGauge().Name("ddb2pg_snapshot_segments_done")
                                  .Help("Scan segments fully read").Register(*registry_)),
      snapshot_complete_(BuildGauge().Name("ddb2pg_snapshot_complete")
                             .Help("1 once the snapshot is complete and the stream is being read")
                             .Register(*registry_)),
      shards_active_(BuildGauge().Name("ddb2pg_shards_active")
                         .Help("Stream shards being read now").Register(*registry_)),
      shards_finished_(BuildGauge().Name("ddb2pg_shards_finished")
                           .Help("Stream shards closed and fully read").Register(*registry_)),
      before_watermark_(BuildCounter().Name("ddb2pg_stream_records_before_watermark_total")
                            .Help("Stream records read but not applied: older than the snapshot's watermark, so "
                                  "the snapshot reflects them")
                            .Register(*registry_)),
      retries_(BuildCounter().Name("ddb2pg_aws_retries_total")
                   .Help("AWS calls retried, by error kind").Register(*registry_)),
      rows_written_(BuildCounter().Name("ddb2pg_rows_written_total")
                        .Help("Rows committed to the pipeline's table (upserts and deletes)")
                        .Register(*registry_)),
      table_writes_(BuildCounter().Name("ddb2pg_table_writes_total")
                        .Help("Commits that wrote to the pipeline's table, by path: direct_copy (one COPY straight "
                              "into the table: every key was new) or staged (COPY into a staging table, then "
                              "upserts and deletes from it)")
                        .Register(*registry_)),
      dead_letters_(BuildCounter().Name("ddb2pg_dead_letters_total")
                        .Help("Records written to ddb2pg.dead_letters").Register(*registry_)),
      records_skipped_(BuildCounter().Name("ddb2pg_records_skipped_total")
                           .Help("Records that failed mapping and were skipped (on_error: skip)")
                           .Register(*registry_)),
      records_filtered_(BuildCounter().Name("ddb2pg_records_filtered_total")
                            .Help("Records dropped by the pipeline's filter or delete policy")
                            .Register(*registry_)),
      errors_(BuildCounter().Name("ddb2pg_errors_total")
                  .Help("Errors by kind (mapping, commit, connection, source)").Register(*registry_)),
      commits_(BuildCounter().Name("ddb2pg_commits_total")
                   .Help("PostgreSQL transactions committed").Register(*registry_)),
      commit_latency_(BuildHistogram().Name("ddb2pg_commit_latency_seconds")
                          .Help("Time to write and commit one batch").Register(*registry_)),
      end_to_end_lag_(BuildHistogram().Name("ddb2pg_end_to_end_lag_seconds")
                          .Help("From a change's time in DynamoDB to its commit in PostgreSQL (stream records)")
                          .Register(*registry_)),
      last_commit_time_(BuildGauge().Name("ddb2pg_last_commit_timestamp_seconds")
                            .Help("Unix time of the last commit").Register(*registry_)),
      ready_(BuildGauge().Name("ddb2pg_ready").Help("1 while the pipelines run").Register(*registry_)),
      get_records_calls_(BuildCounter().Name("ddb2pg_stream_get_records_calls_total")
                             .Help("GetRecords calls of this runner, over every shard of every source")
                             .Register(*registry_)),
      get_records_ceiling_(BuildGauge().Name("ddb2pg_stream_get_records_ceiling_per_second")
                               .Help("runtime.max_get_records_per_second: the runner's ceiling on GetRecords calls "
                                     "a second (0: none)")
                               .Register(*registry_)),
      describe_stream_calls_(BuildCounter().Name("ddb2pg_stream_describe_stream_calls_total")
                                 .Help("DescribeStream calls of a source: full listings, child shards, new shards")
                                 .Register(*registry_)),
      lease_events_(BuildCounter().Name("ddb2pg_lease_events_total")
                        .Help("Partition lease events of this runner: claimed, released, lost, finished, rewind")
                        .Register(*registry_)),
      partitions_held_(BuildGauge().Name("ddb2pg_partitions_held")
                           .Help("Partitions (Scan segments, stream shards) this runner holds").Register(*registry_)),
      live_runners_(BuildGauge().Name("ddb2pg_live_runners")
                        .Help("Runners sharing the source, as this runner last counted them").Register(*registry_)),
      standby_(BuildGauge().Name("ddb2pg_standby")
                   .Help("1 while this runner stands by: a newer configuration runs the source")
                   .Register(*registry_)),
      behind_(BuildGauge().Name("ddb2pg_behind_seconds")
                  .Help("How long the oldest record read but not yet committed has waited; 0 when caught up")
                  .Register(*registry_)) {}

std::string Metrics::Serialize() const {
  {
    std::lock_guard lock(retry_stats_mutex_);
    if (!retry_stats_.empty()) {
      for (size_t cause = 0; cause < core::kStatusCodeCount; ++cause) {
        const auto code = static_cast<core::StatusCode>(cause);
        uint64_t retries = 0;
        for (const auto& stats : retry_stats_) retries += stats->retries(code);
        // The retryable causes always show, at 0 too; others once they happened.
        const bool retryable = core::Status(code, "").retryable();
        if (retries > 0 || retryable) {
          // A counter: it moves by what the clients' counters moved since the last scrape.
          prometheus::Counter& counter = retries_.Add({{"kind", std::string(core::StatusCodeName(code))}});
          const double delta = static_cast<double>(retries) - counter.Value();
          if (delta > 0) counter.Increment(delta);
        }
      }
    }
  }
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

prometheus::Counter& Metrics::RecordsRead(const std::string& source, const std::string& operation) {
  return records_read_.Add({{"source", source}, {"operation", operation}});
}
prometheus::Gauge& Metrics::SnapshotItemsRead(const std::string& source) { return snapshot_items_read_.Add({{"source", source}}); }
prometheus::Gauge& Metrics::SnapshotItemsEstimate(const std::string& source) {
  return snapshot_items_estimate_.Add({{"source", source}});
}
prometheus::Gauge& Metrics::SnapshotSegmentsDone(const std::string& source) {
  return snapshot_segments_done_.Add({{"source", source}});
}
prometheus::Gauge& Metrics::SnapshotComplete(const std::string& source) { return snapshot_complete_.Add({{"source", source}}); }
prometheus::Gauge& Metrics::ShardsActive(const std::string& source) { return shards_active_.Add({{"source", source}}); }
prometheus::Gauge& Metrics::ShardsFinished(const std::string& source) { return shards_finished_.Add({{"source", source}}); }

prometheus::Counter& Metrics::StreamRecordsBeforeWatermark(const std::string& source) {
  return before_watermark_.Add({{"source", source}});
}
prometheus::Counter& Metrics::Retries(const std::string& kind) { return retries_.Add({{"kind", kind}}); }
prometheus::Counter& Metrics::RowsWritten(const std::string& pipeline) { return rows_written_.Add({{"pipeline", pipeline}}); }
prometheus::Counter& Metrics::TableWrites(const std::string& pipeline, const std::string& path) {
  return table_writes_.Add({{"pipeline", pipeline}, {"path", path}});
}
prometheus::Counter& Metrics::DeadLetters(const std::string& pipeline) { return dead_letters_.Add({{"pipeline", pipeline}}); }
prometheus::Counter& Metrics::RecordsSkipped(const std::string& pipeline) {
  return records_skipped_.Add({{"pipeline", pipeline}});
}
prometheus::Counter& Metrics::RecordsFiltered(const std::string& pipeline) {
  return records_filtered_.Add({{"pipeline", pipeline}});
}
prometheus::Counter& Metrics::Errors(const std::string& kind) { return errors_.Add({{"kind", kind}}); }
prometheus::Counter& Metrics::Commits(const std::string& source) { return commits_.Add({{"source", source}}); }
prometheus::Histogram& Metrics::CommitLatency(const std::string& source) {
  return commit_latency_.Add({{"source", source}}, LatencyBuckets());
}
prometheus::Histogram& Metrics::EndToEndLag(const std::string& source) {
  return end_to_end_lag_.Add({{"source", source}}, LatencyBuckets());
}
prometheus::Gauge& Metrics::LastCommitTime(const std::string& source) { return last_commit_time_.Add({{"source", source}}); }
prometheus::Gauge& Metrics::Ready() { return ready_.Add({}); }
prometheus::Counter& Metrics::GetRecordsCalls() { return get_records_calls_.Add({}); }
prometheus::Counter& Metrics::DescribeStreamCalls(const std::string& source) {
  return describe_stream_calls_.Add({{"source", source}});
}
prometheus::Gauge& Metrics::GetRecordsCeiling() { return get_records_ceiling_.Add({}); }

prometheus::Counter& Metrics::LeaseEvents(const std::string& event) { return lease_events_.Add({{"event", event}}); }
prometheus::Gauge& Metrics::PartitionsHeld(const std::string& source) { return partitions_held_.Add({{"source", source}}); }
prometheus::Gauge& Metrics::Behind(const std::string& source) { return behind_.Add({{"source", source}}); }
prometheus::Gauge& Metrics::LiveRunners(const std::string& source) { return live_runners_.Add({{"source", source}}); }
prometheus::Gauge& Metrics::Standby(const std::string& source) { return standby_.Add({{"source", source}}); }

void Metrics::AddRetryStats(std::shared_ptr<const core::RetryCounts> stats) {
  if (stats == nullptr) return;
  std::lock_guard lock(retry_stats_mutex_);
  for (const auto& known : retry_stats_) {
    if (known == stats) return;  // a source's table and streams clients share one
  }
  retry_stats_.push_back(std::move(stats));
}

}  // namespace ddb2pg::pipeline
