#include "sink/system/snapshot_fence_sql.h"

#include "sink/sql_text.h"

namespace ddb2pg::sink {

std::string SnapshotFenceSql::KeyText(const std::string& relation, const std::vector<std::string>& key_columns) {
  std::string cells;
  for (const auto& key : key_columns) {
    if (!cells.empty()) cells.append(", ");
    cells.append(relation).append(".").append(QuoteIdentifier(key));
  }
  return "ROW(" + cells + ")::text";
}

std::string SnapshotFenceSql::NotFenced(const std::string& key_text, const char* checkpoint_param,
                                        const char* target_param) {
  return std::string(" AND NOT EXISTS (SELECT 1 FROM ddb2pg.snapshot_fence f WHERE f.checkpoint_id = ") +
         checkpoint_param + " AND f.target = " + target_param + " AND f.key = " + key_text + " OFFSET 0)";
}

std::string SnapshotFenceSql::Record(bool seen, const char* checkpoint_param, const char* target_param,
                                     const std::string& key_text, const std::string& from, const std::string& where,
                                     const std::string& deleted_where) {
  const std::string head = std::string(checkpoint_param) + "::text, " + target_param + "::text, ";
  std::string sql = std::string("INSERT INTO ddb2pg.") + (seen ? "snapshot_seen" : "snapshot_fence") +
                    " (checkpoint_id, target, key) SELECT DISTINCT " + head + key_text + " FROM " + from +
                    " WHERE " + where;
  if (!seen && !deleted_where.empty()) {
    sql += std::string(" UNION SELECT ") + head + "'" + kDeletedKey + "' WHERE EXISTS (SELECT 1 FROM " + from +
           " WHERE " + where + " AND " + deleted_where + ")";
  }
  return sql + " ON CONFLICT DO NOTHING";
}

std::string SnapshotFenceSql::NeitherFencedNorSeen(const std::string& key_text) {
  return "NOT EXISTS (SELECT 1 FROM ddb2pg.snapshot_fence f WHERE f.checkpoint_id = $1 AND f.target = $2 AND "
         "f.key = " + key_text + " OFFSET 0) AND NOT EXISTS (SELECT 1 FROM ddb2pg.snapshot_seen s WHERE "
         "s.checkpoint_id = $1 AND s.target = $2 AND s.key = " + key_text + " OFFSET 0)";
}

std::string SnapshotFenceSql::LockForBatch(bool snapshot_rows, bool stream_rows) {
  const char* mode = !snapshot_rows ? "ROW EXCLUSIVE" : !stream_rows ? "SHARE" : "SHARE ROW EXCLUSIVE";
  return std::string("LOCK TABLE ddb2pg.snapshot_fence IN ") + mode + " MODE";
}

const char* const SnapshotFenceSql::kLockForSweepOrEnd = "LOCK TABLE ddb2pg.snapshot_fence IN SHARE ROW EXCLUSIVE MODE";

const char* const SnapshotFenceSql::kAnyDeletedSql =
    "SELECT EXISTS (SELECT 1 FROM ddb2pg.snapshot_fence WHERE checkpoint_id = $1 AND target = ANY ($2::text[]) "
    "AND key = '')";

std::vector<std::string> SnapshotFenceSql::EmptyEndedTarget() {
  std::vector<std::string> statements;
  for (const char* table : {"snapshot_fence", "snapshot_seen"}) {
    statements.push_back(std::string("DELETE FROM ddb2pg.") + table +
                         " WHERE checkpoint_id = $1 AND target = $2 AND NOT EXISTS (SELECT 1 FROM ddb2pg.pipelines "
                         "WHERE checkpoint_id = $1 AND target = $2 AND phase = 'snapshot')");
  }
  return statements;
}

}  // namespace ddb2pg::sink
