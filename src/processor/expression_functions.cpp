// The operators (ordering, ||, arithmetic) and the functions whose arguments are all evaluated
// before the call: everything from concat() on in expression.h. Errors are built only when they
// happen and always name the operator's or call's position.
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <re2/re2.h>

#include "core/base64.h"
#include "core/civil_days.h"
#include "core/json_writer.h"
#include "processor/decimal_number.h"
#include "processor/decimal_text.h"
#include "processor/expression.h"
#include "processor/expression_node.h"
#include "processor/timestamp_text.h"
#include "processor/type_converter.h"

namespace ddb2pg::processor {

namespace {

using Kind = Datum::Kind;

const char* OperatorName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kLess: return "<";
    case NodeKind::kLessEqual: return "<=";
    case NodeKind::kGreater: return ">";
    case NodeKind::kGreaterEqual: return ">=";
    case NodeKind::kConcat: return "||";
    case NodeKind::kAdd: return "+";
    case NodeKind::kSubtract: return "-";
    case NodeKind::kMultiply: return "*";
    case NodeKind::kDivide: return "/";
    case NodeKind::kRemainder: return "%";
    case NodeKind::kNegate: return "unary -";
    default: return "?";
  }
}

// "substr()" for a call, "+" for an operator: how errors name what failed.
std::string What(const Expression::Node& node) {
  if (node.kind == NodeKind::kCall) return std::string(node.function_name) + "()";
  return OperatorName(node.kind);
}

bool Expected(const Expression::Node& node, const char* expected, const Datum& got, core::Status* error) {
  return PositionError(node, What(node) + " expects " + expected + ", got " + got.Describe(), error);
}

bool Scratch(const EvalContext& context, core::Status* error) {
  if (context.strings == nullptr || context.values == nullptr) {
    *error = core::Status::Internal("expression evaluated without a scratch for strings and values");
    return false;
  }
  return true;
}

bool KeepText(const EvalContext& context, std::string text, Datum* out, core::Status* error) {
  if (!Scratch(context, error)) return false;
  context.strings->push_back(std::move(text));
  *out = Datum::String(context.strings->back());
  return true;
}

bool KeepValue(const EvalContext& context, core::Value value, Datum* out, core::Status* error) {
  if (!Scratch(context, error)) return false;
  context.values->push_back(std::move(value));
  *out = Datum::FromValue(context.values->back());
  return true;
}

bool KeepNumber(const Expression::Node& node, const EvalContext& context, const DecimalNumber& number,
                Datum* out, core::Status* error) {
  if (!number.InRange()) {
    return PositionError(node, "the result of " + What(node) + " (" + number.ToText() +
                                   ") is outside DynamoDB's number range (1E-130 to 9.9E+125)",
                         error);
  }
  if (!KeepText(context, number.ToText(), out, error)) return false;
  out->kind = Kind::kNumber;
  return true;
}

bool NumberArg(const Expression::Node& node, const Datum& datum, DecimalNumber* out, core::Status* error) {
  const bool call = node.kind == NodeKind::kCall;
  if (datum.kind != Kind::kNumber) {
    if (datum.kind == Kind::kString) {
      return Expected(node, call ? "a number (use to_number() for an S)" : "numbers (use to_number() for an S)",
                      datum, error);
    }
    return Expected(node, call ? "a number" : "numbers", datum, error);
  }
  auto parsed = DecimalNumber::Parse(datum.text);
  if (!parsed) return Expected(node, call ? "a number" : "numbers", datum, error);
  *out = std::move(*parsed);
  return true;
}

// A whole number within ±limit (positions, lengths, digits, groups).
bool IntegerArg(const Expression::Node& node, const char* what, const Datum& datum, int64_t limit, int64_t* out,
                core::Status* error) {
  std::optional<DecimalNumber> number;
  if (datum.kind == Kind::kNumber) number = DecimalNumber::Parse(datum.text);
  if (!number || !number->ToInt64(out) || *out > limit || *out < -limit) {
    return PositionError(node, What(node) + ": " + what + " must be a whole number, got " + datum.Describe(), error);
  }
  return true;
}

// S, or N as its text.
bool TextArg(const Expression::Node& node, const Datum& datum, std::string_view* out, core::Status* error) {
  if (datum.kind == Kind::kString || datum.kind == Kind::kNumber) {
    *out = datum.text;
    return true;
  }
  return Expected(node, "a string", datum, error);
}

void AppendJson(const Datum& datum, std::string& out) {
  switch (datum.kind) {
    case Kind::kNull: out += "null"; break;
    case Kind::kBool: out += datum.boolean ? "true" : "false"; break;
    case Kind::kString: core::AppendJsonString(out, datum.text); break;
    case Kind::kNumber: {
      auto number = DecimalText::Parse(datum.text);
      out += number ? number->JsonNumber() : std::string("null");
      break;
    }
    case Kind::kTimestamp:
      out += '"';
      TimestampText::AppendIso(datum.micros, out);
      out += '"';
      break;
    case Kind::kValue: AppendPlainJson(*datum.value, out); break;
  }
}

// to_text(): S as is, N its text, BOOL true/false, a time ISO-8601, B base64, M/L/sets JSON.
void AppendText(const Datum& datum, std::string& out) {
  switch (datum.kind) {
    case Kind::kString:
    case Kind::kNumber: out += datum.text; break;
    case Kind::kTimestamp: TimestampText::AppendIso(datum.micros, out); break;
    case Kind::kValue:
      if (datum.value->type() == core::ValueType::kBinary) {
        out += core::Base64Encode(datum.value->binary());
        break;
      }
      AppendJson(datum, out);
      break;
    default: AppendJson(datum, out); break;
  }
}

// A time: a timestamp, an S in ISO-8601 or an N of epoch seconds/milliseconds (as TIMESTAMPTZ).
bool TimeArg(const Expression::Node& node, const Datum& datum, int64_t* micros, core::Status* error) {
  std::string reason;
  std::optional<int64_t> parsed;
  switch (datum.kind) {
    case Kind::kTimestamp: *micros = datum.micros; return true;
    case Kind::kString:
      parsed = TimestampText::ParseIso(datum.text, &reason);
      if (!parsed) return PositionError(node, What(node) + ": " + datum.Describe() + " is not an ISO-8601 time: " + reason, error);
      *micros = *parsed;
      return true;
    case Kind::kNumber: {
      auto number = DecimalText::Parse(datum.text);
      if (number) parsed = TimestampText::FromEpochNumber(*number, &reason);
      if (!parsed) return PositionError(node, What(node) + ": " + datum.Describe() + " is not an epoch time: " + reason, error);
      *micros = *parsed;
      return true;
    }
    default: return Expected(node, "a time (timestamp, ISO-8601 S or epoch N)", datum, error);
  }
}

size_t Utf8Length(std::string_view text) {
  size_t count = 0;
  for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return count;
}

// Byte offset of the character with 0-based index `index` (text.size() past the end).
size_t Utf8Offset(std::string_view text, size_t index) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (count == index) return i;
      ++count;
    }
  }
  return text.size();
}


bool IsLeap(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

constexpr const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                   "jul", "aug", "sep", "oct", "nov", "dec"};

// parse_time(): `text` read by a strftime-style `format`; false with *why set when it does not
// match. Directives: %Y %m %d %H %M %S %f %z %b %s %%; anything else matches itself.
bool ParseWithFormat(std::string_view text, std::string_view format, int64_t* micros, std::string* why) {
  int64_t year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, fraction = 0, offset = 0;
  bool epoch = false;
  int64_t epoch_seconds = 0;
  size_t t = 0;
  auto digits = [&](size_t min, size_t max, int64_t* value) {
    size_t n = 0;
    int64_t v = 0;
    while (n < max && t < text.size() && text[t] >= '0' && text[t] <= '9') {
      v = v * 10 + (text[t++] - '0');
      ++n;
    }
    *value = v;
    return n >= min;
  };
  for (size_t f = 0; f < format.size(); ++f) {
    const size_t at = t;
    auto fail = [&](const std::string& what) {
      *why = "expected " + what + " at character " + std::to_string(at + 1);
      return false;
    };
    if (format[f] != '%') {
      if (t >= text.size() || text[t] != format[f]) return fail("'" + std::string(1, format[f]) + "'");
      ++t;
      continue;
    }
    if (++f >= format.size()) {
      *why = "the format ends in a lone '%'";
      return false;
    }
    switch (format[f]) {
      case 'Y': if (!digits(4, 4, &year)) return fail("a 4-digit year (%Y)"); break;
      case 'm': if (!digits(1, 2, &month)) return fail("a month (%m)"); break;
      case 'd': if (!digits(1, 2, &day)) return fail("a day (%d)"); break;
      case 'H': if (!digits(1, 2, &hour)) return fail("an hour (%H)"); break;
      case 'M': if (!digits(1, 2, &minute)) return fail("minutes (%M)"); break;
      case 'S': if (!digits(1, 2, &second)) return fail("seconds (%S)"); break;
      case 'f': {
        const size_t begin = t;
        int64_t value = 0;
        if (!digits(1, 9, &value)) return fail("fraction digits (%f)");
        for (size_t n = t - begin; n < 6; ++n) value *= 10;
        for (size_t n = t - begin; n > 6; --n) value /= 10;  // beyond microseconds: cut
        fraction = value;
        break;
      }
      case 'z': {
        if (t < text.size() && (text[t] == 'Z' || text[t] == 'z')) {
          ++t;
          offset = 0;
          break;
        }
        if (t >= text.size() || (text[t] != '+' && text[t] != '-')) return fail("a zone: Z or ±HH:MM (%z)");
        const bool negative = text[t++] == '-';
        int64_t hours = 0, minutes = 0;
        if (!digits(2, 2, &hours)) return fail("a zone: Z or ±HH:MM (%z)");
        if (t < text.size() && text[t] == ':') ++t;
        if (!digits(2, 2, &minutes)) return fail("a zone: Z or ±HH:MM (%z)");
        if (hours > 15 || minutes > 59) return fail("a zone up to ±15:59 (%z)");
        offset = (hours * 60 + minutes) * 60 * (negative ? -1 : 1);
        break;
      }
      case 'b': {
        bool found = false;
        for (int64_t k = 0; k < 12 && !found; ++k) {
          if (t + 3 <= text.size()) {
            std::string word(text.substr(t, 3));
            for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (word == kMonths[k]) {
              month = k + 1;
              t += 3;
              found = true;
            }
          }
        }
        if (!found) return fail("a month name (%b: Jan … Dec)");
        break;
      }
      case 's': {
        const bool negative = t < text.size() && text[t] == '-';
        if (negative) ++t;
        if (!digits(1, 12, &epoch_seconds)) return fail("epoch seconds (%s)");
        if (negative) epoch_seconds = -epoch_seconds;
        epoch = true;
        break;
      }
      case '%':
        if (t >= text.size() || text[t] != '%') return fail("'%'");
        ++t;
        break;
      default:
        *why = "unknown directive %" + std::string(1, format[f]) + " in the format (known: %Y %m %d %H %M %S %f %z %b %s %%)";
        return false;
    }
  }
  if (t != text.size()) {
    *why = "unexpected text after the format at character " + std::to_string(t + 1);
    return false;
  }
  if (epoch) {
    *micros = epoch_seconds * 1000000 + fraction;
  } else {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1 || month < 1 || month > 12 || day < 1 ||
        day > kDays[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0) || hour > 23 || minute > 59 || second > 59) {
      *why = "not a valid date and time";
      return false;
    }
    *micros = ((core::DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second) - offset) * 1000000 +
              fraction;
  }
  if (*micros < TimestampText::kMinMicros || *micros > TimestampText::kMaxMicros) {
    *why = "outside the years 0001 to 9999";
    return false;
  }
  return true;
}

void AppendPadded(int64_t value, int width, std::string& out) {
  std::string digits = std::to_string(value);
  if (digits.size() < static_cast<size_t>(width)) out.append(static_cast<size_t>(width) - digits.size(), '0');
  out += digits;
}

// format_time(): the UTC time written by a strftime-style format (%Y %m %d %H %M %S %f %j %b
// %z %Z %s %%).
bool FormatWithFormat(int64_t micros, std::string_view format, std::string& out, std::string* why) {
  const int64_t seconds = micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
  const int64_t fraction = micros - seconds * 1000000;
  const int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  const int64_t of_day = seconds - days * 86400;
  const core::CivilDate civil = core::CivilFromDays(days);
  const int64_t year = civil.year;
  const int64_t month = civil.month;
  const int64_t day = civil.day;
  for (size_t f = 0; f < format.size(); ++f) {
    if (format[f] != '%') {
      out += format[f];
      continue;
    }
    if (++f >= format.size()) {
      *why = "the format ends in a lone '%'";
      return false;
    }
    switch (format[f]) {
      case 'Y': AppendPadded(year, 4, out); break;
      case 'm': AppendPadded(month, 2, out); break;
      case 'd': AppendPadded(day, 2, out); break;
      case 'H': AppendPadded(of_day / 3600, 2, out); break;
      case 'M': AppendPadded(of_day / 60 % 60, 2, out); break;
      case 'S': AppendPadded(of_day % 60, 2, out); break;
      case 'f': AppendPadded(fraction, 6, out); break;
      case 'j': AppendPadded(days - core::DaysFromCivil(year, 1, 1) + 1, 3, out); break;
      case 'b': {
        std::string name = kMonths[month - 1];
        name[0] = static_cast<char>(name[0] - 'a' + 'A');
        out += name;
        break;
      }
      case 'z': out += "+00:00"; break;
      case 'Z': out += "UTC"; break;
      case 's': out += std::to_string(seconds); break;
      case '%': out += '%'; break;
      default:
        *why = "unknown directive %" + std::string(1, format[f]) +
               " in the format (known: %Y %m %d %H %M %S %f %j %b %z %Z %s %%)";
        return false;
    }
  }
  return true;
}

bool Digest(const EVP_MD* md, std::string_view bytes, std::string& out) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, md, nullptr) != 1) return false;
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return true;
}

bool Ordering(const Expression::Node& node, const Datum& a, const Datum& b, Datum* out, core::Status* error) {
  if (a.is_null() || b.is_null()) {
    *out = Datum::Null();
    return true;
  }
  int order = 0;
  if (a.kind == Kind::kNumber && b.kind == Kind::kNumber) {
    auto x = DecimalNumber::Parse(a.text);
    auto y = DecimalNumber::Parse(b.text);
    if (!x || !y) return Expected(node, "numbers", x ? b : a, error);
    order = DecimalNumber::Compare(*x, *y);
  } else if (a.kind == Kind::kString && b.kind == Kind::kString) {
    const int c = a.text.compare(b.text);  // bytes: UTF-8 code point order
    order = c < 0 ? -1 : c > 0 ? 1 : 0;
  } else if ((a.kind == Kind::kTimestamp || b.kind == Kind::kTimestamp) &&
             (a.kind == Kind::kTimestamp || a.kind == Kind::kString) &&
             (b.kind == Kind::kTimestamp || b.kind == Kind::kString)) {
    int64_t x = 0, y = 0;
    if (!TimeArg(node, a, &x, error) || !TimeArg(node, b, &y, error)) return false;
    order = x < y ? -1 : x > y ? 1 : 0;
  } else {
    return PositionError(node, What(node) + " compares two numbers, two strings or two times, got " + a.Describe() +
                                   " and " + b.Describe(),
                         error);
  }
  bool result = false;
  switch (node.kind) {
    case NodeKind::kLess: result = order < 0; break;
    case NodeKind::kLessEqual: result = order <= 0; break;
    case NodeKind::kGreater: result = order > 0; break;
    default: result = order >= 0; break;
  }
  *out = Datum::Bool(result);
  return true;
}

bool Concatenate(const Expression::Node& node, const EvalContext& context, const Datum& a, const Datum& b,
                 Datum* out, core::Status* error) {
  if (a.is_null() || b.is_null()) {
    *out = Datum::Null();
    return true;
  }
  std::string text;
  for (const Datum* operand : {&a, &b}) {
    switch (operand->kind) {
      case Kind::kString:
      case Kind::kNumber:
      case Kind::kTimestamp: AppendText(*operand, text); break;
      case Kind::kBool:
        return PositionError(node, "'||' joins text, got " + operand->Describe() +
                                       " (it is no longer a logical or; write 'or')",
                             error);
      default:
        return PositionError(node, "'||' joins text, got " + operand->Describe() +
                                       " (write json(x) or to_text(x) for maps, lists and sets)",
                             error);
    }
  }
  return KeepText(context, std::move(text), out, error);
}

bool Arithmetic(const Expression::Node& node, const EvalContext& context, const Datum* args, Datum* out,
                core::Status* error) {
  const size_t count = node.kind == NodeKind::kNegate ? 1 : 2;
  for (size_t i = 0; i < count; ++i) {
    if (args[i].is_null()) {
      *out = Datum::Null();
      return true;
    }
  }
  if (args[0].kind == Kind::kNumber && args[1].kind == Kind::kNumber &&
      (node.kind == NodeKind::kAdd || node.kind == NodeKind::kSubtract || node.kind == NodeKind::kMultiply)) {
    std::string text;
    const char op = node.kind == NodeKind::kAdd ? '+' : node.kind == NodeKind::kSubtract ? '-' : '*';
    if (DecimalNumber::TryPlainArithmetic(op, args[0].text, args[1].text, &text)) {
      if (!KeepText(context, std::move(text), out, error)) return false;
      out->kind = Kind::kNumber;
      return true;
    }
  }
  DecimalNumber x, y;
  if (!NumberArg(node, args[0], &x, error)) return false;
  if (count == 2 && !NumberArg(node, args[1], &y, error)) return false;
  std::optional<DecimalNumber> result;
  switch (node.kind) {
    case NodeKind::kAdd: result = DecimalNumber::Add(x, y); break;
    case NodeKind::kSubtract: result = DecimalNumber::Subtract(x, y); break;
    case NodeKind::kMultiply: result = DecimalNumber::Multiply(x, y); break;
    case NodeKind::kDivide: result = DecimalNumber::Divide(x, y); break;
    case NodeKind::kRemainder: result = DecimalNumber::Remainder(x, y); break;
    default: result = x.Negated(); break;
  }
  if (!result) return PositionError(node, std::string("division by zero in '") + OperatorName(node.kind) + "'", error);
  return KeepNumber(node, context, *result, out, error);
}

bool AnyNull(const Datum* args, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (args[i].is_null()) return true;
  }
  return false;
}

bool CallFunction(const Expression::Node& node, const Datum* args, size_t count, const EvalContext& context,
                  Datum* out, core::Status* error) {
  const Function function = node.function;
  // item(), item_except() and concat() read no arguments / handle null themselves; every other
  // function gives null for a null argument.
  if (function != Function::kConcat && function != Function::kItem && function != Function::kItemExcept &&
      AnyNull(args, count)) {
    *out = Datum::Null();
    return true;
  }
  switch (function) {
    case Function::kConcat: {
      std::string text;
      for (size_t i = 0; i < count; ++i) {
        if (!args[i].is_null()) AppendText(args[i], text);
      }
      return KeepText(context, std::move(text), out, error);
    }
    case Function::kSubstr: {
      std::string_view text;
      int64_t start = 0, length = 0;
      if (!TextArg(node, args[0], &text, error)) return false;
      if (!IntegerArg(node, "start", args[1], INT32_MAX, &start, error)) return false;
      const int64_t total = static_cast<int64_t>(Utf8Length(text));
      int64_t end = total + 1;  // exclusive, 1-based
      if (count == 3) {
        if (!IntegerArg(node, "length", args[2], INT32_MAX, &length, error)) return false;
        if (length < 0) return PositionError(node, "substr(): negative length " + std::to_string(length), error);
        end = std::min(end, start + length);
      }
      const int64_t first = std::max<int64_t>(start, 1);
      if (end <= first) {
        *out = Datum::String(text.substr(text.size()));
        return true;
      }
      const size_t begin_byte = Utf8Offset(text, static_cast<size_t>(first - 1));
      const size_t end_byte = Utf8Offset(text, static_cast<size_t>(end - 1));
      *out = Datum::String(text.substr(begin_byte, end_byte - begin_byte));
      return true;
    }
    case Function::kLength: {
      int64_t length = 0;
      if (args[0].kind == Kind::kString) {
        length = static_cast<int64_t>(Utf8Length(args[0].text));
      } else if (args[0].kind == Kind::kValue) {
        const core::Value& value = *args[0].value;
        switch (value.type()) {
          case core::ValueType::kList: length = static_cast<int64_t>(value.list().size()); break;
          case core::ValueType::kMap: length = static_cast<int64_t>(value.map().size()); break;
          case core::ValueType::kBinary: length = static_cast<int64_t>(value.binary().size()); break;
          default: length = static_cast<int64_t>(value.set().size()); break;
        }
      } else {
        return Expected(node, "a string, list, map, set or binary", args[0], error);
      }
      return KeepNumber(node, context, DecimalNumber::FromInteger(length), out, error);
    }
    case Function::kReplace: {
      std::string_view text, from, to;
      if (!TextArg(node, args[0], &text, error) || !TextArg(node, args[1], &from, error) ||
          !TextArg(node, args[2], &to, error)) {
        return false;
      }
      if (from.empty() || text.find(from) == std::string_view::npos) {
        *out = Datum::String(text);
        return true;
      }
      std::string result;
      size_t at = 0;
      for (size_t found; (found = text.find(from, at)) != std::string_view::npos; at = found + from.size()) {
        result.append(text.substr(at, found - at));
        result.append(to);
      }
      result.append(text.substr(at));
      return KeepText(context, std::move(result), out, error);
    }
    case Function::kRegexMatch: {
      std::string_view text;
      if (!TextArg(node, args[0], &text, error)) return false;
      *out = Datum::Bool(RE2::PartialMatch(text, *node.regex));
      return true;
    }
    case Function::kRegexExtract: {
      std::string_view text;
      if (!TextArg(node, args[0], &text, error)) return false;
      int64_t group = 0;
      if (count == 3) {
        if (!IntegerArg(node, "group", args[2], 1000, &group, error)) return false;
        if (group < 0 || group > node.regex->NumberOfCapturingGroups()) {
          return PositionError(node, "regex_extract(): the pattern has no group " + std::to_string(group) + " (it has " +
                                         std::to_string(node.regex->NumberOfCapturingGroups()) + ")",
                               error);
        }
      }
      const int wanted = static_cast<int>(group) + 1;
      re2::StringPiece inline_groups[16];
      std::vector<re2::StringPiece> more_groups;
      re2::StringPiece* groups = inline_groups;
      if (wanted > 16) {
        more_groups.resize(static_cast<size_t>(wanted));
        groups = more_groups.data();
      }
      const auto index = static_cast<size_t>(group);
      if (!node.regex->Match(text, 0, text.size(), RE2::UNANCHORED, groups, wanted) ||
          groups[index].data() == nullptr) {
        *out = Datum::Null();
        return true;
      }
      *out = Datum::String(std::string_view(groups[index].data(), groups[index].size()));
      return true;
    }
    case Function::kRegexReplace: {
      std::string_view text, rewrite;
      if (!TextArg(node, args[0], &text, error) || !TextArg(node, args[2], &rewrite, error)) return false;
      std::string why;
      if (!node.regex->CheckRewriteString(rewrite, &why)) {
        return PositionError(node, "regex_replace(): bad replacement '" + std::string(rewrite) + "': " + why, error);
      }
      std::string result(text);
      RE2::GlobalReplace(&result, *node.regex, rewrite);
      return KeepText(context, std::move(result), out, error);
    }
    case Function::kSplit: {
      std::string_view text, separator;
      if (!TextArg(node, args[0], &text, error) || !TextArg(node, args[1], &separator, error)) return false;
      if (separator.empty()) return PositionError(node, "split(): the separator is empty", error);
      core::Value::List parts;
      size_t at = 0;
      while (true) {
        const size_t found = text.find(separator, at);
        if (found == std::string_view::npos) break;
        parts.push_back(core::Value::String(std::string(text.substr(at, found - at))));
        at = found + separator.size();
      }
      parts.push_back(core::Value::String(std::string(text.substr(at))));
      return KeepValue(context, core::Value::MakeList(std::move(parts)), out, error);
    }
    case Function::kJoin: {
      std::string_view separator;
      if (!TextArg(node, args[1], &separator, error)) return false;
      if (args[0].kind != Kind::kValue || args[0].value->is_map() ||
          args[0].value->type() == core::ValueType::kBinary) {
        return Expected(node, "a list or a set", args[0], error);
      }
      const core::Value& collection = *args[0].value;
      std::string text;
      bool first = true;
      if (collection.is_list()) {
        const auto& items = collection.list();
        for (size_t i = 0; i < items.size(); ++i) {
          const Datum element = Datum::FromValue(items[i]);
          if (element.is_null()) continue;
          if (element.kind == Kind::kValue) {
            return PositionError(node, "join(): element [" + std::to_string(i) + "] is " + element.Describe() +
                                           ", not text",
                                 error);
          }
          if (!first) text += separator;
          first = false;
          AppendText(element, text);
        }
      } else {
        const bool binary = collection.type() == core::ValueType::kBinarySet;
        for (const std::string& member : collection.set()) {
          if (!first) text += separator;
          first = false;
          text += binary ? core::Base64Encode(member) : member;
        }
      }
      return KeepText(context, std::move(text), out, error);
    }
    case Function::kRound:
    case Function::kAbs:
    case Function::kFloor:
    case Function::kCeil: {
      DecimalNumber number;
      if (!NumberArg(node, args[0], &number, error)) return false;
      int64_t digits = 0;
      if (count == 2 && !IntegerArg(node, "digits", args[1], 1000, &digits, error)) return false;
      const DecimalNumber result =
          function == Function::kRound   ? number.Rounded(digits, DecimalNumber::Rounding::kHalfAwayFromZero)
          : function == Function::kFloor ? number.Rounded(0, DecimalNumber::Rounding::kFloor)
          : function == Function::kCeil  ? number.Rounded(0, DecimalNumber::Rounding::kCeiling)
                                         : number.Absolute();
      return KeepNumber(node, context, result, out, error);
    }
    case Function::kToText: {
      if (args[0].kind == Kind::kString) {
        *out = args[0];
        return true;
      }
      if (args[0].kind == Kind::kNumber) {
        *out = Datum::String(args[0].text);
        return true;
      }
      std::string text;
      AppendText(args[0], text);
      return KeepText(context, std::move(text), out, error);
    }
    case Function::kToNumber: {
      if (args[0].kind != Kind::kString && args[0].kind != Kind::kNumber) {
        return Expected(node, "an S holding a number", args[0], error);
      }
      if (!core::IsValidNumber(args[0].text)) {
        return PositionError(node, "to_number(): " + args[0].Describe() +
                                       " is not a number (at most 38 significant digits, 1E-130 to 9.9E+125)",
                             error);
      }
      *out = Datum::Number(args[0].text);
      return true;
    }
    case Function::kParseTime: {
      std::string_view text, format;
      if (!TextArg(node, args[0], &text, error) || !TextArg(node, args[1], &format, error)) return false;
      int64_t micros = 0;
      std::string why;
      if (!ParseWithFormat(text, format, &micros, &why)) {
        return PositionError(node, "parse_time(): " + args[0].Describe() + " does not match the format '" +
                                       std::string(format) + "': " + why,
                             error);
      }
      *out = Datum::Timestamp(micros);
      return true;
    }
    case Function::kFormatTime: {
      int64_t micros = 0;
      std::string_view format;
      if (!TimeArg(node, args[0], &micros, error) || !TextArg(node, args[1], &format, error)) return false;
      std::string text, why;
      if (!FormatWithFormat(micros, format, text, &why)) {
        return PositionError(node, "format_time(): " + why, error);
      }
      return KeepText(context, std::move(text), out, error);
    }
    case Function::kEpochMs: {
      int64_t micros = 0;
      if (!TimeArg(node, args[0], &micros, error)) return false;
      const int64_t millis = micros >= 0 ? micros / 1000 : -((-micros + 999) / 1000);
      return KeepNumber(node, context, DecimalNumber::FromInteger(millis), out, error);
    }
    case Function::kSha256:
    case Function::kMd5: {
      std::string_view bytes;
      if (args[0].kind == Kind::kString || args[0].kind == Kind::kNumber) {
        bytes = args[0].text;
      } else if (args[0].kind == Kind::kValue && args[0].value->type() == core::ValueType::kBinary) {
        bytes = args[0].value->binary();
      } else {
        return Expected(node, "S, N or B (hash json(x) for other values)", args[0], error);
      }
      std::string hex;
      if (!Digest(function == Function::kSha256 ? EVP_sha256() : EVP_md5(), bytes, hex)) {
        return PositionError(node, What(node) + ": the digest failed", error);
      }
      return KeepText(context, std::move(hex), out, error);
    }
    case Function::kJson: {
      std::string text;
      AppendJson(args[0], text);
      return KeepText(context, std::move(text), out, error);
    }
    case Function::kItem:
      *out = context.image == nullptr ? Datum::Null() : Datum::FromValue(*context.image);
      return true;
    case Function::kItemExcept: {
      if (context.image == nullptr || !context.image->is_map()) {
        *out = Datum::Null();
        return true;
      }
      core::Value::Map kept;
      for (const auto& entry : context.image->map()) {
        if (std::find(node.names.begin(), node.names.end(), entry.first) == node.names.end()) kept.push_back(entry);
      }
      return KeepValue(context, core::Value::MakeMap(std::move(kept)), out, error);
    }
    case Function::kKeys:
    case Function::kValues: {
      if (args[0].kind != Kind::kValue || !args[0].value->is_map()) return Expected(node, "a map (M)", args[0], error);
      core::Value::List items;
      for (const auto& [name, value] : args[0].value->map()) {
        items.push_back(function == Function::kKeys ? core::Value::String(name) : value);
      }
      return KeepValue(context, core::Value::MakeList(std::move(items)), out, error);
    }
    default: break;
  }
  *error = core::Status::Internal("unknown function");
  return false;
}

}  // namespace

bool ApplyStrict(const Expression::Node& node, const Datum* args, size_t count, const EvalContext& context,
                 Datum* out, core::Status* error) {
  switch (node.kind) {
    case NodeKind::kLess:
    case NodeKind::kLessEqual:
    case NodeKind::kGreater:
    case NodeKind::kGreaterEqual: return Ordering(node, args[0], args[1], out, error);
    case NodeKind::kConcat: return Concatenate(node, context, args[0], args[1], out, error);
    case NodeKind::kAdd:
    case NodeKind::kSubtract:
    case NodeKind::kMultiply:
    case NodeKind::kDivide:
    case NodeKind::kRemainder:
    case NodeKind::kNegate: return Arithmetic(node, context, args, out, error);
    case NodeKind::kCall: return CallFunction(node, args, count, context, out, error);
    default: break;
  }
  *error = core::Status::Internal("not an operator");
  return false;
}

}  // namespace ddb2pg::processor
