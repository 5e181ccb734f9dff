// PgLeaseStore, the commands a person runs (status, resnapshot, reset) and the stored source
// they act on; the lease protocol itself is in pg_lease_store.cpp.
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

core::Result<std::optional<pipeline::CheckpointSeed>> PgLeaseStore::StoredCheckpoint() {
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  DDB2PG_ASSIGN_OR_RETURN(auto stored,
                          db->Query("SELECT COALESCE(stream_arn, ''), COALESCE(segments, 0) FROM ddb2pg.checkpoints c "
                                    "WHERE id = $1 AND EXISTS (SELECT 1 FROM ddb2pg.partitions p WHERE "
                                    "p.checkpoint_id = c.id)",
                                    {options_.checkpoint_id}, "reading checkpoint '" + options_.checkpoint_id + "'"));
  if (PQntuples(stored.get()) == 0) return std::optional<pipeline::CheckpointSeed>();
  pipeline::CheckpointSeed seed;
  seed.stream_arn = CellText(stored, 0, 0);
  seed.total_segments = std::stoi(CellText(stored, 0, 1));
  return std::optional<pipeline::CheckpointSeed>(std::move(seed));
}

core::Result<int> PgLeaseStore::LiveRunners(PgConnection& db) {
  DDB2PG_ASSIGN_OR_RETURN(auto live, db.Query("SELECT count(*) FROM ddb2pg.runners WHERE checkpoint_id = $1 AND "
                                              "heartbeat_at > now() - $2::bigint * interval '1 millisecond'",
                                              {options_.checkpoint_id, TtlMs()}, "counting runners"));
  return std::stoi(CellText(live, 0, 0));
}

core::Status PgLeaseStore::Resnapshot(const std::vector<pipeline::PipelineInfo>& pipelines,
                                      const std::optional<pipeline::CheckpointSeed>& reseed) {
  const std::string& cp = options_.checkpoint_id;
  return Locked("re-snapshot of '" + cp + "'", [&](PgConnection& db) -> core::Status {
    const std::string context = "re-snapshot of '" + cp + "'";
    DDB2PG_ASSIGN_OR_RETURN(auto source, db.Query("SELECT COALESCE(segments, 1) FROM ddb2pg.checkpoints WHERE id = $1",
                                                  {cp}, context));
    if (PQntuples(source.get()) == 0) {
      return core::Status::NotFound("no progress is stored for '" + cp + "': `ddb2pg run` snapshots the table");
    }
    int segments = std::stoi(CellText(source, 0, 0));
    DDB2PG_ASSIGN_OR_RETURN(const int live, LiveRunners(db));
    const bool running = live > 0;
    if (reseed && running) {
      return core::Status::FailedPrecondition(
          "the stream of '" + cp + "' was replaced and " + std::to_string(live) +
          " runner(s) still read the old one: stop them (with on_trimmed: stop they exit by themselves), then run "
          "this again");
    }
    // What is re-read follows the stored pipelines: a pipeline new to the source is backfilled by
    // the next start, and one whose mapping differs from what live runners use would get rows
    // they do not write (a runner takes its mapping from its own file).
    for (const auto& p : pipelines) {
      DDB2PG_ASSIGN_OR_RETURN(auto stored, db.Query("SELECT target, mapping FROM ddb2pg.pipelines WHERE checkpoint_id "
                                                    "= $1 AND pipeline = $2",
                                                    {cp, p.name}, context));
      if (PQntuples(stored.get()) == 0 && !reseed) {
        return core::Status::FailedPrecondition("pipeline " + p.name + " has no stored progress in '" + cp +
                                                "' (it is new to the source): `ddb2pg run` with this file backfills "
                                                "it");
      }
      if (PQntuples(stored.get()) > 0 && running &&
          (CellText(stored, 0, 0) != p.target || CellText(stored, 0, 1) != p.mapping)) {
        return core::Status::FailedPrecondition(
            "pipeline " + p.name + ": the file's mapping differs from the one the " + std::to_string(live) +
            " running runner(s) use; deploy the file (restart them with it: on_change decides there) or stop them, "
            "then re-snapshot" + core::LineDifferences(CellText(stored, 0, 1), "    running: ", p.mapping, "    file:    "));
      }
    }
    if (reseed) {
      // The stream was replaced: its positions mean nothing now; every shard of the new one is
      // read from its start, beside the Scan.
      DDB2PG_RETURN_IF_ERROR(db.Query("DELETE FROM ddb2pg.partitions WHERE checkpoint_id = $1", {cp}, context).status());
      pipeline::CheckpointSeed shards = *reseed;
      std::erase_if(shards.partitions, [](const auto& p) { return p.kind == pipeline::PartitionKind::kSegment; });
      DDB2PG_RETURN_IF_ERROR(InsertSeed(shards));
      segments = reseed->total_segments;
    }
    DDB2PG_ASSIGN_OR_RETURN(auto snapshotting,
                            db.Query("SELECT pipeline FROM ddb2pg.pipelines WHERE checkpoint_id = $1 AND phase = "
                                     "'snapshot' AND pipeline = ANY ($2::text[])",
                                     {cp, TextArray([&] {
                                        std::vector<std::string> names;
                                        for (const auto& p : pipelines) names.push_back(p.name);
                                        return names;
                                      }())},
                                     context));
    if (PQntuples(snapshotting.get()) > 0 && !reseed) {
      return core::Status::FailedPrecondition(
          "pipeline " + CellText(snapshotting, 0, 0) + " is being snapshotted already (`ddb2pg status` shows how far); "
          "let it finish, or start it over with `ddb2pg reset -c FILE --pipeline " + CellText(snapshotting, 0, 0) +
          " --yes`");
    }
    return PipelineRegistry::StartSnapshot(db, cp, pipelines, segments, true);
  });
}

core::Status PgLeaseStore::Forget(const std::optional<std::string>& pipeline) {
  const std::string& cp = options_.checkpoint_id;
  return Locked("reset of '" + cp + "'", [&](PgConnection& db) -> core::Status {
    const std::string context = "reset of '" + cp + "'";
    // Checked under the lock: a runner starting meanwhile waits for this to end.
    DDB2PG_ASSIGN_OR_RETURN(const int live, LiveRunners(db));
    if (live > 0) {
      return core::Status::FailedPrecondition(std::to_string(live) + " runner(s) run '" + cp +
                                              "': stop them first, then reset");
    }
    if (pipeline) {
      DDB2PG_ASSIGN_OR_RETURN(auto others, db.Query("SELECT count(*) FROM ddb2pg.pipelines WHERE checkpoint_id = $1 "
                                                    "AND pipeline <> $2",
                                                    {cp, *pipeline}, context));
      // The last stored pipeline: forgetting it is forgetting the source (the next start then
      // snapshots the table again, rather than taking the stored stream position as its own).
      if (CellText(others, 0, 0) != "0") return PipelineRegistry::Forget(db, cp, *pipeline);
    }
    for (const char* table : {"partitions", "pipelines", "snapshot_fence", "snapshot_seen", "runners", "configs"}) {
      DDB2PG_RETURN_IF_ERROR(
          db.Query(std::string("DELETE FROM ddb2pg.") + table + " WHERE checkpoint_id = $1", {cp}, context).status());
    }
    return db.Query("DELETE FROM ddb2pg.checkpoints WHERE id = $1", {cp}, context).status();
  });
}

core::Result<std::vector<PipelineProgress>> PgLeaseStore::Pipelines() {
  DDB2PG_ASSIGN_OR_RETURN(PgConnection * db, Connection());
  return PipelineRegistry::Read(*db, options_.checkpoint_id);
}

}  // namespace ddb2pg::sink
