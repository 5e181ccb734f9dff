// RowDeduper: keeps only the last row of each key in a batch, because INSERT … ON CONFLICT DO
// UPDATE (and MERGE) fail with "cannot affect row a second time" when one statement meets a key
// twice, and because the last change of a key is the one that must win.
//
// Keys compare the way PostgreSQL compares them for the common key types: UUID cells ignore case,
// hyphens and braces ("{A0EE…}" equals "a0ee…"), integer cells ignore a leading '+' and leading
// zeros; other types compare their text exactly. A row with a NULL key cell equals no other row
// (as in a unique index) and is always kept.
//
// Cost: one hash probe per row and no allocation for single-column keys already in their normal
// form (canonical UUIDs, plain integers, any text) — it runs on the commit path.
//
// Thread-safety: a plain value.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "model/row.h"
#include "model/pipeline_spec.h"

namespace ddb2pg::sink {

class RowDeduper {
 public:
  // `table` must outlive the deduper.
  explicit RowDeduper(const model::TableSpec& table);

  // Indexes (ascending) of the rows to keep: for each key, the last row carrying it, except that
  // a snapshot row (kSnapshotUpsert) never replaces a stream row of the same key.
  std::vector<size_t> KeepLast(const std::vector<model::Row>& rows) const;

  // The comparable key of one row (key cells normalized, joined unambiguously).
  std::string Key(const model::Row& row) const;
  // The key cells as "col=value, col=value", for messages.
  std::string DescribeKey(const model::Row& row) const;

 private:
  struct KeyColumn {
    size_t index;
    model::ColumnKind kind;
    std::string name;
  };
  std::vector<KeyColumn> key_columns_;
};

}  // namespace ddb2pg::sink
