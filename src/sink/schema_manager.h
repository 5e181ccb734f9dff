// SchemaManager: creates the target tables from the configuration (init-schema) and checks
// existing ones before a run.
//
// Check() reports, per table, what is wrong with the exact statement that fixes it: a missing
// table (the CREATE TABLE), a missing column (ALTER TABLE … ADD COLUMN …), a column whose type
// cannot take the mapped values, a NOT NULL column the mapping can leave NULL (a warning) or
// does not write at all, and a key without a unique constraint
// (ALTER TABLE … ADD PRIMARY KEY (…) or CREATE UNIQUE INDEX …). Identifiers are always quoted.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "model/pipeline_spec.h"

namespace ddb2pg::sink {

struct SchemaProblem {
  std::string table;      // schema.table
  std::string problem;    // e.g. "no unique constraint on (id)"
  std::string fix_sql;    // e.g. ALTER TABLE "public"."profile" ADD PRIMARY KEY ("id");
  // False for a warning: the table works, but some rows may be rejected (a NOT NULL column the
  // mapping can leave NULL).
  bool blocking = true;
};

class SchemaManager {
 public:
  explicit SchemaManager(std::string conninfo);

  // The CREATE statements init-schema runs (also printed by `init-schema --dry-run`).
  static std::vector<std::string> CreateStatements(const std::vector<const model::TableSpec*>& tables);

  // Creates the ddb2pg schema, checkpoint and dead-letter tables and every missing target table.
  core::Status InitSchema(const std::vector<const model::TableSpec*>& tables);
  // Empty when every table is usable. Non-blocking problems (warnings) go to *warnings, or are
  // dropped when it is null.
  core::Result<std::vector<SchemaProblem>> Check(const std::vector<const model::TableSpec*>& tables,
                                                 std::vector<SchemaProblem>* warnings = nullptr);

 private:
  std::string conninfo_;
};

}  // namespace ddb2pg::sink
