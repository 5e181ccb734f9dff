#include "source/dynamodb_record_source.h"

#include <spdlog/spdlog.h>

#include <set>
#include <thread>

#include "source/failed_partition_reader.h"
#include "source/segment_reader.h"
#include "source/shard_reader.h"
#include "source/source_position.h"
#include "source/stream_watermark.h"

namespace ddb2pg::source {
namespace {

std::string StreamFix(const std::string& table) {
  return "enable it with NEW_AND_OLD_IMAGES (aws dynamodb update-table --table-name " + table +
         " --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES) or set "
         "stream.enable_stream: true";
}

core::Result<aws::TableDescription> DescribeWithStream(aws::TableApi& api, const std::string& table) {
  auto description = api.DescribeTable(table);
  if (!description.ok()) return description.status().WithContext("DescribeTable " + table);
  if (!description->stream_enabled || description->latest_stream_arn.empty()) {
    return core::Status::FailedPrecondition("table " + table + " has no stream; " + StreamFix(table));
  }
  if (description->stream_view_type != "NEW_AND_OLD_IMAGES") {
    return core::Status::FailedPrecondition("table " + table + " has a stream of " + description->stream_view_type +
                                         " but ddb2pg needs NEW_AND_OLD_IMAGES (old images for deletes and soft "
                                         "deletes): disable the stream, then " +
                                         StreamFix(table));
  }
  return description;
}

}  // namespace

DynamoDbRecordSource::DynamoDbRecordSource(SourceOptions options, aws::TableApi& table_api,
                                           aws::StreamsApi& streams_api, const core::Clock& clock)
    : options_(std::move(options)),
      table_api_(table_api),
      streams_api_(streams_api),
      clock_(clock),
      limiter_(options_.max_items_per_second) {}

core::Result<pipeline::SourceLayout> DynamoDbRecordSource::Describe() {
  if (options_.table.empty()) return core::Status::InvalidArgument("source: table is empty");
  auto description = DescribeWithStream(table_api_, options_.table);
  if (!description.ok() && description.status().code() == core::StatusCode::kFailedPrecondition &&
      options_.enable_stream && stream_enabler_) {
    auto current = table_api_.DescribeTable(options_.table);
    if (current.ok() && !current->stream_enabled) {
      spdlog::info("source {}: enabling a NEW_AND_OLD_IMAGES stream (stream.enable_stream)", options_.table);
      DDB2PG_RETURN_IF_ERROR(stream_enabler_(options_.table).WithContext("enabling the stream of " + options_.table));
      for (int attempt = 0; attempt < 300; ++attempt) {  // the stream appears within seconds
        description = DescribeWithStream(table_api_, options_.table);
        if (description.ok()) break;
        clock_.SleepFor(std::chrono::milliseconds(100));
      }
    }
  }
  if (!description.ok()) return description.status();
  std::vector<std::string> key_names;
  for (const char* key_type : {"HASH", "RANGE"}) {
    for (const auto& element : description->key_schema) {
      if (element.key_type == key_type) key_names.push_back(element.attribute_name);
    }
  }
  if (key_names.empty()) return core::Status::Internal("table " + options_.table + " has no key schema");
  {
    std::lock_guard lock(mutex_);
    key_names_ = key_names;
    if (options_.decode_attributes) {
      std::vector<std::string> names = *options_.decode_attributes;
      names.insert(names.end(), key_names.begin(), key_names.end());
      decode_only_ = std::make_shared<const aws::AttributeSelection>(std::move(names));
    }
  }
  pipeline::SourceLayout layout;
  layout.stream_arn = description->latest_stream_arn;
  layout.item_count_estimate = description->item_count;
  DDB2PG_ASSIGN_OR_RETURN(layout.shards, ListShards(layout.stream_arn));
  return layout;
}

core::Result<std::vector<pipeline::ShardInfo>> DynamoDbRecordSource::ListPages(aws::DescribeStreamRequest request) {
  std::vector<pipeline::ShardInfo> shards;
  for (;;) {  // every page: a reader that stops at the first 100 shards silently skips the rest
    ++describe_stream_calls_;
    auto page = streams_api_.DescribeStream(request);
    if (!page.ok()) return page.status().WithContext("DescribeStream " + request.stream_arn);
    for (auto& shard : page->shards) {
      shards.push_back({shard.shard_id, shard.parent_shard_id, !shard.ending_sequence_number.empty()});
    }
    if (page->last_evaluated_shard_id.empty()) break;
    if (page->last_evaluated_shard_id == request.exclusive_start_shard_id) {
      return core::Status::Internal("DescribeStream " + request.stream_arn + ": LastEvaluatedShardId " +
                                    page->last_evaluated_shard_id + " came back twice");
    }
    request.exclusive_start_shard_id = page->last_evaluated_shard_id;
  }
  return shards;
}

core::Result<std::vector<pipeline::ShardInfo>> DynamoDbRecordSource::ListShards(const std::string& stream_arn) {
  aws::DescribeStreamRequest request;
  request.stream_arn = stream_arn;
  return ListPages(std::move(request));
}

core::Result<std::vector<pipeline::ShardInfo>> DynamoDbRecordSource::ListShardsAfter(const std::string& stream_arn,
                                                                                   const std::string& after_shard_id) {
  aws::DescribeStreamRequest request;
  request.stream_arn = stream_arn;
  request.exclusive_start_shard_id = after_shard_id;
  return ListPages(std::move(request));
}

core::Result<std::optional<std::vector<pipeline::ShardInfo>>> DynamoDbRecordSource::ListChildShards(
    const std::string& stream_arn, const std::string& shard_id) {
  aws::DescribeStreamRequest request;
  request.stream_arn = stream_arn;
  request.child_shards_of = shard_id;
  ++describe_stream_calls_;
  auto page = streams_api_.DescribeStream(request);  // a shard has at most two children: one page
  if (!page.ok()) return page.status().WithContext("DescribeStream " + stream_arn + " (children of " + shard_id + ")");
  std::vector<pipeline::ShardInfo> children;
  for (auto& shard : page->shards) {
    // A service that ignores the filter answers with the stream's shards, the filtered one
    // among them: not children.
    if (shard.parent_shard_id != shard_id) return std::optional<std::vector<pipeline::ShardInfo>>();
    children.push_back({shard.shard_id, shard.parent_shard_id, !shard.ending_sequence_number.empty()});
  }
  if (!page->last_evaluated_shard_id.empty()) return std::optional<std::vector<pipeline::ShardInfo>>();
  return std::optional<std::vector<pipeline::ShardInfo>>(std::move(children));
}

core::Result<pipeline::CheckpointSeed> DynamoDbRecordSource::Seed(const pipeline::SourceLayout& layout,
                                                              const std::optional<std::string>& legacy_position) {
  pipeline::CheckpointSeed seed;
  seed.stream_arn = layout.stream_arn;
  SourcePosition legacy;
  if (legacy_position && !legacy_position->empty()) {
    DDB2PG_ASSIGN_OR_RETURN(legacy, SourcePosition::Parse(*legacy_position));
    if (!legacy.stream_arn().empty()) seed.stream_arn = legacy.stream_arn();
  }
  const bool snapshot = options_.snapshot_enabled && !legacy.snapshot_complete();
  std::optional<ExportManifest> from_export;
  int64_t gap_to_ms = 0;  // an export older than the stream's retention, bridged: the gap's end
  if (snapshot && export_ && !legacy_position) {
    DDB2PG_ASSIGN_OR_RETURN(from_export, export_->Manifest());
    // The stream must still hold every change since the export time, or those changes are lost.
    const int64_t age_ms = core::ToEpochMillis(clock_.Now()) - from_export->export_time_ms;
    if (age_ms > core::defaults::kExportMaxAgeMs && gap_) {
      // on_trimmed: incremental_export: the changes from the export time on are a gap, opened in
      // the seed itself and bridged by the runtime before the stream (docs/consistency.md).
      gap_to_ms = pipeline::GapEndMs(core::ToEpochMillis(clock_.Now()));
      spdlog::warn("source {}: the export is {} h old, older than the stream's retention: the changes since its "
                   "export time are bridged by incremental exports",
                   options_.table, age_ms / 3'600'000);
    } else if (age_ms > core::defaults::kExportMaxAgeMs) {
      return core::Status::FailedPrecondition(
          "the export (snapshot.export.manifest) was taken " + std::to_string(age_ms / 3'600'000) +
          " h ago, and a DynamoDB stream keeps only 24 h of changes: the changes between the export and the "
          "stream's oldest record would be lost. Use an export less than " +
          std::to_string(core::defaults::kExportMaxAgeMs / 3'600'000) + " h old (or snapshot.from: scan)");
    }
  }
  if (snapshot) {
    const auto& saved = legacy.segments();
    seed.total_segments = from_export   ? static_cast<int>(from_export->files.size())
                          : saved.empty() ? options_.segments
                                          : static_cast<int>(saved.size());
    for (int i = 0; i < seed.total_segments; ++i) {
      pipeline::SeedPartition segment;
      segment.id = SourcePosition::SegmentPartition(i);
      segment.kind = pipeline::PartitionKind::kSegment;
      if (!saved.empty()) {
        const auto& s = saved[static_cast<size_t>(i)];
        segment.done = s.done;
        if (s.last_key) segment.position = SourcePosition::KeyOffset(*s.last_key);
      }
      seed.partitions.push_back(std::move(segment));
    }
  }
  const bool start_latest = !options_.snapshot_enabled && options_.stream_start_at == StreamStartAt::kLatest &&
                            legacy.shard_sequence_numbers().empty() && legacy.finished_shards().empty();
  std::set<std::string> seeded;
  for (const auto& shard_id : legacy.finished_shards()) {
    seed.partitions.push_back({shard_id, pipeline::PartitionKind::kShard, "", "", true});
    seeded.insert(shard_id);
  }
  for (const auto& [shard_id, sequence_number] : legacy.shard_sequence_numbers()) {
    if (!seeded.insert(shard_id).second) continue;
    seed.partitions.push_back({shard_id, pipeline::PartitionKind::kShard, "", sequence_number, false});
  }
  // Parents for what the legacy position named, and every other listed shard (of the pinned
  // stream only: a replaced stream is found, and handled, by the runtime).
  if (seed.stream_arn == layout.stream_arn) {
    for (auto& partition : seed.partitions) {
      for (const auto& shard : layout.shards) {
        if (shard.id == partition.id) partition.parent = shard.parent;
      }
    }
    // A fresh snapshot: the watermark (docs/consistency.md). Taken here, before any segment
    // exists, so before the Scan's first request: closed shards hold only changes the Scan will
    // reflect, and an open one is read from a LATEST iterator taken now.
    const bool watermark = snapshot && legacy.shard_sequence_numbers().empty() && legacy.finished_shards().empty();
    int watermarked = 0;
    std::vector<size_t> to_watermark;  // indexes into seed.partitions
    for (const auto& shard : layout.shards) {
      if (seeded.count(shard.id) != 0) continue;
      pipeline::SeedPartition partition{shard.id, pipeline::PartitionKind::kShard, shard.parent, "", false};
      if (from_export && watermark && gap_to_ms != 0) {
        // After the gap: exactly from its end, the listed roots waiting for the gap.
        partition.position = StreamWatermark::ExactPosition(gap_to_ms);
        partition.change_ms = gap_to_ms;
        bool parent_listed = false;
        for (const auto& other : layout.shards) parent_listed = parent_listed || other.id == shard.parent;
        if (!parent_listed) partition.parent = pipeline::kGapPlaceholderId;
      } else if (from_export && watermark) {
        // Closed shards too: the export may be older than their last records.
        partition.position = StreamWatermark::Position(from_export->export_time_ms, "");
        partition.change_ms = from_export->export_time_ms;
      } else if (start_latest || watermark) {
        if (shard.closed) {
          partition.done = true;  // history is not wanted, or already in the Scan: counts as read
        } else if (start_latest) {
          partition.position = pipeline::ClaimedPartition::kLatestPosition;
        } else {
          to_watermark.push_back(seed.partitions.size());  // taken below, all before the Scan
        }
      }
      seed.partitions.push_back(std::move(partition));
    }
    DDB2PG_RETURN_IF_ERROR(TakeWatermarks(seed.stream_arn, to_watermark, seed.partitions));
    watermarked = static_cast<int>(to_watermark.size());
    if (gap_to_ms != 0) {
      // The gap, opened (LeaseStore::OpenGap's placeholder: nothing claims it until it is filled).
      seed.partitions.push_back({pipeline::kGapPlaceholderId, pipeline::PartitionKind::kSegment,
                                 pipeline::kGapPlaceholderId,
                                 std::to_string(from_export->export_time_ms) + "-" + std::to_string(gap_to_ms), false,
                                 0});
    }
    if (from_export) {
      spdlog::info("source {}: the snapshot is the export {} ({} data file(s), {} item(s)); the stream is read from "
                   "its export time",
                   options_.table, from_export->manifest_uri, from_export->files.size(), from_export->item_count);
    } else if (watermarked > 0) {
      spdlog::info("source {}: the snapshot's watermark is taken on {} open shard(s); the stream's earlier "
                   "records are not read",
                   options_.table, watermarked);
      // An eventually consistent Scan may miss a write acknowledged just before the watermark:
      // its first request waits until such writes have settled (docs/consistency.md).
      if (!options_.consistent_read) clock_.SleepFor(std::chrono::milliseconds(options_.watermark_settle_ms));
    }
  }
  return seed;
}

core::Result<std::vector<pipeline::SeedPartition>> DynamoDbRecordSource::GapShards(const pipeline::SourceLayout& layout,
                                                                                   int64_t to_ms) {
  // Closed shards too: they may hold changes after the gap's end. Records before it are the gap's.
  std::vector<pipeline::SeedPartition> shards;
  for (const auto& shard : layout.shards) {
    shards.push_back(
        {shard.id, pipeline::PartitionKind::kShard, shard.parent, StreamWatermark::ExactPosition(to_ms), false, to_ms});
  }
  return shards;
}

core::Result<std::vector<pipeline::SeedPartition>> DynamoDbRecordSource::GapPartitions(int64_t from_ms, int64_t to_ms,
                                                                                       const std::atomic<bool>& stop) {
  if (!gap_) {
    return core::Status::FailedPrecondition("source " + options_.table +
                                            ": no incremental exports are configured (stream.on_trimmed: "
                                            "incremental_export with snapshot.export.s3_bucket)");
  }
  return gap_->Partitions(from_ms, to_ms, stop);
}

core::Status DynamoDbRecordSource::TakeWatermarks(const std::string& stream_arn, const std::vector<size_t>& indexes,
                                                  std::vector<pipeline::SeedPartition>& partitions) {
  // One GetShardIterator per open shard: a few at a time, so that a stream of 1,000 shards
  // starts in the time of 1,000 / kWatermarkCalls round trips, not 1,000.
  constexpr size_t kWatermarkCalls = 8;
  std::atomic<size_t> next{0};
  std::mutex failed_mutex;
  core::Status failed;
  auto work = [&] {
    for (size_t i = next++; i < indexes.size(); i = next++) {
      pipeline::SeedPartition& partition = partitions[indexes[i]];
      auto position = WatermarkOf(stream_arn, partition.id);
      if (!position.ok()) {
        std::lock_guard lock(failed_mutex);
        if (failed.ok()) failed = position.status();
        next = indexes.size();  // the others stop after their call
        return;
      }
      partition.position = std::move(position).value();
      partition.change_ms = StreamWatermark::Parse(partition.position)->taken_ms;
    }
  };
  std::vector<std::thread> threads;
  const size_t helpers = std::min(kWatermarkCalls, indexes.size()) - (indexes.empty() ? 0 : 1);
  for (size_t t = 0; t < helpers; ++t) threads.emplace_back(work);
  work();
  for (auto& thread : threads) thread.join();
  return failed;
}

core::Result<std::string> DynamoDbRecordSource::WatermarkOf(const std::string& stream_arn, const std::string& shard_id) {
  const int64_t taken_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
  auto iterator = streams_api_.GetShardIterator(stream_arn, shard_id, aws::ShardIteratorType::kLatest, "");
  if (!iterator.ok()) return iterator.status().WithContext("GetShardIterator LATEST " + shard_id + " (the watermark)");
  return StreamWatermark::Position(taken_ms, *iterator);
}

std::unique_ptr<pipeline::PartitionReader> DynamoDbRecordSource::Open(const pipeline::ClaimedPartition& lease,
                                                                      const std::string& stream_arn, uint64_t tag,
                                                                      core::BoundedQueue<core::Record>* out,
                                                                      core::FetchGate* gate) {
  std::vector<std::string> key_names;
  std::shared_ptr<const aws::AttributeSelection> decode_only;
  {
    std::lock_guard lock(mutex_);
    key_names = key_names_;
    decode_only = decode_only_;
  }
  if (GapExports::Covers(lease)) {
    if (!gap_) {
      return std::make_unique<FailedPartitionReader>(core::Status::FailedPrecondition(
          "partition " + lease.id + " is an incremental export's file, but stream.on_trimmed is not "
          "incremental_export in this configuration"));
    }
    return gap_->Open(lease, options_.table, std::move(key_names), std::move(decode_only), tag, out, gate);
  }
  if (export_ && ExportSnapshot::Covers(lease)) {
    return export_->Open(lease, options_.table, std::move(key_names), std::move(decode_only), clock_, tag, out, gate);
  }
  if (lease.kind == pipeline::PartitionKind::kSegment) {
    SegmentReaderOptions options;
    options.table = options_.table;
    options.key_names = std::move(key_names);
    options.segment = lease.segment;
    options.total_segments = lease.total_segments;
    options.partition_id = lease.id;  // "scan/<i>", or "scan/<i>/<n>@<tag>" for a backfill
    options.page_limit = options_.page_limit;
    options.consistent_read = options_.consistent_read;
    options.decode_only = std::move(decode_only);
    auto reader = std::make_unique<SegmentReader>(std::move(options), lease.position, table_api_, limiter_, clock_,
                                                  out, tag);
    reader->SetFetchGate(gate);
    reader->SetThreadSlots(thread_slots_);
    reader->Start("scan-" + std::to_string(lease.segment));
    return reader;
  }
  ShardPoller* poller = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (poller_ == nullptr) {
      own_poller_ = std::make_unique<ShardPoller>(ShardPollerOptions{}, clock_);
      poller_ = own_poller_.get();
    }
    poller = poller_;
  }
  ShardReaderOptions options;
  options.table = options_.table;
  options.stream_arn = stream_arn;
  options.shard_id = lease.id;
  options.poll_interval_ms = options_.poll_interval_ms;
  options.idle_poll_ceiling_ms = options_.idle_poll_ceiling_ms;
  options.get_records_limit = options_.get_records_limit;
  options.decode_only = std::move(decode_only);
  options.scans = thread_slots_;
  auto reader = std::make_unique<ShardReader>(std::move(options), lease.position, streams_api_, clock_, out, tag, gate,
                                              *poller);
  reader->Start();
  return reader;
}

}  // namespace ddb2pg::source
