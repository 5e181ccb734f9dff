#include "processor/timestamp_text.h"

#include "core/civil_days.h"

namespace ddb2pg::processor {

namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

using core::CivilFromDays;
using core::DaysFromCivil;
using core::DaysInMonth;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `width` digits at `pos`.
bool ReadDigits(std::string_view text, size_t& pos, int width, int& value) {
  if (pos + static_cast<size_t>(width) > text.size()) return false;
  int v = 0;
  for (int i = 0; i < width; ++i) {
    const char c = text[pos + static_cast<size_t>(i)];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  pos += static_cast<size_t>(width);
  value = v;
  return true;
}

bool Fail(std::string* error, const char* reason) {
  *error = reason;
  return false;
}

// Writes `value` as exactly `width` digits ending just before `end`; returns the new start.
char* WriteDigits(char* end, int64_t value, int width) {
  for (int i = 0; i < width; ++i) {
    *--end = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return end;
}

// "YYYY-MM-DD", then sep + "HH:MM:SS" + trimmed fraction unless `date_only`. Formats into a
// stack buffer and appends once: this runs for every timestamp cell.
void AppendCivil(int64_t micros, char sep, bool date_only, std::string& out) {
  int64_t days = micros / kMicrosPerDay;
  int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  const core::CivilDate civil = CivilFromDays(days);
  char buffer[32];
  WriteDigits(buffer + 4, civil.year, 4);
  buffer[4] = '-';
  WriteDigits(buffer + 7, civil.month, 2);
  buffer[7] = '-';
  WriteDigits(buffer + 10, civil.day, 2);
  if (date_only) {
    out.append(buffer, 10);
    return;
  }
  const int64_t seconds = rest / kMicrosPerSecond;
  int64_t fraction = rest % kMicrosPerSecond;
  buffer[10] = sep;
  WriteDigits(buffer + 13, seconds / 3600, 2);
  buffer[13] = ':';
  WriteDigits(buffer + 16, seconds / 60 % 60, 2);
  buffer[16] = ':';
  WriteDigits(buffer + 19, seconds % 60, 2);
  size_t length = 19;
  if (fraction != 0) {
    int width = 6;
    while (fraction % 10 == 0) {
      fraction /= 10;
      --width;
    }
    buffer[19] = '.';
    WriteDigits(buffer + 20 + width, fraction, width);
    length = 20 + static_cast<size_t>(width);
  }
  out.append(buffer, length);
}

}  // namespace

std::optional<int64_t> TimestampText::ParseIso(std::string_view text, std::string* error) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0;
  if (!ReadDigits(text, pos, 4, year) || pos >= text.size() || text[pos++] != '-' ||
      !ReadDigits(text, pos, 2, month) || pos >= text.size() || text[pos++] != '-' ||
      !ReadDigits(text, pos, 2, day)) {
    Fail(error, "expected an ISO-8601 date YYYY-MM-DD at the start");
    return std::nullopt;
  }
  if (year < 1) return Fail(error, "year 0000 is out of range"), std::nullopt;
  if (month < 1 || month > 12) return Fail(error, "month is out of range"), std::nullopt;
  if (day < 1 || day > DaysInMonth(year, month)) {
    return Fail(error, "day is out of range for its month"), std::nullopt;
  }
  int64_t micros = DaysFromCivil(year, month, day) * kMicrosPerDay;
  if (pos == text.size()) return micros;

  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') {
    return Fail(error, "expected 'T' or a space after the date"), std::nullopt;
  }
  ++pos;
  int hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, pos, 2, hour) || pos >= text.size() || text[pos++] != ':' ||
      !ReadDigits(text, pos, 2, minute)) {
    return Fail(error, "expected a time HH:MM[:SS] after the date"), std::nullopt;
  }
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!ReadDigits(text, pos, 2, second)) {
      return Fail(error, "expected two digits of seconds"), std::nullopt;
    }
  }
  if (hour > 23) return Fail(error, "hour is out of range"), std::nullopt;
  if (minute > 59) return Fail(error, "minute is out of range"), std::nullopt;
  if (second > 59) return Fail(error, "second is out of range"), std::nullopt;
  micros += (hour * 3600 + minute * 60 + second) * kMicrosPerSecond;

  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    int digits = 0;
    int64_t fraction = 0;
    bool round_up = false;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (digits < 6) {
        fraction = fraction * 10 + (text[pos] - '0');
      } else if (digits == 6) {
        round_up = text[pos] >= '5';
      }
      ++digits;
      ++pos;
    }
    if (digits == 0) return Fail(error, "expected digits after the decimal point"), std::nullopt;
    if (digits > 9) return Fail(error, "more than 9 fraction digits"), std::nullopt;
    for (int d = digits; d < 6; ++d) fraction *= 10;
    micros += fraction + (round_up ? 1 : 0);
  }

  if (pos < text.size()) {
    const char zone = text[pos];
    if (zone == 'Z' || zone == 'z') {
      ++pos;
    } else if (zone == '+' || zone == '-') {
      ++pos;
      int offset_hours = 0, offset_minutes = 0;
      if (!ReadDigits(text, pos, 2, offset_hours)) {
        return Fail(error, "expected a zone offset ±HH:MM"), std::nullopt;
      }
      if (pos < text.size()) {
        if (text[pos] == ':') ++pos;
        if (!ReadDigits(text, pos, 2, offset_minutes)) {
          return Fail(error, "expected a zone offset ±HH:MM"), std::nullopt;
        }
      }
      if (offset_hours > 15 || offset_minutes > 59) {
        return Fail(error, "zone offset is out of range"), std::nullopt;
      }
      const int64_t offset = (offset_hours * 3600 + offset_minutes * 60) * kMicrosPerSecond;
      // Local time = UTC + offset, so UTC = local - offset.
      micros += zone == '+' ? -offset : offset;
    } else {
      return Fail(error, "unexpected text after the time"), std::nullopt;
    }
  }
  if (pos != text.size()) return Fail(error, "unexpected text after the zone"), std::nullopt;
  if (micros < kMinMicros || micros > kMaxMicros) {
    return Fail(error, "outside the years 0001 to 9999 once in UTC"), std::nullopt;
  }
  return micros;
}

std::optional<int64_t> TimestampText::FromEpochNumber(const DecimalText& number, std::string* error) {
  bool exact = false;
  // Seconds vs milliseconds by magnitude; see the header.
  const bool millis = number.magnitude() >= 11 && !number.is_zero();
  auto micros = number.ScaledInteger(millis ? 3 : 6, &exact);
  if (!micros || *micros < kMinMicros || *micros > kMaxMicros) {
    *error = millis ? "epoch milliseconds outside the years 0001 to 9999"
                    : "epoch seconds outside the years 0001 to 9999";
    return std::nullopt;
  }
  return micros;
}

void TimestampText::AppendTimestamptz(int64_t micros, std::string& out) {
  AppendCivil(micros, ' ', false, out);
  out += "+00";
}

void TimestampText::AppendTimestamp(int64_t micros, std::string& out) {
  AppendCivil(micros, ' ', false, out);
}

void TimestampText::AppendDate(int64_t micros, std::string& out) {
  AppendCivil(micros, ' ', true, out);
}

void TimestampText::AppendIso(int64_t micros, std::string& out) {
  AppendCivil(micros, 'T', false, out);
  out += 'Z';
}

}  // namespace ddb2pg::processor
