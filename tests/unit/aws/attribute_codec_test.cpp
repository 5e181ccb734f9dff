#include "aws/attribute_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../../../bench/reference_data.h"
#include "core/value_json.h"

namespace ddb2pg::aws {
namespace {

using core::StatusCode;
using core::Value;

Value RoundTrip(const Value& item) {
  const std::string json = core::ItemToJson(item);
  core::Result<Value> decoded = ParseItemJson(json);
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString() << "\n" << json;
  return decoded.ok() ? std::move(decoded).value() : Value();
}

void ExpectRoundTrip(const Value& item) {
  Value decoded = RoundTrip(item);
  EXPECT_EQ(decoded, item) << decoded.DebugString() << "\nexpected " << item.DebugString();
}

// Decodes `json` and expects an InvalidArgument whose message contains `expected`.
void ExpectError(std::string_view json, std::string_view expected) {
  core::Result<Value> decoded = ParseItemJson(json);
  ASSERT_FALSE(decoded.ok()) << "decoded " << json << " as " << decoded->DebugString();
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << decoded.status().ToString();
  EXPECT_NE(decoded.status().message().find(expected), std::string::npos)
      << "message: " << decoded.status().message() << "\nexpected to contain: " << expected;
}

TEST(AttributeCodec, RoundTripsEveryScalarType) {
  ExpectRoundTrip(Value::MakeMap({
      {"s", Value::String("hello")},
      {"n", Value::Number("42")},
      {"b", Value::Binary(std::string("\x00\x01\xfe\xff", 4))},
      {"t", Value::Bool(true)},
      {"f", Value::Bool(false)},
      {"null", Value::Null()},
      {"empty", Value::String("")},
      {"emptyBinary", Value::Binary("")},
  }));
}

// Found by fuzz/targets/attribute_value.cpp: a repeated name made a map unequal to itself (lookups
// saw the first value, encoding wrote both).
TEST(AttributeCodec, RejectsAnAttributeNameRepeatedInOneMap) {
  ExpectError(R"({"a":{"S":"x"},"a":{"S":"y"}})", "attribute name \"a\" appears twice");
  ExpectError(R"({"id":{"S":"k"},"m":{"M":{"b":{"N":"1"},"c":{"N":"2"},"b":{"N":"3"}}}})",
              "m: attribute name \"b\" appears twice");
  std::string wide = "{";
  for (int i = 0; i < 40; ++i) wide += "\"a" + std::to_string(i) + "\":{\"N\":\"1\"},";
  ExpectError(wide + R"("a7":{"S":"again"}})", "attribute name \"a7\" appears twice");
}

TEST(AttributeCodec, KeepsNumberTextExactly) {
  const std::vector<std::string> numbers = {
      "0", "-0", "5", "-17", "3.14", "12345678901234567890123456789012345678", "-1.5E-130",
      "9.9999999999999999999999999999999999999E+125", "1e-130", "0.000001", "100", "1.50", "+7",
  };
  Value::Map entries;
  for (size_t i = 0; i < numbers.size(); ++i) entries.emplace_back("n" + std::to_string(i), Value::Number(numbers[i]));
  Value item = Value::MakeMap(std::move(entries));
  Value decoded = RoundTrip(item);
  ASSERT_TRUE(decoded.is_map());
  for (size_t i = 0; i < numbers.size(); ++i) {
    const Value* n = decoded.Find("n" + std::to_string(i));
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->number_text(), numbers[i]);
  }
  ExpectRoundTrip(Value::MakeMap({{"ns", Value::NumberSet({"1", "-1.5E-130", "12345678901234567890123456789012345678"})}}));
}

TEST(AttributeCodec, BinaryWithAllByteValues) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  ExpectRoundTrip(Value::MakeMap({{"b", Value::Binary(bytes)},
                                  {"bs", Value::BinarySet({bytes, "", std::string(1, '\0'), "ab"})}}));
}

TEST(AttributeCodec, SetsIncludingEmpty) {
  ExpectRoundTrip(Value::MakeMap({
      {"ss", Value::StringSet({"a", "b", "", "ünï"})},
      {"ns", Value::NumberSet({"1", "2.5"})},
      {"emptySS", Value::StringSet({})},
      {"emptyNS", Value::NumberSet({})},
      {"emptyBS", Value::BinarySet({})},
      {"emptyM", Value::MakeMap()},
      {"emptyL", Value::MakeList()},
  }));
}

TEST(AttributeCodec, UnicodeAndEscapes) {
  ExpectRoundTrip(Value::MakeMap({
      {"emoji", Value::String("tea 🍵 time 😀")},
      {"quotes", Value::String("say \"hi\" \\ back\\slash\nnew line\ttab\r\x01\x1f")},
      {"ключ ✓", Value::String("значение")},
      {"key\"with\\escapes\n", Value::String("x")},
  }));
  // Escaped surrogate pairs and \u escapes in the input, in values and in keys.
  core::Result<Value> decoded =
      ParseItemJson(R"({"e":{"S":"\uD83D\uDE00 \u00e9\" \\ \n \/"},"\u0069d":{"S":"x"}})");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->Find("e")->as_string(), "😀 é\" \\ \n /");
  ASSERT_NE(decoded->Find("id"), nullptr);
  EXPECT_EQ(decoded->Find("id")->as_string(), "x");
  // A type key spelled with an escape still names the type.
  decoded = ParseItemJson(R"({"a":{"\u0053":"x"}})");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->Find("a")->as_string(), "x");
}

TEST(AttributeCodec, WhitespaceAroundTokens) {
  core::Result<Value> decoded = ParseItemJson(" {\n \"a\" : { \"S\" : \"x y\" \t} ,\r\n \"n\":{\"N\" : \"1\"\n}\n}  \n");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->Find("a")->as_string(), "x y");
  EXPECT_EQ(decoded->Find("n")->number_text(), "1");
}

Value NestedMaps(int depth) {
  Value value = Value::String("bottom");
  for (int i = 0; i < depth; ++i) value = Value::MakeMap({{"m" + std::to_string(i), std::move(value)}, {"k", Value::Number("1")}});
  return value;
}

Value NestedLists(int depth) {
  Value value = Value::Number("7");
  for (int i = 0; i < depth; ++i) value = Value::MakeList({Value::Bool(true), std::move(value)});
  return value;
}

TEST(AttributeCodec, NestedMapsAndLists32Deep) {
  ExpectRoundTrip(Value::MakeMap({{"maps", NestedMaps(32)}, {"lists", NestedLists(32)}}));
  Value mixed = Value::String("x");
  for (int i = 0; i < 32; ++i) {
    mixed = (i % 2 == 0) ? Value::MakeList({std::move(mixed)}) : Value::MakeMap({{"a", std::move(mixed)}});
  }
  ExpectRoundTrip(Value::MakeMap({{"mixed", mixed}}));
}

TEST(AttributeCodec, RejectsNestingDeeperThanTheLimit) {
  ExpectRoundTrip(Value::MakeMap({{"ok", NestedLists(kMaxAttributeDepth - 1)}}));
  ExpectError(core::ItemToJson(Value::MakeMap({{"deep", NestedLists(kMaxAttributeDepth + 1)}})),
              "nested deeper than 64 levels");
  // Far deeper than any limit: an error, never a stack overflow.
  std::string json = "{\"a\":";
  for (int i = 0; i < 100000; ++i) json += "{\"L\":[";
  for (int i = 0; i < 100000; ++i) json += "]}";
  json += "}";
  core::Result<Value> decoded = ParseItemJson(json);
  EXPECT_FALSE(decoded.ok());
}

TEST(AttributeCodec, ReferenceItemRoundTrips) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Value item = bench::MakeReferenceItem(seed);
    ExpectRoundTrip(item);
    ExpectRoundTrip(bench::MakeReferenceOldImage(seed));
    EXPECT_EQ(item, bench::MakeReferenceItem(seed)) << "reference data must be deterministic";
  }
  const size_t size = core::ItemToJson(bench::MakeReferenceItem(1)).size();
  EXPECT_GT(size, 1500u);
  EXPECT_LT(size, 2800u);
}

TEST(AttributeCodec, WrongShapesNameThePath) {
  ExpectError(R"({"appearance":{"M":{"mode":{"S":5}}}})", "Item.appearance.mode: S must be a string");
  ExpectError(R"({"a":{"X":"y"}})", "Item.a: unknown AttributeValue type \"X\"");
  ExpectError(R"({"a":{}})", "Item.a: empty AttributeValue");
  ExpectError(R"({"a":{"S":"x","N":"1"}})", "Item.a: AttributeValue has more than one type key (S and N)");
  ExpectError(R"({"a":{"S":"x","S":"y"}})", "Item.a: AttributeValue has more than one type key (S and S)");
  ExpectError(R"({"a":"text"})", "Item.a: expected an AttributeValue object");
  ExpectError(R"({"a":null})", "Item.a: expected an AttributeValue object");
  ExpectError(R"({"a":[{"S":"x"}]})", "Item.a: expected an AttributeValue object");
  ExpectError(R"({"a":{"N":5}})", "Item.a: N must be a string");
  ExpectError(R"({"a":{"N":"abc"}})", "Item.a: N \"abc\" is not a DynamoDB number");
  ExpectError(R"({"a":{"N":"1e200"}})", "is not a DynamoDB number");
  ExpectError(R"({"a":{"N":"123456789012345678901234567890123456789"}})", "is not a DynamoDB number");
  ExpectError(R"({"a":{"N":""}})", "is not a DynamoDB number");
  ExpectError(R"({"a":{"B":"not base64!"}})", "Item.a: B is not valid base64");
  ExpectError(R"({"a":{"B":"QUJD="}})", "Item.a: B is not valid base64");
  ExpectError(R"({"a":{"B":true}})", "Item.a: B must be a base64 string");
  ExpectError(R"({"a":{"BOOL":"true"}})", "Item.a: BOOL must be true or false");
  ExpectError(R"({"a":{"NULL":false}})", "Item.a: NULL must be true");
  ExpectError(R"({"a":{"NULL":"yes"}})", "Item.a: NULL must be true");
  ExpectError(R"({"a":{"M":[]}})", "Item.a: M must be an object");
  ExpectError(R"({"a":{"L":{}}})", "Item.a: L must be an array");
  ExpectError(R"({"a":{"SS":"x"}})", "Item.a: SS must be an array of strings");
  ExpectError(R"({"a":{"SS":["x",1]}})", "Item.a[1]: SS elements must be strings");
  ExpectError(R"({"a":{"NS":["1","x"]}})", "Item.a[1]: NS element \"x\" is not a DynamoDB number");
  ExpectError(R"({"a":{"BS":["QUJD","%%%%"]}})", "Item.a[1]: BS element is not valid base64");
  ExpectError(R"({"brew":{"L":[{"S":"a"},{"S":"b"},{"N":"x"}]}})", "Item.brew[2]: N \"x\" is not a DynamoDB number");
  ExpectError(R"({"p":{"L":[{"M":{"subject":{"SS":[1]}}}]}})", "Item.p[0].subject[0]: SS elements must be strings");
}

TEST(AttributeCodec, LongBadNumbersAreShortenedInMessages) {
  const std::string long_text(500, 'x');
  core::Result<Value> decoded = ParseItemJson("{\"a\":{\"N\":\"" + long_text + "\"}}");
  ASSERT_FALSE(decoded.ok());
  EXPECT_LT(decoded.status().message().size(), 120u) << decoded.status().message();
}

TEST(AttributeCodec, RejectsMalformedJson) {
  ExpectError(R"({"a":{"S":"x"})", "Item");                     // truncated
  ExpectError(R"({"a":{"S":"x}})", "malformed JSON");           // unclosed string
  ExpectError("", "Item");                                      // empty input
  ExpectError("not json", "Item");
  ExpectError(R"(["a"])", "Item: expected an object of attributes");  // an item that is not an object
  ExpectError(R"("x")", "Item: expected an object of attributes");
  ExpectError(R"({"a":{"S":"x"}} {"b":{"S":"y"}})", "Item: unexpected content after the item");
  ExpectError("{\"a\":{\"S\":\"\xff\xfe\"}}", "malformed JSON");  // invalid UTF-8
  ExpectError(R"({"a":{"S":"x",}})", "Item.a");
  ExpectError(R"({"a":{"S":"\uZZZZ"}})", "Item.a");
}

TEST(AttributeCodec, EmptyItem) {
  core::Result<Value> decoded = ParseItemJson("{}");
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->is_map());
  EXPECT_TRUE(decoded->map().empty());
}

TEST(AttributeCodec, DecodeAttributeValueAndItemFromACallersDocument) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(std::string_view(R"({"v":{"L":[{"S":"a"},{"N":"2"}]},"k":{"id":{"S":"x"}}})"));
  simdjson::ondemand::document document;
  ASSERT_EQ(parser.iterate(json).get(document), simdjson::SUCCESS);
  simdjson::ondemand::object top;
  ASSERT_EQ(document.get_object().get(top), simdjson::SUCCESS);
  int seen = 0;
  for (auto field_result : top) {
    simdjson::ondemand::field field;
    ASSERT_EQ(std::move(field_result).get(field), simdjson::SUCCESS);
    if (field.key() == "v") {
      core::Result<Value> value = DecodeAttributeValue(field.value(), "Outer.v");
      ASSERT_TRUE(value.ok()) << value.status().ToString();
      EXPECT_EQ(*value, Value::MakeList({Value::String("a"), Value::Number("2")}));
      ++seen;
    } else {
      simdjson::ondemand::object key_object;
      ASSERT_EQ(field.value().get_object().get(key_object), simdjson::SUCCESS);
      core::Result<Value> key = DecodeItem(key_object, "Outer.k");
      ASSERT_TRUE(key.ok()) << key.status().ToString();
      EXPECT_EQ(*key, Value::MakeMap({{"id", Value::String("x")}}));
      ++seen;
    }
  }
  EXPECT_EQ(seen, 2);

  simdjson::padded_string bad(std::string_view(R"({"S":5})"));
  ASSERT_EQ(parser.iterate(bad).get(document), simdjson::SUCCESS);
  simdjson::ondemand::value root;
  ASSERT_EQ(document.get_value().get(root), simdjson::SUCCESS);
  core::Result<Value> value = DecodeAttributeValue(root, "Outer.v");
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.status().message(), "Outer.v: S must be a string");
}

TEST(AttributeCodec, PathRendering) {
  AttributePath root{nullptr, "GetRecords: Records", AttributePath::kNoIndex};
  AttributePath record = root.Index(3);
  AttributePath data = record.Field("dynamodb");
  AttributePath image = data.Field("NewImage");
  AttributePath brew = image.Field("brew");
  AttributePath element = brew.Index(0);
  EXPECT_EQ(element.ToString(), "GetRecords: Records[3].dynamodb.NewImage.brew[0]");
}

}  // namespace
}  // namespace ddb2pg::aws
