#include "model/row.h"

namespace ddb2pg::model {

namespace {
// Rebuilds a row with cell `index` replaced; rare (soft deletes), so clarity beats speed.
void Replace(Row& row, size_t index, bool null, std::string_view text) {
  Row rebuilt;
  rebuilt.action = row.action;
  for (size_t i = 0; i < row.size(); ++i) {
    if (i == index) {
      if (null) {
        rebuilt.AppendNull();
      } else {
        rebuilt.AppendCell(text);
      }
    } else if (row.is_null(i)) {
      rebuilt.AppendNull();
    } else {
      rebuilt.AppendCell(row.cell(i));
    }
  }
  row = std::move(rebuilt);
}
}  // namespace

void Row::SetCell(size_t i, std::string_view text) { Replace(*this, i, false, std::string(text)); }

void Row::SetNull(size_t i) { Replace(*this, i, true, {}); }

}  // namespace ddb2pg::model
