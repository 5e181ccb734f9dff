// COPY binary encoder, one cell: the first byte picks the encoding, the rest is the cell's text.
// Properties: a refused cell leaves the output untouched; an accepted one has its type's width
// (fixed-width types); an accepted timestamp, date or number re-encodes to the same bytes from
// the text ddb2pg's own TimestampText / to_chars writes for the decoded value (the canonical
// forms are always accepted, and decoding is the inverse of encoding).
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "fuzz_targets.h"
#include "processor/timestamp_text.h"
#include "sink/copy_binary_encoder.h"

namespace ddb2pg::fuzz {
namespace {

using Encoding = sink::CopyBinaryEncoder::Encoding;

uint64_t BigEndian(std::string_view bytes) {
  uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

int Width(Encoding encoding) {
  switch (encoding) {
    case Encoding::kUuid: return 16;
    case Encoding::kTimestamptz:
    case Encoding::kTimestamp:
    case Encoding::kInt8:
    case Encoding::kFloat8: return 8;
    case Encoding::kDate:
    case Encoding::kInt4:
    case Encoding::kFloat4: return 4;
    case Encoding::kInt2: return 2;
    case Encoding::kBool:
    case Encoding::kChar: return 1;
    default: return -1;
  }
}

}  // namespace

int FuzzCopyBinary(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto encoding = static_cast<Encoding>(data[0] % (static_cast<int>(Encoding::kChar) + 1));
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string out = "prefix";
  if (!sink::CopyBinaryEncoder::EncodeCell(encoding, text, out)) {
    FUZZ_CHECK(out == "prefix", "a refused cell changed the output");
    return 0;
  }
  const std::string_view bytes = std::string_view(out).substr(6);
  const int width = Width(encoding);
  FUZZ_CHECK(width < 0 || static_cast<int>(bytes.size()) == width, "an encoded cell has the wrong width");
  constexpr int64_t kPostgresEpochMicros = int64_t{946684800} * 1000000;
  // An offset can move a time just outside the years 0001–9999 that the canonical text spells.
  auto in_years = [](std::string_view micros_bytes) {
    std::string low;
    std::string high;
    sink::CopyBinaryEncoder::EncodeCell(Encoding::kTimestamp, "0001-01-01 00:00:00", low);
    sink::CopyBinaryEncoder::EncodeCell(Encoding::kTimestamp, "9999-12-31 23:59:59.999999", high);
    const auto value = static_cast<int64_t>(BigEndian(micros_bytes));
    return value >= static_cast<int64_t>(BigEndian(low)) && value <= static_cast<int64_t>(BigEndian(high));
  };
  if ((encoding == Encoding::kTimestamptz || encoding == Encoding::kTimestamp) && !in_years(bytes)) return 0;
  std::string canonical;
  if (encoding == Encoding::kTimestamptz) {
    processor::TimestampText::AppendTimestamptz(static_cast<int64_t>(BigEndian(bytes)) + kPostgresEpochMicros,
                                                canonical);
  } else if (encoding == Encoding::kTimestamp) {
    processor::TimestampText::AppendTimestamp(static_cast<int64_t>(BigEndian(bytes)) + kPostgresEpochMicros,
                                              canonical);
  } else if (encoding == Encoding::kDate) {
    const auto days = static_cast<int32_t>(BigEndian(bytes));
    processor::TimestampText::AppendDate((int64_t{days} + 10957) * 86400 * 1000000, canonical);
  } else if (encoding == Encoding::kInt8 || encoding == Encoding::kInt4 || encoding == Encoding::kInt2) {
    const uint64_t raw = BigEndian(bytes);
    const int shift = 64 - 8 * static_cast<int>(bytes.size());
    canonical = std::to_string(static_cast<int64_t>(raw << shift) >> shift);
  } else if (encoding == Encoding::kFloat8) {
    double value = 0;
    const uint64_t raw = BigEndian(bytes);
    std::memcpy(&value, &raw, sizeof value);
    if (std::isfinite(value)) {
      char buffer[64];
      canonical.assign(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
    }
  } else {
    return 0;
  }
  if (canonical.empty()) return 0;
  std::string again;
  FUZZ_CHECK(sink::CopyBinaryEncoder::EncodeCell(encoding, canonical, again), "a canonical cell was refused");
  FUZZ_CHECK(again == bytes, "the canonical text of a decoded cell encodes to other bytes");
  return 0;
}

}  // namespace ddb2pg::fuzz
