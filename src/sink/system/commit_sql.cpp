#include "sink/system/commit_sql.h"

#include "sink/sql_text.h"
#include "sink/system/system_tables.h"

namespace ddb2pg::sink {

const char* const CommitSql::kAdvanceName = "ddb2pg_advance";
// The rows are locked first, in partition_id order, as PgLeaseStore::Renew locks them: a batch
// covering several partitions and a renewal then never wait on each other crosswise ("deadlock
// detected" was seen under load when the UPDATE locked them in join order).
const char* const CommitSql::kAdvanceSql =
    "WITH l AS MATERIALIZED (SELECT partition_id FROM ddb2pg.partitions WHERE checkpoint_id = $1 AND partition_id = "
    "ANY ($2::text[]) ORDER BY partition_id FOR UPDATE) "
    "UPDATE ddb2pg.partitions p SET position = COALESCE(NULLIF(u.pos, ''), p.position), "
    "state = CASE WHEN u.done THEN 'done' ELSE p.state END, records = p.records + u.n, "
    "change_ms = GREATEST(p.change_ms, NULLIF(u.t, 0)), updated_at = now() "
    "FROM unnest($2::text[], $3::bigint[], $4::text[], $5::boolean[], $6::bigint[], $8::bigint[]) "
    "AS u(id, epoch, pos, done, n, t) "
    "WHERE p.checkpoint_id = $1 AND p.partition_id = u.id AND p.owner = $7 AND p.epoch = u.epoch "
    "AND p.partition_id IN (SELECT partition_id FROM l) "
    "RETURNING p.partition_id";

const char* const CommitSql::kDeadLettersName = "ddb2pg_dead_letters";
const char* const CommitSql::kDeadLettersSql =
    "INSERT INTO ddb2pg.dead_letters (pipeline, key, operation, reason, item, change_time, position) "
    "SELECT p, NULLIF(k, ''), NULLIF(o, ''), r, NULLIF(i, ''), "
    "CASE WHEN t = 0 THEN NULL ELSE to_timestamp(t::double precision / 1000) END, NULLIF(pos, '') "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[]) "
    "AS d(p, k, o, r, i, t, pos)";

std::vector<std::optional<std::string>> CommitSql::DeadLetterParams(const std::vector<model::DeadLetter>& letters) {
  std::vector<std::string> arrays(7, "{");
  bool first = true;
  for (const auto& letter : letters) {
    if (!first) {
      for (auto& array : arrays) array.push_back(',');
    }
    first = false;
    AppendArrayElement(arrays[0], SanitizeText(letter.pipeline));
    AppendArrayElement(arrays[1], SanitizeText(letter.key_json));
    AppendArrayElement(arrays[2], SanitizeText(letter.operation));
    AppendArrayElement(arrays[3], SanitizeText(letter.reason));
    AppendArrayElement(arrays[4], SanitizeText(letter.item_json));
    AppendArrayElement(arrays[5], std::to_string(letter.change_time_ms));
    AppendArrayElement(arrays[6], SanitizeText(letter.position));
  }
  std::vector<std::optional<std::string>> params;
  for (auto& array : arrays) {
    array.push_back('}');
    params.emplace_back(std::move(array));
  }
  return params;
}

const char* const CommitSql::kReadPositionsSql =
    "SELECT partition_id, COALESCE(position, ''), state = 'done', COALESCE(owner, ''), epoch FROM "
    "ddb2pg.partitions WHERE checkpoint_id = $1 AND partition_id = ANY ($2::text[])";

std::string CommitSql::SnapshotsToEnd(bool for_update) {
  return "SELECT l.pipeline, l.target, l.reconcile FROM ddb2pg.pipelines l WHERE " + SystemTables::kSnapshotsToEndWhere +
         " ORDER BY l.pipeline" + (for_update ? " FOR UPDATE OF l" : "");
}

const char* const CommitSql::kEndSnapshotSql =
    "UPDATE ddb2pg.pipelines SET phase = 'streaming', swept = NULLIF($3::bigint, -1), snapshot_ended_at = now(), "
    "updated_at = now() WHERE checkpoint_id = $1 AND pipeline = $2";

}  // namespace ddb2pg::sink
