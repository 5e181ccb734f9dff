#include "sink/copy_binary_encoder.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/civil_days.h"
#include "core/text.h"

namespace ddb2pg::sink {
namespace {

void AppendBigEndian(std::string& out, uint64_t value, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// `count` digits at text[pos…]; advances pos.
bool ReadDigits(std::string_view text, size_t& pos, int count, int* value) {
  if (pos + count > text.size()) return false;
  int v = 0;
  for (int i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  pos += count;
  *value = v;
  return true;
}

bool Expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

constexpr int64_t kPostgresEpochDays = 10957;  // 2000-01-01, PostgreSQL's day 0
constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;

// YYYY-MM-DD (years 0001–9999, a real day) as days since PostgreSQL's epoch.
bool ParseDate(std::string_view text, size_t& pos, int64_t* days) {
  int y = 0, m = 0, d = 0;
  if (!ReadDigits(text, pos, 4, &y) || !Expect(text, pos, '-') || !ReadDigits(text, pos, 2, &m) ||
      !Expect(text, pos, '-') || !ReadDigits(text, pos, 2, &d)) {
    return false;
  }
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > core::DaysInMonth(y, m)) return false;
  *days = core::DaysFromCivil(y, m, d) - kPostgresEpochDays;
  return true;
}

// "YYYY-MM-DD[ T]HH:MM:SS[.ffffff]" then, when `with_offset`, "Z" or ±HH[[:]MM] (required: without
// one the value depends on the session's TimeZone). Microseconds since PostgreSQL's epoch, UTC.
bool ParseTimestamp(std::string_view text, bool with_offset, int64_t* micros) {
  size_t pos = 0;
  int64_t days = 0;
  int hh = 0, mi = 0, ss = 0;
  if (!ParseDate(text, pos, &days)) return false;
  if (pos >= text.size() || (text[pos] != ' ' && text[pos] != 'T')) return false;
  ++pos;
  if (!ReadDigits(text, pos, 2, &hh) || !Expect(text, pos, ':') || !ReadDigits(text, pos, 2, &mi) ||
      !Expect(text, pos, ':') || !ReadDigits(text, pos, 2, &ss)) {
    return false;
  }
  if (hh > 23 || mi > 59 || ss > 59) return false;
  int64_t fraction = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (++digits > 6) return false;  // PostgreSQL rounds: leave it to the text path
      fraction = fraction * 10 + (text[pos++] - '0');
    }
    if (digits == 0) return false;
    for (; digits < 6; ++digits) fraction *= 10;
  }
  int64_t offset_seconds = 0;
  if (with_offset) {
    if (pos >= text.size()) return false;
    if (text[pos] == 'Z') {
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      const int sign = text[pos++] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      if (!ReadDigits(text, pos, 2, &oh)) return false;
      if (pos < text.size()) {
        Expect(text, pos, ':');
        if (!ReadDigits(text, pos, 2, &om)) return false;
      }
      if (oh > 15 || om > 59) return false;
      offset_seconds = sign * (oh * 3600 + om * 60);
    } else {
      return false;
    }
  }
  if (pos != text.size()) return false;
  *micros = days * kMicrosPerDay + ((hh * 3600 + mi * 60 + ss) - offset_seconds) * int64_t{1000000} + fraction;
  return true;
}

// A decimal integer within [min, max]: an optional '-', digits, nothing else.
bool ParseInteger(std::string_view text, int64_t min, int64_t max, int64_t* value) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin == end || *begin == '+') return false;
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end || v < min || v > max) return false;
  *value = v;
  return true;
}

bool HasNonZeroDigit(std::string_view text) {
  for (char c : text) {
    if (c == 'e' || c == 'E') return false;
    if (c >= '1' && c <= '9') return true;
  }
  return false;
}

// A float as PostgreSQL's float4in/float8in reads it, or false: finite decimal text (no spaces, no
// '+', no hex), NaN, Infinity, -Infinity.
template <typename Float>
bool ParseFloat(std::string_view text, Float* value) {
  if (text == "NaN") {
    *value = std::numeric_limits<Float>::quiet_NaN();
    return true;
  }
  if (text == "Infinity" || text == "-Infinity") {
    *value = text[0] == '-' ? -std::numeric_limits<Float>::infinity() : std::numeric_limits<Float>::infinity();
    return true;
  }
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin == end || *begin == '+') return false;
  const auto [ptr, ec] = std::from_chars(begin, end, *value, std::chars_format::general);
  if (ec != std::errc() || ptr != end || !std::isfinite(*value)) return false;
  // PostgreSQL refuses a non-zero value that underflows to zero.
  if (*value == 0 && HasNonZeroDigit(text)) return false;
  return true;
}

// The float in `text` (ParseFloat) as its IEEE bits, big-endian; false when there is none.
template <typename Float, typename Bits>
bool AppendFloat(std::string_view text, std::string& out) {
  static_assert(sizeof(Float) == sizeof(Bits));
  Float value = 0;
  if (!ParseFloat(text, &value)) return false;
  Bits bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  AppendBigEndian(out, bits, sizeof bits);
  return true;
}

// uuid_in's syntax: 32 hex digits, optionally in braces, a hyphen allowed after any group of four.
bool ParseUuid(std::string_view text, unsigned char bytes[16]) {
  if (!text.empty() && text.front() == '{') {
    if (text.size() < 2 || text.back() != '}') return false;
    text = text.substr(1, text.size() - 2);
  }
  int digits = 0;
  bool after_hyphen = false;
  for (char c : text) {
    if (c == '-') {
      if (after_hyphen || digits == 0 || digits % 4 != 0 || digits == 32) return false;
      after_hyphen = true;
      continue;
    }
    const int v = core::HexDigitValue(c);
    if (v < 0 || digits == 32) return false;
    after_hyphen = false;
    if (digits % 2 == 0) {
      bytes[digits / 2] = static_cast<unsigned char>(v << 4);
    } else {
      bytes[digits / 2] |= static_cast<unsigned char>(v);
    }
    ++digits;
  }
  return digits == 32 && !after_hyphen;
}

}  // namespace

bool CopyBinaryEncoder::EncodingOf(uint32_t type_oid, Encoding* encoding) {
  switch (type_oid) {
    case 2950: *encoding = Encoding::kUuid; return true;
    case 1184: *encoding = Encoding::kTimestamptz; return true;
    case 1114: *encoding = Encoding::kTimestamp; return true;
    case 1082: *encoding = Encoding::kDate; return true;
    case 16: *encoding = Encoding::kBool; return true;
    case 21: *encoding = Encoding::kInt2; return true;
    case 23: *encoding = Encoding::kInt4; return true;
    case 20: *encoding = Encoding::kInt8; return true;
    case 700: *encoding = Encoding::kFloat4; return true;
    case 701: *encoding = Encoding::kFloat8; return true;
    case 25:    // text
    case 1043:  // varchar: varchar_recv applies the length limit as the text input does
    case 114:   // json: its binary form is its text
      *encoding = Encoding::kText;
      return true;
    case 3802: *encoding = Encoding::kJsonb; return true;
    case 18: *encoding = Encoding::kChar; return true;  // "char"
    default: return false;
  }
}

void CopyBinaryEncoder::AppendHeader(std::string& out) {
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // 11 bytes with the NUL
  out.append(kSignature, 11);
  AppendBigEndian(out, 0, 4);  // flags: no OIDs
  AppendBigEndian(out, 0, 4);  // header extension length
}

void CopyBinaryEncoder::AppendTrailer(std::string& out) { AppendBigEndian(out, 0xffff, 2); }

bool CopyBinaryEncoder::EncodeCell(Encoding encoding, std::string_view text, std::string& out) {
  switch (encoding) {
    case Encoding::kText:
      out.append(text);
      return true;
    case Encoding::kJsonb:
      out.push_back('\x01');  // jsonb's binary format version
      out.append(text);
      return true;
    case Encoding::kChar:
      if (text.size() != 1) return false;
      out.push_back(text[0]);
      return true;
    case Encoding::kUuid: {
      unsigned char bytes[16];
      if (!ParseUuid(text, bytes)) return false;
      out.append(reinterpret_cast<const char*>(bytes), 16);
      return true;
    }
    case Encoding::kTimestamptz:
    case Encoding::kTimestamp: {
      int64_t micros = 0;
      if (!ParseTimestamp(text, encoding == Encoding::kTimestamptz, &micros)) return false;
      AppendBigEndian(out, static_cast<uint64_t>(micros), 8);
      return true;
    }
    case Encoding::kDate: {
      size_t pos = 0;
      int64_t days = 0;
      if (!ParseDate(text, pos, &days) || pos != text.size()) return false;
      AppendBigEndian(out, static_cast<uint64_t>(static_cast<int32_t>(days)) & 0xffffffffu, 4);
      return true;
    }
    case Encoding::kBool:
      if (text == "true" || text == "t") {
        out.push_back('\x01');
      } else if (text == "false" || text == "f") {
        out.push_back('\x00');
      } else {
        return false;
      }
      return true;
    case Encoding::kInt2:
    case Encoding::kInt4:
    case Encoding::kInt8: {
      const int bytes = encoding == Encoding::kInt2 ? 2 : encoding == Encoding::kInt4 ? 4 : 8;
      const int64_t max = bytes == 8 ? INT64_MAX : (int64_t{1} << (bytes * 8 - 1)) - 1;
      int64_t value = 0;
      if (!ParseInteger(text, -max - 1, max, &value)) return false;
      AppendBigEndian(out, static_cast<uint64_t>(value), bytes);
      return true;
    }
    case Encoding::kFloat4: return AppendFloat<float, uint32_t>(text, out);
    case Encoding::kFloat8: return AppendFloat<double, uint64_t>(text, out);
  }
  return false;
}

bool CopyBinaryEncoder::AppendRow(std::string& out, const model::Row& row, std::string_view extra_cell) const {
  const bool extra = columns_.size() == row.size() + 1;
  if (!extra && columns_.size() != row.size()) return false;
  const size_t start = out.size();
  AppendBigEndian(out, columns_.size(), 2);
  for (size_t i = 0; i < columns_.size(); ++i) {
    const bool from_row = i < row.size();
    if (from_row && row.is_null(i)) {
      AppendBigEndian(out, 0xffffffffu, 4);
      continue;
    }
    const size_t length_at = out.size();
    out.append(4, '\0');
    if (!EncodeCell(columns_[i], from_row ? row.cell(i) : extra_cell, out)) {
      out.resize(start);
      return false;
    }
    const uint64_t length = out.size() - length_at - 4;
    for (int b = 0; b < 4; ++b) out[length_at + b] = static_cast<char>((length >> (24 - 8 * b)) & 0xff);
  }
  return true;
}

}  // namespace ddb2pg::sink
