#include "config/config_rules.h"

#include <algorithm>
#include <cctype>

#include "config/node_reader.h"
#include "core/text.h"

namespace ddb2pg::config {

using core::Lower;
using core::Trim;
using model::ColumnKind;
using model::ColumnType;

namespace {

// PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes; longer ones would silently collide.
constexpr size_t kMaxIdentifierBytes = 63;

}  // namespace

std::vector<std::string_view> WithName(const std::vector<std::string_view>& keys) {
  std::vector<std::string_view> out = {"name"};
  out.insert(out.end(), keys.begin(), keys.end());
  return out;
}

int LineOf(const YAML::Mark& mark) { return mark.is_null() ? 0 : mark.line + 1; }
int ColumnOf(const YAML::Mark& mark) { return mark.is_null() ? 0 : mark.column + 1; }

bool IsPlainName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

bool IsDynamoDbTableName(std::string_view name) {
  if (name.size() < 3 || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

std::string IdentifierProblem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxIdentifierBytes) {
    return "is longer than PostgreSQL's 63-byte identifier limit";
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20) return "contains a control character";
  }
  return {};
}

bool IsSqlNumber(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  size_t digits = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    size_t exponent_digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i, ++exponent_digits;
    }
    if (exponent_digits == 0) return false;
  }
  return i == text.size();
}

std::string SqlStringLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

core::Result<std::string> DefaultSql(const ColumnType& type, std::string_view text) {
  const std::string lower = Lower(Trim(text));
  if (lower == "null") return std::string("NULL");
  if (type.array) return SqlStringLiteral(text);  // an array literal such as {a,b}
  switch (type.kind) {
    case ColumnKind::kBoolean: {
      const std::optional<bool> value = NodeReader::ParseBool(text);
      if (!value) return core::Status::InvalidArgument("expected true, false or null");
      return std::string(*value ? "TRUE" : "FALSE");
    }
    case ColumnKind::kSmallint:
    case ColumnKind::kInteger:
    case ColumnKind::kBigint:
    case ColumnKind::kReal:
    case ColumnKind::kDouble:
    case ColumnKind::kNumeric:
      if (!IsSqlNumber(Trim(text))) return core::Status::InvalidArgument("expected a number or null");
      return std::string(Trim(text));
    case ColumnKind::kTimestamptz:
    case ColumnKind::kTimestamp:
      if (lower == "now()" || lower == "current_timestamp") return std::string("now()");
      return SqlStringLiteral(text);
    case ColumnKind::kDate:
      if (lower == "current_date") return std::string("CURRENT_DATE");
      return SqlStringLiteral(text);
    case ColumnKind::kUuid:
      if (lower == "gen_random_uuid()") return std::string("gen_random_uuid()");
      return SqlStringLiteral(text);
    default:
      return SqlStringLiteral(text);
  }
}

}  // namespace ddb2pg::config
