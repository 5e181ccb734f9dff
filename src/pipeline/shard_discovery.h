// ShardDiscovery: what a source runtime asks DynamoDB Streams for to find new shards, at a cost
// that follows the shards created, not the shards the stream holds.
//
// The full listing (every DescribeStream page: shards ÷ 100 calls) is made at the start and then
// only every full_listing_interval. In between, each discovery costs one call or so:
// - a shard that finished: its children (ShardFilter CHILD_SHARDS, one call each); where the
//   service ignores the filter (DynamoDB Local 1.25.1), never asked again;
// - the shards listed after the last one listed (ExclusiveStartShardId): new shards whose parent
//   another runner read, and the children where the filter is not supported.
// The full listing is what finds a pending shard trimmed before it was read (only a complete
// listing can say a shard is gone), and any shard an incremental listing missed.
//
// Ownership: borrows the source and the clock. Thread-safety: one thread (the runtime's).
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/option_defaults.h"
#include "core/status.h"
#include "pipeline/record_source.h"

namespace ddb2pg::pipeline {

struct ShardListing {
  std::vector<ShardInfo> shards;
  bool complete = false;  // every shard of the stream (a full listing); else only new ones
};

class ShardDiscovery {
 public:
  ShardDiscovery(RecordSource& source, const core::Clock& clock,
                 std::chrono::milliseconds full_listing_interval =
                     std::chrono::milliseconds(core::defaults::kShardFullListingMs));

  // A full listing made elsewhere (Describe's, at the start): incremental listings go on from it.
  void Listed(const std::vector<ShardInfo>& shards);
  // One discovery for `stream_arn`; `finished`: shards read to their end since the last call
  // (their children are asked for; kept and asked again after a failed call).
  core::Result<ShardListing> Next(const std::string& stream_arn, const std::vector<std::string>& finished);
  // A full listing at the next call (a replaced stream, a re-snapshot).
  void Reset();

  bool child_filter_supported() const { return child_filter_ != ChildFilter::kUnsupported; }

 private:
  enum class ChildFilter { kUnknown, kSupported, kUnsupported };

  core::Result<ShardListing> Full(const std::string& stream_arn);
  // The newest shard listed so far: where the next listing starts.
  void Advance(const std::vector<ShardInfo>& shards);

  RecordSource& source_;
  const core::Clock& clock_;
  std::chrono::milliseconds full_listing_interval_;
  bool listed_ = false;      // false: a full listing is due
  std::string last_listed_;  // the newest shard listed ("" for a stream without shards)
  std::chrono::steady_clock::time_point last_full_{};
  std::set<std::string> parents_;  // finished shards whose children are still to be asked for
  ChildFilter child_filter_ = ChildFilter::kUnknown;
};

}  // namespace ddb2pg::pipeline
