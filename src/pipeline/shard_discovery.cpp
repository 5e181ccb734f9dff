#include "pipeline/shard_discovery.h"

#include <spdlog/spdlog.h>

namespace ddb2pg::pipeline {

ShardDiscovery::ShardDiscovery(RecordSource& source, const core::Clock& clock,
                               std::chrono::milliseconds full_listing_interval)
    : source_(source), clock_(clock), full_listing_interval_(full_listing_interval) {}

void ShardDiscovery::Listed(const std::vector<ShardInfo>& shards) {
  last_full_ = clock_.Monotonic();
  listed_ = true;
  last_listed_.clear();
  Advance(shards);
}

void ShardDiscovery::Reset() { listed_ = false; }

void ShardDiscovery::Advance(const std::vector<ShardInfo>& shards) {
  if (!shards.empty()) last_listed_ = shards.back().id;
}

core::Result<ShardListing> ShardDiscovery::Full(const std::string& stream_arn) {
  DDB2PG_ASSIGN_OR_RETURN(auto shards, source_.ListShards(stream_arn));
  Listed(shards);
  parents_.clear();  // their children, if any, are in this listing
  return ShardListing{std::move(shards), true};
}

core::Result<ShardListing> ShardDiscovery::Next(const std::string& stream_arn,
                                                const std::vector<std::string>& finished) {
  parents_.insert(finished.begin(), finished.end());
  if (!listed_ || clock_.Monotonic() - last_full_ >= full_listing_interval_) return Full(stream_arn);
  ShardListing listing;
  std::vector<std::string> asked;  // forgotten only once this discovery succeeds
  for (auto it = parents_.begin(); it != parents_.end() && child_filter_ != ChildFilter::kUnsupported; ++it) {
    auto children = source_.ListChildShards(stream_arn, *it);
    if (!children.ok()) return children.status();
    if (!children->has_value()) {
      spdlog::info("DescribeStream of {} ignores ShardFilter CHILD_SHARDS: new shards are found by listing the "
                   "shards after the last one listed",
                   stream_arn);
      child_filter_ = ChildFilter::kUnsupported;
      break;
    }
    child_filter_ = ChildFilter::kSupported;
    for (auto& child : **children) listing.shards.push_back(std::move(child));
    asked.push_back(*it);
  }
  // The shards created since the last listing (children of shards other runners read, too).
  auto after = source_.ListShardsAfter(stream_arn, last_listed_);
  if (!after.ok()) {
    // The shard listed last may be gone (trimmed): start over from a full listing.
    if (!after.status().transient()) return Full(stream_arn);
    return after.status();
  }
  Advance(*after);
  // The children are in this listing (or, without the filter, in the one after the newest shard).
  if (child_filter_ == ChildFilter::kUnsupported) {
    parents_.clear();
  } else {
    for (const auto& parent : asked) parents_.erase(parent);
  }
  std::set<std::string> ids;  // a child may be listed twice: once is what the store takes
  for (const auto& shard : listing.shards) ids.insert(shard.id);
  for (auto& shard : *after) {
    if (ids.insert(shard.id).second) listing.shards.push_back(std::move(shard));
  }
  return listing;
}

}  // namespace ddb2pg::pipeline
