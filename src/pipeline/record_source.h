// RecordSource: the narrow interface the runtime reads a source through. src/source implements it
// for DynamoDB (DynamoDbRecordSource); unit tests implement it with fakes. Only src/app names the
// concrete type.
//
// The runtime asks for the source's layout once (the stream to pin and its shards), lists shards
// again from time to time, and opens one PartitionReader per partition it holds. A reader pushes
// the partition's records, in order, into the queue it is given, each tagged with the reader's
// tag and carrying Position{partition id, offset, partition_done}: the offset is what the
// partition's stored position becomes once the record is committed (see partition.h).
//
// Thread-safety: implementations are safe to call from several threads; each reader runs on its
// own thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bounded_queue.h"
#include "core/fetch_gate.h"
#include "core/record.h"
#include "core/status.h"
#include "pipeline/partition.h"

namespace ddb2pg::pipeline {

struct SourceLayout {
  std::string stream_arn;        // the table's current stream (NEW_AND_OLD_IMAGES checked)
  std::vector<ShardInfo> shards;  // every shard of that stream, all DescribeStream pages
  int64_t item_count_estimate = 0;
};

// One partition being read. Destruction stops and joins it.
class PartitionReader {
 public:
  virtual ~PartitionReader() = default;
  // Stops promptly (also while blocked on a full queue) and joins. Safe to call twice.
  virtual void Stop() = 0;
  // Ok while reading or after reaching the partition's end; else why it stopped:
  // kTrimmedData (data lost upstream), or a non-retryable error (retryable ones are retried).
  virtual core::Status status() const = 0;
  // Records pushed so far.
  virtual int64_t records() const = 0;
  // Records read and dropped because the snapshot already reflects them (a stream shard read
  // from TRIM_HORIZON after its watermark's iterator could not be used).
  virtual int64_t skipped_before_watermark() const { return 0; }
  // More records are on their way at once: the reader has not had its first page yet, or its
  // last page was a backlog page. A lane holds a stream batch for more (up to batch_max_delay)
  // while one of its readers catches up, instead of committing it because its queue is empty
  // for a moment (docs/consistency.md, "The stream reader").
  virtual bool catching_up() const { return false; }
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // Checks the table and its stream (enabling it when so configured), lists its shards.
  // kInvalidArgument names the fix for a missing or wrong stream; kNotFound: no such table.
  virtual core::Result<SourceLayout> Describe() = 0;
  // The shards of `stream_arn`, every page. Retryable errors come back as such.
  virtual core::Result<std::vector<ShardInfo>> ListShards(const std::string& stream_arn) = 0;
  // The shards listed after `after_shard_id` in the service's listing order (DescribeStream from
  // ExclusiveStartShardId, every page): the shards created since that one was listed, at the cost
  // of the new shards only, not of every shard of the stream.
  virtual core::Result<std::vector<ShardInfo>> ListShardsAfter(const std::string& stream_arn,
                                                               const std::string& after_shard_id) = 0;
  // The children of `shard_id` (DescribeStream with ShardFilter CHILD_SHARDS: one call); nullopt
  // where the service ignores the filter (DynamoDB Local 1.25.1 lists the stream's shards instead).
  virtual core::Result<std::optional<std::vector<ShardInfo>>> ListChildShards(const std::string& stream_arn,
                                                                              const std::string& shard_id) = 0;
  // DescribeStream calls made so far, every listing above and Describe() included (a metric).
  virtual int64_t describe_stream_calls() const = 0;
  // The partitions a source starts with: a fresh start from `layout` (the snapshot's segments and
  // every shard), or `legacy_position` converted (a checkpoint written by an earlier release:
  // nothing re-read that it had committed).
  virtual core::Result<CheckpointSeed> Seed(const SourceLayout& layout,
                                        const std::optional<std::string>& legacy_position) = 0;
  // on_trimmed: incremental_export. The stream's side of a bridged gap: every shard of `layout`,
  // each read from exactly `to_ms` (records before it are the gap's), parents as listed.
  virtual core::Result<std::vector<SeedPartition>> GapShards(const SourceLayout& /*layout*/, int64_t /*to_ms*/) {
    return core::Status::FailedPrecondition("this source cannot bridge a gap");
  }
  // The gap's own partitions: the changes of [from_ms, to_ms), requested from the service and
  // waited for (blocking; kCancelled once `stop` turns true), in the order they must be applied
  // (the caller chains them). Each is opened by Open() like any other partition.
  virtual core::Result<std::vector<SeedPartition>> GapPartitions(int64_t /*from_ms*/, int64_t /*to_ms*/,
                                                                 const std::atomic<bool>& /*stop*/) {
    return core::Status::FailedPrecondition("this source cannot bridge a gap");
  }
  // Starts reading `lease` from its position into `out`; every record carries `tag`. Each page is
  // fetched holding a slot of `gate` (the lane's bound on pages held at once; null: unbounded).
  virtual std::unique_ptr<PartitionReader> Open(const ClaimedPartition& lease, const std::string& stream_arn,
                                                uint64_t tag, core::BoundedQueue<core::Record>* out,
                                                core::FetchGate* gate) = 0;
};

}  // namespace ddb2pg::pipeline
