// DynamoDbRecordSource: pipeline::RecordSource for one DynamoDB table and its stream.
//
// Describe() checks the table's stream (NEW_AND_OLD_IMAGES; enabling it with the enabler when
// options.enable_stream) and lists every shard before anything is scanned: every shard open
// then holds (or its descendants will hold) the changes made during the scan. Seed() turns that
// into partitions: segments scan/0..n-1 (unless the snapshot is off) and every listed shard from
// TRIM_HORIZON (stream-only start at latest: open shards at LATEST, closed ones done); or
// converts a version-1 SourcePosition of an earlier release. Open() starts a SegmentReader or a
// ShardReader. Segment readers have a thread each (the segment count is fixed); shard readers
// are steps on the runner's ShardPoller (SetShardPoller; else one of the source's own, made on
// the first shard opened), so a thousand shards cost no thread more than one. With an
// ExportSnapshot (snapshot.from: export) the first snapshot's segments are the export's data
// files and every shard starts at the export time (export_snapshot.h). With GapExports
// (on_trimmed: incremental_export) a lost gap's partitions are incremental exports' data files,
// and the stream after it starts exactly at the gap's end (gap_exports.h).
//
// Ownership: borrows the APIs, the clock and a poller set with SetShardPoller (they outlive it
// and every reader it opened).
// Thread-safety: every method is safe from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "aws/dynamodb_api.h"
#include "core/clock.h"
#include "pipeline/record_source.h"
#include "source/export_snapshot.h"
#include "source/gap_exports.h"
#include "source/rate_limiter.h"
#include "source/reader_thread_slots.h"
#include "source/shard_poller.h"
#include "source/source_options.h"

namespace ddb2pg::source {

class DynamoDbRecordSource : public pipeline::RecordSource {
 public:
  using StreamEnabler = std::function<core::Status(const std::string& table_name)>;

  DynamoDbRecordSource(SourceOptions options, aws::TableApi& table_api, aws::StreamsApi& streams_api,
                       const core::Clock& clock);
  void SetStreamEnabler(StreamEnabler enabler) { stream_enabler_ = std::move(enabler); }
  // snapshot.from: export; before Seed() and Open().
  void SetExportSnapshot(std::shared_ptr<ExportSnapshot> snapshot) { export_ = std::move(snapshot); }
  // on_trimmed: incremental_export; before the first GapPartitions() and Open().
  void SetGapExports(std::shared_ptr<GapExports> gap) { gap_ = std::move(gap); }
  // The runner's shard readers (shared by every source of a runner); before the first Open().
  void SetShardPoller(ShardPoller* poller) { poller_ = poller; }
  // The runner's bound on Scan reader threads (shared by every source); before the first Open().
  void SetReaderThreadSlots(ReaderThreadSlots* slots) { thread_slots_ = slots; }

  core::Result<pipeline::SourceLayout> Describe() override;
  core::Result<std::vector<pipeline::ShardInfo>> ListShards(const std::string& stream_arn) override;
  core::Result<std::vector<pipeline::ShardInfo>> ListShardsAfter(const std::string& stream_arn,
                                                                 const std::string& after_shard_id) override;
  core::Result<std::optional<std::vector<pipeline::ShardInfo>>> ListChildShards(const std::string& stream_arn,
                                                                                const std::string& shard_id) override;
  int64_t describe_stream_calls() const override { return describe_stream_calls_.load(); }
  core::Result<pipeline::CheckpointSeed> Seed(const pipeline::SourceLayout& layout,
                                          const std::optional<std::string>& legacy_position) override;
  core::Result<std::vector<pipeline::SeedPartition>> GapShards(const pipeline::SourceLayout& layout,
                                                               int64_t to_ms) override;
  core::Result<std::vector<pipeline::SeedPartition>> GapPartitions(int64_t from_ms, int64_t to_ms,
                                                                   const std::atomic<bool>& stop) override;
  std::unique_ptr<pipeline::PartitionReader> Open(const pipeline::ClaimedPartition& lease,
                                                  const std::string& stream_arn, uint64_t tag,
                                                  core::BoundedQueue<core::Record>* out,
                                                  core::FetchGate* gate) override;

 private:
  // Every page of DescribeStream from `request` on.
  core::Result<std::vector<pipeline::ShardInfo>> ListPages(aws::DescribeStreamRequest request);
  // A shard's watermark position: a LATEST iterator taken now (source/stream_watermark.h).
  core::Result<std::string> WatermarkOf(const std::string& stream_arn, const std::string& shard_id);
  // WatermarkOf for partitions[i], each i in `indexes`, several calls at once; the first error.
  core::Status TakeWatermarks(const std::string& stream_arn, const std::vector<size_t>& indexes,
                              std::vector<pipeline::SeedPartition>& partitions);

  SourceOptions options_;
  aws::TableApi& table_api_;
  aws::StreamsApi& streams_api_;
  const core::Clock& clock_;
  StreamEnabler stream_enabler_;
  std::shared_ptr<ExportSnapshot> export_;
  std::shared_ptr<GapExports> gap_;
  RateLimiter limiter_;
  std::atomic<int64_t> describe_stream_calls_{0};
  std::mutex mutex_;
  std::vector<std::string> key_names_;  // HASH, then RANGE (from Describe)
  std::shared_ptr<const aws::AttributeSelection> decode_only_;
  ShardPoller* poller_ = nullptr;               // guarded by mutex_
  ReaderThreadSlots* thread_slots_ = nullptr;   // null: a thread per segment at once
  std::unique_ptr<ShardPoller> own_poller_;     // when none was set (declared last: destroyed first)
};

}  // namespace ddb2pg::source
