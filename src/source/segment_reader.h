// SegmentReader: one Scan segment of the snapshot, as one partition ("scan/<i>").
//
// Scans segment i of TotalSegments n from after the partition's position (the last key read,
// ExclusiveStartKey: exact even when that item was deleted since) to the segment's end. Each item
// is a kSnapshot record whose offset is its key; the last item of the last page (or a marker,
// when the last page is empty) carries partition_done. A rate limiter may be shared by the
// segments of one runner (snapshot.max_items_per_second).
//
// Thread-safety: see ReaderThread.
#pragma once

#include <memory>
#include <vector>

#include "core/option_defaults.h"
#include "aws/dynamodb_api.h"
#include "source/rate_limiter.h"
#include "source/reader_thread.h"

namespace ddb2pg::source {

struct SegmentReaderOptions {
  std::string table;
  std::vector<std::string> key_names;  // HASH, then RANGE
  int segment = 0;
  int total_segments = 1;
  std::string partition_id;  // its records' position partition; "" → "scan/<segment>"
  int page_limit = core::defaults::kScanPageLimit;
  bool consistent_read = false;
  std::shared_ptr<const aws::AttributeSelection> decode_only;  // null: every attribute
};

class SegmentReader : public ReaderThread {
 public:
  // `resume_after`: the last key read (DynamoDB JSON), "" from the start. Borrows api, limiter
  // and the queue: they outlive the reader.
  SegmentReader(SegmentReaderOptions options, std::string resume_after, aws::TableApi& api, RateLimiter& limiter,
                const core::Clock& clock, core::BoundedQueue<core::Record>* out, uint64_t tag);
  ~SegmentReader() override { Stop(); }

 protected:
  core::Status Read() override;

 private:
  core::Result<core::Value> KeyOf(const core::Value& item) const;

  SegmentReaderOptions options_;
  std::string resume_after_;
  aws::TableApi& api_;
  RateLimiter& limiter_;
};

}  // namespace ddb2pg::source
