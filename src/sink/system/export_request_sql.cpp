#include "sink/system/export_request_sql.h"

#include "sink/pg_result.h"
#include "sink/sql_text.h"

namespace ddb2pg::sink {
namespace {

constexpr const char* kColumns =
    "c.id, EXISTS (SELECT 1 FROM ddb2pg.partitions p WHERE p.checkpoint_id = c.id), COALESCE(c.export_time_ms, 0), "
    "COALESCE(c.export_arn, ''), COALESCE(c.export_status, ''), COALESCE(c.export_manifest, ''), "
    "COALESCE(c.export_items, -1), COALESCE(c.export_bytes, -1), COALESCE(c.export_polls, 0), "
    "COALESCE(round(extract(epoch FROM now() - c.export_updated_at)::numeric, 1)::text, '')";

StoredExport RowOf(const PgResult& rows, int row) {
  StoredExport out;
  out.checkpoint = CellText(rows, row, 0);
  out.seeded = CellText(rows, row, 1) == "t";
  out.export_time_ms = std::stoll(CellText(rows, row, 2));
  out.export_arn = CellText(rows, row, 3);
  out.status = CellText(rows, row, 4);
  out.manifest = CellText(rows, row, 5);
  out.items = std::stoll(CellText(rows, row, 6));
  out.bytes = std::stoll(CellText(rows, row, 7));
  out.polls = std::stoi(CellText(rows, row, 8));
  out.updated_age_s = CellText(rows, row, 9);
  return out;
}

std::optional<std::string> CountOrNull(int64_t value) {
  if (value < 0) return std::nullopt;
  return std::to_string(value);
}

}  // namespace

core::Result<StoredExport> ExportRequestSql::Load(PgConnection& db, const std::string& checkpoint) {
  DDB2PG_ASSIGN_OR_RETURN(auto rows, db.Query(std::string("SELECT ") + kColumns +
                                                  " FROM ddb2pg.checkpoints c WHERE c.id = $1",
                                              {checkpoint}, "reading the export of '" + checkpoint + "'"));
  if (PQntuples(rows.get()) == 0) {
    StoredExport none;
    none.checkpoint = checkpoint;
    return none;
  }
  return RowOf(rows, 0);
}

core::Result<int64_t> ExportRequestSql::Begin(PgConnection& db, const std::string& checkpoint, int64_t export_time_ms) {
  DDB2PG_ASSIGN_OR_RETURN(
      auto rows,
      db.Query("INSERT INTO ddb2pg.checkpoints AS c (id, export_time_ms, export_updated_at) VALUES ($1, $2::bigint, "
               "now()) ON CONFLICT (id) DO UPDATE SET export_time_ms = COALESCE(c.export_time_ms, "
               "EXCLUDED.export_time_ms) RETURNING c.export_time_ms",
               {checkpoint, std::to_string(export_time_ms)}, "storing the export time of '" + checkpoint + "'"));
  return std::stoll(CellText(rows, 0, 0));
}

core::Status ExportRequestSql::ForgetUnstarted(PgConnection& db, const std::string& checkpoint) {
  return db
      .Query("UPDATE ddb2pg.checkpoints SET export_time_ms = NULL, export_updated_at = NULL WHERE id = $1 AND "
             "export_arn IS NULL",
             {checkpoint}, "forgetting the export time of '" + checkpoint + "'")
      .status();
}

core::Status ExportRequestSql::Record(PgConnection& db, const std::string& checkpoint, const StoredExport& progress) {
  return db
      .Query("UPDATE ddb2pg.checkpoints SET export_arn = $2, export_status = $3, export_manifest = NULLIF($4, ''), "
             "export_items = $5::bigint, export_bytes = $6::bigint, export_polls = $7::int, export_updated_at = now() "
             "WHERE id = $1",
             {checkpoint, progress.export_arn, progress.status, progress.manifest, CountOrNull(progress.items),
              CountOrNull(progress.bytes), std::to_string(progress.polls)},
             "recording the export of '" + checkpoint + "'")
      .status();
}

core::Result<std::vector<StoredExport>> ExportRequestSql::OfCheckpoints(PgConnection& db,
                                                                       const std::vector<std::string>& checkpoints) {
  DDB2PG_ASSIGN_OR_RETURN(auto rows, db.Query(std::string("SELECT ") + kColumns +
                                                  " FROM ddb2pg.checkpoints c WHERE c.id = ANY ($1::text[]) AND "
                                                  "c.export_time_ms IS NOT NULL ORDER BY c.id",
                                              {TextArray(checkpoints)}, "reading the exports"));
  std::vector<StoredExport> out;
  for (int i = 0; i < PQntuples(rows.get()); ++i) out.push_back(RowOf(rows, i));
  return out;
}

}  // namespace ddb2pg::sink
