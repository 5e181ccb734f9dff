// LeaseStore: where a source's partitions, their leases and the runners sharing them live
// (ddb2pg.checkpoints, ddb2pg.partitions, ddb2pg.runners, ddb2pg.lease_events in PostgreSQL;
// src/sink/pg_lease_store.h). Any number of runner processes on one configuration share the
// partitions through it, with no other coordinator. The protocol is in docs/consistency.md:
//
//   claim    an unowned or expired partition, eligible when it is a segment, or a shard whose
//            parent is done and whose source has no segment left: owner = me, epoch + 1
//   renew    every heartbeat: lease_expires = now() + ttl for what I still own
//   commit   (Sink) position moves WHERE owner = me AND epoch = mine; 0 rows: the lease is lost
//   release  owner = NULL (balancing, shutdown, rewind)
//
// Every time is PostgreSQL's now(): runners' clocks never matter.
// Thread-safety: one thread at a time (the runtime's lease manager owns it).
#pragma once

#include <functional>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "model/pipeline_spec.h"
#include "pipeline/partition.h"

namespace ddb2pg::pipeline {

struct RunnerIdentity {
  std::string runner_id;    // unique per process start
  std::string host;
  int pid = 0;
  int lanes = 1;
  // The configuration's canonical text. Runners of one text share the partitions; of the texts
  // a checkpoint has seen, the one first seen last is current, and runners of another stand by
  // (docs/consistency.md, "Rolling a configuration change").
  std::string config_text;
};

// A pipeline of the configuration, as the store keeps its progress (ddb2pg.pipelines).
struct PipelineInfo {
  std::string name;
  std::string target;   // the target table, quoted and schema-qualified (as the sink names it)
  std::string mapping;  // the canonical text of what decides its rows: a change is detected by comparing it
  model::ChangePolicy on_change = model::ChangePolicy::kStop;  // what a changed mapping does
  // The Scan segments of a backfill or re-snapshot of it (config snapshot.segments); 0: the
  // source takes no snapshots (snapshot.enabled: false), so a new pipeline gets none either.
  int backfill_segments = 0;
};

struct SourceState {
  std::string stream_arn;
  int total_segments = 0;
  bool created = false;   // this call created the partitions
  bool migrated = false;  // … converting a checkpoint of an earlier release
  // What changed in the pipelines since the stored progress (added, renamed, removed, changed),
  // one sentence each, for the log.
  std::vector<std::string> notes;
  // This runner's configuration is superseded by a newer one whose runners are live: it stands by
  // (claims nothing, applies nothing of its mapping) and `standby_reason` says why.
  bool standby = false;
  std::string standby_reason;
};

struct HeldLease {
  std::string id;
  int64_t epoch = 0;
};

struct LeaseCounts {
  int live_runners = 1;  // runners whose heartbeat is within the TTL, this one included
  int workable = 0;      // pending partitions that are eligible to be read now
  int held = 0;          // … of them held by this runner
  int pending = 0;       // pending partitions, eligible or not
  int segments_pending = 0;  // Scan segments not done: the snapshot is complete at 0
  int pipelines_snapshotting = 0;  // pipelines in the snapshot phase
  int pipelines_to_finish = 0;     // … of them whose segments are all done (the sink ends them)
  // This runner's configuration is no longer the current one: it claims nothing (standby).
  bool superseded = false;
  // Live runners of the current configuration (live_runners, but 0 when there are none): a
  // superseded runner takes over (Initialize again) only when this is 0.
  int current_runners = 0;
};

class LeaseStore {
 public:
  // Builds a source's seed; gets the stored position of an earlier release's checkpoint, if any.
  using SeedFn = std::function<core::Result<CheckpointSeed>(const std::optional<std::string>& legacy_position)>;

  virtual ~LeaseStore() = default;
  virtual core::Status Open() = 0;
  // Announces this runner (whatever its configuration: Initialize decides what it does).
  virtual core::Status Register(const RunnerIdentity& me) = 0;
  // The source's stored state; the first runner creates it from seed() (under a lock, so two
  // runners starting together create it once). Then decides whether this runner's configuration
  // is current: one never seen before (newer) or one whose superseder has no live runner takes
  // over: the leases of runners of every other configuration are revoked, and the stored
  // pipelines are brought in line with `pipelines` (PipelineRegistry: a new one is backfilled
  // alone, a renamed one keeps its progress, a changed mapping follows its on_change;
  // kFailedPrecondition for on_change: stop, and then nothing changed). A configuration seen
  // before and superseded by one with live runners: SourceState::standby, nothing applied.
  // Called again by a standby runner once Counts() says the current one has no runner.
  virtual core::Result<SourceState> Initialize(const SeedFn& seed, const std::vector<PipelineInfo>& pipelines) = 0;
  // Heartbeat and renewal: the leases this runner still holds (pending ones, renewed, and ones
  // read to their end within the last TTL, which its lanes have still to report finished).
  virtual core::Result<std::vector<HeldLease>> Renew() = 0;
  virtual core::Result<LeaseCounts> Counts() = 0;
  virtual core::Result<std::vector<ClaimedPartition>> Claim(int max) = 0;
  // Records which of this runner's lanes reads a held partition (for status; best effort).
  virtual core::Status NoteLanes(const std::vector<std::pair<HeldLease, int>>& lanes) = 0;
  // Gives leases up (owner = NULL) if still held at that epoch; `why` goes to the lease history.
  virtual core::Status Release(const std::vector<HeldLease>& leases, const std::string& why) = 0;
  // Adds shards not stored yet (pending, from TRIM_HORIZON); forgets done shards no longer listed.
  virtual core::Status SyncShards(const std::vector<ShardInfo>& listed) = 0;
  // Adds shards not stored yet (pending, from TRIM_HORIZON); `listed` is part of the stream only
  // (a child listing, or the shards after the last one listed), so nothing is forgotten.
  virtual core::Status AddShards(const std::vector<ShardInfo>& listed) = 0;
  // Shards still to be read: id → stored position.
  virtual core::Result<std::vector<std::pair<std::string, std::string>>> PendingShards() = 0;
  // Starts the source over (on_trimmed: resnapshot): every partition replaced by the seed's; every pipeline
  // snapshots again and reconciles its table at the end.
  virtual core::Status StartOver(const CheckpointSeed& seed) = 0;

  // on_trimmed: incremental_export (docs/consistency.md, "Lost data"). A gap is bridged in two
  // steps, each one transaction under the checkpoint's lock:
  //   OpenGap   every shard partition is replaced by `shards` (the stream `stream_arn` from the
  //             gap's end; a shard whose parent is not among them waits for the gap),
  //             held back behind the placeholder partition kGapPlaceholder that records
  //             [from_ms, to_ms) and that nothing can claim; the pipelines keep their phases.
  //   FillGap   the gap's partitions (`gap`, each waiting for its `parent`) replace the
  //             placeholder, and the shards it held back wait for `gap`'s last one instead.
  // A runner killed in between finds the gap with OpenedGap() and fills it.
  static constexpr const char* kGapPlaceholder = kGapPlaceholderId;
  // Where a gap starts: the oldest of the pending shards' newest committed change times (a
  // shard with none: its parent's, else the source's oldest); with no shard pending, the newest
  // of all (every change of the old stream is applied). nullopt: no change time is stored.
  virtual core::Result<std::optional<int64_t>> GapStart() {
    return core::Status::FailedPrecondition("this lease store cannot bridge a gap");
  }
  virtual core::Status OpenGap(const std::string& /*stream_arn*/, int64_t /*from_ms*/, int64_t /*to_ms*/,
                               const std::vector<SeedPartition>& /*shards*/) {
    return core::Status::FailedPrecondition("this lease store cannot bridge a gap");
  }
  // The gap opened and not filled yet: {from_ms, to_ms}.
  virtual core::Result<std::optional<std::pair<int64_t, int64_t>>> OpenedGap() {
    return std::optional<std::pair<int64_t, int64_t>>();
  }
  virtual core::Status FillGap(const std::vector<SeedPartition>& /*gap*/) {
    return core::Status::FailedPrecondition("this lease store cannot bridge a gap");
  }
  // Leaves: releases everything and removes the runner's row.
  virtual core::Status Deregister() = 0;
  virtual void Close() = 0;
};

}  // namespace ddb2pg::pipeline
