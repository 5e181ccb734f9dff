// SystemTables: ddb2pg's own tables in the `ddb2pg` schema.
//
//   ddb2pg.checkpoints   one row per checkpoint id (pipeline set + source): the pinned stream
//                        and the Scan's segment count (PgLeaseStore). `position` is a release's
//                        before the partitioned runtime, converted on first start; `fence` and
//                        the counters (records … last_change_time) are no longer written or read
//                        (kept: an upgrade drops no data). export_* is the export the source
//                        requested for its snapshot and its progress (ExportRequestSql).
//   ddb2pg.dead_letters  records that could not be mapped and rows PostgreSQL rejected, with
//                        their reason and raw item (CommitSql).
//   ddb2pg.partitions, runners, lease_events: the partitioned runtime (PgLeaseStore).
//   ddb2pg.configs       the configurations a checkpoint has seen and which one is current
//                        (PgLeaseStore: runners of a superseded one stand by).
//   ddb2pg.snapshot_fence keys the stream wrote while a snapshot ran, snapshot_seen the keys a
//                        snapshot that reconciles read (SnapshotFenceSql).
//   ddb2pg.pipelines     each pipeline's phase (snapshot, streaming), mapping and target
//                        (PipelineRegistry).
//   ddb2pg.schema_migrations  the schema's version: one row per migration applied.
//
// The schema is versioned: Migrations() lists the changes in order, and Ensure() brings a
// database to kSchemaVersion in one transaction, once, however many runners start together. A
// database at a newer version than this binary knows is refused (a rolled-back binary must not
// write to a schema it does not know). docs/consistency.md, "The ddb2pg schema's version", says what users see.
//
// Thread-safety: stateless.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "sink/pg_connection.h"

namespace ddb2pg::sink {

class SystemTables {
 public:
  // Empties the snapshot fence and the seen keys of checkpoint $1 (a snapshot seeded).
  static constexpr const char* kEmptySnapshotFenceSql =
      "WITH f AS (DELETE FROM ddb2pg.snapshot_fence WHERE checkpoint_id = $1) DELETE FROM ddb2pg.snapshot_seen WHERE "
      "checkpoint_id = $1";
  // The lock of checkpoint $1 that orders phase changes with batches: every change of a
  // pipeline's phase or snapshot (seeding, Align, resnapshot, reset, EndSnapshots' ending) holds
  // it exclusively; every
  // batch holds it shared from before it reads the phases until it commits. So no batch acts on
  // a phase that changed under it (an advisory lock: nothing written per batch).
  static constexpr const char* kCheckpointLockSql = "SELECT pg_advisory_xact_lock(hashtextextended('ddb2pg:' || $1, 0))";
  static constexpr const char* kCheckpointSharedLockSql =
      "SELECT pg_advisory_xact_lock_shared(hashtextextended('ddb2pg:' || $1, 0))";
  // The unfinished Scan segments (alias s) of pipeline l (a ddb2pg.pipelines row): the source's
  // first snapshot's (no scope) and those of a backfill or re-snapshot naming it.
  static inline const std::string kPendingSegmentsOfPipelineWhere =
      "s.checkpoint_id = l.checkpoint_id AND s.kind = 'segment' AND s.state <> 'done' AND (s.scope IS NULL OR "
      "l.pipeline = ANY (string_to_array(s.scope, ',')))";
  // Pipelines l of checkpoint $1 whose snapshot is read to its end but not yet ended
  // (PostgresSink::EndSnapshots ends them).
  static inline const std::string kSnapshotsToEndWhere =
      "l.checkpoint_id = $1 AND l.phase = 'snapshot' AND NOT EXISTS (SELECT 1 FROM ddb2pg.partitions s WHERE " +
      kPendingSegmentsOfPipelineWhere + ")";
  // The targets of checkpoint $1 whose pipeline is snapshotting (their fence is up), and whether
  // that snapshot reconciles.
  static constexpr const char* kSnapshottingSql =
      "SELECT target, bool_or(reconcile) FROM ddb2pg.pipelines WHERE checkpoint_id = $1 AND phase = 'snapshot' "
      "GROUP BY target";

  // One step of the schema's history. Released steps are never edited; a new release appends.
  struct Migration {
    int version = 0;
    std::string description;
    std::vector<std::string> statements;
  };
  // The version this binary writes: the last of Migrations().
  static constexpr int kSchemaVersion = 4;
  static const std::vector<Migration>& Migrations();

  // Every migration's statements, each followed by the row that records it: the DDL that
  // init-schema runs and `ddb2pg schema` prints, for a DBA to run by hand.
  static std::vector<std::string> CreateStatements();
  // The version stored in the database: 0 when ddb2pg's schema is absent or was written by a
  // release before versioning.
  static core::Result<int> StoredVersion(PgConnection& connection);
  // Brings the database to kSchemaVersion. Runs no DDL when it is there already (so a role without
  // CREATE privilege can run against a prepared database). Otherwise applies the missing
  // migrations in one transaction under an advisory lock, so that runners starting together
  // migrate once. FailedPrecondition, naming both versions, when the stored one is newer.
  static core::Status Ensure(PgConnection& connection);
};

}  // namespace ddb2pg::sink
