#include "sink/system/system_tables.h"

#include <spdlog/spdlog.h>

#include <string_view>

namespace ddb2pg::sink {
namespace {

// Serializes schema changes between processes (runners starting together, init-schema).
constexpr const char* kSchemaLockSql = "SELECT pg_advisory_xact_lock(4242004242)";
constexpr const char* kMigrationsTableSql =
    "CREATE TABLE IF NOT EXISTS ddb2pg.schema_migrations (\n"
    "    version INT PRIMARY KEY,\n"
    "    description TEXT NOT NULL,\n"
    "    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()\n"
    ");";

// '…' with quotes doubled; only for the constant descriptions below.
std::string Literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += c;
  }
  return out + "'";
}

std::string RecordSql(const SystemTables::Migration& migration) {
  return "INSERT INTO ddb2pg.schema_migrations (version, description) VALUES (" + std::to_string(migration.version) +
         ", " + Literal(migration.description) + ") ON CONFLICT (version) DO NOTHING;";
}

}  // namespace

const std::vector<SystemTables::Migration>& SystemTables::Migrations() {
  // Append only: a released migration is never edited, since databases already carry it. Each
  // runs in the one transaction that brings a database to kSchemaVersion.
  static const std::vector<Migration> migrations = {
      {1,
       "the schema of the release before versioning (b404e64): checkpoints, dead letters, partitions, runners, "
       "lease events, snapshot fence and seen keys, pipelines",
       // Every statement is IF NOT EXISTS, so an unversioned database of any earlier release is
       // brought to it without losing a row.
       {
      "CREATE SCHEMA IF NOT EXISTS ddb2pg;",
      "CREATE TABLE IF NOT EXISTS ddb2pg.checkpoints (\n"
      "    id TEXT PRIMARY KEY,\n"
      "    position TEXT,\n"
      "    fence BIGINT NOT NULL DEFAULT 0,\n"
      "    records BIGINT NOT NULL DEFAULT 0,\n"
      "    rows_written BIGINT NOT NULL DEFAULT 0,\n"
      "    dead_letters BIGINT NOT NULL DEFAULT 0,\n"
      "    commits BIGINT NOT NULL DEFAULT 0,\n"
      "    last_change_time TIMESTAMPTZ,\n"
      "    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n"
      "    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()\n"
      ");",
      "CREATE TABLE IF NOT EXISTS ddb2pg.dead_letters (\n"
      "    id BIGSERIAL PRIMARY KEY,\n"
      "    pipeline TEXT NOT NULL,\n"
      "    key TEXT,\n"
      "    operation TEXT,\n"
      "    reason TEXT NOT NULL,\n"
      "    item TEXT,\n"
      "    change_time TIMESTAMPTZ,\n"
      "    position TEXT,\n"
      "    created_at TIMESTAMPTZ NOT NULL DEFAULT now()\n"
      ");",
      "CREATE INDEX IF NOT EXISTS dead_letters_pipeline_idx ON ddb2pg.dead_letters (pipeline, id);",
      // The partitioned runtime (docs/consistency.md): the source row keeps the pinned stream
      // and the Scan's segment count; `position` is an earlier release's checkpoint, converted
      // on first start.
      "ALTER TABLE ddb2pg.checkpoints ADD COLUMN IF NOT EXISTS stream_arn TEXT, "
      "ADD COLUMN IF NOT EXISTS segments INT;",
      "CREATE TABLE IF NOT EXISTS ddb2pg.partitions (\n"
      "    checkpoint_id TEXT NOT NULL,\n"
      "    partition_id TEXT NOT NULL,\n"
      "    kind TEXT NOT NULL,              -- segment | shard\n"
      "    parent TEXT,                     -- shards: the parent shard\n"
      "    state TEXT NOT NULL DEFAULT 'pending',  -- pending | done\n"
      "    position TEXT,                   -- segment: last key read; shard: last sequence number\n"
      "    owner TEXT,                      -- the runner holding the lease\n"
      "    lane INT,                        -- the owner's lane reading it\n"
      "    epoch BIGINT NOT NULL DEFAULT 0, -- bumped by every claim; fences commits\n"
      "    lease_expires TIMESTAMPTZ,       -- PostgreSQL's clock\n"
      "    records BIGINT NOT NULL DEFAULT 0,\n"
      "    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n"
      "    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n"
      "    PRIMARY KEY (checkpoint_id, partition_id)\n"
      ");",
      "ALTER TABLE ddb2pg.partitions ADD COLUMN IF NOT EXISTS lane INT;",
      "CREATE TABLE IF NOT EXISTS ddb2pg.runners (\n"
      "    checkpoint_id TEXT NOT NULL,\n"
      "    runner_id TEXT NOT NULL,\n"
      "    host TEXT,\n"
      "    pid INT,\n"
      "    lanes INT,\n"
      "    config TEXT,\n"
      "    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n"
      "    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n"
      "    PRIMARY KEY (checkpoint_id, runner_id)\n"
      ");",
      "CREATE TABLE IF NOT EXISTS ddb2pg.lease_events (\n"
      "    id BIGSERIAL PRIMARY KEY,\n"
      "    checkpoint_id TEXT NOT NULL,\n"
      "    partition_id TEXT NOT NULL,\n"
      "    runner_id TEXT NOT NULL,\n"
      "    epoch BIGINT NOT NULL,\n"
      "    event TEXT NOT NULL,             -- claim | release-* | lost\n"
      "    previous_owner TEXT,\n"
      "    at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()\n"
      ");",
      // The snapshot fence: keys the stream wrote while the snapshot of their checkpoint was
      // unfinished; a snapshot row of such a key is not written (docs/consistency.md).
      "CREATE TABLE IF NOT EXISTS ddb2pg.snapshot_fence (\n"
      "    checkpoint_id TEXT NOT NULL,\n"
      "    target TEXT NOT NULL,            -- the target table, schema-qualified\n"
      "    key TEXT NOT NULL,               -- ROW(key columns)::text\n"
      "    PRIMARY KEY (checkpoint_id, target, key)\n"
      ");",
      // Per-pipeline progress (PipelineRegistry): a pipeline is snapshotting until every segment
      // of its scope is read and its table reconciled, then streaming. A segment's scope names
      // the pipelines its rows are for (NULL: every pipeline of the source).
      "ALTER TABLE ddb2pg.partitions ADD COLUMN IF NOT EXISTS scope TEXT;",
      // The keys a snapshot that reconciles read (its sweep keeps their rows). Apart from the
      // fence: snapshot batches run side by side holding the fence in SHARE mode, which an
      // insert into the fence itself would need to upgrade (two such batches would deadlock).
      "CREATE TABLE IF NOT EXISTS ddb2pg.snapshot_seen (\n"
      "    checkpoint_id TEXT NOT NULL,\n"
      "    target TEXT NOT NULL,\n"
      "    key TEXT NOT NULL,\n"
      "    PRIMARY KEY (checkpoint_id, target, key)\n"
      ");",
      "CREATE TABLE IF NOT EXISTS ddb2pg.pipelines (\n"
      "    checkpoint_id TEXT NOT NULL,\n"
      "    pipeline TEXT NOT NULL,\n"
      "    target TEXT NOT NULL,            -- the target table, quoted and schema-qualified\n"
      "    mapping TEXT NOT NULL,           -- what decides its rows (columns, key, filter): changes are detected\n"
      "    phase TEXT NOT NULL,             -- snapshot | streaming\n"
      "    reconcile BOOLEAN NOT NULL DEFAULT false,  -- the snapshot ends with a sweep of rows not seen\n"
      "    segments INT,                    -- the Scan segments of its snapshot\n"
      "    swept BIGINT,                    -- rows the last sweep removed or soft-deleted\n"
      "    snapshot_started_at TIMESTAMPTZ,\n"
      "    snapshot_ended_at TIMESTAMPTZ,\n"
      "    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n"
      "    PRIMARY KEY (checkpoint_id, pipeline)\n"
      ");",
       }},
      {2,
       "ddb2pg.configs: the configurations a checkpoint has seen and which one is current (rolling "
       "configuration changes)",
       {
           // The configurations a checkpoint has seen (docs/consistency.md, "Rolling a configuration
           // change"): one is current (superseded_at NULL); runners of another stand by.
           "CREATE TABLE IF NOT EXISTS ddb2pg.configs (\n"
           "    checkpoint_id TEXT NOT NULL,\n"
           "    config_hash TEXT NOT NULL,       -- md5 of the runners' canonical configuration text\n"
           "    config TEXT NOT NULL,\n"
           "    first_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),  -- \"newer\": first seen later\n"
           "    current_since TIMESTAMPTZ,       -- when it last became the current one\n"
           "    superseded_at TIMESTAMPTZ,       -- NULL: the current configuration\n"
           "    PRIMARY KEY (checkpoint_id, config_hash)\n"
           ");",
       }},
      {3,
       "ddb2pg.checkpoints: the export a source requested for its snapshot (snapshot.export.s3_bucket) and its "
       "progress",
       {
           // ExportRequestSql: the export time is stored before the export is requested, so a
           // restart (or a second runner) asks with the same ClientToken and gets the same export.
           "ALTER TABLE ddb2pg.checkpoints ADD COLUMN IF NOT EXISTS export_time_ms BIGINT, "
           "ADD COLUMN IF NOT EXISTS export_arn TEXT, "
           "ADD COLUMN IF NOT EXISTS export_status TEXT, "
           "ADD COLUMN IF NOT EXISTS export_manifest TEXT, "
           "ADD COLUMN IF NOT EXISTS export_items BIGINT, "
           "ADD COLUMN IF NOT EXISTS export_bytes BIGINT, "
           "ADD COLUMN IF NOT EXISTS export_polls INT, "
           "ADD COLUMN IF NOT EXISTS export_updated_at TIMESTAMPTZ;",
       }},
      {4,
       "ddb2pg.partitions.change_ms: the newest change time committed per partition (on_trimmed: "
       "incremental_export starts the gap from it)",
       {
           // Written by CommitSql::kAdvanceSql in the commit's own transaction; NULL until a
           // partition's first change (or its seed's watermark) is stored. A nullable column
           // only: the statements of version 3 run unchanged against it.
           "ALTER TABLE ddb2pg.partitions ADD COLUMN IF NOT EXISTS change_ms BIGINT;",
       }},
  };
  return migrations;
}

std::vector<std::string> SystemTables::CreateStatements() {
  std::vector<std::string> out;
  for (const Migration& migration : Migrations()) {
    out.insert(out.end(), migration.statements.begin(), migration.statements.end());
    if (migration.version == 1) out.push_back(kMigrationsTableSql);
    out.push_back(RecordSql(migration));
  }
  return out;
}

core::Result<int> SystemTables::StoredVersion(PgConnection& connection) {
  DDB2PG_ASSIGN_OR_RETURN(auto present, connection.Query("SELECT to_regclass('ddb2pg.schema_migrations') IS NOT NULL",
                                                         {}, "reading the ddb2pg schema's version"));
  if (std::string_view(PQgetvalue(present.get(), 0, 0)) != "t") return 0;
  DDB2PG_ASSIGN_OR_RETURN(auto version, connection.Query("SELECT coalesce(max(version), 0) FROM ddb2pg.schema_migrations",
                                                         {}, "reading the ddb2pg schema's version"));
  return std::stoi(PQgetvalue(version.get(), 0, 0));
}

namespace {

core::Status RefuseNewer(int stored) {
  return core::Status::FailedPrecondition(
      "the ddb2pg schema in this database is at version " + std::to_string(stored) + ", newer than version " +
      std::to_string(SystemTables::kSchemaVersion) +
      " that this ddb2pg knows: a newer release upgraded it; run that release or a newer one against this database");
}

}  // namespace

core::Status SystemTables::Ensure(PgConnection& connection) {
  // The common start: the schema is current, and no DDL runs (a role without CREATE privilege can
  // run against a database prepared by init-schema).
  DDB2PG_ASSIGN_OR_RETURN(int stored, StoredVersion(connection));
  if (stored == kSchemaVersion) return core::Status::Ok();
  if (stored > kSchemaVersion) return RefuseNewer(stored);

  const std::string context = "upgrading ddb2pg's schema";
  DDB2PG_RETURN_IF_ERROR(connection.Exec("BEGIN", context));
  auto migrate = [&]() -> core::Status {
    // Runners starting together: one migrates, the others find the schema current.
    DDB2PG_RETURN_IF_ERROR(connection.Exec(kSchemaLockSql, context));
    DDB2PG_ASSIGN_OR_RETURN(stored, StoredVersion(connection));
    if (stored > kSchemaVersion) return RefuseNewer(stored);
    for (const Migration& migration : Migrations()) {
      if (migration.version <= stored) continue;
      for (const auto& statement : migration.statements) DDB2PG_RETURN_IF_ERROR(connection.Exec(statement, context));
      if (migration.version == 1) DDB2PG_RETURN_IF_ERROR(connection.Exec(kMigrationsTableSql, context));
      DDB2PG_RETURN_IF_ERROR(connection.Exec(RecordSql(migration), context));
    }
    return connection.Exec("COMMIT", context);
  };
  core::Status status = migrate();
  if (!status.ok()) {
    if (!connection.broken()) (void)connection.Exec("ROLLBACK", context);
    return status;
  }
  if (stored < kSchemaVersion) {
    spdlog::info("the ddb2pg schema is now at version {} (was {})", kSchemaVersion,
                 stored == 0 ? std::string("unversioned or absent") : std::to_string(stored));
  }
  return core::Status::Ok();
}

}  // namespace ddb2pg::sink
