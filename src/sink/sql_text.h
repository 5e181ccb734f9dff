// SQL text helpers: identifier quoting, the SQL spelling of column types, and literals for the
// few places a value travels inside a parameter as an array.
//
// Values are never spliced into SQL: they go in as $n parameters or COPY data. Identifiers
// (schemas, tables, columns from the configuration) are always quoted here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/pipeline_spec.h"

namespace ddb2pg::sink {

// "name" with embedded double quotes doubled: QuoteIdentifier("a\"b") → "a""b".
std::string QuoteIdentifier(std::string_view name);
// "schema"."table".
std::string QualifiedName(const model::TableSpec& table);
// schema.table, unquoted, for messages.
std::string DisplayName(const model::TableSpec& table);
// "a", "b", "c" — the quoted names joined by ", ".
std::string QuotedList(const std::vector<std::string>& names);

// The canonical SQL spelling of a column type, e.g. "VARCHAR(210)", "TIMESTAMPTZ",
// "DOUBLE PRECISION", "NUMERIC(10,2)" (model::ColumnType::ToSql).
std::string SqlTypeName(const model::ColumnType& type);

// Appends a PostgreSQL array literal element ("…" with \ and " escaped, or NULL) to `out`, for
// text[] parameters: AppendArrayElement(out, "a\"b") appends "a\"b" (quoted).
void AppendArrayElement(std::string& out, std::string_view value, bool is_null = false);

// A PostgreSQL text[] literal of `values` (each sanitized like SanitizeText), for a $n::text[]
// parameter: TextArray({"a", "b\"c"}) is {"a","b\"c"}.
std::string TextArray(const std::vector<std::string>& values);

// Replaces invalid UTF-8 sequences by U+FFFD and drops NUL bytes, so that text PostgreSQL must
// store (dead-letter reasons, raw items) can never make the transaction fail.
std::string SanitizeText(std::string_view text);

}  // namespace ddb2pg::sink
