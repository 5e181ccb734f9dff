// ShardReader: one stream shard, as one partition (the shard id).
//
// Reads the shard after the partition's position (AFTER_SEQUENCE_NUMBER), from TRIM_HORIZON when
// it has none, or from LATEST for a fresh stream-only start at latest. Each change is a record
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

 protected:
  core::Status Read() override;

 private:
  ShardReaderOptions options_;
  std::string last_sequence_number_;
  bool start_latest_ = false;
  aws::StreamsApi& api_;
};

}  // namespace ddb2pg::source
