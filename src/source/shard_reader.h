// ShardReader: one stream shard, as one partition (the shard id).
//
// Reads the shard after the partition's position (AFTER_SEQUENCE_NUMBER), from TRIM_HORIZON when
// it has none, from LATEST for a fresh stream-only start at latest, or from a snapshot's
// watermark (source/stream_watermark.h): its stored iterator, else TRIM_HORIZON skipping records
// older than the watermark's time less the fallback margin. Each change is a record
// whose offset is its sequence number; when GetRecords returns no NextShardIterator the shard is
// closed and fully read: a marker with partition_done goes out and the reader ends.
//
// Polling: back to back while pages come back full (a backlog); at the shard's tip (a partial or
// empty page) it waits poll_interval before the next call, so an idle shard costs at most
// 1000 / poll_interval_ms GetRecords calls a second. An expired iterator resumes after the last
// sequence number read. TrimmedDataAccessException ends the reader with kTrimmedData.
//
// Thread-safety: see ReaderThread.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/option_defaults.h"
#include "aws/dynamodb_api.h"
#include "source/reader_thread.h"

namespace ddb2pg::source {

struct ShardReaderOptions {
  std::string table;
  std::string stream_arn;
  std::string shard_id;
  int poll_interval_ms = core::defaults::kPollIntervalMs;  // at the tip; backlog pages are read back to back
  int get_records_limit = core::defaults::kGetRecordsLimit;  // the service maximum
  std::shared_ptr<const aws::AttributeSelection> decode_only;
};

class ShardReader : public ReaderThread {
 public:
  // `resume_after`: the last sequence number read, "" for TRIM_HORIZON, or
  // pipeline::PartitionLease::kLatestPosition.
  ShardReader(ShardReaderOptions options, std::string resume_after, aws::StreamsApi& api, const core::Clock& clock,
              core::BoundedQueue<core::Record>* out, uint64_t tag);
  ~ShardReader() override { Stop(); }

  int64_t skipped_before_watermark() const override { return skipped_before_watermark_.load(); }

 protected:
  core::Status Read() override;

 private:
  ShardReaderOptions options_;
  // Reading from TRIM_HORIZON instead of a watermark's iterator: skips records until one at or
  // after the cutoff time is pushed.
  void FallBackFromWatermark(const std::string& why);

  std::string last_sequence_number_;
  bool start_latest_ = false;
  std::string watermark_iterator_;   // consumed by the first Read() step
  int64_t watermark_taken_ms_ = 0;   // 0: the position was no watermark
  int64_t cutoff_ms_ = 0;            // 0: nothing is skipped
  std::atomic<int64_t> skipped_before_watermark_{0};
  aws::StreamsApi& api_;
};

}  // namespace ddb2pg::source
