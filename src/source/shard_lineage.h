// ShardLineage: the pure, thread-free state machine of a stream's shards and a source's snapshot
// segments — which partitions exist, which are done, and which may be read now.
//
// The rules (the same ones PgLeaseStore enforces in SQL across runners, docs/consistency.md):
//   - every segment may be read at once; a shard only once every segment is done (the stream
//     starts after the snapshot);
//   - a shard only once its parent is done, or gone from the store (a parent trimmed after being
//     read, or never seen: older than anything still needed) — per-item order across splits;
//   - a listing adds the shards not known yet (their parent link kept); a pending shard missing
//     from the listing was trimmed before it was read: data lost upstream.
// Used by the unit tests' lease store and to reason about the SQL; a plain value.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "pipeline/partition.h"

namespace ddb2pg::source {

class ShardLineage {
 public:
  struct Entry {
    pipeline::PartitionKind kind = pipeline::PartitionKind::kShard;
    std::string parent;
    bool done = false;
  };
  struct SyncResult {
    std::vector<std::string> added;    // shards new to the lineage
    std::vector<std::string> trimmed;  // pending shards the listing no longer has
    std::vector<std::string> forgotten;  // done shards no longer listed (dropped)
  };

  void AddSegment(const std::string& id, bool done = false);
  void AddShard(const std::string& id, const std::string& parent, bool done = false);
  // Applies a DescribeStream listing (see the rules above).
  SyncResult Sync(const std::vector<pipeline::ShardInfo>& listed);
  void MarkDone(const std::string& id);

  // Pending partitions that may be read now, segments first, each group in id order.
  std::vector<std::string> Eligible() const;
  bool IsEligible(const std::string& id) const;
  bool SnapshotDone() const;
  const std::map<std::string, Entry>& entries() const { return entries_; }

 private:
  std::map<std::string, Entry> entries_;
};

}  // namespace ddb2pg::source
