// PgLeaseStore: pipeline::LeaseStore in PostgreSQL — the partitions, leases and runners of one
// source (checkpoint id) in ddb2pg.partitions, ddb2pg.runners and ddb2pg.lease_events, next to
// the data they fence. See pipeline/lease_store.h for the protocol and docs/consistency.md.
//
// Owns one connection of its own (not the lanes'), so heartbeats never wait behind a COPY.
// Three files: the lease protocol (pg_lease_store.cpp), the commands a person runs
// (pg_lease_store_admin.cpp) and taking over an earlier release's checkpoint
// (pg_lease_store_upgrade.cpp).
// Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "core/option_defaults.h"
#include "pipeline/lease_store.h"
#include "sink/system/pipeline_registry.h"

namespace ddb2pg::sink {

class PgConnection;

struct PgLeaseStoreOptions {
  std::string conninfo;
  std::string checkpoint_id;
  std::string runner_id;
  std::chrono::milliseconds lease_ttl{core::defaults::kLeaseTtlMs};
  // Shards are read beside the snapshot (the snapshot fence keeps it correct); false: only once
  // every segment is done (config stream.during_snapshot).
  bool stream_during_snapshot = true;
};

class PgLeaseStore : public pipeline::LeaseStore {
 public:
  explicit PgLeaseStore(PgLeaseStoreOptions options);
  ~PgLeaseStore() override;

  core::Status Open() override;
  core::Status Register(const pipeline::RunnerIdentity& me) override;
  core::Result<pipeline::SourceState> Initialize(const SeedFn& seed,
                                                const std::vector<pipeline::PipelineInfo>& pipelines) override;
  core::Result<std::vector<pipeline::HeldLease>> Renew() override;
  core::Result<pipeline::LeaseCounts> Counts() override;
  core::Result<std::vector<pipeline::ClaimedPartition>> Claim(int max) override;
  core::Status NoteLanes(const std::vector<std::pair<pipeline::HeldLease, int>>& lanes) override;
  core::Status Release(const std::vector<pipeline::HeldLease>& leases, const std::string& why) override;
  core::Status SyncShards(const std::vector<pipeline::ShardInfo>& listed) override;
  core::Status AddShards(const std::vector<pipeline::ShardInfo>& listed) override;
  core::Result<std::vector<std::pair<std::string, std::string>>> PendingShards() override;
  core::Status StartOver(const pipeline::CheckpointSeed& seed) override;
  core::Result<std::optional<int64_t>> GapStart() override;
  core::Status OpenGap(const std::string& stream_arn, int64_t from_ms, int64_t to_ms,
                       const std::vector<pipeline::SeedPartition>& shards) override;
  core::Result<std::optional<std::pair<int64_t, int64_t>>> OpenedGap() override;
  core::Status FillGap(const std::vector<pipeline::SeedPartition>& gap) override;
  core::Status Deregister() override;
  void Close() override;

  // For the commands (`resnapshot`, `reset`, `status`), outside the runtime's protocol.
  // The stored source (stream and segment count); nullopt: no progress stored.
  core::Result<std::optional<pipeline::CheckpointSeed>> StoredCheckpoint();
  // Schedules a snapshot of `pipelines` beside the stream that reconciles their tables at the
  // end (a running runner claims its segments; the next one started otherwise). `reseed`: the
  // stream was replaced: every partition is first replaced by the seed's (no runner may run).
  core::Status Resnapshot(const std::vector<pipeline::PipelineInfo>& pipelines,
                          const std::optional<pipeline::CheckpointSeed>& reseed);
  // Forgets the progress of one pipeline, or (nullopt, or the last stored pipeline) of the whole
  // source. kFailedPrecondition while a runner is live.
  core::Status Forget(const std::optional<std::string>& pipeline);
  core::Result<std::vector<PipelineProgress>> Pipelines();

 private:
  // Inside Initialize's transaction: renames a checkpoint of an earlier release to this one's id
  // and returns the pipeline names its id held (nullopt: none to carry over).
  core::Result<std::optional<std::set<std::string>>> AdoptEarlierCheckpoint();
  struct Decision {
    bool standby = false;
    std::string reason;  // why it stands by
    std::string note;    // what taking over did (empty: this configuration was current already)
  };
  // Inside Initialize's transaction: whether this runner's configuration is current, takes over
  // (superseding the current one and revoking its runners' leases), or stands by.
  core::Result<Decision> DecideConfiguration();
  // Runners whose heartbeat is within the lease TTL.
  core::Result<int> LiveRunners(PgConnection& db);
  // The lease TTL in milliseconds, as the statements' parameter.
  std::string TtlMs() const { return std::to_string(options_.lease_ttl.count()); }
  // Runs `fn` in a transaction holding the checkpoint's advisory lock.
  core::Status Locked(const std::string& context, const std::function<core::Status(PgConnection&)>& fn);
  core::Status EnsureConnected();
  core::Status InsertSeed(const pipeline::CheckpointSeed& seed);
  // Inserts partitions not stored yet (ON CONFLICT DO NOTHING), on the open connection.
  core::Status InsertPartitions(const std::vector<pipeline::SeedPartition>& partitions);
  core::Result<PgConnection*> Connection();

  PgLeaseStoreOptions options_;
  pipeline::RunnerIdentity me_;
  std::unique_ptr<PgConnection> connection_;
};

}  // namespace ddb2pg::sink
