#include "source/segment_reader.h"

#include <spdlog/spdlog.h>

#include "source/source_position.h"

namespace ddb2pg::source {

constexpr auto kRetryDelay = std::chrono::milliseconds(1000);  // after the client's own retries ran out

SegmentReader::SegmentReader(SegmentReaderOptions options, std::string resume_after, aws::TableApi& api,
                             RateLimiter& limiter, const core::Clock& clock, core::BoundedQueue<core::Record>* out,
                             uint64_t tag)
    : ReaderThread(out, tag, clock),
      options_(std::move(options)),
      resume_after_(std::move(resume_after)),
      api_(api),
      limiter_(limiter) {}

core::Result<core::Value> SegmentReader::KeyOf(const core::Value& item) const {
  core::Value key = core::Value::MakeMap();
  for (const auto& name : options_.key_names) {
    const core::Value* value = item.Find(name);
    if (value == nullptr) {
      return core::Status::Internal("table " + options_.table + ": a scanned item has no key attribute " + name);
    }
    key.Set(name, *value);
  }
  return key;
}

core::Status SegmentReader::Read() {
  const std::string partition =
      options_.partition_id.empty() ? SourcePosition::SegmentPartition(options_.segment) : options_.partition_id;
  aws::ScanRequest request;
  request.table_name = options_.table;
  request.segment = options_.segment;
  request.total_segments = options_.total_segments;
  request.limit = options_.page_limit;
  request.consistent_read = options_.consistent_read;
  request.decode_only = options_.decode_only;
  if (!resume_after_.empty()) {
    auto key = ParseKeyJson(resume_after_);
    if (!key.ok()) return key.status().WithContext("the stored position of " + partition);
    request.exclusive_start_key = std::move(key).value();
  }
  while (!stopping()) {
    auto slot = PageSlot();
    if (!slot.held()) break;
    auto page = api_.Scan(request);
    if (!page.ok()) {
      if (page.status().transient()) {
        spdlog::warn("source {}: Scan segment {}: {}; retrying", options_.table, options_.segment,
                     page.status().ToString());
        slot.Release();
        SleepUnlessStopping(kRetryDelay);
        continue;
      }
      return page.status().WithContext("Scan " + options_.table + " segment " + std::to_string(options_.segment));
    }
    const int64_t scan_time_ms = core::ToEpochMillis(clock().Now());
    const bool last_page = !page->last_evaluated_key.has_value();
    const size_t count = page->items.size();
    for (size_t i = 0; i < count; ++i) {
      auto key = KeyOf(page->items[i]);
      if (!key.ok()) return key.status();
      core::Record record;
      record.operation = core::Operation::kSnapshot;
      record.position = {partition, SourcePosition::KeyOffset(*key), last_page && i + 1 == count};
      record.key = std::move(key).value();
      record.after = std::move(page->items[i]);
      record.metadata.table = options_.table;
      record.metadata.change_time_ms = scan_time_ms;
      if (!Push(std::move(record))) return core::Status::Cancelled("stopping");
      CountRecord();
    }
    if (count == 0) {  // the page still moves the segment on
      core::Record marker;
      marker.metadata.table = options_.table;
      marker.position = {partition, last_page ? "" : SourcePosition::KeyOffset(*page->last_evaluated_key), last_page};
      if (!Push(std::move(marker))) return core::Status::Cancelled("stopping");
    }
    if (last_page) return core::Status::Ok();
    request.exclusive_start_key = std::move(page->last_evaluated_key);
    slot.Release();
    SleepUnlessStopping(limiter_.Reserve(static_cast<int64_t>(count), clock().Monotonic()));
  }
  return core::Status::Cancelled("stopping");
}

}  // namespace ddb2pg::source
