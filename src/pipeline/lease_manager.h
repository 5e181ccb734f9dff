// LeaseManager: a runner's side of the lease protocol (lease_store.h). Once a tick (the
// heartbeat): renews what this runner holds and tells lanes to drop what it lost; claims
// unowned or expired partitions up to this runner's fair share (ceil(eligible / live runners)),
// giving each to the least-loaded lane; asks lanes to release what is above the share (they do
// it at a batch boundary, after committing); records what lanes finished or gave up. A runner
// whose configuration is superseded (LeaseCounts::superseded) has a share of nothing.
//
// Ownership: borrows the store and the lanes. Thread-safety: one thread (the runtime's).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/lane.h"
#include "pipeline/lease_store.h"
#include "pipeline/metrics.h"

namespace ddb2pg::pipeline {

class LeaseManager {
 public:
  // `prepare` completes a claimed lease (segment numbers) before a lane gets it.
  LeaseManager(LeaseStore& store, std::vector<Lane*> lanes, Metrics& metrics, std::string source_name,
               std::function<void(ClaimedPartition&)> prepare);

  // One heartbeat. Store errors are returned (retryable ones: try again next tick).
  core::Status Tick(const std::string& stream_arn);
  // Collects lane events; true when a partition finished since the last call (discovery is due).
  bool CollectEvents();
  // The shards its lanes read to their end since the last call.
  std::vector<std::string> TakeFinishedShards() { return std::move(finished_shards_); }
  // Releases everything this runner holds and leaves (after the lanes stopped).
  core::Status Shutdown();

  const LeaseCounts& counts() const { return counts_; }
  int held() const;
  int shards_finished() const { return shards_finished_; }

 private:
  LeaseStore& store_;
  std::vector<Lane*> lanes_;
  Metrics& metrics_;
  std::string source_name_;
  std::function<void(ClaimedPartition&)> prepare_;
  std::map<std::string, std::pair<int64_t, Lane*>> held_;  // id → epoch, lane
  std::map<std::string, bool> releasing_;                   // asked to release, not done yet
  LeaseCounts counts_;
  bool finished_since_ = false;
  int shards_finished_ = 0;  // by this runner since it started
  std::vector<std::string> finished_shards_;  // since the last TakeFinishedShards
};

}  // namespace ddb2pg::pipeline
