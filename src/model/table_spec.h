// The description of one pipeline's target: table, columns with their PostgreSQL types and the
// expressions that fill them, key columns, delete and error policies.
//
// Produced by config/ from the YAML file, compiled by processor/ into a MappingPlan, used by
// sink/ to create, check and write the table. Plain values, in model/ so that config/ and sink/
// need not depend on processor/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ddb2pg::model {

enum class ColumnKind {
  kText,
  kVarchar,      // VARCHAR(length)
  kUuid,
  kTimestamptz,
  kTimestamp,
  kDate,
  kBoolean,
  kSmallint,
  kInteger,
  kBigint,
  kReal,
  kDouble,       // DOUBLE PRECISION
  kNumeric,      // NUMERIC or NUMERIC(precision, scale)
  kJsonb,
  kJson,
  kBytea,
};

struct ColumnType {
  ColumnKind kind = ColumnKind::kText;
  int length = 0;     // VARCHAR(n); 0 = unbounded
  int precision = 0;  // NUMERIC(p, s); 0 = unconstrained
  int scale = 0;
  // An array of `kind` (TEXT[], INTEGER[], BIGINT[], NUMERIC[], DOUBLE PRECISION[], BOOLEAN[],
  // UUID[], TIMESTAMPTZ[]): filled from an L, SS or NS, each element converted like a column of
  // the element type.
  bool array = false;

  // Parses the SQL spelling, case-insensitive: "text", "varchar(210)", "character varying(48)",
  // "uuid", "timestamptz", "timestamp with time zone", "boolean"/"bool", "int"/"integer"/"int4",
  // "bigint"/"int8", "smallint"/"int2", "real"/"float4", "double precision"/"float8",
  // "numeric"/"numeric(10,2)"/"decimal", "jsonb", "json", "bytea", "date", "timestamp"; and
  // "<element>[]" for the array types above ("text[]", "numeric(10,2)[]", "double precision []").
  static core::Result<ColumnType> Parse(std::string_view sql);
  // The canonical SQL spelling, e.g. "VARCHAR(210)", "TIMESTAMPTZ", "TEXT[]".
  std::string ToSql() const;

  bool operator==(const ColumnType&) const = default;
};

// What to do with a text longer than a VARCHAR(n) column allows.
enum class OverflowPolicy { kReject, kTruncate };

struct ColumnSpec {
  std::string name;
  ColumnType type;
  std::string expression;   // the mapping expression source text, e.g. "appearance.mode"
  OverflowPolicy overflow = OverflowPolicy::kReject;
  std::optional<std::string> default_sql;  // DEFAULT clause for init-schema, e.g. "FALSE"
  int line = 0;             // where the expression stands in the config file (1-based; 0 unknown)
  int column = 0;
  // Whether the expression can evaluate to NULL: set by the config loader through its
  // MappingChecker; read by the sink's NOT NULL check. True when unknown.
  bool can_be_null = true;
  // Whether the expression tells what kind of change wrote the row (it calls operation() or
  // ttl_delete()): a soft delete then writes this column too, instead of keeping the row's old
  // value. Set by the config loader through its MappingChecker; read by the sink.
  bool reads_change_kind = false;
};

enum class DeletePolicy {
  kSoft,    // REMOVE sets <deleted> = true, <deleted_at> = change time; other columns kept
            // (but those with reads_change_kind, e.g. `expired <- ttl_delete()`, are written)
  kHard,    // REMOVE deletes the row
  kIgnore,  // REMOVE changes nothing
};

enum class ErrorPolicy {
  kDeadLetter,  // the record goes to ddb2pg.dead_letters with its reason; the stream goes on
  kSkip,        // counted and logged, nothing written
  kStop,        // the pipeline stops with the reason (nothing after it is committed)
};

struct TableSpec {
  std::string schema = "public";
  std::string name;
  std::vector<ColumnSpec> columns;       // in the order rows carry their cells
  std::vector<std::string> key_columns;  // unique key used for upserts; each names a column
  DeletePolicy delete_policy = DeletePolicy::kSoft;
  // For REMOVEs made by DynamoDB's Time to Live (core::RecordMetadata::ttl_delete); nullopt:
  // the same as delete_policy.
  std::optional<DeletePolicy> ttl_delete_policy;
  std::string deleted_column = "deleted";        // soft deletes: set to true
  std::string deleted_at_column = "deleted_at";  // soft deletes: set to the change time

  // Index of a column in `columns`, or -1.
  int ColumnIndex(std::string_view column_name) const;
  // The policy for a REMOVE, by whether DynamoDB's TTL made it.
  DeletePolicy DeletePolicyFor(bool ttl_delete) const {
    return ttl_delete ? ttl_delete_policy.value_or(delete_policy) : delete_policy;
  }
  // Whether some REMOVE soft-deletes (on_delete or on_ttl_delete is soft): then the table needs
  // the deleted / deleted_at columns.
  bool SoftDeletes() const {
    return delete_policy == DeletePolicy::kSoft || DeletePolicyFor(true) == DeletePolicy::kSoft;
  }
};


}  // namespace ddb2pg::model
