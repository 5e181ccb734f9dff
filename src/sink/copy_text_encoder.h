// CopyTextEncoder: turns rows into COPY … FROM STDIN text format (tab-separated, one line per
// row, \N for NULL) with the escaping COPY needs: backslash, tab, newline and carriage return
// become \\ \t \n \r, so any cell — quotes, backslashes, a literal "\N", unicode — arrives
// verbatim. Cells are already in PostgreSQL's input syntax for their column types.
//
// Thread-safety: a plain value.
#pragma once

#include <string>
#include <string_view>

#include "model/row.h"

namespace ddb2pg::sink {

class CopyTextEncoder {
 public:
  // Appends one line: the row's cells, then `extra_cell` as a last column when not empty.
  static void AppendRow(std::string& out, const model::Row& row, std::string_view extra_cell = {});
  // Appends one escaped cell (no separator).
  static void AppendEscaped(std::string& out, std::string_view text);
};

}  // namespace ddb2pg::sink
