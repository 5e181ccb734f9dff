// SchemaDiff: compares a configured table with what the PostgreSQL catalog says about it and
// writes the statements that close the gap. Pure functions over plain values (the catalog
// reading lives in SchemaManager), so every rule is unit-tested without a server.
//
// Rules:
//  - missing table → its CREATE TABLE;
//  - missing column → ALTER TABLE … ADD COLUMN "c" TYPE [DEFAULT …];
//  - a column whose type cannot take the mapped values (config UUID, table INTEGER; config
//    VARCHAR(210), table VARCHAR(48); config TIMESTAMPTZ, table TIMESTAMP, which would drop the
//    offset) → ALTER TABLE … ALTER COLUMN "c" TYPE … USING "c"::text::…; types it does not know
//    (domains, enums, arrays, extensions) are trusted;
//  - a NOT NULL column whose mapping can give NULL (a path, which an item may lack; see
//    Expression::CanBeNull; key columns and a soft-delete table's deleted column never are) →
//    a warning (not blocking: such rows are rejected one by one, by on_error) with
//    ALTER TABLE … ALTER COLUMN "c" DROP NOT NULL, or a coalesce() in the mapping;
//  - a NOT NULL column without a default that the configuration does not write → every insert
//    would fail: ALTER TABLE … ALTER COLUMN "c" DROP NOT NULL (or SET DEFAULT …);
//  - no primary key, unique constraint or unique index on exactly the key columns (non-partial,
//    not deferrable, any column order) → ALTER TABLE … ADD PRIMARY KEY (…), or CREATE UNIQUE
//    INDEX … when the table already has another primary key.
#pragma once

#include <string>
#include <vector>

#include "model/pipeline_spec.h"
#include "sink/schema_manager.h"

namespace ddb2pg::sink {

struct CatalogColumn {
  std::string name;
  std::string type_name;  // pg_type.typname: "uuid", "int4", "varchar", …
  int typmod = -1;        // pg_attribute.atttypmod
  std::string display;    // format_type(): "integer", "character varying(48)"
  bool not_null = false;  // pg_attribute.attnotnull
  bool has_default = false;  // a DEFAULT, an identity or a generated column
};

struct CatalogTable {
  bool exists = false;
  std::vector<CatalogColumn> columns;
  std::vector<std::vector<std::string>> unique_keys;  // usable arbiter indexes, column names each
  bool has_primary_key = false;
};

class SchemaDiff {
 public:
  // CREATE TABLE IF NOT EXISTS … (columns with types and DEFAULTs, PRIMARY KEY (keys)); preceded
  // by CREATE SCHEMA IF NOT EXISTS for schemas other than public.
  static std::vector<std::string> CreateTable(const model::TableSpec& table);
  static std::vector<SchemaProblem> Compare(const model::TableSpec& table, const CatalogTable& catalog);
  // Whether a column of catalog type (typname, typmod) accepts every value mapped to `config`.
  static bool Accepts(const std::string& type_name, int typmod, const model::ColumnType& config);
  // Whether the mapping can write NULL into `column` of `table`.
  static bool MappedCanBeNull(const model::TableSpec& table, const model::ColumnSpec& column);
};

}  // namespace ddb2pg::sink
