#include "pipeline/lease_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace ddb2pg::pipeline {

LeaseManager::LeaseManager(LeaseStore& store, std::vector<Lane*> lanes, Metrics& metrics, std::string source_name,
                           std::function<void(ClaimedPartition&)> prepare)
    : store_(store), lanes_(std::move(lanes)), metrics_(metrics), source_name_(std::move(source_name)),
      prepare_(std::move(prepare)) {}

int LeaseManager::held() const { return static_cast<int>(held_.size()); }

bool LeaseManager::CollectEvents() {
  std::vector<HeldLease> released;
  for (Lane* lane : lanes_) {
    for (auto& event : lane->TakeEvents()) {
      auto it = held_.find(event.lease.id);
      if (it != held_.end() && it->second.first == event.lease.epoch) held_.erase(it);
      releasing_.erase(event.lease.id);
      switch (event.kind) {
        case LaneEvent::Kind::kFinished:
          finished_since_ = true;
          if (!event.lease.id.starts_with("scan/")) {
            ++shards_finished_;
            finished_shards_.push_back(event.lease.id);
          }
          metrics_.LeaseEvents("finished").Increment();
          break;
        case LaneEvent::Kind::kReleased:
          released.push_back(event.lease);
          metrics_.LeaseEvents("released").Increment();
          break;
        case LaneEvent::Kind::kLost:
          metrics_.LeaseEvents("lost").Increment();
          break;
      }
    }
  }
  if (!released.empty()) {
    core::Status status = store_.Release(released, "release-balance");
    if (!status.ok()) spdlog::warn("releasing partitions: {} (their leases expire instead)", status.ToString());
  }
  const bool finished = finished_since_;
  finished_since_ = false;
  return finished;
}

core::Status LeaseManager::Tick(const std::string& stream_arn) {
  CollectEvents();
  DDB2PG_ASSIGN_OR_RETURN(auto renewed, store_.Renew());
  std::set<std::string> still;
  for (const auto& lease : renewed) {
    auto it = held_.find(lease.id);
    if (it != held_.end() && it->second.first == lease.epoch) still.insert(lease.id);
  }
  for (auto it = held_.begin(); it != held_.end();) {
    if (still.count(it->first) != 0 || it->second.second->FinishedUncollected(it->first)) {
      ++it;  // a partition just read to its end is no longer renewed: its lane reports it next
      continue;
    }
    // Gone: another runner took it after our lease expired (a stall), or it is done. Either way
    // this runner must not commit it again.
    spdlog::warn("partition {}: lease lost (epoch {}); dropping its uncommitted work", it->first, it->second.first);
    it->second.second->Drop(it->first);
    metrics_.LeaseEvents("lost").Increment();
    releasing_.erase(it->first);
    it = held_.erase(it);
  }

  DDB2PG_ASSIGN_OR_RETURN(counts_, store_.Counts());
  // A runner of a superseded configuration stands by: its share is nothing.
  const int share = counts_.superseded || counts_.workable == 0
                        ? 0
                        : (counts_.workable + counts_.live_runners - 1) / counts_.live_runners;
  const int mine = static_cast<int>(held_.size()) - static_cast<int>(releasing_.size());
  if (mine < share) {
    DDB2PG_ASSIGN_OR_RETURN(auto claimed, store_.Claim(share - mine));
    std::vector<std::pair<HeldLease, int>> lanes;
    for (auto& lease : claimed) {
      prepare_(lease);
      Lane* lane = *std::min_element(lanes_.begin(), lanes_.end(), [&](Lane* a, Lane* b) {
        auto load = [&](Lane* l) {
          int n = 0;
          for (const auto& [id, entry] : held_) n += entry.second == l ? 1 : 0;
          return n;
        };
        return load(a) < load(b);
      });
      held_[lease.id] = {lease.epoch, lane};
      lanes.push_back({{lease.id, lease.epoch}, lane->index()});
      metrics_.LeaseEvents("claimed").Increment();
      spdlog::info("source {}: claimed partition {} (epoch {}) for lane {}", source_name_, lease.id, lease.epoch,
                   lane->index());
      lane->Assign(std::move(lease), stream_arn);
    }
    core::Status noted = store_.NoteLanes(lanes);  // for status only: a failure costs nothing else
    if (!noted.ok()) spdlog::debug("noting lanes: {}", noted.ToString());
  } else if (mine > share && (counts_.live_runners > 1 || counts_.superseded)) {
    // Above the fair share: give the surplus back at batch boundaries, newest claims last.
    int surplus = mine - share;
    for (auto it = held_.rbegin(); it != held_.rend() && surplus > 0; ++it) {
      if (releasing_.count(it->first) != 0) continue;
      releasing_[it->first] = true;
      it->second.second->Release(it->first, counts_.superseded ? "superseded" : "balance");
      --surplus;
    }
  }
  metrics_.PartitionsHeld(source_name_).Set(static_cast<double>(held_.size()));
  metrics_.LiveRunners(source_name_).Set(static_cast<double>(counts_.live_runners));
  return core::Status::Ok();
}

core::Status LeaseManager::Shutdown() {
  CollectEvents();
  held_.clear();
  return store_.Deregister();
}

}  // namespace ddb2pg::pipeline
