#include "sink/system/pipeline_registry.h"

#include <atomic>
#include <chrono>
#include <random>
#include <map>
#include <set>
#include <sstream>

#include "core/line_differences.h"
#include "sink/sql_text.h"
#include "sink/system/system_tables.h"

namespace ddb2pg::sink {
namespace {

struct Stored {
  std::string target;
  std::string mapping;
  std::string phase;
};

// Registers a pipeline in `phase` (snapshot or streaming).
core::Status Insert(PgConnection& db, const std::string& checkpoint_id, const pipeline::PipelineInfo& p,
                    const std::string& phase, bool reconcile, int segments) {
  return db
      .Query("INSERT INTO ddb2pg.pipelines (checkpoint_id, pipeline, target, mapping, phase, reconcile, segments, "
             "snapshot_started_at, snapshot_ended_at) VALUES ($1, $2, $3, $4, $5, $6::boolean, $7::int, now(), CASE "
             "WHEN $5 = 'streaming' THEN now() END)",
             {checkpoint_id, p.name, p.target, p.mapping, phase, reconcile ? "true" : "false", std::to_string(segments)},
             "registering pipeline " + p.name + " in '" + checkpoint_id + "'")
      .status();
}

// A tag no earlier snapshot of the checkpoint used: its segments are "scan/<i>/<n>@<tag>".
std::string SnapshotTag() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  static std::atomic<uint32_t> sequence{0};
  return "b" + std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(now).count()) + "." +
         std::to_string(sequence.fetch_add(1) % 1000) + "." + std::to_string(std::random_device()() % 100000);
}

}  // namespace

core::Result<bool> PipelineRegistry::TargetHasRows(PgConnection& db, const std::string& target) {
  DDB2PG_ASSIGN_OR_RETURN(auto exists, db.Query("SELECT to_regclass($1) IS NOT NULL", {target}, "looking for " + target));
  if (CellText(exists, 0, 0) != "t") return false;
  DDB2PG_ASSIGN_OR_RETURN(auto any, db.Query("SELECT EXISTS (SELECT 1 FROM " + target + ")", {}, "reading " + target));
  return CellText(any, 0, 0) == "t";
}

core::Status PipelineRegistry::StartSnapshot(PgConnection& db, const std::string& checkpoint_id,
                                             const std::vector<pipeline::PipelineInfo>& pipelines, int total_segments,
                                             bool reconcile) {
  if (pipelines.empty()) return core::Status::Ok();
  std::vector<std::string> names, targets, mappings;
  std::string scope;
  for (const auto& p : pipelines) {
    names.push_back(p.name);
    targets.push_back(p.target);
    mappings.push_back(p.mapping);
    scope += (scope.empty() ? "" : ",") + p.name;
  }
  const std::string context = "starting a snapshot of " + scope + " in '" + checkpoint_id + "'";
  const int segments = std::max(1, total_segments);
  // The segment count is in the id: a backfill's Scan may be split unlike the source's first.
  DDB2PG_RETURN_IF_ERROR(
      db.Query("INSERT INTO ddb2pg.partitions (checkpoint_id, partition_id, kind, scope, state) SELECT $1, 'scan/' || "
               "i || '/' || $4 || '@' || $2, 'segment', $3, 'pending' FROM generate_series(0, $4::int - 1) AS i",
               {checkpoint_id, SnapshotTag(), scope, std::to_string(segments)}, context)
          .status());
  // Keys fenced or seen for an earlier snapshot mean nothing to this one.
  for (const char* table : {"snapshot_fence", "snapshot_seen"}) {
    DDB2PG_RETURN_IF_ERROR(db.Query(std::string("DELETE FROM ddb2pg.") + table +
                                        " WHERE checkpoint_id = $1 AND target = ANY ($2::text[])",
                                    {checkpoint_id, TextArray(targets)}, context)
                               .status());
  }
  return db
      .Query("INSERT INTO ddb2pg.pipelines AS p (checkpoint_id, pipeline, target, mapping, phase, reconcile, segments, "
             "swept, snapshot_started_at, snapshot_ended_at) SELECT $1, n, t, m, 'snapshot', $5::boolean, $6::int, "
             "NULL, now(), NULL FROM unnest($2::text[], $3::text[], $4::text[]) AS u(n, t, m) ON CONFLICT "
             "(checkpoint_id, pipeline) DO UPDATE SET target = EXCLUDED.target, mapping = EXCLUDED.mapping, phase = "
             "'snapshot', reconcile = EXCLUDED.reconcile, segments = EXCLUDED.segments, swept = NULL, "
             "snapshot_started_at = now(), snapshot_ended_at = NULL, updated_at = now()",
             {checkpoint_id, TextArray(names), TextArray(targets), TextArray(mappings), reconcile ? "true" : "false",
              std::to_string(segments)},
             context)
      .status();
}

core::Status PipelineRegistry::Forget(PgConnection& db, const std::string& checkpoint_id, const std::string& pipeline) {
  const std::string context = "forgetting pipeline " + pipeline + " of '" + checkpoint_id + "'";
  for (const char* table : {"snapshot_fence", "snapshot_seen"}) {
    DDB2PG_RETURN_IF_ERROR(db.Query(std::string("DELETE FROM ddb2pg.") + table +
                                        " f USING ddb2pg.pipelines p WHERE p.checkpoint_id = $1 AND p.pipeline = $2 "
                                        "AND f.checkpoint_id = $1 AND f.target = p.target",
                                    {checkpoint_id, pipeline}, context)
                               .status());
  }
  DDB2PG_RETURN_IF_ERROR(
      db.Query("DELETE FROM ddb2pg.pipelines WHERE checkpoint_id = $1 AND pipeline = $2", {checkpoint_id, pipeline},
               context)
          .status());
  // Its own segments go; a segment shared with other pipelines reads on for them.
  DDB2PG_RETURN_IF_ERROR(
      db.Query("DELETE FROM ddb2pg.partitions WHERE checkpoint_id = $1 AND kind = 'segment' AND scope = $2",
               {checkpoint_id, pipeline}, context)
          .status());
  return db
      .Query("UPDATE ddb2pg.partitions SET scope = array_to_string(array_remove(string_to_array(scope, ','), $2), ',') "
             "WHERE checkpoint_id = $1 AND kind = 'segment' AND $2 = ANY (string_to_array(scope, ','))",
             {checkpoint_id, pipeline}, context)
      .status();
}

core::Result<std::vector<PipelineProgress>> PipelineRegistry::Read(PgConnection& db, const std::string& checkpoint_id) {
  DDB2PG_ASSIGN_OR_RETURN(
      auto rows,
      db.Query("SELECT l.pipeline, l.target, l.phase, l.reconcile, COALESCE(l.segments, 0), COALESCE(l.swept, -1), "
               "COALESCE(to_char(l.snapshot_started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
               "COALESCE(to_char(l.snapshot_ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
               "(SELECT count(*) FROM ddb2pg.partitions s WHERE " + SystemTables::kPendingSegmentsOfPipelineWhere +
                   ") FROM ddb2pg.pipelines l WHERE l.checkpoint_id = $1 ORDER BY l.pipeline",
               {checkpoint_id}, "reading the pipelines of '" + checkpoint_id + "'"));
  std::vector<PipelineProgress> out;
  for (int i = 0; i < PQntuples(rows.get()); ++i) {
    PipelineProgress p;
    p.pipeline = CellText(rows, i, 0);
    p.target = CellText(rows, i, 1);
    p.phase = CellText(rows, i, 2);
    p.reconcile = CellText(rows, i, 3) == "t";
    p.segments = std::stoi(CellText(rows, i, 4));
    p.swept = std::stoll(CellText(rows, i, 5));
    p.snapshot_started_at = CellText(rows, i, 6);
    p.snapshot_ended_at = CellText(rows, i, 7);
    // Done segments of earlier snapshots stay stored: count what is left of this one.
    const int pending = std::stoi(CellText(rows, i, 8));
    p.segments_done = p.phase == "snapshot" ? std::max(0, p.segments - pending) : p.segments;
    out.push_back(std::move(p));
  }
  return out;
}

core::Result<std::vector<std::string>> PipelineRegistry::RegisterWhereTheSourceIs(
    PgConnection& db, const std::string& checkpoint_id, const std::vector<pipeline::PipelineInfo>& pipelines,
    int total_segments, bool created) {
  const std::string context = "the pipelines of '" + checkpoint_id + "'";
  std::vector<std::string> notes;
  DDB2PG_ASSIGN_OR_RETURN(auto pending, db.Query("SELECT EXISTS (SELECT 1 FROM ddb2pg.partitions WHERE checkpoint_id "
                                                 "= $1 AND kind = 'segment' AND state <> 'done')",
                                                 {checkpoint_id}, context));
  const bool snapshotting = CellText(pending, 0, 0) == "t";
  for (const auto& p : pipelines) {
    bool reconcile = false;
    if (created && snapshotting) {
      DDB2PG_ASSIGN_OR_RETURN(reconcile, TargetHasRows(db, p.target));
    }
    if (reconcile) {
      notes.push_back("pipeline " + p.name + ": table " + p.target +
                      " already has rows; the snapshot ends by removing those whose items it did not find");
    }
    DDB2PG_RETURN_IF_ERROR(Insert(db, checkpoint_id, p, snapshotting ? "snapshot" : "streaming", reconcile,
                                  total_segments));
  }
  return notes;
}

core::Result<std::vector<std::string>> PipelineRegistry::Align(PgConnection& db, const std::string& checkpoint_id,
                                                               const std::vector<pipeline::PipelineInfo>& pipelines,
                                                               int total_segments, bool created) {
  const std::string context = "the pipelines of '" + checkpoint_id + "'";
  std::vector<std::string> notes;
  // The fence before the pipelines' rows, in the order EndSnapshots takes them.
  DDB2PG_RETURN_IF_ERROR(db.Exec("LOCK TABLE ddb2pg.snapshot_fence IN ROW EXCLUSIVE MODE", context));
  DDB2PG_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT pipeline, target, mapping, phase FROM ddb2pg.pipelines WHERE "
                                              "checkpoint_id = $1",
                                              {checkpoint_id}, context));
  std::map<std::string, Stored> stored;
  for (int i = 0; i < PQntuples(rows.get()); ++i) {
    stored[CellText(rows, i, 0)] = {CellText(rows, i, 1), CellText(rows, i, 2), CellText(rows, i, 3)};
  }

  // A new checkpoint: every pipeline is where the source's snapshot is.
  if (stored.empty()) return RegisterWhereTheSourceIs(db, checkpoint_id, pipelines, total_segments, created);

  std::set<std::string> configured;
  for (const auto& p : pipelines) configured.insert(p.name);
  for (const auto& p : pipelines) {
    if (stored.count(p.name) != 0) continue;
    // Renamed: a stored pipeline no longer configured wrote this table.
    std::string renamed_from;
    for (const auto& [name, s] : stored) {
      if (configured.count(name) == 0 && s.target == p.target) {
        renamed_from = name;
        break;
      }
    }
    if (!renamed_from.empty()) {
      DDB2PG_RETURN_IF_ERROR(
          db.Query("UPDATE ddb2pg.pipelines SET pipeline = $3, updated_at = now() WHERE checkpoint_id = $1 AND "
                   "pipeline = $2",
                   {checkpoint_id, renamed_from, p.name}, context)
              .status());
      DDB2PG_RETURN_IF_ERROR(
          db.Query("UPDATE ddb2pg.partitions SET scope = array_to_string(array_replace(string_to_array(scope, ','), "
                   "$2, $3), ',') WHERE checkpoint_id = $1 AND kind = 'segment' AND $2 = ANY (string_to_array(scope, "
                   "','))",
                   {checkpoint_id, renamed_from, p.name}, context)
              .status());
      notes.push_back("pipeline " + renamed_from + " is now called " + p.name + " (the same table " + p.target +
                      "): its progress carries over, nothing is read again");
      stored[p.name] = stored[renamed_from];
      stored.erase(renamed_from);
      continue;
    }
    if (p.backfill_segments == 0) {
      // snapshot.enabled: false: the source takes no Scan, so neither does a new pipeline.
      DDB2PG_RETURN_IF_ERROR(Insert(db, checkpoint_id, p, "streaming", false, 0));
      notes.push_back("pipeline " + p.name + " is new; snapshot.enabled is false, so its table " + p.target +
                      " gets changes from the stream from now on, and no backfill");
      stored[p.name] = {p.target, p.mapping, "streaming"};
      continue;
    }
    DDB2PG_ASSIGN_OR_RETURN(bool reconcile, TargetHasRows(db, p.target));
    DDB2PG_RETURN_IF_ERROR(StartSnapshot(db, checkpoint_id, {p}, p.backfill_segments, reconcile));
    notes.push_back("pipeline " + p.name + " is new: backfilling " + p.target + " from a Scan of its own (" +
                    std::to_string(p.backfill_segments) + " segments) while the other pipelines stream on" +
                    (reconcile ? "; the table has rows: those whose items the Scan does not find are removed at the end"
                               : ""));
    stored[p.name] = {p.target, p.mapping, "snapshot"};
  }

  std::string refusals;
  for (const auto& p : pipelines) {
    const Stored& s = stored.at(p.name);
    if (s.mapping == p.mapping) continue;
    const std::string differences = core::LineDifferences(s.mapping, "    was: ", p.mapping, "    now: ");
    switch (p.on_change) {
      case model::ChangePolicy::kStop:
        refusals += "\n  pipeline " + p.name + " (table " + p.target + "):" + differences;
        break;
      case model::ChangePolicy::kKeep:
        DDB2PG_RETURN_IF_ERROR(
            db.Query("UPDATE ddb2pg.pipelines SET mapping = $3, target = $4, updated_at = now() WHERE checkpoint_id "
                     "= $1 AND pipeline = $2",
                     {checkpoint_id, p.name, p.mapping, p.target}, context)
                .status());
        notes.push_back("pipeline " + p.name + ": the mapping changed (on_change: keep): rows written from now on "
                        "follow it, rows written before stay as they are" + differences);
        break;
      case model::ChangePolicy::kBackfill: {
        if (s.phase == "snapshot") {
          return core::Status::FailedPrecondition(
              "pipeline " + p.name + ": the mapping changed while its table " + p.target +
              " is still being snapshotted with the old one; let that snapshot finish with the old mapping, or start "
              "it over with `ddb2pg reset -c FILE --pipeline " + p.name + " --yes`" + differences);
        }
        DDB2PG_RETURN_IF_ERROR(
            StartSnapshot(db, checkpoint_id, {p}, std::max(1, p.backfill_segments), true));
        notes.push_back("pipeline " + p.name + ": the mapping changed (on_change: backfill): re-reading the table "
                        "into " + p.target + " beside the stream, then removing rows whose items were not found" +
                        differences);
        break;
      }
    }
  }
  if (!refusals.empty()) {
    return core::Status::FailedPrecondition(
        "the mapping of a pipeline changed since its rows were written (columns, key, filter or table):" + refusals +
        "\nchoose, per pipeline: `on_change: keep` (rows written from now on follow the new mapping, the others stay "
        "as they are) or `on_change: backfill` (the table is read again from a Scan beside the stream; or run "
        "`ddb2pg resnapshot -c FILE --pipeline NAME`); nothing was written");
  }

  for (const auto& [name, s] : stored) {
    if (configured.count(name) != 0) continue;
    notes.push_back("pipeline " + name + " (table " + s.target +
                    ") is in the stored progress but no longer in the configuration: its table keeps its rows and "
                    "is not written any more; `ddb2pg reset -c FILE --pipeline " + name + " --yes` forgets it");
  }
  return notes;
}

}  // namespace ddb2pg::sink
