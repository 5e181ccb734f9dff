// Partitions: the units a source's work is split into, leased to runners and lanes.
//
// A DynamoDB source is a set of partitions: each Scan segment ("scan/<i>"; "scan/<i>/<n>@<tag>"
// for a backfill or re-snapshot of some pipelines, n its segment count) and each stream shard (its id). Each has one row in ddb2pg.partitions (see docs/consistency.md) holding its state,
// its position and its lease (owner, epoch, expiry). A partition's position moves only in the
// transaction that commits the rows it produced, guarded by the lease's epoch.
//
// Plain values; not synchronised.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ddb2pg::pipeline {

enum class PartitionKind { kSegment, kShard };

// "segment", "shard".
inline std::string_view PartitionKindName(PartitionKind kind) {
  return kind == PartitionKind::kSegment ? "segment" : "shard";
}

// A partition as a claim hands it to this runner: its lease (id and the epoch that fences its
// commits; see HeldLease) and where its reader starts.
struct ClaimedPartition {
  std::string id;  // "scan/3" or a shard id
  PartitionKind kind = PartitionKind::kSegment;
  std::string parent;    // shards: the parent shard's id, "" for a root shard
  // Where reading resumes: "" from the start (a segment's first key, a shard's TRIM_HORIZON);
  // segment: the last key read (DynamoDB JSON); shard: the last sequence number read, or
  // kLatestPosition (a fresh stream-only start at LATEST).
  std::string position;
  int64_t epoch = 0;
  int segment = 0;         // segments: the segment number and the Scan's TotalSegments
  int total_segments = 0;
  // Segments: the pipelines its rows are for; empty: every pipeline (the source's first
  // snapshot). A backfill or re-snapshot names its pipelines.
  std::vector<std::string> scope;

  static constexpr const char* kLatestPosition = "LATEST";
};

// What one commit moves a held partition to.
struct PartitionAdvance {
  std::string id;
  int64_t epoch = 0;
  std::string position;  // the new position; "" keeps the stored one
  bool done = false;     // the partition was read to its end (segment complete, shard closed and read)
  int64_t records = 0;   // source records this commit covers in this partition
  // The newest change time (ApproximateCreationDateTime, Unix ms) of the changes this commit
  // applies from the partition; 0: none. The stored one only grows (on_trimmed:
  // incremental_export starts the gap from it).
  int64_t change_ms = 0;
};

// The partition that holds an opened gap (on_trimmed: incremental_export) until its exports'
// files replace it: its own parent, so nothing claims it (LeaseStore::OpenGap).
inline constexpr const char* kGapPlaceholderId = "gap";

// Where a gap opened at `now_ms` (Unix ms) ends: the next whole minute after now + 2 s. After
// every change a lane may still commit before the gap is opened, and a whole minute: the stream
// after the gap skips exactly the records whose ApproximateCreationDateTime is before it, and
// that time is rounded down (to the second on AWS, to the minute on DynamoDB Local), so a record
// made at or after a whole minute never reads as before it.
inline int64_t GapEndMs(int64_t now_ms) {
  constexpr int64_t kMinuteMs = 60'000;
  return ((now_ms + 2'000) / kMinuteMs + 1) * kMinuteMs;
}

// A shard as DescribeStream lists it.
struct ShardInfo {
  std::string id;
  std::string parent;
  bool closed = false;  // has an ending sequence number
};

// One partition as the first runner creates it.
struct SeedPartition {
  std::string id;
  PartitionKind kind = PartitionKind::kSegment;
  std::string parent;
  std::string position;
  bool done = false;
  // The change time (Unix ms) the partition's reading starts from, when known: a shard seeded at a
  // watermark or an export time. 0: none (the first committed change sets it).
  int64_t change_ms = 0;
};

// What a source starts with: the pinned stream and its partitions.
struct CheckpointSeed {
  std::string stream_arn;
  int total_segments = 0;
  std::vector<SeedPartition> partitions;
};

}  // namespace ddb2pg::pipeline
