#include "core/value.h"

#include <cctype>

namespace ddb2pg::core {

std::string_view TypeDescriptor(ValueType type) {
  switch (type) {
    case ValueType::kNull: return "NULL";
    case ValueType::kBool: return "BOOL";
    case ValueType::kString: return "S";
    case ValueType::kNumber: return "N";
    case ValueType::kBinary: return "B";
    case ValueType::kMap: return "M";
    case ValueType::kList: return "L";
    case ValueType::kStringSet: return "SS";
    case ValueType::kNumberSet: return "NS";
    case ValueType::kBinarySet: return "BS";
  }
  return "?";
}

bool IsValidNumber(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  if (i < n && (text[i] == '-' || text[i] == '+')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  // Significant digits: from the first non-zero digit to the last non-zero digit.
  int first_nonzero_pos = -1;  // position in the digit sequence
  int last_nonzero_pos = -1;
  int digit_index = 0;
  int point_index = -1;  // digit_index at which the point stands
  while (i < n && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (text[i] != '0') {
      if (first_nonzero_pos < 0) first_nonzero_pos = digit_index;
      last_nonzero_pos = digit_index;
    }
    ++digit_index, ++int_digits, ++i;
  }
  if (i < n && text[i] == '.') {
    point_index = digit_index;
    ++i;
    while (i < n && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (text[i] != '0') {
        if (first_nonzero_pos < 0) first_nonzero_pos = digit_index;
        last_nonzero_pos = digit_index;
      }
      ++digit_index, ++frac_digits, ++i;
    }
  }
  if (int_digits + frac_digits == 0) return false;
  long exponent = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < n && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
    size_t exp_digits = 0;
    while (i < n && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (exponent < 100000) exponent = exponent * 10 + (text[i] - '0');
      ++exp_digits, ++i;
    }
    if (exp_digits == 0) return false;
    if (negative) exponent = -exponent;
  }
  if (i != n) return false;
  if (first_nonzero_pos < 0) return true;  // zero
  if (last_nonzero_pos - first_nonzero_pos + 1 > 38) return false;
  // Decimal exponent of the leading significant digit: value = d.ddd × 10^magnitude.
  if (point_index < 0) point_index = digit_index;
  long magnitude = static_cast<long>(point_index) - first_nonzero_pos - 1 + exponent;
  return magnitude >= -130 && magnitude <= 125;
}

const Value::Elements& Value::set() const {
  switch (type()) {
    case ValueType::kStringSet: return std::get<StringSetData>(data_).items;
    case ValueType::kNumberSet: return std::get<NumberSetData>(data_).items;
    case ValueType::kBinarySet: return std::get<BinarySetData>(data_).items;
    default: throw std::bad_variant_access();
  }
}

const std::string* Value::scalar_text() const {
  switch (type()) {
    case ValueType::kString: return &std::get<StringData>(data_).text;
    case ValueType::kNumber: return &std::get<NumberData>(data_).text;
    case ValueType::kBinary: return &std::get<BinaryData>(data_).bytes;
    default: return nullptr;
  }
}

const Value* Value::Find(std::string_view name) const {
  const Map* entries = std::get_if<Map>(&data_);
  if (entries == nullptr) return nullptr;
  for (const auto& [key, value] : *entries) {
    if (key == name) return &value;
  }
  return nullptr;
}

void Value::Set(std::string name, Value value) {
  Map& entries = std::get<Map>(data_);
  for (auto& [key, existing] : entries) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(name), std::move(value));
}

bool operator==(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  if (a.type() != ValueType::kMap) return a.data_ == b.data_;
  // Maps are equal regardless of attribute order, as in DynamoDB.
  const auto& am = a.map();
  const auto& bm = b.map();
  if (am.size() != bm.size()) return false;
  for (const auto& [key, value] : am) {
    const Value* other = b.Find(key);
    if (other == nullptr || !(*other == value)) return false;
  }
  return true;
}

namespace {
void AppendQuoted(std::string& out, const std::string& text) {
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

void AppendByteCount(std::string& out, size_t count) {
  out += "B<";
  out += std::to_string(count);
  out += " bytes>";
}

void AppendDebug(std::string& out, const Value& v) {
  switch (v.type()) {
    case ValueType::kNull: out += "NULL"; return;
    case ValueType::kBool: out += v.as_bool() ? "true" : "false"; return;
    case ValueType::kString: out += 'S'; AppendQuoted(out, v.as_string()); return;
    case ValueType::kNumber: out += 'N'; out += v.number_text(); return;
    case ValueType::kBinary: AppendByteCount(out, v.binary().size()); return;
    case ValueType::kMap: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : v.map()) {
        if (!first) out += ", ";
        first = false;
        AppendQuoted(out, key);
        out += ": ";
        AppendDebug(out, value);
      }
      out += '}';
      return;
    }
    case ValueType::kList: {
      out += '[';
      bool first = true;
      for (const auto& item : v.list()) {
        if (!first) out += ", ";
        first = false;
        AppendDebug(out, item);
      }
      out += ']';
      return;
    }
    case ValueType::kStringSet:
    case ValueType::kNumberSet:
    case ValueType::kBinarySet: {
      out += TypeDescriptor(v.type());
      out += '[';
      bool first = true;
      for (const auto& item : v.set()) {
        if (!first) out += ", ";
        first = false;
        if (v.type() == ValueType::kBinarySet) {
          AppendByteCount(out, item.size());
        } else {
          AppendQuoted(out, item);
        }
      }
      out += ']';
      return;
    }
  }
}
}  // namespace

std::string Value::DebugString() const {
  std::string out;
  AppendDebug(out, *this);
  return out;
}

size_t Value::ApproxBytes() const {
  size_t bytes = sizeof(Value);
  switch (type()) {
    case ValueType::kString: return bytes + as_string().size();
    case ValueType::kNumber: return bytes + number_text().size();
    case ValueType::kBinary: return bytes + binary().size();
    case ValueType::kMap:
      for (const auto& [name, value] : map()) bytes += sizeof(std::string) + name.size() + value.ApproxBytes();
      return bytes;
    case ValueType::kList:
      for (const auto& value : list()) bytes += value.ApproxBytes();
      return bytes;
    case ValueType::kStringSet:
    case ValueType::kNumberSet:
    case ValueType::kBinarySet:
      for (const auto& element : set()) bytes += sizeof(std::string) + element.size();
      return bytes;
    default: return bytes;
  }
}

}  // namespace ddb2pg::core
