// SchemaManager: creates the target tables from the configuration (init-schema) and checks
// existing ones before a run.
//
// Check() reports, per table, what is wrong with the exact statement that fixes it: a missing
// table (the CREATE TABLE), a missing column (ALTER TABLE … ADD COLUMN …), a column whose type
// cannot take the mapped values, and a key without a unique constraint
// (ALTER TABLE … ADD PRIMARY KEY (…) or CREATE UNIQUE INDEX …). Identifiers are always quoted.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "processor/table_spec.h"

namespace ddb2pg::sink {

struct SchemaProblem {
  std::string table;      // schema.table
  std::string problem;    // e.g. "no unique constraint on (id)"
  std::string fix_sql;    // e.g. ALTER TABLE "public"."profile" ADD PRIMARY KEY ("id");
};

class SchemaManager {
 public:
  explicit SchemaManager(std::string conninfo);

  // The CREATE statements init-schema runs (also printed by `init-schema --dry-run`).
  static std::vector<std::string> CreateStatements(const std::vector<const processor::TableSpec*>& tables);

  // Creates the ddb2pg schema, checkpoint and dead-letter tables and every missing target table.
  core::Status InitSchema(const std::vector<const processor::TableSpec*>& tables);
  // Empty when every table is usable.
  core::Result<std::vector<SchemaProblem>> Check(const std::vector<const processor::TableSpec*>& tables);

 private:
  std::string conninfo_;
};

}  // namespace ddb2pg::sink
