#include "processor/type_converter.h"

#include <algorithm>
#include <array>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/base64.h"
#include "core/json_writer.h"
#include "processor/decimal_text.h"
#include "processor/timestamp_text.h"

namespace ddb2pg::processor {

namespace {

bool Fail(std::string* error, const Datum& datum, std::string_view reason) {
  *error = datum.Describe();
  *error += ' ';
  *error += reason;
  return false;
}

bool WrongType(std::string* error, const Datum& datum, std::string_view expected) {
  *error = "expected ";
  *error += expected;
  *error += ", got ";
  *error += datum.Describe();
  return false;
}

// An empty view may have no data pointer (memchr must not see it).
bool HasNul(std::string_view text) {
  return !text.empty() && std::memchr(text.data(), '\0', text.size()) != nullptr;
}

constexpr char kHexDigits[] = "0123456789abcdef";

// The text of a number held by an N, or by an S that spells one.
bool NumberText(const Datum& datum, std::string_view* text, std::string* error) {
  if (datum.kind == Datum::Kind::kNumber) {
    *text = datum.text;
    return true;
  }
  if (datum.kind == Datum::Kind::kString) {
    if (!DecimalText::Parse(datum.text)) return Fail(error, datum, "is not a number");
    *text = datum.text;
    return true;
  }
  return WrongType(error, datum, "N (or S holding a number)");
}

bool ToText(const Datum& datum, std::string& scratch, std::string_view* out, std::string* error) {
  switch (datum.kind) {
    case Datum::Kind::kString:
    case Datum::Kind::kNumber:
      if (HasNul(datum.text)) return Fail(error, datum, "contains a NUL character, which PostgreSQL text cannot hold");
      *out = datum.text;
      return true;
    case Datum::Kind::kBool:
      *out = datum.boolean ? std::string_view("true") : std::string_view("false");
      return true;
    case Datum::Kind::kTimestamp:
      TimestampText::AppendIso(datum.micros, scratch);
      *out = scratch;
      return true;
    default:
      return WrongType(error, datum, "S, N or BOOL (map M, L and sets to a JSONB column)");
  }
}

bool ToVarchar(const Datum& datum, int length, model::OverflowPolicy overflow, std::string& scratch,
               std::string_view* out, std::string* error) {
  if (!ToText(datum, scratch, out, error)) return false;
  if (length <= 0 || out->size() <= static_cast<size_t>(length)) return true;  // bytes ≥ chars
  const std::string_view text = *out;
  size_t characters = 0;
  size_t cut = text.size();
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (characters == static_cast<size_t>(length) && cut == text.size()) cut = i;
      ++characters;
    }
  }
  if (characters <= static_cast<size_t>(length)) return true;
  if (overflow == model::OverflowPolicy::kTruncate) {
    *out = text.substr(0, cut);
    return true;
  }
  *error = "value has ";
  *error += std::to_string(characters);
  *error += " characters";
  return false;
}

bool ToUuid(const Datum& datum, std::string& scratch, std::string_view* out, std::string* error) {
  if (datum.kind == Datum::Kind::kValue && datum.value->type() == core::ValueType::kBinary) {
    const std::string& bytes = datum.value->binary();
    if (bytes.size() != 16) return Fail(error, datum, "is not a UUID (B must hold 16 bytes)");
    for (size_t i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) scratch += '-';
      const auto byte = static_cast<unsigned char>(bytes[i]);
      scratch += kHexDigits[byte >> 4];
      scratch += kHexDigits[byte & 0xF];
    }
    *out = scratch;
    return true;
  }
  if (datum.kind != Datum::Kind::kString) return WrongType(error, datum, "S holding a UUID");
  // Hot path (every row carries one or two UUIDs): one table lookup per hex digit.
  // kUuidClass: bit 0 = a hex digit, bit 1 = an upper-case one.
  static constexpr auto kUuidClass = [] {
    std::array<uint8_t, 256> table{};
    for (int c = '0'; c <= '9'; ++c) table[static_cast<size_t>(c)] = 1;
    for (int c = 'a'; c <= 'f'; ++c) table[static_cast<size_t>(c)] = 1;
    for (int c = 'A'; c <= 'F'; ++c) table[static_cast<size_t>(c)] = 3;
    return table;
  }();
  const std::string_view text = datum.text;
  bool valid = text.size() == 36 && text[8] == '-' && text[13] == '-' && text[18] == '-' && text[23] == '-';
  unsigned any = 0;
  if (valid) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    unsigned all = 1;
    // Fixed-length runs, so the compiler unrolls them.
    auto run = [&](size_t begin, size_t length) {
#pragma GCC unroll 12
      for (size_t i = 0; i < length; ++i) {
        const unsigned cls = kUuidClass[bytes[begin + i]];
        all &= cls;
        any |= cls;
      }
    };
    run(0, 8);
    run(9, 4);
    run(14, 4);
    run(19, 4);
    run(24, 12);
    valid = (all & 1) != 0;
  }
  if (!valid) return Fail(error, datum, "is not a UUID (expected 8-4-4-4-12 hex digits)");
  if ((any & 2) == 0) {  // already lower-case
    *out = text;
    return true;
  }
  scratch.assign(text);
  for (char& c : scratch) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  *out = scratch;
  return true;
}

bool ToMicros(const Datum& datum, int64_t* micros, std::string* error) {
  std::string reason;
  switch (datum.kind) {
    case Datum::Kind::kTimestamp:
      if (datum.micros < TimestampText::kMinMicros || datum.micros > TimestampText::kMaxMicros) {
        return Fail(error, datum, "is outside the years 0001 to 9999");
      }
      *micros = datum.micros;
      return true;
    case Datum::Kind::kString: {
      auto parsed = TimestampText::ParseIso(datum.text, &reason);
      if (!parsed) return Fail(error, datum, "is not an ISO-8601 timestamp: " + reason);
      *micros = *parsed;
      return true;
    }
    case Datum::Kind::kNumber: {
      auto number = DecimalText::Parse(datum.text);
      std::optional<int64_t> parsed;
      if (number) parsed = TimestampText::FromEpochNumber(*number, &reason);
      if (!parsed) return Fail(error, datum, "is not a usable epoch time: " + reason);
      *micros = *parsed;
      return true;
    }
    default:
      return WrongType(error, datum, "S (ISO-8601) or N (epoch seconds or milliseconds)");
  }
}

bool ToBoolean(const Datum& datum, std::string_view* out, std::string* error) {
  switch (datum.kind) {
    case Datum::Kind::kBool:
      *out = datum.boolean ? std::string_view("true") : std::string_view("false");
      return true;
    case Datum::Kind::kString: {
      const std::string_view t = datum.text;
      auto is = [&](std::string_view word) {
        if (t.size() != word.size()) return false;
        for (size_t i = 0; i < t.size(); ++i) {
          const char c = t[i] >= 'A' && t[i] <= 'Z' ? static_cast<char>(t[i] - 'A' + 'a') : t[i];
          if (c != word[i]) return false;
        }
        return true;
      };
      if (is("true")) *out = "true";
      else if (is("false")) *out = "false";
      else return Fail(error, datum, "is not a boolean (expected true or false)");
      return true;
    }
    case Datum::Kind::kNumber:
      if (NumberTextsEqual(datum.text, "1")) *out = "true";
      else if (NumberTextsEqual(datum.text, "0")) *out = "false";
      else return Fail(error, datum, "is not a boolean (a number must be 0 or 1)");
      return true;
    default:
      return WrongType(error, datum, "BOOL, S \"true\"/\"false\" or N 0/1");
  }
}

bool ToInteger(const Datum& datum, model::ColumnKind kind, std::string& scratch, std::string_view* out,
               std::string* error) {
  std::string_view text;
  if (!NumberText(datum, &text, error)) return false;
  const char* type_name = kind == model::ColumnKind::kSmallint  ? "SMALLINT"
                          : kind == model::ColumnKind::kInteger ? "INTEGER"
                                                         : "BIGINT";
  const int64_t max = kind == model::ColumnKind::kSmallint  ? 32767
                      : kind == model::ColumnKind::kInteger ? 2147483647
                                                     : INT64_MAX;
  const int64_t min = -max - 1;
  // Fast path: plain digits, short enough not to overflow.
  size_t digits_begin = !text.empty() && text[0] == '-' ? 1 : 0;
  if (text.size() > digits_begin && text.size() - digits_begin <= 18 &&
      (text.size() - digits_begin == 1 || text[digits_begin] != '0')) {
    int64_t value = 0;
    bool plain = true;
    for (size_t i = digits_begin; i < text.size() && plain; ++i) {
      plain = text[i] >= '0' && text[i] <= '9';
      value = value * 10 + (text[i] - '0');
    }
    if (plain) {
      if (digits_begin == 1) value = -value;
      if (value < min || value > max) {
        return Fail(error, datum, std::string("is out of range for ") + type_name);
      }
      *out = value == 0 ? std::string_view("0") : text;  // "-0" → "0"
      return true;
    }
  }
  auto number = DecimalText::Parse(text);
  if (!number) return Fail(error, datum, "is not a number");
  bool exact = false;
  auto value = number->ScaledInteger(0, &exact);
  if (value && !exact) {
    return Fail(error, datum, std::string("has a fractional part; ") + type_name + " needs a whole number");
  }
  if (!value || *value < min || *value > max) {
    return Fail(error, datum, std::string("is out of range for ") + type_name);
  }
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), *value);
  scratch.assign(buffer, result.ptr);
  *out = scratch;
  return true;
}

bool ToFloat(const Datum& datum, bool real, std::string_view* out, std::string* error) {
  std::string_view text;
  if (!NumberText(datum, &text, error)) return false;
  auto number = DecimalText::Parse(text);
  if (!number) return Fail(error, datum, "is not a number");
  *out = text;
  if (number->is_zero()) return true;
  const int64_t magnitude = number->magnitude();
  // Clearly inside the range: no need to convert.
  const int64_t safe_max = real ? 37 : 307;
  const int64_t safe_min = real ? -37 : -307;
  if (magnitude > safe_min && magnitude < safe_max) return true;
  const std::string copy(text);
  const double value = std::strtod(copy.c_str(), nullptr);
  bool in_range;
  if (real) {
    const auto narrowed = static_cast<float>(value);
    in_range = std::isfinite(value) && std::isfinite(narrowed) && narrowed != 0.0f;
  } else {
    in_range = std::isfinite(value) && value != 0.0;
  }
  if (!in_range) {
    return Fail(error, datum, real ? "is out of range for REAL" : "is out of range for DOUBLE PRECISION");
  }
  return true;
}

bool ToNumeric(const Datum& datum, const model::ColumnType& type, std::string& scratch,
               std::string_view* out, std::string* error) {
  std::string_view text;
  if (!NumberText(datum, &text, error)) return false;
  auto number = DecimalText::Parse(text);
  if (!number) return Fail(error, datum, "is not a number");
  if (type.precision <= 0) {
    // PostgreSQL's NUMERIC holds up to 131072 digits before the point and 16383 after.
    if (number->magnitude() > 131071 || number->magnitude() < -16383) {
      return Fail(error, datum, "is out of range for NUMERIC");
    }
    *out = text;
    return true;
  }
  int integer_digits = 0;
  scratch = number->RoundedToScale(type.scale, &integer_digits);
  if (integer_digits > type.precision - type.scale) {
    return Fail(error, datum, "does not fit " + type.ToSql() + " (at most " +
                                  std::to_string(type.precision - type.scale) +
                                  " digits before the point)");
  }
  *out = scratch;
  return true;
}

bool AppendJsonChecked(const core::Value& value, bool jsonb, std::string& out, std::string* error);

bool ToJson(const Datum& datum, bool jsonb, std::string& scratch, std::string_view* out,
            std::string* error) {
  switch (datum.kind) {
    case Datum::Kind::kBool:
      *out = datum.boolean ? std::string_view("true") : std::string_view("false");
      return true;
    case Datum::Kind::kString:
      if (jsonb && HasNul(datum.text)) {
        return Fail(error, datum, "contains a NUL character, which JSONB cannot hold");
      }
      core::AppendJsonString(scratch, datum.text);
      break;
    case Datum::Kind::kNumber: {
      auto number = DecimalText::Parse(datum.text);
      if (!number) return Fail(error, datum, "is not a number");
      scratch = number->JsonNumber();
      break;
    }
    case Datum::Kind::kTimestamp:
      scratch += '"';
      TimestampText::AppendIso(datum.micros, scratch);
      scratch += '"';
      break;
    case Datum::Kind::kValue:
      if (!AppendJsonChecked(*datum.value, jsonb, scratch, error)) return false;
      break;
    case Datum::Kind::kNull:
      *out = "null";
      return true;
  }
  *out = scratch;
  return true;
}

bool ToBytea(const Datum& datum, std::string& scratch, std::string_view* out, std::string* error) {
  if (datum.kind != Datum::Kind::kValue || datum.value->type() != core::ValueType::kBinary) {
    return WrongType(error, datum, "B");
  }
  const std::string& bytes = datum.value->binary();
  scratch.reserve(2 + bytes.size() * 2);
  scratch += "\\x";
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    scratch += kHexDigits[byte >> 4];
    scratch += kHexDigits[byte & 0xF];
  }
  *out = scratch;
  return true;
}

void AppendJsonNumber(std::string_view text, std::string& out) {
  auto number = DecimalText::Parse(text);
  out += number ? number->JsonNumber() : std::string("null");
}

// [e, …] with append(e) writing each element; false as soon as one append fails.
template <typename Range, typename Append>
bool AppendJsonArray(const Range& elements, std::string& out, Append&& append) {
  out += '[';
  bool first = true;
  for (const auto& element : elements) {
    if (!first) out += ',';
    first = false;
    if (!append(element)) return false;
  }
  out += ']';
  return true;
}

bool AppendJsonChecked(const core::Value& value, bool jsonb, std::string& out, std::string* error) {
  switch (value.type()) {
    case core::ValueType::kNull: out += "null"; return true;
    case core::ValueType::kBool: out += value.as_bool() ? "true" : "false"; return true;
    case core::ValueType::kString:
      if (jsonb && HasNul(value.as_string())) {
        *error = "a string inside contains a NUL character, which JSONB cannot hold";
        return false;
      }
      core::AppendJsonString(out, value.as_string());
      return true;
    case core::ValueType::kNumber: AppendJsonNumber(value.number_text(), out); return true;
    case core::ValueType::kBinary: core::AppendJsonString(out, core::Base64Encode(value.binary())); return true;
    case core::ValueType::kMap: return AppendJsonObjectExcept(value, {}, jsonb, out, error);
    case core::ValueType::kList:
      return AppendJsonArray(value.list(), out,
                             [&](const core::Value& item) { return AppendJsonChecked(item, jsonb, out, error); });
    case core::ValueType::kStringSet:
      return AppendJsonArray(value.set(), out, [&](const std::string& item) {
        if (jsonb && HasNul(item)) {
          *error = "a string inside contains a NUL character, which JSONB cannot hold";
          return false;
        }
        core::AppendJsonString(out, item);
        return true;
      });
    case core::ValueType::kNumberSet:
      return AppendJsonArray(value.set(), out, [&](const std::string& item) {
        AppendJsonNumber(item, out);
        return true;
      });
    case core::ValueType::kBinarySet:
      return AppendJsonArray(value.set(), out, [&](const std::string& item) {
        core::AppendJsonString(out, core::Base64Encode(item));
        return true;
      });
  }
  return true;
}

}  // namespace

void AppendPlainJson(const core::Value& value, std::string& out) {
  std::string ignored;
  (void)AppendJsonChecked(value, false, out, &ignored);
}

bool AppendJsonObjectExcept(const core::Value& item, const std::vector<std::string>& omit, bool jsonb,
                            std::string& out, std::string* error) {
  out += '{';
  bool first = true;
  for (const auto& [name, value] : item.map()) {
    if (!omit.empty() && std::find(omit.begin(), omit.end(), name) != omit.end()) continue;
    if (!first) out += ',';
    first = false;
    if (jsonb && HasNul(name)) {
      *error = "an attribute name contains a NUL character, which JSONB cannot hold";
      return false;
    }
    core::AppendJsonString(out, name);
    out += ':';
    if (!AppendJsonChecked(value, jsonb, out, error)) return false;
  }
  out += '}';
  return true;
}

namespace {

// One element of an array literal: NULL bare, anything else double-quoted with " and \ escaped
// (PostgreSQL's array input syntax; COPY's own escaping is applied later, by the sink).
void AppendArrayElement(std::string_view text, std::string& out) {
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

bool TypeConverter::ConvertArray(const Datum& datum, std::string& scratch, std::string_view* out,
                                 std::string* error) const {
  const core::ValueType type = datum.kind == Datum::Kind::kValue ? datum.value->type() : core::ValueType::kNull;
  if (type != core::ValueType::kList && type != core::ValueType::kStringSet && type != core::ValueType::kNumberSet) {
    return WrongType(error, datum, "L, SS or NS (an array column)");
  }
  model::ColumnType element_type = type_;
  element_type.array = false;
  const TypeConverter element_converter(element_type, overflow_);
  std::string element_scratch;
  std::string_view element_text;
  scratch += '{';
  size_t index = 0;
  auto append = [&](const Datum& element) {
    if (index > 0) scratch += ',';
    if (element.is_null()) {
      scratch += "NULL";
    } else {
      std::string reason;
      if (!element_converter.Convert(element, element_scratch, &element_text, &reason)) {
        *error = "element [" + std::to_string(index) + "]: " + reason;
        return false;
      }
      AppendArrayElement(element_text, scratch);
    }
    ++index;
    return true;
  };
  if (type == core::ValueType::kList) {
    for (const core::Value& item : datum.value->list()) {
      if (!append(Datum::FromValue(item))) return false;
    }
  } else {
    const bool numbers = type == core::ValueType::kNumberSet;
    for (const std::string& member : datum.value->set()) {
      if (!append(numbers ? Datum::Number(member) : Datum::String(member))) return false;
    }
  }
  scratch += '}';
  *out = scratch;
  return true;
}

bool TypeConverter::Convert(const Datum& datum, std::string& scratch, std::string_view* out,
                            std::string* error) const {
  scratch.clear();
  if (type_.array) return ConvertArray(datum, scratch, out, error);
  switch (type_.kind) {
    case model::ColumnKind::kText: return ToText(datum, scratch, out, error);
    case model::ColumnKind::kVarchar:
      return ToVarchar(datum, type_.length, overflow_, scratch, out, error);
    case model::ColumnKind::kUuid: return ToUuid(datum, scratch, out, error);
    case model::ColumnKind::kTimestamptz:
    case model::ColumnKind::kTimestamp:
    case model::ColumnKind::kDate: {
      int64_t micros = 0;
      if (!ToMicros(datum, &micros, error)) return false;
      if (type_.kind == model::ColumnKind::kTimestamptz) TimestampText::AppendTimestamptz(micros, scratch);
      else if (type_.kind == model::ColumnKind::kTimestamp) TimestampText::AppendTimestamp(micros, scratch);
      else TimestampText::AppendDate(micros, scratch);
      *out = scratch;
      return true;
    }
    case model::ColumnKind::kBoolean: return ToBoolean(datum, out, error);
    case model::ColumnKind::kSmallint:
    case model::ColumnKind::kInteger:
    case model::ColumnKind::kBigint: return ToInteger(datum, type_.kind, scratch, out, error);
    case model::ColumnKind::kReal: return ToFloat(datum, true, out, error);
    case model::ColumnKind::kDouble: return ToFloat(datum, false, out, error);
    case model::ColumnKind::kNumeric: return ToNumeric(datum, type_, scratch, out, error);
    case model::ColumnKind::kJsonb: return ToJson(datum, true, scratch, out, error);
    case model::ColumnKind::kJson: return ToJson(datum, false, scratch, out, error);
    case model::ColumnKind::kBytea: return ToBytea(datum, scratch, out, error);
  }
  *error = "unsupported column type";
  return false;
}

}  // namespace ddb2pg::processor
