#include "sink/row_deduper.h"

#include <cctype>
#include <cstdint>
#include <functional>

namespace ddb2pg::sink {
namespace {

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// The canonical spelling: 36 characters, lower-case, hyphens after 8, 12, 16 and 20 digits.
bool IsCanonicalUuid(std::string_view cell) {
  if (cell.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    const bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
    if (hyphen ? cell[i] != '-' : !IsLowerHex(cell[i])) return false;
  }
  return true;
}

// Whether `cell` already is the key's normal form (then it can be compared as it is).
bool IsNormal(std::string_view cell, model::ColumnKind kind) {
  using model::ColumnKind;
  switch (kind) {
    case ColumnKind::kUuid: return IsCanonicalUuid(cell);
    case ColumnKind::kSmallint:
    case ColumnKind::kInteger:
    case ColumnKind::kBigint:
      // Plain digits without a leading zero (or "0"), optionally negative.
      if (cell.empty()) return false;
      {
        size_t i = cell[0] == '-' ? 1 : 0;
        if (i >= cell.size() || (cell[i] == '0' && (cell.size() > i + 1 || i == 1))) return false;
        for (; i < cell.size(); ++i) {
          if (cell[i] < '0' || cell[i] > '9') return false;
        }
      }
      return true;
    default: return true;
  }
}

void AppendNormalized(std::string& out, std::string_view cell, model::ColumnKind kind) {
  using model::ColumnKind;
  if (kind == ColumnKind::kUuid) {
    // To the canonical spelling, so that it equals the canonical cells compared as they are.
    size_t digits = 0;
    for (char c : cell) {
      if (!std::isxdigit(static_cast<unsigned char>(c))) continue;
      if (digits == 8 || digits == 12 || digits == 16 || digits == 20) out.push_back('-');
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      ++digits;
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

RowDeduper::RowDeduper(const model::TableSpec& table) {
  for (const auto& key : table.key_columns) {
    for (size_t i = 0; i < table.columns.size(); ++i) {
      if (table.columns[i].name == key) {
        key_columns_.push_back({i, table.columns[i].type.kind, key});
        break;
      }
    }
  }
}

std::string RowDeduper::Key(const model::Row& row) const {
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

std::string RowDeduper::DescribeKey(const model::Row& row) const {
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

std::vector<size_t> RowDeduper::KeepLast(const std::vector<model::Row>& rows) const {
  std::vector<size_t> kept;
  kept.reserve(rows.size());
  if (rows.size() <= 1) {
    for (size_t i = 0; i < rows.size(); ++i) kept.push_back(i);
    return kept;
  }
  // Each row's comparable key as a view: straight into the row for a single key cell already in
  // its normal form (the common case, no allocation), else into `owned`. A NULL key cell never
  // equals anything (as in a unique index), so such rows are all kept.
  std::vector<std::string_view> keys(rows.size());
  std::vector<bool> has_null(rows.size(), false);
  std::vector<std::string> owned;
  owned.reserve(rows.size());
  const bool single = key_columns_.size() == 1;
  for (size_t i = 0; i < rows.size(); ++i) {
    const model::Row& row = rows[i];
    for (const auto& column : key_columns_) {
      if (column.index >= row.size() || row.is_null(column.index)) has_null[i] = true;
    }
    if (has_null[i]) continue;
    if (single) {
      const KeyColumn& column = key_columns_[0];
      const std::string_view cell = row.cell(column.index);
      if (IsNormal(cell, column.kind)) {
        keys[i] = cell;
      } else {
        std::string normal;
        AppendNormalized(normal, cell, column.kind);
        owned.push_back(std::move(normal));
        keys[i] = owned.back();
      }
    } else {
      owned.push_back(Key(row));
      keys[i] = owned.back();
    }
  }
  // Open addressing over row indexes; a later row with an equal key replaces the earlier one.
  size_t capacity = 16;
  while (capacity < rows.size() * 2) capacity <<= 1;
  const size_t mask = capacity - 1;
  std::vector<int64_t> slots(capacity, -1);
  std::vector<bool> keep(rows.size(), true);
  const std::hash<std::string_view> hash;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (has_null[i]) continue;
    for (size_t slot = hash(keys[i]) & mask;; slot = (slot + 1) & mask) {
      if (slots[slot] < 0) {
        slots[slot] = static_cast<int64_t>(i);
        break;
      }
      const auto earlier = static_cast<size_t>(slots[slot]);
      if (keys[earlier] == keys[i]) {
        // A snapshot row never replaces a stream change of its key: the change is newer (or
        // equal) whatever the order they were read in. A stream change replaces a snapshot row.
        if (rows[i].action == model::RowAction::kSnapshotUpsert &&
            rows[earlier].action != model::RowAction::kSnapshotUpsert) {
          keep[i] = false;
          break;
        }
        keep[earlier] = false;
        slots[slot] = static_cast<int64_t>(i);
        break;
      }
    }
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    if (keep[i]) kept.push_back(i);
  }
  return kept;
}

}  // namespace ddb2pg::sink
