#include "sink/schema_diff.h"

#include <algorithm>
#include <optional>

#include "sink/sql_text.h"

namespace ddb2pg::sink {
namespace {

using model::ColumnKind;
using model::ColumnType;

// The catalog type as a ColumnType; nullopt for types the sink does not know.
std::optional<ColumnType> FromCatalog(const std::string& name, int typmod) {
  ColumnType type;
  if (name == "text") {
    type.kind = ColumnKind::kText;
  } else if (name == "varchar") {
    type.kind = ColumnKind::kVarchar;
    type.length = typmod >= 4 ? typmod - 4 : 0;
  } else if (name == "uuid") {
    type.kind = ColumnKind::kUuid;
  } else if (name == "timestamptz") {
    type.kind = ColumnKind::kTimestamptz;
  } else if (name == "timestamp") {
    type.kind = ColumnKind::kTimestamp;
  } else if (name == "date") {
    type.kind = ColumnKind::kDate;
  } else if (name == "bool") {
    type.kind = ColumnKind::kBoolean;
  } else if (name == "int2") {
    type.kind = ColumnKind::kSmallint;
  } else if (name == "int4") {
    type.kind = ColumnKind::kInteger;
  } else if (name == "int8") {
    type.kind = ColumnKind::kBigint;
  } else if (name == "float4") {
    type.kind = ColumnKind::kReal;
  } else if (name == "float8") {
    type.kind = ColumnKind::kDouble;
  } else if (name == "numeric") {
    type.kind = ColumnKind::kNumeric;
    if (typmod >= 4) {
      type.precision = ((typmod - 4) >> 16) & 0xFFFF;
      type.scale = (typmod - 4) & 0xFFFF;
    }
  } else if (name == "jsonb") {
    type.kind = ColumnKind::kJsonb;
  } else if (name == "json") {
    type.kind = ColumnKind::kJson;
  } else if (name == "bytea") {
    type.kind = ColumnKind::kBytea;
  } else {
    return std::nullopt;
  }
  return type;
}

// Digits before the decimal point a NUMERIC(p, s) holds; a large number when unconstrained.
int IntegerDigits(const ColumnType& type) { return type.precision == 0 ? 1000 : type.precision - type.scale; }

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string ColumnDefinition(const model::ColumnSpec& column) {
  std::string text = QuoteIdentifier(column.name) + " " + SqlTypeName(column.type);
  if (column.default_sql && !column.default_sql->empty()) text.append(" DEFAULT ").append(*column.default_sql);
  return text;
}

}  // namespace

bool SchemaDiff::Accepts(const std::string& type_name, int typmod, const ColumnType& config) {
  const auto table = FromCatalog(type_name, typmod);
  if (!table) return true;  // a domain, enum, array or extension type: trust the user
  if (config.array) return false;  // an array column mapped onto a scalar column
  const ColumnKind from = config.kind;
  switch (table->kind) {
    case ColumnKind::kText:
      return true;
    case ColumnKind::kVarchar:
      if (table->length == 0) return true;
      if (from == ColumnKind::kVarchar) return config.length > 0 && config.length <= table->length;
      if (from == ColumnKind::kUuid) return table->length >= 36;
      return false;
    case ColumnKind::kUuid:
      return from == ColumnKind::kUuid;
    case ColumnKind::kTimestamptz:
      return from == ColumnKind::kTimestamptz || from == ColumnKind::kTimestamp || from == ColumnKind::kDate;
    case ColumnKind::kTimestamp:
      return from == ColumnKind::kTimestamp || from == ColumnKind::kDate;
    case ColumnKind::kDate:
      return from == ColumnKind::kDate;
    case ColumnKind::kBoolean:
      return from == ColumnKind::kBoolean;
    case ColumnKind::kSmallint:
      return from == ColumnKind::kSmallint;
    case ColumnKind::kInteger:
      return from == ColumnKind::kSmallint || from == ColumnKind::kInteger;
    case ColumnKind::kBigint:
      return from == ColumnKind::kSmallint || from == ColumnKind::kInteger || from == ColumnKind::kBigint;
    case ColumnKind::kReal:
      return from == ColumnKind::kReal;
    case ColumnKind::kDouble:
      return from == ColumnKind::kReal || from == ColumnKind::kDouble || from == ColumnKind::kSmallint ||
             from == ColumnKind::kInteger;
    case ColumnKind::kNumeric:
      switch (from) {
        case ColumnKind::kSmallint: return IntegerDigits(*table) >= 5;
        case ColumnKind::kInteger: return IntegerDigits(*table) >= 10;
        case ColumnKind::kBigint: return IntegerDigits(*table) >= 19;
        case ColumnKind::kNumeric: return IntegerDigits(*table) >= IntegerDigits(config);
        case ColumnKind::kReal:
        case ColumnKind::kDouble: return table->precision == 0;
        default: return false;
      }
    case ColumnKind::kJsonb:
    case ColumnKind::kJson:
      return from == ColumnKind::kJsonb || from == ColumnKind::kJson;
    case ColumnKind::kBytea:
      return from == ColumnKind::kBytea;
  }
  return true;
}

bool SchemaDiff::MappedCanBeNull(const model::TableSpec& table, const model::ColumnSpec& column) {
  if (Contains(table.key_columns, column.name)) return false;  // the mapping rejects a NULL key
  // A soft-delete table's flag: true on deletes, false (also for NULL) on upserts.
  if (table.SoftDeletes() && column.name == table.deleted_column) return false;
  return column.can_be_null;
}

std::vector<std::string> SchemaDiff::CreateTable(const model::TableSpec& table) {
  std::vector<std::string> statements;
  if (table.schema != "public") {
    statements.push_back("CREATE SCHEMA IF NOT EXISTS " + QuoteIdentifier(table.schema) + ";");
  }
  std::string sql = "CREATE TABLE IF NOT EXISTS " + QualifiedName(table) + " (\n";
  for (const auto& column : table.columns) sql.append("    ").append(ColumnDefinition(column)).append(",\n");
  sql.append("    PRIMARY KEY (").append(QuotedList(table.key_columns)).append(")\n);");
  statements.push_back(std::move(sql));
  return statements;
}

std::vector<SchemaProblem> SchemaDiff::Compare(const model::TableSpec& table, const CatalogTable& catalog) {
  std::vector<SchemaProblem> problems;
  const std::string display = DisplayName(table);
  const std::string qualified = QualifiedName(table);
  if (!catalog.exists) {
    std::string fix;
    for (const auto& statement : CreateTable(table)) {
      if (!fix.empty()) fix.push_back('\n');
      fix.append(statement);
    }
    problems.push_back({display, "table does not exist", fix});
    return problems;
  }
  for (const auto& column : table.columns) {
    auto found = std::find_if(catalog.columns.begin(), catalog.columns.end(),
                              [&](const CatalogColumn& existing) { return existing.name == column.name; });
    if (found == catalog.columns.end()) {
      problems.push_back({display, "column " + column.name + " is missing",
                          "ALTER TABLE " + qualified + " ADD COLUMN " + ColumnDefinition(column) + ";"});
      continue;
    }
    if (found->not_null && MappedCanBeNull(table, column)) {
      const std::string mapping = column.expression.empty() ? std::string("nothing") : column.expression;
      problems.push_back({display,
                          "column " + column.name + " is NOT NULL but its mapping (" + mapping +
                              ") can be NULL: PostgreSQL will reject such rows (on_error decides what happens to "
                              "them); drop the constraint, or map the column with coalesce(…, a default)",
                          "ALTER TABLE " + qualified + " ALTER COLUMN " + QuoteIdentifier(column.name) +
                              " DROP NOT NULL;",
                          false});
    }
    if (Accepts(found->type_name, found->typmod, column.type)) continue;
    const std::string type = SqlTypeName(column.type);
    const std::string name = QuoteIdentifier(column.name);
    problems.push_back({display,
                        "column " + column.name + " is " + found->display + " but the configuration writes " + type +
                            " values to it",
                        "ALTER TABLE " + qualified + " ALTER COLUMN " + name + " TYPE " + type + " USING " + name +
                            "::text::" + type + ";"});
  }
  for (const auto& existing : catalog.columns) {
    if (!existing.not_null || existing.has_default) continue;
    const bool mapped = std::any_of(table.columns.begin(), table.columns.end(),
                                    [&](const model::ColumnSpec& column) { return column.name == existing.name; });
    if (mapped) continue;
    problems.push_back({display,
                        "column " + existing.name + " is NOT NULL without a default and the configuration does not "
                        "write it: every insert would fail",
                        "ALTER TABLE " + qualified + " ALTER COLUMN " + QuoteIdentifier(existing.name) +
                            " DROP NOT NULL;"});
  }
  const bool has_arbiter =
      std::any_of(catalog.unique_keys.begin(), catalog.unique_keys.end(), [&](const std::vector<std::string>& key) {
        return key.size() == table.key_columns.size() &&
               std::all_of(key.begin(), key.end(), [&](const std::string& name) {
                 return Contains(table.key_columns, name);
               });
      });
  if (!has_arbiter) {
    std::string key_list;
    for (const auto& key : table.key_columns) {
      if (!key_list.empty()) key_list.append(", ");
      key_list.append(key);
    }
    std::string problem = "no primary key or unique index on exactly (" + key_list +
                          "): ddb2pg upserts by this key (INSERT … ON CONFLICT) and needs one";
    std::string fix = catalog.has_primary_key
                          ? "CREATE UNIQUE INDEX ON " + qualified + " (" + QuotedList(table.key_columns) + ");"
                          : "ALTER TABLE " + qualified + " ADD PRIMARY KEY (" + QuotedList(table.key_columns) + ");";
    problems.push_back({display, std::move(problem), std::move(fix)});
  }
  return problems;
}

}  // namespace ddb2pg::sink
