// Row: one target-table row produced by mapping one record, ready for COPY.
//
// Cells are in the TableSpec's column order, each NULL or text in PostgreSQL's input syntax for
// the column's type (what COPY's text format and the type input functions accept). They are
// packed into one buffer so that mapping a record allocates once, not once per cell.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ddb2pg::model {

enum class RowAction : uint8_t {
  kUpsert,      // insert, or update every column of the existing row
  kSoftDelete,  // insert if absent; else set only the deleted / deleted_at columns
  kHardDelete,  // delete the row with this key (only key cells are meaningful)
  // A row read by the snapshot. While the stream runs beside an unfinished snapshot it is
  // written like kUpsert unless the stream has written its key since the snapshot began (the
  // snapshot fence, docs/consistency.md); otherwise it is exactly kUpsert.
  kSnapshotUpsert,
};

class Row {
 public:
  RowAction action = RowAction::kUpsert;

  void AppendNull() { ends_.push_back(kNullBit | static_cast<uint32_t>(buffer_.size())); }
  void AppendCell(std::string_view text) {
    buffer_.append(text);
    ends_.push_back(static_cast<uint32_t>(buffer_.size()));
  }
  // Replaces cell `i` (used to set the soft-delete columns after mapping).
  void SetCell(size_t i, std::string_view text);
  void SetNull(size_t i);

  size_t size() const { return ends_.size(); }
  bool is_null(size_t i) const { return (ends_[i] & kNullBit) != 0; }
  std::string_view cell(size_t i) const {
    const uint32_t begin = i == 0 ? 0 : (ends_[i - 1] & ~kNullBit);
    const uint32_t end = ends_[i] & ~kNullBit;
    return {buffer_.data() + begin, end - begin};
  }
  size_t byte_size() const { return buffer_.size() + ends_.size() * sizeof(uint32_t); }
  void clear() {
    buffer_.clear();
    ends_.clear();
  }

 private:
  static constexpr uint32_t kNullBit = 0x80000000u;
  std::string buffer_;
  std::vector<uint32_t> ends_;
};

}  // namespace ddb2pg::model
