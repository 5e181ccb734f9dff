// COPY text encoder: the input is a row (cells separated by NUL bytes; a cell that is exactly the
// byte 0xFF is a NULL; when the first byte is odd the last cell goes in as `extra_cell`). The
// encoded line is decoded here the way PostgreSQL's COPY FROM documents its text format
// (https://www.postgresql.org/docs/15/sql-copy.html, "Text Format"), written independently of
// the encoder: one line ended by a newline, no raw carriage return or newline inside, fields
// split at tabs, a field that is exactly \N is NULL, and in other fields backslash sequences
// \b \f \n \r \t \v, \ + 1-3 octal digits, \x + 1-2 hex digits stand for bytes and a backslash
// before any other character stands for that character. The decoded cells must equal the input.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_targets.h"
#include "model/row.h"
#include "sink/copy_text_encoder.h"

namespace ddb2pg::fuzz {
namespace {

bool IsOctal(char c) { return c >= '0' && c <= '7'; }
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> DecodeField(std::string_view field) {
  if (field == "\\N") return std::nullopt;
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    const char c = field[i];
    if (c != '\\' || i + 1 == field.size()) {
      out.push_back(c);  // a lone trailing backslash: the encoder never writes one (checked below)
      continue;
    }
    const char next = field[++i];
    switch (next) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case 'x': {
        int value = 0;
        int digits = 0;
        while (digits < 2 && i + 1 < field.size() && HexDigit(field[i + 1]) >= 0) {
          value = value * 16 + HexDigit(field[++i]);
          ++digits;
        }
        if (digits == 0) {
          out.push_back('x');  // "\x" without hex digits is a plain x
        } else {
          out.push_back(static_cast<char>(value));
        }
        break;
      }
      default:
        if (IsOctal(next)) {
          int value = next - '0';
          for (int digits = 1; digits < 3 && i + 1 < field.size() && IsOctal(field[i + 1]); ++digits) {
            value = value * 8 + (field[++i] - '0');
          }
          out.push_back(static_cast<char>(value & 0xff));
        } else {
          out.push_back(next);
        }
    }
  }
  return out;
}

}  // namespace

int FuzzCopyText(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool use_extra = (data[0] & 1) != 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::vector<std::optional<std::string>> cells;
  for (std::string_view rest = input;;) {
    const size_t end = rest.find('\0');
    const std::string_view cell = rest.substr(0, end);
    if (cell == "\xff") {
      cells.emplace_back(std::nullopt);
    } else {
      cells.emplace_back(std::string(cell));
    }
    if (end == std::string_view::npos) break;
    rest = rest.substr(end + 1);
  }
  std::string extra;
  // extra_cell is never NULL and empty means "none": only a non-empty last cell can go there.
  if (use_extra && cells.size() > 1 && cells.back() && !cells.back()->empty()) {
    extra = *cells.back();
  }
  model::Row row;
  for (size_t i = 0; i + (extra.empty() ? 0 : 1) < cells.size(); ++i) {
    if (cells[i]) {
      row.AppendCell(*cells[i]);
    } else {
      row.AppendNull();
    }
  }

  std::string line = "previous line\n";  // AppendRow appends; what was there must stay
  const size_t start = line.size();
  sink::CopyTextEncoder::AppendRow(line, row, extra);
  FUZZ_CHECK(line.substr(0, start) == "previous line\n", "AppendRow changed what was already in the buffer");
  const std::string_view encoded = std::string_view(line).substr(start);
  FUZZ_CHECK(!encoded.empty() && encoded.back() == '\n', "the encoded row does not end with a newline");
  const std::string_view body = encoded.substr(0, encoded.size() - 1);
  FUZZ_CHECK(body.find('\n') == std::string_view::npos, "a raw newline inside an encoded row");
  FUZZ_CHECK(body.find('\r') == std::string_view::npos, "a raw carriage return inside an encoded row");
  FUZZ_CHECK(body != "\\.", "an encoded row that reads as the end-of-data marker \\.");

  std::vector<std::optional<std::string>> decoded;
  for (std::string_view rest = body;;) {
    const size_t tab = rest.find('\t');
    decoded.push_back(DecodeField(rest.substr(0, tab)));
    if (tab == std::string_view::npos) break;
    rest = rest.substr(tab + 1);
  }
  FUZZ_CHECK(decoded.size() == cells.size(), "COPY would see " + std::to_string(decoded.size()) + " columns, not " +
                                                 std::to_string(cells.size()));
  for (size_t i = 0; i < cells.size(); ++i) {
    FUZZ_CHECK(decoded[i].has_value() == cells[i].has_value(), "a cell's NULL-ness changed in COPY text");
    if (cells[i]) FUZZ_CHECK(*decoded[i] == *cells[i], "a cell changed in COPY text: column " + std::to_string(i));
  }
  // AppendEscaped alone: the same escaping, no separators.
  std::string escaped;
  sink::CopyTextEncoder::AppendEscaped(escaped, input);
  const std::optional<std::string> back = DecodeField(escaped);
  FUZZ_CHECK(escaped != "\\N" && back && *back == input, "AppendEscaped does not round trip");
  return 0;
}

}  // namespace ddb2pg::fuzz
