// SourceRuntime: one source and every pipeline that reads it, run as L parallel lanes over the
// source's partitions, shared through leases with any number of other runner processes.
//
//   RecordSource ─▶ PartitionReaders ─▶ Lane 1..L (map, batch, Committer, Sink)
//   LeaseManager (heartbeat: renew, claim, balance) ─▶ LeaseStore
//
// Run(): registers the runner, describes the source and creates its partitions if it is the first
// (converting an earlier release's checkpoint); a runner of a superseded configuration stands by
// (no partitions, state "standby") until the current one has no live runner
// (docs/consistency.md, "Rolling a configuration change"). Then, every heartbeat, renews and claims leases and hands them
// to the lanes, and looks for new shards every discovery interval (and when one ends) at a cost
// that does not grow with the stream's shards (ShardDiscovery). A
// replaced stream or a shard trimmed before it was read is data lost: on_trimmed stop → fail;
// resnapshot → every partition starts over; incremental_export → the gap from the last committed
// change time to now is bridged (BridgeGap below; docs/consistency.md, "Lost data"). Losing a lease is normal operation (lanes drop it).
// RequestStop(): lanes commit what they read, then every lease is released at once, so another
// runner takes over within a heartbeat.
//
// Only src/app names concrete sources, sinks and stores; this depends on the interfaces.
// Thread-safety: Run() on one thread; RequestStop() and progress() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/option_defaults.h"
#include "core/clock.h"
#include "core/status.h"
#include "pipeline/commit_counters.h"
#include "pipeline/lane.h"
#include "pipeline/lease_store.h"
#include "pipeline/metrics.h"
#include "pipeline/record_source.h"
#include "pipeline/sink.h"
#include "processor/mapping_plan.h"

namespace ddb2pg::pipeline {

struct RuntimeOptions {
  int lanes = 1;                                   // parallel lanes (config: runtime.lanes; CLI --lanes)
  LaneOptions lane;
  std::chrono::milliseconds lease_ttl{core::defaults::kLeaseTtlMs};  // a lease not renewed for this long may be taken
  std::chrono::milliseconds heartbeat{core::defaults::kHeartbeatMs};  // renew, claim and balance this often
  std::chrono::milliseconds discovery_interval{core::defaults::kDiscoveryIntervalMs};  // new shards listed at most this often (and on shard end)
  std::chrono::milliseconds full_listing_interval{core::defaults::kShardFullListingMs};  // every shard listed this often (shard_discovery.h)
  bool resnapshot_on_trimmed = false;              // stream.on_trimmed: resnapshot
  bool bridge_on_trimmed = false;                  // stream.on_trimmed: incremental_export
  std::chrono::milliseconds stall_timeout{core::defaults::kStallMs};  // records waiting this long uncommitted: not ready (/readyz 503)
};

// A point-in-time view for progress lines and the status command.
struct RuntimeProgress : CommitCounters {
  int64_t last_lag_ms = -1;       // at the last commit with stream records: commit time − newest change time
  int64_t behind_ms = 0;          // how long the oldest record read but not committed has waited; 0 when caught up
  bool ready = false;             // committing normally: connected, and nothing waiting longer than the stall timeout
  bool snapshot_complete = false;
  int64_t snapshot_items_read = 0;
  int64_t snapshot_items_estimate = 0;
  int segments_pending = 0;
  int segments_total = 0;         // the snapshot's partitions: Scan segments, or an export's data files
  int shards_active = 0;          // shards this runner reads
  int shards_finished = 0;
  int partitions_held = 0;
  int partitions_pending = 0;     // over all runners
  int live_runners = 0;
  int lanes = 0;
  std::string state;  // "starting", "snapshot", "streaming", "reconnecting", "stopped", "failed"
};

struct SourceRuntimeParts {
  std::string source_name;
  RecordSource* source = nullptr;                          // borrowed
  LeaseStore* store = nullptr;                             // borrowed
  // One per lane, and one (lane -1) that ends snapshots (Sink::EndSnapshots).
  std::function<std::unique_ptr<Sink>(int lane)> make_sink;
  RunnerIdentity identity;
  std::vector<PipelineInfo> pipelines;  // the configured pipelines of this source, as the store keeps them
};

class SourceRuntime {
 public:
  SourceRuntime(SourceRuntimeParts parts, std::vector<const processor::MappingPlan*> plans, Metrics& metrics,
                RuntimeOptions options = {}, const core::Clock& clock = core::SystemClock::Instance());
  ~SourceRuntime();

  // Blocks until RequestStop() (→ Ok after the final commits) or a fatal error (→ that error).
  core::Status Run();
  void RequestStop();
  RuntimeProgress progress() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddb2pg::pipeline
