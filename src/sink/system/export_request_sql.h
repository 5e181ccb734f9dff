// ExportRequestSql: every statement on a source's requested export (snapshot.export.s3_bucket),
// kept in the export_* columns of its ddb2pg.checkpoints row (migration 3).
//
// The export time is stored before the export is requested (Begin): a restart, or a second runner
// starting beside the first, reads the stored time back, derives the same ClientToken, and so gets
// the export already under way instead of a second one. Each DescribeExport poll is recorded
// (Record), which `ddb2pg status` and the status page show. The row exists before the source is
// seeded (no partitions yet); PgLeaseStore's seeding updates it and keeps these columns, and
// `reset` deletes it (a later start requests a new export).
//
// Each call is its own statement, outside any transaction of the caller's (committed at once: a
// kill after Begin keeps the time). Thread-safety: stateless.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "sink/pg_connection.h"

namespace ddb2pg::sink {

struct StoredExport {
  std::string checkpoint;
  bool seeded = false;           // the source has partitions: its snapshot's files are stored
  int64_t export_time_ms = 0;    // 0: no export requested
  std::string export_arn, status, manifest;  // manifest: s3://bucket/key once COMPLETED
  int64_t items = -1, bytes = -1;  // -1: not reported yet
  int polls = 0;
  std::string updated_age_s;     // seconds since the last poll was recorded ("" when never)
};

class ExportRequestSql {
 public:
  // The stored export of checkpoint `checkpoint` (a default StoredExport when it has no row).
  static core::Result<StoredExport> Load(PgConnection& db, const std::string& checkpoint);
  // Stores `export_time_ms` as the checkpoint's export time unless one is stored already; returns
  // the stored one (either way).
  static core::Result<int64_t> Begin(PgConnection& db, const std::string& checkpoint, int64_t export_time_ms);
  // Forgets a stored export time that no export was started for (no ARN recorded): the request
  // was refused (point-in-time recovery off), and a time from before recovery was enabled would be
  // refused again. A started export is kept.
  static core::Status ForgetUnstarted(PgConnection& db, const std::string& checkpoint);
  // Records a poll's outcome (arn, status, manifest once known, items and bytes when reported).
  static core::Status Record(PgConnection& db, const std::string& checkpoint, const StoredExport& progress);
  // The stored exports of these checkpoints that have one (for status).
  static core::Result<std::vector<StoredExport>> OfCheckpoints(PgConnection& db,
                                                              const std::vector<std::string>& checkpoints);
};

}  // namespace ddb2pg::sink
