// Value: one DynamoDB AttributeValue, every type the service has.
//
// S, N, B, BOOL, NULL, M, L, SS, NS, BS. Numbers stay the exact decimal text DynamoDB sent (up
// to 38 significant digits) and never pass through a double; conversion to a column type
// happens in the processor, with range checks. Binary values hold the raw bytes (decoded from
// base64 by the codec). Maps keep the order the attributes were decoded in; lookups are linear,
// which beats hashing for the ~30-attribute items this product meets.
//
// Thread-safety: a plain value; const access from many threads is safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ddb2pg::core {

enum class ValueType : uint8_t {
  kNull,
  kBool,
  kString,
  kNumber,
  kBinary,
  kMap,
  kList,
  kStringSet,
  kNumberSet,
  kBinarySet,
};

// The DynamoDB JSON type descriptor: "NULL", "BOOL", "S", "N", "B", "M", "L", "SS", "NS", "BS".
std::string_view TypeDescriptor(ValueType type);

// True for a DynamoDB number: optional sign, digits with an optional point, optional exponent;
// at most 38 significant digits; magnitude within DynamoDB's range (1E-130 to 9.9…E+125) or 0.
bool IsValidNumber(std::string_view text);

class Value {
 public:
  using Map = std::vector<std::pair<std::string, Value>>;
  using List = std::vector<Value>;
  using Elements = std::vector<std::string>;  // members of SS, NS, BS

  Value() = default;  // NULL

  static Value Null() { return Value(); }
  static Value Bool(bool b) { return Value(b); }
  static Value String(std::string s) { return Value(StringData{std::move(s)}); }
  // `decimal` must satisfy IsValidNumber; the codec checks it on decode.
  static Value Number(std::string decimal) { return Value(NumberData{std::move(decimal)}); }
  static Value Binary(std::string bytes) { return Value(BinaryData{std::move(bytes)}); }
  static Value MakeMap(Map entries = {}) { return Value(std::move(entries)); }
  static Value MakeList(List items = {}) { return Value(std::move(items)); }
  static Value StringSet(Elements items) { return Value(StringSetData{std::move(items)}); }
  static Value NumberSet(Elements items) { return Value(NumberSetData{std::move(items)}); }
  static Value BinarySet(Elements items) { return Value(BinarySetData{std::move(items)}); }

  ValueType type() const { return static_cast<ValueType>(data_.index()); }
  // Roughly the heap and inline bytes this value holds (its strings, names and nodes): what a
  // queue of records budgets memory by. Walks the whole value.
  size_t ApproxBytes() const;
  bool is_null() const { return type() == ValueType::kNull; }
  bool is_map() const { return type() == ValueType::kMap; }
  bool is_list() const { return type() == ValueType::kList; }
  bool is_set() const {
    auto t = type();
    return t == ValueType::kStringSet || t == ValueType::kNumberSet || t == ValueType::kBinarySet;
  }

  // Accessors; calling one for another type is a programming error (std::bad_variant_access).
  bool as_bool() const { return std::get<bool>(data_); }
  const std::string& as_string() const { return std::get<StringData>(data_).text; }
  const std::string& number_text() const { return std::get<NumberData>(data_).text; }
  const std::string& binary() const { return std::get<BinaryData>(data_).bytes; }
  const Map& map() const { return std::get<Map>(data_); }
  Map& map() { return std::get<Map>(data_); }
  const List& list() const { return std::get<List>(data_); }
  List& list() { return std::get<List>(data_); }
  // Elements of SS, NS or BS: strings, decimal texts or raw bytes.
  const Elements& set() const;

  // S, N (its text) or B (its bytes); nullptr for other types.
  const std::string* scalar_text() const;

  // Map lookup by attribute name; nullptr when absent or not a map.
  const Value* Find(std::string_view name) const;
  // Adds or replaces an attribute of a map.
  void Set(std::string name, Value value);

  friend bool operator==(const Value& a, const Value& b);
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

  // A short human form for errors and tests, e.g. {"id": S"abc", "n": N5}.
  std::string DebugString() const;

 private:
  struct StringData {
    std::string text;
    bool operator==(const StringData&) const = default;
  };
  struct NumberData {
    std::string text;
    bool operator==(const NumberData&) const = default;
  };
  struct BinaryData {
    std::string bytes;
    bool operator==(const BinaryData&) const = default;
  };
  struct StringSetData {
    Elements items;
    bool operator==(const StringSetData&) const = default;
  };
  struct NumberSetData {
    Elements items;
    bool operator==(const NumberSetData&) const = default;
  };
  struct BinarySetData {
    Elements items;
    bool operator==(const BinarySetData&) const = default;
  };
  // Alternative order matches ValueType.
  using Data = std::variant<std::monostate, bool, StringData, NumberData, BinaryData, Map, List,
                            StringSetData, NumberSetData, BinarySetData>;

  template <typename T>
  explicit Value(T data) : data_(std::move(data)) {}

  Data data_;
};

}  // namespace ddb2pg::core
