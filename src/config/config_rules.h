// The rules a configuration file's names and values are checked against: plain names for sources
// and pipelines, DynamoDB table names, PostgreSQL identifiers, and the SQL a column's `default`
// becomes. Shared by the loader's sections (config_loader.cpp runs them). Pure functions, no state:
// thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/mark.h>

#include "core/status.h"
#include "model/table_spec.h"

namespace ddb2pg::config {

// `keys` with "name" in front: the keys of a list entry, which names itself.
std::vector<std::string_view> WithName(const std::vector<std::string_view>& keys);

// 1-based line and column of a yaml-cpp mark; 0 for a null mark (no single place).
int LineOf(const YAML::Mark& mark);
int ColumnOf(const YAML::Mark& mark);

// Names of sources and pipelines appear in metrics, logs and checkpoint rows: letters, digits,
// '_', '-' and '.', at most 128.
bool IsPlainName(std::string_view name);
// 3 to 255 letters, digits, '_', '-', '.'.
bool IsDynamoDbTableName(std::string_view name);
// Empty when `name` can be a PostgreSQL identifier (it is always quoted when used); else what is
// wrong with it ("is empty", "is longer than …").
std::string IdentifierProblem(std::string_view name);
// A number as SQL reads one: [+-]digits[.digits][e[+-]digits].
bool IsSqlNumber(std::string_view text);
// `text` as a single-quoted SQL literal.
std::string SqlStringLiteral(std::string_view text);
// The DEFAULT clause for a column from the value written in the file. The file holds a value of
// the column's type, not SQL: it is quoted as a literal, except NULL, booleans and numbers for
// their types, and the few functions a default commonly needs.
core::Result<std::string> DefaultSql(const model::ColumnType& type, std::string_view text);

}  // namespace ddb2pg::config
