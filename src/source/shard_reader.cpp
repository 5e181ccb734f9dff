#include "source/shard_reader.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "source/stream_watermark.h"

namespace ddb2pg::source {
namespace {

using std::chrono::milliseconds;
constexpr auto kRetryDelay = milliseconds(1000);  // after the client's own retries ran out
// A page with at least this many records means a backlog (DynamoDB Local pages well below the
// 1000-record maximum): read on at once.
constexpr size_t kBacklogPageRecords = 100;
constexpr auto kFullQueueRetry = milliseconds(2);

core::Operation OperationOf(const std::string& event_name) {
  if (event_name == "INSERT") return core::Operation::kCreate;
  if (event_name == "MODIFY") return core::Operation::kUpdate;
  if (event_name == "REMOVE") return core::Operation::kDelete;
  return core::Operation::kMarker;
}

}  // namespace

ShardReader::ShardReader(ShardReaderOptions options, std::string resume_after, aws::StreamsApi& api,
                         const core::Clock& clock, core::BoundedQueue<core::Record>* out, uint64_t tag,
                         core::FetchGate* gate, ShardPoller& poller)
    : options_(std::move(options)), api_(api), clock_(clock), out_(out), tag_(tag), gate_(gate), poller_(poller) {
  if (resume_after == pipeline::ClaimedPartition::kLatestPosition) {
    start_latest_ = true;
  } else if (auto watermark = StreamWatermark::Parse(resume_after)) {
    // From the watermark: its own iterator first (exact); see FallBackFromWatermark.
    iterator_ = std::move(watermark->iterator);
    on_watermark_iterator_ = !iterator_.empty();
    watermark_taken_ms_ = watermark->taken_ms;
    watermark_margin_ms_ = watermark->margin_ms;
  } else {
    last_sequence_number_ = std::move(resume_after);
  }
}

void ShardReader::Start() {
  if (started_.exchange(true)) return;
  poller_.Add(this, &poll_id_);
}

void ShardReader::Stop() {
  if (stopping_.exchange(true)) return;
  if (started_.load()) poller_.Remove(poll_id_);
  ReleaseSlot();
  pending_.clear();
}

core::Status ShardReader::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

ShardPoller::Next ShardReader::Fail(core::Status status) {
  ReleaseSlot();
  pending_.clear();
  std::lock_guard lock(mutex_);
  if (!stopping_.load()) status_ = std::move(status);
  return ShardPoller::Next::End();
}

ShardPoller::Next ShardReader::After(std::chrono::milliseconds wait) const {
  return ShardPoller::Next::At(clock_.Monotonic() + wait);
}

void ShardReader::ReleaseSlot() {
  if (slot_held_ && gate_ != nullptr) gate_->Release();
  slot_held_ = false;
}

ShardPoller::Next ShardReader::Step() {
  if (stopping_.load()) return ShardPoller::Next::End();
  if (!pending_.empty()) return Deliver();
  const std::string& shard_id = options_.shard_id;
  if (iterator_.empty() && watermark_taken_ms_ != 0 && last_sequence_number_.empty() && cutoff_ms_ == 0) {
    FallBackFromWatermark("its iterator can no longer be used");
  }
  if (iterator_.empty()) {
    const aws::ShardIteratorType type = !last_sequence_number_.empty() ? aws::ShardIteratorType::kAfterSequenceNumber
                                        : start_latest_                ? aws::ShardIteratorType::kLatest
                                                                       : aws::ShardIteratorType::kTrimHorizon;
    auto fresh = api_.GetShardIterator(options_.stream_arn, shard_id, type, last_sequence_number_);
    if (!fresh.ok()) {
      if (fresh.status().code() == core::StatusCode::kTrimmedData) {
        return Fail(fresh.status().WithContext("shard " + shard_id));
      }
      if (!fresh.status().transient()) return Fail(fresh.status().WithContext("GetShardIterator " + shard_id));
      spdlog::warn("source {}: GetShardIterator {}: {}; retrying", options_.table, shard_id, fresh.status().ToString());
      return After(kRetryDelay);
    }
    iterator_ = std::move(fresh).value();
    return ShardPoller::Next::Now();  // the GetRecords call takes its turn in the runner's budget
  }
  if (!slot_held_ && gate_ != nullptr) {
    ShardPoller* poller = &poller_;
    const uint64_t id = poll_id_;
    // An idle poll waits behind the lane's readers that have a backlog (core/fetch_gate.h).
    if (!gate_->TryAcquire([poller, id] { return poller->Wake(id); }, catching_up_.load(std::memory_order_relaxed))) {
      return ShardPoller::Next::Gate();
    }
  }
  slot_held_ = true;
  // Records the loop below drops (older than the cut-off, none kept yet) come without images.
  const int64_t skip_images_before_ms = last_sequence_number_.empty() ? cutoff_ms_ : 0;
  auto page = api_.GetRecords(iterator_, options_.get_records_limit, options_.decode_only.get(), skip_images_before_ms);
  poller_.CountGetRecords();
  if (!page.ok() && on_watermark_iterator_ && page.status().code() != core::StatusCode::kTrimmedData &&
      (page.status().code() == core::StatusCode::kExpiredIterator || !page.status().transient())) {
    // Older than 15 minutes, or unknown to the service (a restarted endpoint): the fallback.
    spdlog::debug("source {}: shard {}: watermark iterator refused: {}", options_.table, shard_id,
                  page.status().ToString());
    FallBackFromWatermark("its iterator was refused (" + std::string(core::StatusCodeName(page.status().code())) + ")");
    iterator_.clear();
    on_watermark_iterator_ = false;
    ReleaseSlot();
    return ShardPoller::Next::Now();
  }
  if (!page.ok()) {
    const core::Status& status = page.status();
    ReleaseSlot();
    if (status.code() == core::StatusCode::kExpiredIterator) {
      spdlog::info("source {}: shard {}: iterator expired; resuming after the last record read", options_.table,
                   shard_id);
      iterator_.clear();
      return ShardPoller::Next::Now();
    }
    if (status.code() == core::StatusCode::kTrimmedData) return Fail(status.WithContext("shard " + shard_id));
    if (!status.transient()) return Fail(status.WithContext("GetRecords " + shard_id));
    spdlog::warn("source {}: GetRecords {}: {}; retrying", options_.table, shard_id, status.ToString());
    iterator_.clear();
    return After(kRetryDelay);
  }
  const size_t page_records = page->records.size();
  for (auto& change : page->records) {
    if (cutoff_ms_ != 0 && last_sequence_number_.empty() && change.approximate_creation_time_ms < cutoff_ms_) {
      ++skipped_before_watermark_;  // older than the watermark: the snapshot reflects it
      continue;
    }
    if (change.images_skipped) {  // the parser's rule and this loop's must agree
      return Fail(core::Status::Internal("shard " + shard_id + ": record " + change.sequence_number +
                                         " came without its images but is not older than the cut-off"));
    }
    core::Record record;
    record.operation = OperationOf(change.event_name);
    if (record.operation == core::Operation::kMarker) {
      return Fail(core::Status::Internal("shard " + shard_id + ": unknown eventName \"" + change.event_name +
                                         "\" at sequence number " + change.sequence_number));
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
    record.reader_tag = tag_;
    pending_.push_back(std::move(record));
    last_sequence_number_ = change.sequence_number;
    start_latest_ = false;
  }
  if (!page->next_shard_iterator) {
    // Closed and fully read: the marker that finishes the partition (its children wait on it).
    core::Record marker;
    marker.metadata.table = options_.table;
    marker.metadata.shard_id = shard_id;
    marker.position = {shard_id, last_sequence_number_, true};
    marker.reader_tag = tag_;
    pending_.push_back(std::move(marker));
    closed_after_pending_ = true;
  } else {
    iterator_ = *page->next_shard_iterator;
    on_watermark_iterator_ = false;
  }
  // A backlog: read on at once. A partial page: the tip. Empty pages in a row: back off.
  catching_up_.store(page_records >= kBacklogPageRecords && !closed_after_pending_, std::memory_order_relaxed);
  if (page_records >= kBacklogPageRecords) {
    empty_pages_ = 0;
    after_page_ = ShardPoller::Next::Now();
  } else if (page_records > 0) {
    empty_pages_ = 0;
    after_page_ = After(milliseconds(options_.poll_interval_ms));
  } else {
    const bool scanning = options_.scans != nullptr && options_.scans->running() > 0;
    after_page_ = After(milliseconds(IdleWaitMs(empty_pages_++, options_, scanning)));
  }
  return Deliver();
}

int64_t ShardReader::IdleWaitMs(int empty_pages_before, const ShardReaderOptions& options, bool scanning) {
  const int doublings = std::clamp(empty_pages_before, 0, 16);
  int64_t ceiling_ms = std::max(options.poll_interval_ms, options.idle_poll_ceiling_ms);
  if (scanning) ceiling_ms *= core::defaults::kIdlePollCeilingFactorWhileScanning;
  return std::min<int64_t>(static_cast<int64_t>(options.poll_interval_ms) << doublings, ceiling_ms);
}

ShardPoller::Next ShardReader::Deliver() {
  while (!pending_.empty()) {
    const bool marker = pending_.front().position.partition_done;
    if (!out_->TryPush(pending_.front())) {
      // The lane's queue is full (or closing): try again shortly, still holding the page's slot.
      return After(kFullQueueRetry);
    }
    pending_.pop_front();
    if (!marker) records_.fetch_add(1);
  }
  ReleaseSlot();
  if (closed_after_pending_) return ShardPoller::Next::End();
  // A page's wait counts from its fetch, not from the end of a slow delivery.
  return after_page_;
}

void ShardReader::FallBackFromWatermark(const std::string& why) {
  cutoff_ms_ = StreamWatermark::FallbackCutoffMs(watermark_taken_ms_, watermark_margin_ms_);
  if (watermark_margin_ms_ == 0) {
    spdlog::info("source {}: shard {}: reading from TRIM_HORIZON after a bridged gap, skipping records older than "
                 "its end (their changes are in the gap's incremental exports)",
                 options_.table, options_.shard_id);
    return;
  }
  spdlog::info("source {}: shard {}: no record after the snapshot's watermark is committed yet and {}: reading from "
               "TRIM_HORIZON, skipping records older than the watermark less {} s (their changes are in the "
               "snapshot; the rest is applied behind the snapshot fence)",
               options_.table, options_.shard_id, why, watermark_margin_ms_ / 1000);
}

}  // namespace ddb2pg::source
