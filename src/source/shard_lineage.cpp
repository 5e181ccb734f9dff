#include "source/shard_lineage.h"

namespace ddb2pg::source {

using pipeline::PartitionKind;

void ShardLineage::AddSegment(const std::string& id, bool done) { entries_[id] = {PartitionKind::kSegment, "", done}; }

void ShardLineage::AddShard(const std::string& id, const std::string& parent, bool done) {
  entries_[id] = {PartitionKind::kShard, parent, done};
}

ShardLineage::SyncResult ShardLineage::Sync(const std::vector<pipeline::ShardInfo>& listed) {
  SyncResult result;
  std::set<std::string> ids;
  for (const auto& shard : listed) {
    ids.insert(shard.id);
    auto [it, added] = entries_.try_emplace(shard.id, Entry{PartitionKind::kShard, shard.parent, false});
    if (added) {
      result.added.push_back(shard.id);
    } else if (it->second.parent.empty()) {
      it->second.parent = shard.parent;
    }
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.kind != PartitionKind::kShard || ids.count(it->first) != 0) {
      ++it;
      continue;
    }
    if (it->second.done) {
      result.forgotten.push_back(it->first);
      it = entries_.erase(it);
    } else {
      result.trimmed.push_back(it->first);
      ++it;
    }
  }
  return result;
}

void ShardLineage::MarkDone(const std::string& id) {
  auto it = entries_.find(id);
  if (it != entries_.end()) it->second.done = true;
}

bool ShardLineage::SnapshotDone() const {
  for (const auto& [id, entry] : entries_) {
    if (entry.kind == PartitionKind::kSegment && !entry.done) return false;
  }
  return true;
}

bool ShardLineage::IsEligible(const std::string& id) const {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.done) return false;
  if (it->second.kind == PartitionKind::kSegment) return true;
  if (!SnapshotDone()) return false;
  if (it->second.parent.empty()) return true;
  auto parent = entries_.find(it->second.parent);
  return parent == entries_.end() || parent->second.done;
}

std::vector<std::string> ShardLineage::Eligible() const {
  std::vector<std::string> segments, shards;
  for (const auto& [id, entry] : entries_) {
    if (!IsEligible(id)) continue;
    (entry.kind == PartitionKind::kSegment ? segments : shards).push_back(id);
  }
  segments.insert(segments.end(), shards.begin(), shards.end());
  return segments;
}

}  // namespace ddb2pg::source
