#include "model/table_spec.h"

#include <cctype>
#include <charconv>
#include <string>
#include <vector>

namespace ddb2pg::model {

namespace {

// Lower-cases and collapses runs of blanks to one space, and drops blanks around '(' ',' ')',
// so "Character  Varying ( 48 )" and "character varying(48)" compare equal.
std::string Normalise(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool pending_space = false;
  for (char c : sql) {
    const auto uc = static_cast<unsigned char>(c);
    if (std::isspace(uc)) {
      pending_space = !out.empty();
      continue;
    }
    const bool punct = c == '(' || c == ')' || c == ',';
    if (pending_space && !punct && !out.empty() && out.back() != '(' && out.back() != ',') {
      out += ' ';
    }
    pending_space = false;
    out += static_cast<char>(std::tolower(uc));
  }
  return out;
}

// Splits "name(a,b)" into the name and up to two integer arguments.
struct Spelling {
  std::string name;
  std::vector<int> args;
  bool has_parens = false;
};

core::Result<Spelling> Split(std::string_view original, const std::string& text) {
  Spelling spelling;
  const size_t open = text.find('(');
  if (open == std::string::npos) {
    spelling.name = text;
    return spelling;
  }
  spelling.has_parens = true;
  spelling.name = text.substr(0, open);
  if (text.back() != ')') {
    return core::Status::InvalidArgument("column type \"" + std::string(original) +
                                         "\": missing ')'");
  }
  std::string_view inner(text.data() + open + 1, text.size() - open - 2);
  while (true) {
    const size_t comma = inner.find(',');
    std::string_view part = inner.substr(0, comma);
    int number = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), number);
    if (ec != std::errc() || end != part.data() + part.size() || number < 0) {
      return core::Status::InvalidArgument("column type \"" + std::string(original) +
                                           "\": expected a non-negative integer in parentheses");
    }
    spelling.args.push_back(number);
    if (comma == std::string_view::npos) break;
    inner.remove_prefix(comma + 1);
  }
  return spelling;
}

}  // namespace

core::Result<ColumnType> ColumnType::Parse(std::string_view sql) {
  std::string text = Normalise(sql);
  if (text.empty()) return core::Status::InvalidArgument("column type is empty");
  if (text.size() > 2 && text.compare(text.size() - 2, 2, "[]") == 0) {
    std::string element_text = text.substr(0, text.size() - 2);
    while (!element_text.empty() && element_text.back() == ' ') element_text.pop_back();
    auto element = Parse(element_text);
    if (!element.ok()) return element.status();
    if (element->array) {
      return core::Status::InvalidArgument("column type \"" + std::string(sql) +
                                           "\": arrays of arrays are not supported");
    }
    switch (element->kind) {
      case ColumnKind::kText:
      case ColumnKind::kInteger:
      case ColumnKind::kBigint:
      case ColumnKind::kNumeric:
      case ColumnKind::kDouble:
      case ColumnKind::kBoolean:
      case ColumnKind::kUuid:
      case ColumnKind::kTimestamptz:
        element->array = true;
        return element;
      default:
        return core::Status::InvalidArgument(
            "column type \"" + std::string(sql) +
            "\": arrays are supported of text, integer, bigint, numeric, double precision, boolean, uuid "
            "and timestamptz");
    }
  }
  DDB2PG_ASSIGN_OR_RETURN(Spelling spelling, Split(sql, text));
  const std::string& name = spelling.name;
  ColumnType type;
  auto no_args = [&]() -> core::Status {
    if (spelling.has_parens) {
      return core::Status::InvalidArgument("column type \"" + std::string(sql) +
                                           "\": takes no length or precision");
    }
    return core::Status::Ok();
  };
  auto simple = [&](ColumnKind kind) -> core::Result<ColumnType> {
    DDB2PG_RETURN_IF_ERROR(no_args());
    type.kind = kind;
    return type;
  };

  if (name == "text") return simple(ColumnKind::kText);
  if (name == "varchar" || name == "character varying") {
    type.kind = ColumnKind::kVarchar;
    if (spelling.has_parens) {
      if (spelling.args.size() != 1 || spelling.args[0] < 1) {
        return core::Status::InvalidArgument("column type \"" + std::string(sql) +
                                             "\": VARCHAR takes one positive length");
      }
      type.length = spelling.args[0];
    }
    return type;
  }
  if (name == "uuid") return simple(ColumnKind::kUuid);
  if (name == "timestamptz" || name == "timestamp with time zone") {
    return simple(ColumnKind::kTimestamptz);
  }
  if (name == "timestamp" || name == "timestamp without time zone") {
    return simple(ColumnKind::kTimestamp);
  }
  if (name == "date") return simple(ColumnKind::kDate);
  if (name == "boolean" || name == "bool") return simple(ColumnKind::kBoolean);
  if (name == "smallint" || name == "int2") return simple(ColumnKind::kSmallint);
  if (name == "integer" || name == "int" || name == "int4") return simple(ColumnKind::kInteger);
  if (name == "bigint" || name == "int8") return simple(ColumnKind::kBigint);
  if (name == "real" || name == "float4") return simple(ColumnKind::kReal);
  if (name == "double precision" || name == "float8" || name == "double") {
    return simple(ColumnKind::kDouble);
  }
  if (name == "numeric" || name == "decimal") {
    type.kind = ColumnKind::kNumeric;
    if (spelling.has_parens) {
      if (spelling.args.empty() || spelling.args.size() > 2 || spelling.args[0] < 1 ||
          spelling.args[0] > 1000) {
        return core::Status::InvalidArgument("column type \"" + std::string(sql) +
                                             "\": NUMERIC takes (precision) or (precision, scale), "
                                             "precision 1 to 1000");
      }
      type.precision = spelling.args[0];
      type.scale = spelling.args.size() == 2 ? spelling.args[1] : 0;
      if (type.scale > type.precision) {
        return core::Status::InvalidArgument("column type \"" + std::string(sql) +
                                             "\": NUMERIC scale must not exceed its precision");
      }
    }
    return type;
  }
  if (name == "jsonb") return simple(ColumnKind::kJsonb);
  if (name == "json") return simple(ColumnKind::kJson);
  if (name == "bytea") return simple(ColumnKind::kBytea);
  return core::Status::InvalidArgument(
      "unsupported column type \"" + std::string(sql) +
      "\" (supported: text, varchar(n), uuid, timestamptz, timestamp, date, boolean, smallint, "
      "integer, bigint, real, double precision, numeric(p,s), jsonb, json, bytea, and arrays such as "
      "text[])");
}

std::string ColumnType::ToSql() const {
  if (array) {
    ColumnType element = *this;
    element.array = false;
    return element.ToSql() + "[]";
  }
  switch (kind) {
    case ColumnKind::kText: return "TEXT";
    case ColumnKind::kVarchar:
      return length > 0 ? "VARCHAR(" + std::to_string(length) + ")" : "VARCHAR";
    case ColumnKind::kUuid: return "UUID";
    case ColumnKind::kTimestamptz: return "TIMESTAMPTZ";
    case ColumnKind::kTimestamp: return "TIMESTAMP";
    case ColumnKind::kDate: return "DATE";
    case ColumnKind::kBoolean: return "BOOLEAN";
    case ColumnKind::kSmallint: return "SMALLINT";
    case ColumnKind::kInteger: return "INTEGER";
    case ColumnKind::kBigint: return "BIGINT";
    case ColumnKind::kReal: return "REAL";
    case ColumnKind::kDouble: return "DOUBLE PRECISION";
    case ColumnKind::kNumeric:
      if (precision == 0) return "NUMERIC";
      return "NUMERIC(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case ColumnKind::kJsonb: return "JSONB";
    case ColumnKind::kJson: return "JSON";
    case ColumnKind::kBytea: return "BYTEA";
  }
  return "TEXT";
}

int TableSpec::ColumnIndex(std::string_view column_name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == column_name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace ddb2pg::model
