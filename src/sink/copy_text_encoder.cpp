#include "sink/copy_text_encoder.h"

#include <cstring>

namespace ddb2pg::sink {

void CopyTextEncoder::AppendEscaped(std::string& out, std::string_view text) {
  // Copy runs of ordinary bytes at once; only the four special bytes need a look.
  const char* begin = text.data();
  const char* const end = begin + text.size();
  const char* cursor = begin;
  while (cursor < end) {
    const char c = *cursor;
    if (c != '\\' && c != '\t' && c != '\n' && c != '\r') {
      ++cursor;
      continue;
    }
    out.append(begin, cursor);
    out.push_back('\\');
    switch (c) {
      case '\\': out.push_back('\\'); break;
      case '\t': out.push_back('t'); break;
      case '\n': out.push_back('n'); break;
      default: out.push_back('r'); break;
    }
    begin = ++cursor;
  }
  out.append(begin, end);
}

void CopyTextEncoder::AppendRow(std::string& out, const processor::Row& row, std::string_view extra_cell) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (i != 0) out.push_back('\t');
    if (row.is_null(i)) {
      out.append("\\N");
    } else {
      AppendEscaped(out, row.cell(i));
    }
  }
  if (!extra_cell.empty()) {
    if (row.size() != 0) out.push_back('\t');
    AppendEscaped(out, extra_cell);
  }
  out.push_back('\n');
}

}  // namespace ddb2pg::sink
