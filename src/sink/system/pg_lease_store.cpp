#include "sink/system/pg_lease_store.h"

#include <spdlog/spdlog.h>

#include <set>
#include <sstream>

#include "core/line_differences.h"
#include "sink/pg_connection.h"
#include "sink/system/pipeline_registry.h"
#include "sink/sql_text.h"
#include "sink/system/system_tables.h"

namespace ddb2pg::sink {
namespace {

// A partition may be read now (a condition on `p`): one whose parent is done or gone (parent
// before child, per item). Scan segments have none; a shard's is its parent shard; a bridged
// gap's partitions wait for the one before them, and the stream after the gap for the gap's last
// (LeaseStore::OpenGap). The stream runs beside the snapshot, where the snapshot fence keeps a
// snapshot row from overwriting a newer change (docs/consistency.md); with
// stream.during_snapshot: false a shard also waits until no segment of the source's first
// snapshot is pending (a backfill of some pipelines always runs beside the stream).
std::string Eligible(bool stream_during_snapshot) {
  const std::string parent_done =
      "NOT EXISTS (SELECT 1 FROM ddb2pg.partitions q WHERE q.checkpoint_id = p.checkpoint_id AND q.partition_id = "
      "p.parent AND q.state <> 'done')";
  if (stream_during_snapshot) return "(" + parent_done + ")";
  return "(" + parent_done + " AND (p.kind = 'segment' OR NOT EXISTS (SELECT 1 FROM ddb2pg.partitions s WHERE "
         "s.checkpoint_id = p.checkpoint_id AND s.kind = 'segment' AND s.scope IS NULL AND s.state <> 'done')))";
}

// The opened, unfilled gap of checkpoint $1 (placeholder partition $2): its window "<from>-<to>",
// no row when none is open.
constexpr const char* kOpenGapSql =
    "SELECT position FROM ddb2pg.partitions WHERE checkpoint_id = $1 AND partition_id = $2 AND state = 'pending'";

}  // namespace

PgLeaseStore::PgLeaseStore(PgLeaseStoreOptions options) : options_(std::move(options)) {}
PgLeaseStore::~PgLeaseStore() = default;

void PgLeaseStore::Close() { connection_.reset(); }

core::Status PgLeaseStore::Open() {
  connection_.reset();
  auto connected = PgConnection::Connect(options_.conninfo, "ddb2pg-lease");
  if (!connected.ok()) return connected.status();
  auto connection = std::move(connected).value();
  DDB2PG_RETURN_IF_ERROR(SystemTables::Ensure(*connection));
  connection_ = std::move(connection);
  return core::Status::Ok();
}

core::Result<PgConnection*> PgLeaseStore::Connection() {
  if (connection_ != nullptr && connection_->broken()) connection_.reset();
  if (connection_ == nullptr) DDB2PG_RETURN_IF_ERROR(Open());
  return connection_.get();
}

core::Status PgLeaseStore::Register(const pipeline::RunnerIdentity& me) {
  me_ = me;
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  const std::string& cp = options_.checkpoint_id;
  // Rows of runners gone for long are history only.
  DDB2PG_RETURN_IF_ERROR(db->Query("DELETE FROM ddb2pg.runners WHERE checkpoint_id = $1 AND heartbeat_at < now() - "
                                   "$2::bigint * 10 * interval '1 millisecond'",
                                   {cp, TtlMs()}, "forgetting old runners")
                             .status());
  return db
      ->Query("INSERT INTO ddb2pg.runners (checkpoint_id, runner_id, host, pid, lanes, config) VALUES ($1, $2, $3, "
              "$4::int, $5::int, $6) ON CONFLICT (checkpoint_id, runner_id) DO UPDATE SET heartbeat_at = now()",
              {cp, me.runner_id, me.host, std::to_string(me.pid), std::to_string(me.lanes), me.config_text},
              "registering runner " + me.runner_id)
      .status();
}

// Inside Initialize's transaction, under the checkpoint's lock (so two runners of two new
// configurations take over one after the other, and no batch or claim runs in between).
core::Result<PgLeaseStore::Decision> PgLeaseStore::DecideConfiguration() {
  PgConnection& db = *connection_;
  const std::string& cp = options_.checkpoint_id;
  const std::string context = "deciding the configuration of '" + cp + "'";
  DDB2PG_ASSIGN_OR_RETURN(
      auto rows,
      db.Query("SELECT config_hash = md5($2), superseded_at IS NULL, to_char(first_seen_at AT TIME ZONE 'UTC', "
               "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), (SELECT count(*) FROM ddb2pg.runners r WHERE r.checkpoint_id = $1 "
               "AND r.runner_id <> $3 AND md5(COALESCE(r.config, '')) = c.config_hash AND r.heartbeat_at > now() - "
               "$4::bigint * interval '1 millisecond') FROM ddb2pg.configs c WHERE checkpoint_id = $1 AND "
               "(config_hash = md5($2) OR superseded_at IS NULL)",
               {cp, me_.config_text, me_.runner_id, TtlMs()}, context));
  bool seen = false, current = false;
  std::string current_since;
  int current_live = 0;
  for (int i = 0; i < PQntuples(rows.get()); ++i) {
    const bool mine = CellText(rows, i, 0) == "t";
    if (mine) seen = true;
    if (CellText(rows, i, 1) == "t") {
      current = current || mine;
      if (!mine) {
        current_since = CellText(rows, i, 2);
        current_live = std::stoi(CellText(rows, i, 3));
      }
    }
  }
  Decision decision;
  if (current) return decision;
  if (seen && current_live > 0) {
    decision.standby = true;
    decision.reason = "this configuration was superseded by a newer one (first seen " + current_since + ") that " +
                      std::to_string(current_live) + " live runner(s) run; no partitions, nothing of this file's "
                      "mapping applied, until that configuration's runners are gone (deploy the newer "
                      "file to this runner, or stop it)";
    return decision;
  }
  // Newer (never seen), or the current one has no runner left (a rollback, or its runners all
  // stopped): this configuration takes over.
  DDB2PG_RETURN_IF_ERROR(db.Query("UPDATE ddb2pg.configs SET superseded_at = now() WHERE checkpoint_id = $1 AND "
                                  "superseded_at IS NULL AND config_hash <> md5($2)",
                                  {cp, me_.config_text}, context)
                             .status());
  DDB2PG_RETURN_IF_ERROR(db.Query("INSERT INTO ddb2pg.configs (checkpoint_id, config_hash, config, current_since) "
                                  "VALUES ($1, md5($2), $2, now()) ON CONFLICT (checkpoint_id, config_hash) DO UPDATE "
                                  "SET superseded_at = NULL, current_since = now()",
                                  {cp, me_.config_text}, context)
                             .status());
  // Fencing: every lease of a runner of another configuration ends here, in the transaction that
  // applies this configuration's mapping. Their batches take the checkpoint's lock shared before
  // their guard: one that got it first committed before this; any later one finds its lease
  // gone and commits nothing (docs/consistency.md).
  DDB2PG_ASSIGN_OR_RETURN(
      auto revoked,
      db.Query("WITH o AS (SELECT p.partition_id, p.owner FROM ddb2pg.partitions p WHERE p.checkpoint_id = $1 AND "
               "p.owner IS NOT NULL AND p.state = 'pending' AND NOT EXISTS (SELECT 1 FROM ddb2pg.runners r WHERE "
               "r.checkpoint_id = $1 AND r.runner_id = p.owner AND md5(COALESCE(r.config, '')) = md5($2)) FOR UPDATE), "
               "u AS (UPDATE ddb2pg.partitions p SET owner = NULL, lease_expires = NULL, updated_at = now() FROM o "
               "WHERE p.checkpoint_id = $1 AND p.partition_id = o.partition_id RETURNING p.partition_id, o.owner, "
               "p.epoch) INSERT INTO ddb2pg.lease_events "
               "(checkpoint_id, partition_id, runner_id, epoch, event) SELECT $1, partition_id, owner, epoch, "
               "'release-superseded' FROM u",
               {cp, me_.config_text}, context));
  const std::string taken = PQcmdTuples(revoked.get());
  if (!current_since.empty()) {
    decision.note = std::string(seen ? "this configuration, seen before, is current again: the newer one (first seen " +
                                           current_since + ") has no live runner"
                                     : "this configuration is new: it supersedes the one first seen " + current_since) +
                    "; " + (taken.empty() ? "0" : taken) +
                    " partition(s) taken from runners of other configurations (they stand by)";
  }
  return decision;
}

core::Status PgLeaseStore::InsertSeed(const pipeline::CheckpointSeed& seed) {
  PgConnection& db = *connection_;
  const std::string& cp = options_.checkpoint_id;
  // A new snapshot starts with an empty fence: keys fenced for an earlier one mean nothing now.
  DDB2PG_RETURN_IF_ERROR(
      db.Query(SystemTables::kEmptySnapshotFenceSql, {cp}, "emptying the snapshot fence of '" + cp + "'").status());
  DDB2PG_RETURN_IF_ERROR(
      db.Query("INSERT INTO ddb2pg.checkpoints AS c (id, stream_arn, segments) VALUES ($1, $2, $3::int) ON CONFLICT "
               "(id) DO UPDATE SET stream_arn = $2, segments = $3::int, updated_at = now()",
               {cp, seed.stream_arn, std::to_string(seed.total_segments)}, "storing source '" + cp + "'")
          .status());
  return InsertPartitions(seed.partitions);
}

core::Status PgLeaseStore::InsertPartitions(const std::vector<pipeline::SeedPartition>& partitions) {
  const std::string& cp = options_.checkpoint_id;
  std::vector<std::string> ids, kinds, parents, positions, states, change_times;
  for (const auto& p : partitions) {
    ids.push_back(p.id);
    kinds.emplace_back(pipeline::PartitionKindName(p.kind));
    parents.push_back(p.parent);
    positions.push_back(p.position);
    states.emplace_back(p.done ? "done" : "pending");
    change_times.push_back(std::to_string(p.change_ms));
  }
  return connection_
      ->Query("INSERT INTO ddb2pg.partitions (checkpoint_id, partition_id, kind, parent, position, state, change_ms) "
              "SELECT $1, id, kind, NULLIF(parent, ''), NULLIF(pos, ''), state, NULLIF(t, 0) FROM unnest($2::text[], "
              "$3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[]) AS s(id, kind, parent, pos, state, t) ON "
              "CONFLICT DO NOTHING",
              {cp, TextArray(ids), TextArray(kinds), TextArray(parents), TextArray(positions), TextArray(states),
               TextArray(change_times)},
              "creating the partitions of '" + cp + "'")
      .status();
}

// A checkpoint of an earlier release was named "<source>:<table>:<pipeline names>": it becomes
// this source's checkpoint ("<source>:<table>"), unless a runner still runs it.
core::Result<pipeline::SourceState> PgLeaseStore::Initialize(const SeedFn& seed,
                                                            const std::vector<pipeline::PipelineInfo>& pipelines) {
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  const std::string& cp = options_.checkpoint_id;
  const std::string context = "initializing checkpoint '" + cp + "'";
  DDB2PG_RETURN_IF_ERROR(db->Exec("BEGIN", context));
  auto run = [&]() -> core::Result<pipeline::SourceState> {
    DDB2PG_RETURN_IF_ERROR(
        db->Query(SystemTables::kCheckpointLockSql, {cp}, context).status());
    DDB2PG_ASSIGN_OR_RETURN(const auto adopted, AdoptEarlierCheckpoint());
    DDB2PG_ASSIGN_OR_RETURN(
        auto stored,
        db->Query("SELECT c.position, c.stream_arn, c.segments, (SELECT count(*) FROM ddb2pg.partitions p WHERE "
                  "p.checkpoint_id = c.id) FROM ddb2pg.checkpoints c WHERE c.id = $1",
                  {cp}, context));
    pipeline::SourceState state;
    if (PQntuples(stored.get()) > 0 && std::stoll(CellText(stored, 0, 3)) > 0) {
      state.stream_arn = CellText(stored, 0, 1);
      state.total_segments = CellText(stored, 0, 2).empty() ? 0 : std::stoi(CellText(stored, 0, 2));
    } else {
      std::optional<std::string> legacy;
      if (PQntuples(stored.get()) > 0 && !PQgetisnull(stored.get(), 0, 0)) legacy = CellText(stored, 0, 0);
      DDB2PG_ASSIGN_OR_RETURN(auto fresh, seed(legacy));
      DDB2PG_RETURN_IF_ERROR(InsertSeed(fresh));
      state.stream_arn = fresh.stream_arn;
      state.total_segments = fresh.total_segments;
      state.created = true;
      state.migrated = legacy.has_value();
    }
    if (adopted) {
      // The pipelines its id named are where its snapshot is; a configured pipeline it did not
      // name is added by Align (a backfill), one the file no longer has is forgotten.
      std::vector<pipeline::PipelineInfo> named;
      for (const auto& p : pipelines) {
        if (adopted->count(p.name) != 0) named.push_back(p);
      }
      DDB2PG_RETURN_IF_ERROR(
          PipelineRegistry::RegisterWhereTheSourceIs(*db, cp, named, state.total_segments, false).status());
    }
    DDB2PG_ASSIGN_OR_RETURN(const Decision decision, DecideConfiguration());
    if (decision.standby) {
      state.standby = true;
      state.standby_reason = decision.reason;
      return state;
    }
    DDB2PG_ASSIGN_OR_RETURN(state.notes, PipelineRegistry::Align(*db, cp, pipelines, state.total_segments,
                                                                 state.created && !state.migrated));
    if (!decision.note.empty()) state.notes.insert(state.notes.begin(), decision.note);
    return state;
  };
  auto result = run();
  if (!result.ok()) {
    if (!db->broken()) (void)db->Exec("ROLLBACK", context);
    return result.status();
  }
  DDB2PG_RETURN_IF_ERROR(db->Exec("COMMIT", context));
  return result;
}

core::Result<std::vector<pipeline::HeldLease>> PgLeaseStore::Renew() {
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  const std::string& cp = options_.checkpoint_id;
  DDB2PG_ASSIGN_OR_RETURN(auto beat, db->Query("UPDATE ddb2pg.runners SET heartbeat_at = now() WHERE checkpoint_id = "
                                               "$1 AND runner_id = $2",
                                               {cp, me_.runner_id}, "heartbeat"));
  if (std::string_view(PQcmdTuples(beat.get())) == "0") DDB2PG_RETURN_IF_ERROR(Register(me_));
  DDB2PG_ASSIGN_OR_RETURN(
      auto renewed,
      // With the pending leases renewed, the ones just read to their end: a lane whose last commit
      // landed a moment ago reports the partition finished at its next turn, and until then it
      // is still this runner's (not a lost lease).
      // The rows are locked in partition_id order, as CommitSql::kAdvanceSql locks them, and both
      // kinds are read through that lock: a row a commit is finishing right now is waited for and
      // then seen in its new version ("done"). Read from the statement's snapshot instead, it was
      // neither (pending there, done by the time the UPDATE reached it) and its lane dropped it as
      // lost.
      db->Query("WITH l AS MATERIALIZED (SELECT partition_id, epoch, state FROM ddb2pg.partitions WHERE checkpoint_id "
                "= $1 AND owner = $2 AND (state = 'pending' OR (state = 'done' AND updated_at > now() - $3::bigint * "
                "interval '1 millisecond')) ORDER BY partition_id FOR UPDATE), r AS (UPDATE ddb2pg.partitions p SET "
                "lease_expires = now() + $3::bigint * interval '1 millisecond' FROM l WHERE p.checkpoint_id = $1 AND "
                "p.partition_id = l.partition_id AND l.state = 'pending' AND p.owner = $2 AND p.state = 'pending') "
                "SELECT partition_id, epoch FROM l",
                {cp, me_.runner_id, TtlMs()}, "renewing leases"));
  std::vector<pipeline::HeldLease> held;
  for (int i = 0; i < PQntuples(renewed.get()); ++i) {
    held.push_back({CellText(renewed, i, 0), std::stoll(CellText(renewed, i, 1))});
  }
  return held;
}

core::Result<pipeline::LeaseCounts> PgLeaseStore::Counts() {
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  DDB2PG_ASSIGN_OR_RETURN(
      auto counts,
      // Live runners are those of the current configuration (any, while none is recorded):
      // runners standing by share nothing.
      db->Query(std::string("SELECT (SELECT count(*) FROM ddb2pg.runners r WHERE r.checkpoint_id = $1 AND "
                            "r.heartbeat_at > now() - $3::bigint * interval '1 millisecond' AND md5(COALESCE(r.config, "
                            "'')) = COALESCE((SELECT config_hash FROM ddb2pg.configs WHERE checkpoint_id = $1 AND "
                            "superseded_at IS NULL), md5(COALESCE(r.config, '')))), EXISTS (SELECT 1 FROM "
                            "ddb2pg.configs WHERE checkpoint_id = $1 AND superseded_at IS NULL AND config_hash <> "
                            "md5($4)), (SELECT count(*) FROM ddb2pg.partitions "
                            "p WHERE p.checkpoint_id = $1 AND p.state = 'pending' AND ") +
                    Eligible(options_.stream_during_snapshot) +
                    "), (SELECT count(*) FROM ddb2pg.partitions WHERE checkpoint_id = $1 AND owner = $2 AND state = "
                    "'pending'), (SELECT count(*) FROM ddb2pg.partitions WHERE checkpoint_id = $1 AND state = "
                    "'pending'), (SELECT count(*) FROM ddb2pg.partitions WHERE checkpoint_id = $1 AND state = "
                    "'pending' AND kind = 'segment'), (SELECT count(*) FROM ddb2pg.pipelines WHERE checkpoint_id = "
                    "$1 AND phase = 'snapshot'), (SELECT count(*) FROM ddb2pg.pipelines l WHERE " +
                    SystemTables::kSnapshotsToEndWhere + ")",
                {options_.checkpoint_id, me_.runner_id, TtlMs(), me_.config_text},
                "counting partitions"));
  pipeline::LeaseCounts out;
  out.current_runners = std::stoi(CellText(counts, 0, 0));
  out.live_runners = std::max(1, out.current_runners);
  out.superseded = CellText(counts, 0, 1) == "t";
  out.workable = std::stoi(CellText(counts, 0, 2));
  out.held = std::stoi(CellText(counts, 0, 3));
  out.pending = std::stoi(CellText(counts, 0, 4));
  out.segments_pending = std::stoi(CellText(counts, 0, 5));
  out.pipelines_snapshotting = std::stoi(CellText(counts, 0, 6));
  out.pipelines_to_finish = std::stoi(CellText(counts, 0, 7));
  return out;
}

core::Result<std::vector<pipeline::ClaimedPartition>> PgLeaseStore::Claim(int max) {
  std::vector<pipeline::ClaimedPartition> leases;
  if (max <= 0) return leases;
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  // Under the checkpoint's lock, shared, and only while no other configuration is current: a
  // takeover (DecideConfiguration, exclusive) is either before this claim, which then sees it
  // and takes nothing, or waits for it and revokes what it took.
  const std::string context = "claiming partitions";
  DDB2PG_RETURN_IF_ERROR(db->Exec("BEGIN", context));
  auto claim = db->Query(SystemTables::kCheckpointSharedLockSql, {options_.checkpoint_id}, context);
  if (claim.ok()) {
    claim = db->Query(std::string("WITH c AS (SELECT p.partition_id, p.owner AS previous FROM ddb2pg.partitions p "
                            "WHERE p.checkpoint_id = $1 AND p.state = 'pending' AND (p.owner IS NULL OR "
                            "p.lease_expires IS NULL OR p.lease_expires < now()) AND NOT EXISTS (SELECT 1 FROM "
                            "ddb2pg.configs k WHERE k.checkpoint_id = $1 AND k.superseded_at IS NULL AND "
                            "k.config_hash <> md5($5)) AND ") +
                    Eligible(options_.stream_during_snapshot) +
                    " ORDER BY (p.kind = 'segment') DESC, p.partition_id LIMIT $3::int FOR UPDATE OF p SKIP LOCKED), "
                    "u AS (UPDATE ddb2pg.partitions p SET owner = $2, epoch = p.epoch + 1, lease_expires = now() + "
                    "$4::bigint * interval '1 millisecond', updated_at = now() FROM c WHERE p.checkpoint_id = $1 AND "
                    "p.partition_id = c.partition_id RETURNING p.partition_id, p.kind, p.parent, p.position, p.epoch, "
                    "c.previous, p.scope), "
                    "e AS (INSERT INTO ddb2pg.lease_events (checkpoint_id, partition_id, runner_id, epoch, event, "
                    "previous_owner) SELECT $1, partition_id, $2, epoch, 'claim', previous FROM u) "
                    "SELECT partition_id, kind, COALESCE(parent, ''), COALESCE(position, ''), epoch, "
                    "COALESCE(previous, ''), COALESCE(scope, '') FROM u",
                {options_.checkpoint_id, me_.runner_id, std::to_string(max), TtlMs(),
                 me_.config_text},
                context);
  }
  if (claim.ok()) {
    core::Status committed = db->Exec("COMMIT", context);
    if (!committed.ok()) return committed;
  } else {
    if (!db->broken()) (void)db->Exec("ROLLBACK", context);
    return claim.status();
  }
  const PgResult& claimed = *claim;
  for (int i = 0; i < PQntuples(claimed.get()); ++i) {
    pipeline::ClaimedPartition lease;
    lease.id = CellText(claimed, i, 0);
    lease.kind = CellText(claimed, i, 1) == "segment" ? pipeline::PartitionKind::kSegment : pipeline::PartitionKind::kShard;
    lease.parent = CellText(claimed, i, 2);
    lease.position = CellText(claimed, i, 3);
    lease.epoch = std::stoll(CellText(claimed, i, 4));
    const std::string scope = CellText(claimed, i, 6);
    for (size_t start = 0; !scope.empty() && start <= scope.size();) {
      const size_t comma = std::min(scope.find(',', start), scope.size());
      if (comma > start) lease.scope.push_back(scope.substr(start, comma - start));
      start = comma + 1;
    }
    const std::string previous = CellText(claimed, i, 5);
    if (!previous.empty() && previous != me_.runner_id) {
      spdlog::info("took over partition {} from runner {} (its lease expired), epoch {}", lease.id, previous,
                   lease.epoch);
    }
    leases.push_back(std::move(lease));
  }
  return leases;
}

core::Status PgLeaseStore::NoteLanes(const std::vector<std::pair<pipeline::HeldLease, int>>& lanes) {
  if (lanes.empty()) return core::Status::Ok();
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  std::vector<std::string> ids, epochs, numbers;
  for (const auto& [lease, lane] : lanes) {
    ids.push_back(lease.id);
    epochs.push_back(std::to_string(lease.epoch));
    numbers.push_back(std::to_string(lane));
  }
  return db
      ->Query("UPDATE ddb2pg.partitions p SET lane = n.lane FROM unnest($3::text[], $4::bigint[], $5::int[]) AS "
              "n(id, epoch, lane) WHERE p.checkpoint_id = $1 AND p.partition_id = n.id AND p.owner = $2 AND "
              "p.epoch = n.epoch",
              {options_.checkpoint_id, me_.runner_id, TextArray(ids), TextArray(epochs), TextArray(numbers)},
              "noting lanes")
      .status();
}

core::Status PgLeaseStore::Release(const std::vector<pipeline::HeldLease>& leases, const std::string& why) {
  if (leases.empty()) return core::Status::Ok();
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  std::vector<std::string> ids, epochs;
  for (const auto& lease : leases) {
    ids.push_back(lease.id);
    epochs.push_back(std::to_string(lease.epoch));
  }
  return db
      ->Query("WITH u AS (UPDATE ddb2pg.partitions p SET owner = NULL, lease_expires = NULL, updated_at = now() FROM "
              "unnest($3::text[], $4::bigint[]) AS r(id, epoch) WHERE p.checkpoint_id = $1 AND p.partition_id = r.id "
              "AND p.owner = $2 AND p.epoch = r.epoch RETURNING p.partition_id, p.epoch) "
              "INSERT INTO ddb2pg.lease_events (checkpoint_id, partition_id, runner_id, epoch, event) SELECT $1, "
              "partition_id, $2, epoch, $5 FROM u",
              {options_.checkpoint_id, me_.runner_id, TextArray(ids), TextArray(epochs), why},
              "releasing partitions")
      .status();
}

core::Status PgLeaseStore::AddShards(const std::vector<pipeline::ShardInfo>& listed) {
  if (listed.empty()) return core::Status::Ok();
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  std::vector<std::string> ids, parents;
  for (const auto& shard : listed) {
    ids.push_back(shard.id);
    parents.push_back(shard.parent);
  }
  return db
      ->Query("INSERT INTO ddb2pg.partitions (checkpoint_id, partition_id, kind, parent, state) SELECT $1, id, "
              "'shard', NULLIF(parent, ''), 'pending' FROM unnest($2::text[], $3::text[]) AS s(id, parent) ON "
              "CONFLICT (checkpoint_id, partition_id) DO UPDATE SET parent = COALESCE(ddb2pg.partitions.parent, "
              "EXCLUDED.parent) WHERE ddb2pg.partitions.parent IS NULL AND EXCLUDED.parent IS NOT NULL",
              {options_.checkpoint_id, TextArray(ids), TextArray(parents)}, "adding shards")
      .status();
}

core::Status PgLeaseStore::SyncShards(const std::vector<pipeline::ShardInfo>& listed) {
  DDB2PG_RETURN_IF_ERROR(AddShards(listed));
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  std::vector<std::string> ids;
  for (const auto& shard : listed) ids.push_back(shard.id);
  const std::string& cp = options_.checkpoint_id;
  // Done shards trimmed from the stream are history; their children no longer wait on them.
  return db
      ->Query("DELETE FROM ddb2pg.partitions WHERE checkpoint_id = $1 AND kind = 'shard' AND state = 'done' AND "
              "NOT (partition_id = ANY ($2::text[]))",
              {cp, TextArray(ids)}, "forgetting trimmed shards")
      .status();
}

core::Result<std::vector<std::pair<std::string, std::string>>> PgLeaseStore::PendingShards() {
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  DDB2PG_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT partition_id, COALESCE(position, '') FROM ddb2pg.partitions "
                                               "WHERE checkpoint_id = $1 AND kind = 'shard' AND state = 'pending'",
                                               {options_.checkpoint_id}, "listing pending shards"));
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < PQntuples(rows.get()); ++i) out.emplace_back(CellText(rows, i, 0), CellText(rows, i, 1));
  return out;
}

core::Status PgLeaseStore::StartOver(const pipeline::CheckpointSeed& seed) {
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  const std::string context = "re-snapshot of '" + options_.checkpoint_id + "'";
  DDB2PG_RETURN_IF_ERROR(db->Exec("BEGIN", context));
  core::Status status =
      db->Query(SystemTables::kCheckpointLockSql, {options_.checkpoint_id}, context)
          .status();
  if (status.ok()) {
    status = db->Query("DELETE FROM ddb2pg.partitions WHERE checkpoint_id = $1", {options_.checkpoint_id}, context)
                 .status();
  }
  if (status.ok()) status = InsertSeed(seed);
  // Every pipeline reads the table again; rows of items deleted meanwhile are swept at the end.
  if (status.ok()) {
    status = db->Query("UPDATE ddb2pg.pipelines SET phase = 'snapshot', reconcile = true, segments = $2::int, swept = "
                       "NULL, snapshot_started_at = now(), snapshot_ended_at = NULL, updated_at = now() WHERE "
                       "checkpoint_id = $1",
                       {options_.checkpoint_id, std::to_string(seed.total_segments)}, context)
                 .status();
  }
  if (status.ok()) status = db->Exec("COMMIT", context);
  if (!status.ok() && !db->broken()) (void)db->Exec("ROLLBACK", context);
  return status;
}

core::Result<std::optional<int64_t>> PgLeaseStore::GapStart() {
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  DDB2PG_ASSIGN_OR_RETURN(
      auto start,
      db->Query("WITH s AS (SELECT p.state, COALESCE(p.change_ms, q.change_ms) AS t FROM ddb2pg.partitions p LEFT "
                "JOIN ddb2pg.partitions q ON q.checkpoint_id = p.checkpoint_id AND q.partition_id = p.parent WHERE "
                "p.checkpoint_id = $1 AND p.kind = 'shard') SELECT CASE WHEN EXISTS (SELECT 1 FROM s WHERE state <> "
                "'done') THEN (SELECT min(COALESCE(t, (SELECT min(t) FROM s))) FROM s WHERE state <> 'done') ELSE "
                "(SELECT max(t) FROM s) END",
                {options_.checkpoint_id}, "finding where the gap starts"));
  if (PQgetisnull(start.get(), 0, 0)) return std::optional<int64_t>();
  return std::optional<int64_t>(std::stoll(CellText(start, 0, 0)));
}

core::Status PgLeaseStore::OpenGap(const std::string& stream_arn, int64_t from_ms, int64_t to_ms,
                                   const std::vector<pipeline::SeedPartition>& shards) {
  const std::string& cp = options_.checkpoint_id;
  const std::string gap = pipeline::LeaseStore::kGapPlaceholder;
  std::set<std::string> ids;
  for (const auto& shard : shards) ids.insert(shard.id);
  std::vector<pipeline::SeedPartition> partitions;
  // The placeholder waits for itself: nothing claims it until FillGap replaces it.
  partitions.push_back({gap, pipeline::PartitionKind::kSegment, gap,
                        std::to_string(from_ms) + "-" + std::to_string(to_ms), false, 0});
  for (auto partition : shards) {
    if (ids.count(partition.parent) == 0) partition.parent = gap;
    partitions.push_back(std::move(partition));
  }
  return Locked("opening the gap of '" + cp + "'", [&](PgConnection& db) -> core::Status {
    const std::string context = "opening the gap of '" + cp + "'";
    DDB2PG_ASSIGN_OR_RETURN(auto opened, db.Query(kOpenGapSql, {cp, gap}, context));
    if (PQntuples(opened.get()) > 0) return core::Status::Ok();  // another runner opened it first
    DDB2PG_RETURN_IF_ERROR(
        db.Query("DELETE FROM ddb2pg.partitions WHERE checkpoint_id = $1 AND (kind = 'shard' OR partition_id = $2)",
                 {cp, gap}, context)
            .status());
    DDB2PG_RETURN_IF_ERROR(db.Query("UPDATE ddb2pg.checkpoints SET stream_arn = $2, updated_at = now() WHERE id = $1",
                                    {cp, stream_arn}, context)
                               .status());
    return InsertPartitions(partitions);
  });
}

core::Result<std::optional<std::pair<int64_t, int64_t>>> PgLeaseStore::OpenedGap() {
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  DDB2PG_ASSIGN_OR_RETURN(auto opened, db->Query(kOpenGapSql, {options_.checkpoint_id, pipeline::LeaseStore::kGapPlaceholder},
                                                 "finding a gap"));
  std::optional<std::pair<int64_t, int64_t>> gap;
  if (PQntuples(opened.get()) == 0) return gap;
  const std::string window = CellText(opened, 0, 0);
  const size_t dash = window.find('-');
  if (dash == std::string::npos) {
    return core::Status::DataError("the gap of '" + options_.checkpoint_id + "' is stored as '" + window +
                                   "', not <from ms>-<to ms>");
  }
  gap.emplace(std::stoll(window.substr(0, dash)), std::stoll(window.substr(dash + 1)));
  return gap;
}

core::Status PgLeaseStore::FillGap(const std::vector<pipeline::SeedPartition>& gap) {
  const std::string& cp = options_.checkpoint_id;
  const std::string placeholder = pipeline::LeaseStore::kGapPlaceholder;
  return Locked("filling the gap of '" + cp + "'", [&](PgConnection& db) -> core::Status {
    const std::string context = "filling the gap of '" + cp + "'";
    DDB2PG_ASSIGN_OR_RETURN(auto opened, db.Query(kOpenGapSql, {cp, placeholder}, context));
    if (PQntuples(opened.get()) == 0) return core::Status::Ok();  // another runner filled it
    DDB2PG_RETURN_IF_ERROR(InsertPartitions(gap));
    const std::string last = gap.empty() ? std::string() : gap.back().id;
    DDB2PG_RETURN_IF_ERROR(db.Query("UPDATE ddb2pg.partitions SET parent = NULLIF($3, ''), updated_at = now() WHERE "
                                    "checkpoint_id = $1 AND kind = 'shard' AND parent = $2",
                                    {cp, placeholder, last}, context)
                               .status());
    return db.Query("DELETE FROM ddb2pg.partitions WHERE checkpoint_id = $1 AND partition_id = $2", {cp, placeholder},
                    context)
        .status();
  });
}

core::Status PgLeaseStore::Deregister() {
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  const std::string& cp = options_.checkpoint_id;
  DDB2PG_RETURN_IF_ERROR(
      db->Query("WITH u AS (UPDATE ddb2pg.partitions SET owner = NULL, lease_expires = NULL, updated_at = now() WHERE "
                "checkpoint_id = $1 AND owner = $2 AND state = 'pending' RETURNING partition_id, epoch) INSERT INTO "
                "ddb2pg.lease_events (checkpoint_id, partition_id, runner_id, epoch, event) SELECT $1, partition_id, "
                "$2, epoch, 'release-shutdown' FROM u",
                {cp, me_.runner_id}, "releasing leases")
          .status());
  return db
      ->Query("DELETE FROM ddb2pg.runners WHERE checkpoint_id = $1 AND runner_id = $2", {cp, me_.runner_id},
              "deregistering")
      .status();
}

core::Status PgLeaseStore::Locked(const std::string& context, const std::function<core::Status(PgConnection&)>& fn) {
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  DDB2PG_RETURN_IF_ERROR(db->Exec("BEGIN", context));
  core::Status status = db->Query(SystemTables::kCheckpointLockSql, {options_.checkpoint_id}, context).status();
  // The fence before the pipelines' rows, in the order EndSnapshots takes them.
  if (status.ok()) status = db->Exec("LOCK TABLE ddb2pg.snapshot_fence IN ROW EXCLUSIVE MODE", context);
  if (status.ok()) status = fn(*db);
  if (status.ok()) status = db->Exec("COMMIT", context);
  if (!status.ok() && !db->broken()) (void)db->Exec("ROLLBACK", context);
  return status;
}

}  // namespace ddb2pg::sink
