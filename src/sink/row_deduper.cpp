#include "sink/row_deduper.h"

#include <cctype>
#include <cstdint>
#include <unordered_map>

namespace ddb2pg::sink {
namespace {

void AppendNormalized(std::string& out, std::string_view cell, processor::ColumnKind kind) {
  using processor::ColumnKind;
  if (kind == ColumnKind::kUuid) {
    for (char c : cell) {
      if (std::isxdigit(static_cast<unsigned char>(c))) out.push_back(static_cast<char>(std::tolower(c)));
    }
    return;
  }
  if (kind == ColumnKind::kSmallint || kind == ColumnKind::kInteger || kind == ColumnKind::kBigint) {
    size_t i = 0;
    while (i < cell.size() && std::isspace(static_cast<unsigned char>(cell[i]))) ++i;
    if (i < cell.size() && cell[i] == '+') ++i;
    const bool negative = i < cell.size() && cell[i] == '-';
    if (negative) ++i;
    while (i + 1 < cell.size() && cell[i] == '0') ++i;
    size_t end = cell.size();
    while (end > i && std::isspace(static_cast<unsigned char>(cell[end - 1]))) --end;
    const std::string_view digits = cell.substr(i, end - i);
    if (negative && digits != "0") out.push_back('-');
    out.append(digits);
    return;
  }
  out.append(cell);
}

}  // namespace

RowDeduper::RowDeduper(const processor::TableSpec& table) {
  for (const auto& key : table.key_columns) {
    for (size_t i = 0; i < table.columns.size(); ++i) {
      if (table.columns[i].name == key) {
        key_columns_.push_back({i, table.columns[i].type.kind, key});
        break;
      }
    }
  }
}

std::string RowDeduper::Key(const processor::Row& row) const {
  std::string key;
  for (const auto& column : key_columns_) {
    // A one-byte tag per cell keeps NULL, "" and the separators unambiguous.
    if (column.index >= row.size() || row.is_null(column.index)) {
      key.push_back('\x01');
      continue;
    }
    key.push_back('\x02');
    const std::string_view cell = row.cell(column.index);
    const size_t length_at = key.size();
    key.append(4, '\0');
    AppendNormalized(key, cell, column.kind);
    const auto length = static_cast<uint32_t>(key.size() - length_at - 4);
    for (int b = 0; b < 4; ++b) key[length_at + b] = static_cast<char>((length >> (8 * b)) & 0xFF);
  }
  return key;
}

std::string RowDeduper::DescribeKey(const processor::Row& row) const {
  std::string text;
  for (const auto& column : key_columns_) {
    if (!text.empty()) text.append(", ");
    text.append(column.name).append("=");
    if (column.index >= row.size() || row.is_null(column.index)) {
      text.append("NULL");
    } else {
      text.append(row.cell(column.index).substr(0, 100));
    }
  }
  return text;
}

std::vector<size_t> RowDeduper::KeepLast(const std::vector<processor::Row>& rows) const {
  std::vector<size_t> kept;
  kept.reserve(rows.size());
  if (rows.size() <= 1) {
    for (size_t i = 0; i < rows.size(); ++i) kept.push_back(i);
    return kept;
  }
  std::vector<bool> keep(rows.size(), true);
  std::unordered_map<std::string, size_t> last;
  last.reserve(rows.size() * 2);
  for (size_t i = 0; i < rows.size(); ++i) {
    auto [it, inserted] = last.try_emplace(Key(rows[i]), i);
    if (!inserted) {
      keep[it->second] = false;
      it->second = i;
    }
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    if (keep[i]) kept.push_back(i);
  }
  return kept;
}

}  // namespace ddb2pg::sink
