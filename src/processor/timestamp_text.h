// TimestampText: ISO-8601 and epoch-number timestamps to and from microseconds since the epoch.
//
// Accepted ISO-8601 forms (what real DynamoDB items hold):
//   YYYY-MM-DD                               a date: midnight UTC
//   YYYY-MM-DD[T| ]HH:MM[:SS[.f…]][zone]     'T' or one space; up to 9 fraction digits
//   zone: Z | z | ±HH:MM | ±HHMM | ±HH       none: the time is taken as UTC
// Fractions beyond microseconds are rounded half up to the microsecond (as PostgreSQL does).
// Years 0001–9999 only; month, day (leap years included), hour ≤ 23, minute and second ≤ 59 and
// offsets up to ±15:59 are checked.
//
// Epoch numbers: a value whose magnitude is ≥ 1e11 is milliseconds, otherwise seconds (1e11 s is
// the year 5138, 1e11 ms is 1973-03-03, so neither reading of real data is ambiguous). Fractions
// are kept to the microsecond, rounded half away from zero.
//
// Output is always UTC so the text means the same instant whatever the session's TimeZone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "processor/decimal_text.h"

namespace ddb2pg::processor {

class TimestampText {
 public:
  static constexpr int64_t kMinMicros = -62135596800LL * 1000000;      // 0001-01-01 00:00:00Z
  static constexpr int64_t kMaxMicros = 253402300799LL * 1000000 + 999999;  // 9999-12-31 23:59:59.999999Z
  static constexpr int64_t kEpochMillisThreshold = 100000000000LL;  // |n| ≥ 1e11 → milliseconds

  // Microseconds since the epoch, or nullopt with `error` saying what is wrong.
  static std::optional<int64_t> ParseIso(std::string_view text, std::string* error);
  static std::optional<int64_t> FromEpochNumber(const DecimalText& number, std::string* error);

  // Writers append to `out`:
  //   "2024-09-05 17:16:20.382266+00" (TIMESTAMPTZ input; fraction trimmed of trailing zeros)
  static void AppendTimestamptz(int64_t micros, std::string& out);
  //   "2024-09-05 17:16:20.382266" (TIMESTAMP, the UTC wall time)
  static void AppendTimestamp(int64_t micros, std::string& out);
  //   "2024-09-05" (the UTC date)
  static void AppendDate(int64_t micros, std::string& out);
  //   "2024-09-05T17:16:20.382266Z" (ISO-8601, for TEXT and JSON)
  static void AppendIso(int64_t micros, std::string& out);
};

}  // namespace ddb2pg::processor
