#include "source/shard_reader.h"

#include <spdlog/spdlog.h>

#include "source/stream_watermark.h"

namespace ddb2pg::source {
namespace {

using std::chrono::milliseconds;
constexpr auto kRetryDelay = milliseconds(1000);  // after the client's own retries ran out
// A page with at least this many records means a backlog (DynamoDB Local pages well below the
// 1000-record maximum): read on at once.
constexpr size_t kBacklogPageRecords = 100;

core::Operation OperationOf(const std::string& event_name) {
  if (event_name == "INSERT") return core::Operation::kCreate;
  if (event_name == "MODIFY") return core::Operation::kUpdate;
  if (event_name == "REMOVE") return core::Operation::kDelete;
  return core::Operation::kMarker;
}

}  // namespace

ShardReader::ShardReader(ShardReaderOptions options, std::string resume_after, aws::StreamsApi& api,
                         const core::Clock& clock, core::BoundedQueue<core::Record>* out, uint64_t tag)
    : ReaderThread(out, tag, clock), options_(std::move(options)), api_(api) {
  if (resume_after == pipeline::PartitionLease::kLatestPosition) {
    start_latest_ = true;
  } else if (auto watermark = StreamWatermark::Parse(resume_after)) {
    watermark_iterator_ = std::move(watermark->iterator);
    watermark_taken_ms_ = watermark->taken_ms;
  } else {
    last_sequence_number_ = std::move(resume_after);
  }
}

core::Status ShardReader::Read() {
  const std::string& shard_id = options_.shard_id;
  // From the watermark: its own iterator first (exact); see FallBackFromWatermark.
  std::string iterator = std::move(watermark_iterator_);
  bool on_watermark_iterator = !iterator.empty();
  while (!stopping()) {
    if (iterator.empty() && watermark_taken_ms_ != 0 && last_sequence_number_.empty() && cutoff_ms_ == 0) {
      FallBackFromWatermark("its iterator can no longer be used");
    }
    if (iterator.empty()) {
      const aws::ShardIteratorType type = !last_sequence_number_.empty() ? aws::ShardIteratorType::kAfterSequenceNumber
                                          : start_latest_                ? aws::ShardIteratorType::kLatest
                                                                         : aws::ShardIteratorType::kTrimHorizon;
      auto fresh = api_.GetShardIterator(options_.stream_arn, shard_id, type, last_sequence_number_);
      if (!fresh.ok()) {
        if (fresh.status().code() == core::StatusCode::kTrimmedData) {
          return fresh.status().WithContext("shard " + shard_id);
        }
        if (!fresh.status().transient()) return fresh.status().WithContext("GetShardIterator " + shard_id);
        spdlog::warn("source {}: GetShardIterator {}: {}; retrying", options_.table, shard_id,
                     fresh.status().ToString());
        SleepUnlessStopping(kRetryDelay);
        continue;
      }
      iterator = std::move(fresh).value();
    }
    auto slot = PageSlot();
    if (!slot.held()) break;
    auto page = api_.GetRecords(iterator, options_.get_records_limit, options_.decode_only.get());
    if (!page.ok() && on_watermark_iterator && page.status().code() != core::StatusCode::kTrimmedData &&
        (page.status().code() == core::StatusCode::kExpiredIterator || !page.status().transient())) {
      // Older than 15 minutes, or unknown to the service (a restarted endpoint): the fallback.
      spdlog::debug("source {}: shard {}: watermark iterator refused: {}", options_.table, shard_id,
                    page.status().ToString());
      FallBackFromWatermark("its iterator was refused (" + std::string(core::StatusCodeName(page.status().code())) +
                            ")");
      iterator.clear();
      on_watermark_iterator = false;
      continue;
    }
    if (!page.ok()) {
      const core::Status& status = page.status();
      if (status.code() == core::StatusCode::kExpiredIterator) {
        spdlog::info("source {}: shard {}: iterator expired; resuming after the last record read", options_.table,
                     shard_id);
        iterator.clear();
        continue;
      }
      if (status.code() == core::StatusCode::kTrimmedData) return status.WithContext("shard " + shard_id);
      if (!status.transient()) return status.WithContext("GetRecords " + shard_id);
      spdlog::warn("source {}: GetRecords {}: {}; retrying", options_.table, shard_id, status.ToString());
      iterator.clear();
      slot.Release();
      SleepUnlessStopping(kRetryDelay);
      continue;
    }
    for (auto& change : page->records) {
      if (cutoff_ms_ != 0 && last_sequence_number_.empty() && change.approximate_creation_time_ms < cutoff_ms_) {
        ++skipped_before_watermark_;  // older than the watermark: the snapshot reflects it
        continue;
      }
      core::Record record;
      record.operation = OperationOf(change.event_name);
      if (record.operation == core::Operation::kMarker) {
        return core::Status::Internal("shard " + shard_id + ": unknown eventName \"" + change.event_name +
                                      "\" at sequence number " + change.sequence_number);
      }
      record.key = std::move(change.keys);
      record.before = std::move(change.old_image);
      record.after = std::move(change.new_image);
      record.metadata.table = options_.table;
      record.metadata.shard_id = shard_id;
      record.metadata.sequence_number = change.sequence_number;
      record.metadata.change_time_ms = change.approximate_creation_time_ms;
      record.metadata.ttl_delete = record.operation == core::Operation::kDelete &&
                                   change.user_identity_type == "Service" &&
                                   change.user_identity_principal_id == "dynamodb.amazonaws.com";
      record.position = {shard_id, change.sequence_number, false};
      if (!Push(std::move(record))) return core::Status::Cancelled("stopping");
      last_sequence_number_ = change.sequence_number;
      start_latest_ = false;
      CountRecord();
    }
    if (!page->next_shard_iterator) {
      // Closed and fully read: the marker that finishes the partition (its children wait on it).
      core::Record marker;
      marker.metadata.table = options_.table;
      marker.metadata.shard_id = shard_id;
      marker.position = {shard_id, last_sequence_number_, true};
      if (!Push(std::move(marker))) return core::Status::Cancelled("stopping");
      return core::Status::Ok();
    }
    iterator = *page->next_shard_iterator;
    on_watermark_iterator = false;
    // A backlog: read on at once. Otherwise this is the tip: wait.
    slot.Release();
    if (page->records.size() < kBacklogPageRecords) {
      SleepUnlessStopping(milliseconds(options_.poll_interval_ms));
    }
  }
  return core::Status::Cancelled("stopping");
}

void ShardReader::FallBackFromWatermark(const std::string& why) {
  cutoff_ms_ = StreamWatermark::FallbackCutoffMs(watermark_taken_ms_);
  spdlog::info("source {}: shard {}: no record after the snapshot's watermark is committed yet and {}: reading from "
               "TRIM_HORIZON, skipping records older than the watermark less {} s (their changes are in the "
               "snapshot; the rest is applied behind the snapshot fence)",
               options_.table, options_.shard_id, why, StreamWatermark::kFallbackMarginMs / 1000);
}

}  // namespace ddb2pg::source
