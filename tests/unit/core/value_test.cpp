#include "core/value.h"

#include <gtest/gtest.h>

#include "core/base64.h"
#include "core/value_json.h"

namespace ddb2pg::core {
namespace {

TEST(Value, DefaultIsNull) {
  Value v;
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(TypeDescriptor(v.type()), "NULL");
}

TEST(Value, EveryTypeKeepsItsTypeAndContent) {
  EXPECT_EQ(Value::Bool(true).type(), ValueType::kBool);
  EXPECT_TRUE(Value::Bool(true).as_bool());
  EXPECT_EQ(Value::String("héllo").as_string(), "héllo");
  EXPECT_EQ(Value::Number("12345678901234567890123456789012345678").number_text(),
            "12345678901234567890123456789012345678");
  EXPECT_EQ(Value::Binary(std::string("\0\x01\xff", 3)).binary().size(), 3u);
  EXPECT_EQ(Value::StringSet({"a", "b"}).set().size(), 2u);
  EXPECT_EQ(Value::NumberSet({"1", "2.5"}).type(), ValueType::kNumberSet);
  EXPECT_EQ(Value::BinarySet({"x"}).type(), ValueType::kBinarySet);
  EXPECT_TRUE(Value::MakeList({Value::Null()}).is_list());
  for (auto [value, descriptor] : std::vector<std::pair<Value, std::string>>{
           {Value::Null(), "NULL"}, {Value::Bool(false), "BOOL"}, {Value::String(""), "S"},
           {Value::Number("1"), "N"}, {Value::Binary(""), "B"}, {Value::MakeMap(), "M"},
           {Value::MakeList(), "L"}, {Value::StringSet({}), "SS"}, {Value::NumberSet({}), "NS"},
           {Value::BinarySet({}), "BS"}}) {
    EXPECT_EQ(TypeDescriptor(value.type()), descriptor);
  }
}

TEST(Value, MapFindAndSet) {
  Value item = Value::MakeMap();
  item.Set("id", Value::String("a"));
  item.Set("n", Value::Number("1"));
  item.Set("id", Value::String("b"));
  ASSERT_NE(item.Find("id"), nullptr);
  EXPECT_EQ(item.Find("id")->as_string(), "b");
  EXPECT_EQ(item.map().size(), 2u);
  EXPECT_EQ(item.Find("missing"), nullptr);
  EXPECT_EQ(Value::String("x").Find("id"), nullptr);
}

TEST(Value, EqualityIgnoresMapOrderButNotTypes) {
  Value a = Value::MakeMap({{"x", Value::Number("1")}, {"y", Value::String("1")}});
  Value b = Value::MakeMap({{"y", Value::String("1")}, {"x", Value::Number("1")}});
  EXPECT_EQ(a, b);
  EXPECT_NE(Value::Number("1"), Value::String("1"));
  EXPECT_NE(Value::StringSet({"1"}), Value::NumberSet({"1"}));
  EXPECT_NE(a, Value::MakeMap({{"x", Value::Number("1")}}));
}

TEST(Value, WrongAccessorThrows) {
  EXPECT_THROW((void)Value::Number("1").as_string(), std::bad_variant_access);
  EXPECT_THROW((void)Value::String("1").set(), std::bad_variant_access);
}

TEST(Number, AcceptsDynamoDbNumbers) {
  for (const char* text : {"0", "-0", "5", "-12.5", "1e10", "1E-130", "9.9999999999999999999999999999999999999E+125",
                           "12345678901234567890123456789012345678", "0.000123", "100000000000000000000000000000000000000000",
                           "+3", ".5", "5."}) {
    EXPECT_TRUE(IsValidNumber(text)) << text;
  }
}

TEST(Number, RejectsWhatDynamoDbRejects) {
  for (const char* text : {"", "-", "abc", "1.2.3", "1e", "NaN", "Infinity", "1e126", "1e-131",
                           "123456789012345678901234567890123456789", " 5", "5 ", "0x10"}) {
    EXPECT_FALSE(IsValidNumber(text)) << text;
  }
}

TEST(Base64, RoundTripsAllLengths) {
  std::string bytes;
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
    bytes += static_cast<char>(i * 37);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_FALSE(Base64Decode("Zm9").has_value());
  EXPECT_FALSE(Base64Decode("Zm=v").has_value());
  EXPECT_FALSE(Base64Decode("Z!9v").has_value());
}

TEST(ValueJson, EncodesEveryType) {
  Value item = Value::MakeMap({
      {"s", Value::String("a\"b\n")},
      {"n", Value::Number("-1.5e3")},
      {"b", Value::Binary("foobar")},
      {"t", Value::Bool(true)},
      {"z", Value::Null()},
      {"l", Value::MakeList({Value::Number("1"), Value::String("x")})},
      {"m", Value::MakeMap({{"k", Value::String("v")}})},
      {"ss", Value::StringSet({"a", "b"})},
      {"ns", Value::NumberSet({"1", "2"})},
      {"bs", Value::BinarySet({"fo"})},
  });
  EXPECT_EQ(ItemToJson(item),
            R"({"s":{"S":"a\"b\n"},"n":{"N":"-1.5e3"},"b":{"B":"Zm9vYmFy"},"t":{"BOOL":true},)"
            R"("z":{"NULL":true},"l":{"L":[{"N":"1"},{"S":"x"}]},"m":{"M":{"k":{"S":"v"}}},)"
            R"("ss":{"SS":["a","b"]},"ns":{"NS":["1","2"]},"bs":{"BS":["Zm8="]}})");
}

}  // namespace
}  // namespace ddb2pg::core
