#include "sink/system_tables.h"

namespace ddb2pg::sink {

std::vector<std::string> SystemTables::CreateStatements() {
  return {
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
  };
}

core::Status SystemTables::Ensure(PgConnection& connection) {
  auto present = connection.Query(
      "SELECT to_regclass('ddb2pg.checkpoints') IS NOT NULL AND to_regclass('ddb2pg.dead_letters') IS NOT NULL "
      "AND to_regclass('ddb2pg.partitions') IS NOT NULL AND to_regclass('ddb2pg.runners') IS NOT NULL "
      "AND to_regclass('ddb2pg.lease_events') IS NOT NULL AND EXISTS (SELECT 1 FROM information_schema.columns "
      "WHERE table_schema = 'ddb2pg' AND table_name = 'checkpoints' AND column_name = 'segments') "
      "AND EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'ddb2pg' AND table_name = "
      "'partitions' AND column_name = 'lane') AND to_regclass('ddb2pg.snapshot_fence') IS NOT NULL "
      "AND to_regclass('ddb2pg.pipelines') IS NOT NULL AND to_regclass('ddb2pg.snapshot_seen') IS NOT NULL "
      "AND to_regclass('ddb2pg.configs') IS NOT NULL AND EXISTS (SELECT 1 FROM information_schema.columns "
      "WHERE table_schema = 'ddb2pg' AND table_name = 'partitions' AND column_name = 'scope')",
      {}, "checking ddb2pg's tables");
  if (!present.ok()) return present.status();
  if (std::string_view(PQgetvalue(present->get(), 0, 0)) == "t") return core::Status::Ok();

  const std::string context = "creating ddb2pg's schema and tables";
  DDB2PG_RETURN_IF_ERROR(connection.Exec("BEGIN", context));
  // Two runners starting at once would otherwise race on CREATE … IF NOT EXISTS.
  core::Status status = connection.Exec("SELECT pg_advisory_xact_lock(4242004242)", context);
  for (const auto& statement : CreateStatements()) {
    if (!status.ok()) break;
    status = connection.Exec(statement, context);
  }
  if (status.ok()) status = connection.Exec("COMMIT", context);
  if (!status.ok() && !connection.broken()) (void)connection.Exec("ROLLBACK", context);
  return status;
}

}  // namespace ddb2pg::sink
