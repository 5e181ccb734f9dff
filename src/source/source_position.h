// SourcePosition: how far the DynamoDB source got, as one compact versioned JSON string.
//
// Owned by the runtime: it folds the core::Position of every committed record, in queue order,
// and stores Serialize() with the data in PostgreSQL; on restart it passes that string back to
// DynamoDbSource::Start, which resumes exactly after it (no gap, nothing before re-emitted).
//
// What each record's Position means (the source pushes them so that folding in queue order is
// always correct; see docs/consistency.md):
//   partition "stream",   offset ARN           pins the stream ARN (first record ever pushed)
//   partition "scan/<i>", offset key JSON      snapshot segment i: items up to and including
//                                              this primary key (DynamoDB JSON) are emitted;
//                                              partition_done: the segment is complete
//   partition "snapshot", partition_done       every segment is complete; the stream phase began
//   partition <shard id>, offset seq number    stream records up to this sequence number are
//                                              emitted; partition_done: the shard is fully read
//   partition "reset",    offset ARN           on_trimmed=resnapshot: forget everything, pin ARN
//
// Serialized form, version 1 (keys omitted when empty):
//   {"v":1,"arn":"...","snapshot_complete":true,
//    "segments":[{"k":{"id":{"S":"a"}}},{"done":true},{}],
//    "shards":{"shardId-1":"000123"},"finished":["shardId-0"]}
//
// Thread-safety: a plain value; not synchronised.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/record.h"
#include "core/status.h"
#include "core/value.h"

namespace ddb2pg::source {

class SourcePosition {
 public:
  static constexpr int kVersion = 1;

  struct Segment {
    std::optional<core::Value> last_key;  // the last primary key emitted; nullopt: none yet
    bool done = false;
    bool operator==(const Segment&) const = default;
  };

  // Parses Serialize() output. kInvalidArgument naming the problem for malformed text or a
  // version other than kVersion (e.g. a position written by another tool or a newer ddb2pg).
  static core::Result<SourcePosition> Parse(const std::string& text);
  std::string Serialize() const;

  // Applies one record's step (see the table above). kInvalidArgument for a position this
  // source never produces (unknown partition, malformed offset, text that is not UTF-8).
  core::Status Fold(const core::Position& position);

  // Nothing folded yet: a fresh start.
  bool empty() const;

  const std::string& stream_arn() const { return stream_arn_; }
  bool snapshot_complete() const { return snapshot_complete_; }
  // Empty until the first snapshot record of a run; then one entry per Scan segment.
  const std::vector<Segment>& segments() const { return segments_; }
  // Last sequence number emitted per unfinished shard.
  const std::map<std::string, std::string>& shard_sequence_numbers() const { return shard_sequence_numbers_; }
  const std::set<std::string>& finished_shards() const { return finished_shards_; }

  // Setters for the source and tests.
  void set_stream_arn(std::string arn) { stream_arn_ = std::move(arn); }
  void set_snapshot_complete(bool complete) { snapshot_complete_ = complete; }
  void set_segment_count(int count);  // resizes; existing progress kept
  std::vector<Segment>& mutable_segments() { return segments_; }
  void set_shard_sequence_number(const std::string& shard_id, const std::string& sequence_number);
  void set_shard_finished(const std::string& shard_id);

  bool operator==(const SourcePosition&) const = default;

  // Partition names and offset encodings, shared with the source.
  static std::string SegmentPartition(int segment);  // "scan/3" (a shard id never holds a '/')
  static std::string KeyOffset(const core::Value& key);  // DynamoDB JSON of the key
  static constexpr const char* kStreamPartition = "stream";
  static constexpr const char* kSnapshotPartition = "snapshot";
  static constexpr const char* kResetPartition = "reset";

 private:
  std::string stream_arn_;
  bool snapshot_complete_ = false;
  std::vector<Segment> segments_;
  std::map<std::string, std::string> shard_sequence_numbers_;
  std::set<std::string> finished_shards_;
};

// Parses a DynamoDB JSON primary key ({"id":{"S":"a"},"n":{"N":"1"}}; S, N and B only, the key
// attribute types DynamoDB allows). Used for positions; items are decoded by aws/attribute_codec.
core::Result<core::Value> ParseKeyJson(const std::string& json);

}  // namespace ddb2pg::source
