#include "processor/type_converter.h"

#include <gtest/gtest.h>

#include "processor/decimal_text.h"
#include "processor/timestamp_text.h"

namespace ddb2pg::processor {

using model::ColumnType;
using model::OverflowPolicy;
namespace {

using core::Value;

std::string Convert(std::string_view type_sql, const Datum& datum,
                    OverflowPolicy overflow = OverflowPolicy::kReject) {
  auto type = ColumnType::Parse(type_sql);
  EXPECT_TRUE(type.ok()) << type_sql;
  TypeConverter converter(*type, overflow);
  std::string scratch, error;
  std::string_view out;
  if (!converter.Convert(datum, scratch, &out, &error)) return "ERR:" + error;
  return std::string(out);
}

std::string ConvertValue(std::string_view type_sql, const Value& value,
                         OverflowPolicy overflow = OverflowPolicy::kReject) {
  return Convert(type_sql, Datum::FromValue(value), overflow);
}

Datum S(std::string_view text) { return Datum::String(text); }
Datum N(std::string_view text) { return Datum::Number(text); }

TEST(TypeConverter, Uuid) {
  EXPECT_EQ(Convert("uuid", S("3f2c1a4e-8b7d-4c2a-9e1f-0a1b2c3d4e5f")), "3f2c1a4e-8b7d-4c2a-9e1f-0a1b2c3d4e5f");
  EXPECT_EQ(Convert("uuid", S("3F2C1A4E-8B7D-4C2A-9E1F-0A1B2C3D4E5F")), "3f2c1a4e-8b7d-4c2a-9e1f-0a1b2c3d4e5f");
  for (std::string_view bad : {"3f2c1a4e8b7d4c2a9e1f0a1b2c3d4e5f", "{3f2c1a4e-8b7d-4c2a-9e1f-0a1b2c3d4e5f}",
                               "3f2c1a4e-8b7d-4c2a-9e1f-0a1b2c3d4e5", "3f2c1a4e-8b7d-4c2a-9e1f-0a1b2c3d4e5g",
                               "", "not-a-uuid"}) {
    EXPECT_EQ(Convert("uuid", S(bad)).rfind("ERR:S \"", 0), 0u) << bad;
  }
  EXPECT_EQ(Convert("uuid", S("nope")), "ERR:S \"nope\" is not a UUID (expected 8-4-4-4-12 hex digits)");
  EXPECT_EQ(Convert("uuid", N("5")), "ERR:expected S holding a UUID, got N 5");
  EXPECT_EQ(ConvertValue("uuid", Value::Binary(std::string("\x3f\x2c\x1a\x4e\x8b\x7d\x4c\x2a\x9e\x1f\x0a\x1b\x2c\x3d\x4e\x5f", 16))),
            "3f2c1a4e-8b7d-4c2a-9e1f-0a1b2c3d4e5f");
}

TEST(TypeConverter, TimestampsFromIsoText) {
  EXPECT_EQ(Convert("timestamptz", S("2024-09-05T17:16:20.382266Z")), "2024-09-05 17:16:20.382266+00");
  EXPECT_EQ(Convert("timestamptz", S("2024-09-05T17:16:20Z")), "2024-09-05 17:16:20+00");
  EXPECT_EQ(Convert("timestamptz", S("2024-09-05T17:16:20.5Z")), "2024-09-05 17:16:20.5+00");
  EXPECT_EQ(Convert("timestamptz", S("2024-09-05 17:16:20.382266")), "2024-09-05 17:16:20.382266+00");
  EXPECT_EQ(Convert("timestamptz", S("2024-09-05T19:16:20+02:00")), "2024-09-05 17:16:20+00");
  EXPECT_EQ(Convert("timestamptz", S("2024-09-05T12:16:20-0500")), "2024-09-05 17:16:20+00");
  EXPECT_EQ(Convert("timestamptz", S("2024-09-05T17:16Z")), "2024-09-05 17:16:00+00");
  EXPECT_EQ(Convert("timestamptz", S("1990-08-22")), "1990-08-22 00:00:00+00");
  EXPECT_EQ(Convert("timestamptz", S("2024-02-29")), "2024-02-29 00:00:00+00");
  EXPECT_EQ(Convert("timestamptz", S("2024-09-05T17:16:20.1234565Z")), "2024-09-05 17:16:20.123457+00");
  EXPECT_EQ(Convert("timestamptz", S("2024-12-31T23:59:59.9999995Z")), "2025-01-01 00:00:00+00");
  EXPECT_EQ(Convert("timestamptz", S("0001-01-01T00:00:00Z")), "0001-01-01 00:00:00+00");
  EXPECT_EQ(Convert("timestamptz", S("9999-12-31T23:59:59.999999Z")), "9999-12-31 23:59:59.999999+00");
  EXPECT_EQ(Convert("timestamptz", S("1969-12-31T23:59:59.5Z")), "1969-12-31 23:59:59.5+00");
  EXPECT_EQ(Convert("timestamp", S("2024-09-05T19:16:20.25+02:00")), "2024-09-05 17:16:20.25");
  EXPECT_EQ(Convert("date", S("1990-08-22")), "1990-08-22");
  EXPECT_EQ(Convert("date", S("2024-09-05T23:30:00-05:00")), "2024-09-06");

  EXPECT_EQ(Convert("timestamptz", S("2023-02-29")),
            "ERR:S \"2023-02-29\" is not an ISO-8601 timestamp: day is out of range for its month");
  EXPECT_EQ(Convert("timestamptz", S("yesterday")),
            "ERR:S \"yesterday\" is not an ISO-8601 timestamp: expected an ISO-8601 date YYYY-MM-DD at the start");
  for (std::string_view bad : {"2024-13-01", "2024-00-10", "2024-09-05T24:00:00Z", "2024-09-05T17:60:00Z",
                               "2024-09-05T17:16:60Z", "2024-09-05T17:16:20.Z", "2024-09-05T17:16:20+16:00",
                               "2024-09-05X17:16:20", "2024-9-5", "0000-01-01", "2024-09-05T17:16:20Zjunk",
                               "9999-12-31T23:59:59-01:00", "2024-09-05T17:16:20.1234567890Z"}) {
    EXPECT_EQ(Convert("timestamptz", S(bad)).rfind("ERR:", 0), 0u) << bad;
  }
}

TEST(TypeConverter, TimestampsFromEpochNumbers) {
  EXPECT_EQ(Convert("timestamptz", N("1725556580")), "2024-09-05 17:16:20+00");
  EXPECT_EQ(Convert("timestamptz", N("1725556580.382266")), "2024-09-05 17:16:20.382266+00");
  EXPECT_EQ(Convert("timestamptz", N("1725556580382")), "2024-09-05 17:16:20.382+00");
  EXPECT_EQ(Convert("timestamptz", N("0")), "1970-01-01 00:00:00+00");
  EXPECT_EQ(Convert("timestamptz", N("-1")), "1969-12-31 23:59:59+00");
  // The seconds / milliseconds boundary: 99999999999 s is the year 5138; 1e11 is ms.
  EXPECT_EQ(Convert("timestamptz", N("99999999999")), "5138-11-16 09:46:39+00");
  EXPECT_EQ(Convert("timestamptz", N("100000000000")), "1973-03-03 09:46:40+00");
  EXPECT_EQ(Convert("timestamptz", N("1.725556580382E12")), "2024-09-05 17:16:20.382+00");
  EXPECT_EQ(Convert("timestamptz", N("1e20")),
            "ERR:N 1e20 is not a usable epoch time: epoch milliseconds outside the years 0001 to 9999");
  EXPECT_EQ(Convert("timestamptz", Datum::Timestamp(1725556580382000)), "2024-09-05 17:16:20.382+00");
  EXPECT_EQ(Convert("timestamptz", Datum::Bool(true)),
            "ERR:expected S (ISO-8601) or N (epoch seconds or milliseconds), got BOOL true");
}

TEST(TypeConverter, Integers) {
  EXPECT_EQ(Convert("smallint", N("32767")), "32767");
  EXPECT_EQ(Convert("smallint", N("-32768")), "-32768");
  EXPECT_EQ(Convert("smallint", N("32768")), "ERR:N 32768 is out of range for SMALLINT");
  EXPECT_EQ(Convert("smallint", N("-32769")), "ERR:N -32769 is out of range for SMALLINT");
  EXPECT_EQ(Convert("integer", N("2147483647")), "2147483647");
  EXPECT_EQ(Convert("integer", N("2147483648")), "ERR:N 2147483648 is out of range for INTEGER");
  EXPECT_EQ(Convert("integer", N("-2147483648")), "-2147483648");
  EXPECT_EQ(Convert("bigint", N("9223372036854775807")), "9223372036854775807");
  EXPECT_EQ(Convert("bigint", N("-9223372036854775808")), "-9223372036854775808");
  EXPECT_EQ(Convert("bigint", N("9223372036854775808")), "ERR:N 9223372036854775808 is out of range for BIGINT");
  EXPECT_EQ(Convert("bigint", N("-9223372036854775809")), "ERR:N -9223372036854775809 is out of range for BIGINT");
  EXPECT_EQ(Convert("integer", N("5.0")), "5");
  EXPECT_EQ(Convert("integer", N("1e3")), "1000");
  EXPECT_EQ(Convert("integer", N("007")), "7");
  EXPECT_EQ(Convert("integer", N("-0")), "0");
  EXPECT_EQ(Convert("integer", N("+12")), "12");
  EXPECT_EQ(Convert("integer", N("5.5")), "ERR:N 5.5 has a fractional part; INTEGER needs a whole number");
  EXPECT_EQ(Convert("integer", N("1e-1")), "ERR:N 1e-1 has a fractional part; INTEGER needs a whole number");
  EXPECT_EQ(Convert("integer", S("42")), "42");
  EXPECT_EQ(Convert("integer", S("forty-two")), "ERR:S \"forty-two\" is not a number");
  EXPECT_EQ(Convert("integer", Datum::Bool(true)), "ERR:expected N (or S holding a number), got BOOL true");
}

TEST(TypeConverter, FloatsAndNumeric) {
  EXPECT_EQ(Convert("real", N("4.25")), "4.25");
  EXPECT_EQ(Convert("real", N("3.4e38")), "3.4e38");
  EXPECT_EQ(Convert("real", N("3.5e38")), "ERR:N 3.5e38 is out of range for REAL");
  EXPECT_EQ(Convert("real", N("-1e39")), "ERR:N -1e39 is out of range for REAL");
  EXPECT_EQ(Convert("real", N("1e-45")), "1e-45");  // the smallest subnormal float rounds up to it
  EXPECT_EQ(Convert("real", N("1e-50")), "ERR:N 1e-50 is out of range for REAL");
  EXPECT_EQ(Convert("real", N("0.000")), "0.000");
  EXPECT_EQ(Convert("real", S("five")), "ERR:S \"five\" is not a number");
  EXPECT_EQ(Convert("real", S("5")), "5");
  EXPECT_EQ(Convert("double precision", N("9.9E+125")), "9.9E+125");
  EXPECT_EQ(Convert("double precision", N("1E-130")), "1E-130");
  EXPECT_EQ(Convert("double precision", S("1e400")), "ERR:S \"1e400\" is out of range for DOUBLE PRECISION");
  EXPECT_EQ(Convert("numeric", N("12345678901234567890123456789012345678")),
            "12345678901234567890123456789012345678");
  EXPECT_EQ(Convert("numeric", N("1.5E-130")), "1.5E-130");
  EXPECT_EQ(Convert("numeric(10,2)", N("12345678.125")), "12345678.13");
  EXPECT_EQ(Convert("numeric(10,2)", N("-0.005")), "-0.01");
  EXPECT_EQ(Convert("numeric(10,2)", N("-0.004")), "0.00");
  EXPECT_EQ(Convert("numeric(10,2)", N("99999999.995")),
            "ERR:N 99999999.995 does not fit NUMERIC(10,2) (at most 8 digits before the point)");
  EXPECT_EQ(Convert("numeric(10,2)", N("1e3")), "1000.00");
  EXPECT_EQ(Convert("numeric(3,0)", N("999.4")), "999");
  EXPECT_EQ(Convert("numeric(3,0)", N("999.5")), "ERR:N 999.5 does not fit NUMERIC(3,0) (at most 3 digits before the point)");
  EXPECT_EQ(Convert("numeric(2,2)", N(".5")), "0.50");
}

TEST(TypeConverter, BooleanTextVarchar) {
  EXPECT_EQ(Convert("boolean", Datum::Bool(true)), "true");
  EXPECT_EQ(Convert("boolean", S("FALSE")), "false");
  EXPECT_EQ(Convert("boolean", N("1")), "true");
  EXPECT_EQ(Convert("boolean", N("0.0")), "false");
  EXPECT_EQ(Convert("boolean", N("2")), "ERR:N 2 is not a boolean (a number must be 0 or 1)");
  EXPECT_EQ(Convert("boolean", S("yes")), "ERR:S \"yes\" is not a boolean (expected true or false)");
  EXPECT_EQ(Convert("text", N("1.50")), "1.50");
  EXPECT_EQ(Convert("text", Datum::Bool(false)), "false");
  EXPECT_EQ(ConvertValue("text", Value::MakeMap()),
            "ERR:expected S, N or BOOL (map M, L and sets to a JSONB column), got M {}");
  EXPECT_EQ(Convert("text", S(std::string_view("a\0b", 3))).rfind("ERR:", 0), 0u);
  EXPECT_EQ(Convert("varchar(3)", S("abc")), "abc");
  EXPECT_EQ(Convert("varchar(3)", S("äöü")), "äöü");  // 6 bytes, 3 characters
  EXPECT_EQ(Convert("varchar(3)", S("abcd")), "ERR:value has 4 characters");
  EXPECT_EQ(Convert("varchar(3)", S("äöüß")), "ERR:value has 4 characters");
  EXPECT_EQ(Convert("varchar(3)", S("äöüß"), OverflowPolicy::kTruncate), "äöü");
  EXPECT_EQ(Convert("varchar(2)", S("🍵☕x"), OverflowPolicy::kTruncate), "🍵☕");
  EXPECT_EQ(Convert("varchar", S(std::string(10000, 'x'))).size(), 10000u);
}

TEST(TypeConverter, JsonAndBytea) {
  Value item = Value::MakeMap({
      {"s", Value::String("q\"\\\n")},
      {"n", Value::Number("+.5e3")},
      {"b", Value::Bool(true)},
      {"z", Value::Null()},
      {"l", Value::MakeList({Value::Number("007"), Value::String("x")})},
      {"ss", Value::StringSet({"a", "b"})},
      {"ns", Value::NumberSet({"1", "2.5"})},
      {"bs", Value::BinarySet({"hi"})},
      {"bin", Value::Binary("hi")},
  });
  EXPECT_EQ(ConvertValue("jsonb", item),
            R"({"s":"q\"\\\n","n":0.5e3,"b":true,"z":null,"l":[7,"x"],"ss":["a","b"],"ns":[1,2.5],"bs":["aGk="],"bin":"aGk="})");
  EXPECT_EQ(Convert("jsonb", S("text")), "\"text\"");
  EXPECT_EQ(Convert("json", N("-0012.50")), "-12.50");
  EXPECT_EQ(Convert("jsonb", Datum::Bool(false)), "false");
  EXPECT_EQ(Convert("jsonb", Datum::Timestamp(0)), "\"1970-01-01T00:00:00Z\"");
  EXPECT_EQ(ConvertValue("bytea", Value::Binary(std::string("\x00\xff\x10", 3))), "\\x00ff10");
  EXPECT_EQ(Convert("bytea", S("abc")), "ERR:expected B, got S \"abc\"");
}

TEST(TypeConverter, ArraysConvertEachElementAndQuoteIt) {
  EXPECT_EQ(ConvertValue("text[]", Value::StringSet({"a b", "c,d"})), R"({"a b","c,d"})");
  EXPECT_EQ(ConvertValue("text[]", Value::MakeList({Value::String(R"(q"uo\te)"), Value::Null(), Value::Number("5")})),
            R"({"q\"uo\\te",NULL,"5"})");
  EXPECT_EQ(ConvertValue("text[]", Value::MakeList({})), "{}");
  EXPECT_EQ(ConvertValue("bigint[]", Value::NumberSet({"1e3", "-7"})), R"({"1000","-7"})");
  EXPECT_EQ(ConvertValue("boolean[]", Value::MakeList({Value::String("TRUE"), Value::Number("0")})),
            R"({"true","false"})");
  EXPECT_EQ(ConvertValue("timestamptz[]", Value::MakeList({Value::Number("1725556580382")})),
            R"({"2024-09-05 17:16:20.382+00"})");
  EXPECT_EQ(ConvertValue("integer[]", Value::MakeList({Value::Number("1"), Value::String("x")})),
            "ERR:element [1]: S \"x\" is not a number");
  EXPECT_EQ(ConvertValue("uuid[]", Value::MakeMap({})), "ERR:expected L, SS or NS (an array column), got M {}");
  EXPECT_EQ(Convert("text[]", S("a")), "ERR:expected L, SS or NS (an array column), got S \"a\"");
}

TEST(DecimalText, ScaledIntegerRoundsHalfAwayFromZero) {
  bool exact = false;
  EXPECT_EQ(DecimalText::Parse("1.5")->ScaledInteger(0, &exact), 2);
  EXPECT_FALSE(exact);
  EXPECT_EQ(DecimalText::Parse("-1.5")->ScaledInteger(0, &exact), -2);
  EXPECT_EQ(DecimalText::Parse("1.4999")->ScaledInteger(0, &exact), 1);
  EXPECT_EQ(DecimalText::Parse("0.0000001")->ScaledInteger(6, &exact), 0);
  EXPECT_EQ(DecimalText::Parse("12e-1")->ScaledInteger(1, &exact), 12);
  EXPECT_TRUE(exact);
  EXPECT_FALSE(DecimalText::Parse("1e19")->ScaledInteger(0, &exact).has_value());
  EXPECT_FALSE(DecimalText::Parse("abc").has_value());
  EXPECT_FALSE(DecimalText::Parse("1e").has_value());
  EXPECT_FALSE(DecimalText::Parse(".").has_value());
  EXPECT_TRUE(NumberTextsEqual("5", "0.5e1"));
  EXPECT_TRUE(NumberTextsEqual("-0", "0.000"));
  EXPECT_FALSE(NumberTextsEqual("5", "-5"));
  EXPECT_FALSE(NumberTextsEqual("5", "50"));
}

}  // namespace
}  // namespace ddb2pg::processor
