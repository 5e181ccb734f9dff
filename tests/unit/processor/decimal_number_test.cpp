#include "processor/decimal_number.h"

#include <gtest/gtest.h>

#include <string>

namespace ddb2pg::processor {
namespace {

DecimalNumber N(const char* text) {
  auto parsed = DecimalNumber::Parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(DecimalNumber());
}

TEST(DecimalNumber, ParsesAndWritesCanonicalText) {
  EXPECT_EQ(N("0").ToText(), "0");
  EXPECT_EQ(N("-0.000").ToText(), "0");
  EXPECT_EQ(N("007.50").ToText(), "7.5");
  EXPECT_EQ(N("1e3").ToText(), "1000");
  EXPECT_EQ(N("+2.5E-3").ToText(), "0.0025");
  EXPECT_EQ(N("1E-8").ToText(), "1E-8");
  EXPECT_EQ(N("1.5e100").ToText(), "1.5E+100");
  EXPECT_EQ(N("12345678901234567890123456789012345678").ToText(), "12345678901234567890123456789012345678");
  EXPECT_FALSE(DecimalNumber::Parse("").has_value());
  EXPECT_FALSE(DecimalNumber::Parse("1e").has_value());
  EXPECT_FALSE(DecimalNumber::Parse("abc").has_value());
  EXPECT_FALSE(DecimalNumber::Parse("1e999999").has_value());
}

TEST(DecimalNumber, AddSubtractMultiplyAreExact) {
  EXPECT_EQ(DecimalNumber::Add(N("0.1"), N("0.2")).ToText(), "0.3");
  EXPECT_EQ(DecimalNumber::Subtract(N("1"), N("1.000001")).ToText(), "-0.000001");
  EXPECT_EQ(DecimalNumber::Multiply(N("-1.5"), N("-4")).ToText(), "6");
  EXPECT_EQ(DecimalNumber::Add(N("1e20"), N("1e-17")).ToText(), "100000000000000000000.00000000000000001");
  // 39 significant digits: rounded half to even.
  EXPECT_EQ(DecimalNumber::Add(N("1e38"), N("5")).ToText(), "100000000000000000000000000000000000000");
  EXPECT_EQ(DecimalNumber::Add(N("1e38"), N("15")).ToText(), "100000000000000000000000000000000000020");
  EXPECT_EQ(DecimalNumber::Add(N("99999999999999999999999999999999999999"), N("0.5")).ToText(),
            "100000000000000000000000000000000000000");
  // A tiny addend far below the precision is rounded away.
  EXPECT_EQ(DecimalNumber::Subtract(N("1"), N("1e-100")).ToText(), "1");
}

TEST(DecimalNumber, DivideRoundsTo38Digits) {
  EXPECT_EQ(DecimalNumber::Divide(N("1"), N("3"))->ToText(), "0.33333333333333333333333333333333333333");
  EXPECT_EQ(DecimalNumber::Divide(N("2"), N("3"))->ToText(), "0.66666666666666666666666666666666666667");
  EXPECT_EQ(DecimalNumber::Divide(N("-10"), N("4"))->ToText(), "-2.5");
  EXPECT_EQ(DecimalNumber::Divide(N("1e125"), N("1e-5"))->ToText(), "1E+130");
  EXPECT_FALSE(DecimalNumber::Divide(N("1e125"), N("1e-5"))->InRange());
  EXPECT_FALSE(DecimalNumber::Divide(N("1"), N("0")).has_value());
  // Half-even on an exact tie at the 39th digit: …5 with nothing after rounds to the even digit.
  EXPECT_EQ(DecimalNumber::Divide(N("10000000000000000000000000000000000001"), N("2"))->ToText(),
            "5000000000000000000000000000000000000.5");
  EXPECT_EQ(DecimalNumber::Divide(N("100000000000000000000000000000000000001"), N("2"))->ToText(),
            "50000000000000000000000000000000000000");
  EXPECT_EQ(DecimalNumber::Divide(N("100000000000000000000000000000000000003"), N("2"))->ToText(),
            "50000000000000000000000000000000000002");
}

TEST(DecimalNumber, RemainderHasTheSignOfTheDividend) {
  EXPECT_EQ(DecimalNumber::Remainder(N("7"), N("3"))->ToText(), "1");
  EXPECT_EQ(DecimalNumber::Remainder(N("-7"), N("3"))->ToText(), "-1");
  EXPECT_EQ(DecimalNumber::Remainder(N("7"), N("-3"))->ToText(), "1");
  EXPECT_EQ(DecimalNumber::Remainder(N("5.5"), N("0.25"))->ToText(), "0");
  EXPECT_EQ(DecimalNumber::Remainder(N("1e100"), N("7"))->ToText(), "4");  // 10^100 mod 7 = 10^(100 mod 6) mod 7
  EXPECT_FALSE(DecimalNumber::Remainder(N("1"), N("0")).has_value());
}

TEST(DecimalNumber, RoundingModes) {
  using R = DecimalNumber::Rounding;
  EXPECT_EQ(N("2.5").Rounded(0, R::kHalfAwayFromZero).ToText(), "3");
  EXPECT_EQ(N("-2.5").Rounded(0, R::kHalfAwayFromZero).ToText(), "-3");
  EXPECT_EQ(N("0.049").Rounded(1, R::kHalfAwayFromZero).ToText(), "0");
  EXPECT_EQ(N("0.05").Rounded(1, R::kHalfAwayFromZero).ToText(), "0.1");
  EXPECT_EQ(N("999.5").Rounded(0, R::kHalfAwayFromZero).ToText(), "1000");
  EXPECT_EQ(N("1250").Rounded(-2, R::kHalfAwayFromZero).ToText(), "1300");
  EXPECT_EQ(N("-0.1").Rounded(0, R::kFloor).ToText(), "-1");
  EXPECT_EQ(N("-0.1").Rounded(0, R::kCeiling).ToText(), "0");
  EXPECT_EQ(N("0.1").Rounded(0, R::kCeiling).ToText(), "1");
  EXPECT_EQ(N("7").Rounded(0, R::kFloor).ToText(), "7");
}

TEST(DecimalNumber, PlainFastPathAgreesWithTheGeneralOperations) {
  const char* const values[] = {"0", "-0", "1", "-1", "7", "2.5", "-2.50", "19.99", "0.99", "0.001", "100", "1.000",
                                 "0.00000001", "123456789012345678", "-999999999999999999", "0.000000000000000001",
                                 "99999999999999999.9", "+3", "007.10", ".5", "5."};
  int compared = 0;
  for (const char* a : values) {
    for (const char* b : values) {
      for (char op : {'+', '-', '*'}) {
        std::string fast;
        if (!DecimalNumber::TryPlainArithmetic(op, a, b, &fast)) continue;
        const DecimalNumber x = N(a), y = N(b);
        const DecimalNumber general = op == '+'   ? DecimalNumber::Add(x, y)
                                      : op == '-' ? DecimalNumber::Subtract(x, y)
                                                  : DecimalNumber::Multiply(x, y);
        EXPECT_EQ(fast, general.ToText()) << a << ' ' << op << ' ' << b;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 1000);
  std::string text;
  EXPECT_FALSE(DecimalNumber::TryPlainArithmetic('+', "1e3", "1", &text));  // exponent: general path
  EXPECT_FALSE(DecimalNumber::TryPlainArithmetic('*', "1234567890123456789", "1", &text));  // 19 digits
  EXPECT_FALSE(DecimalNumber::TryPlainArithmetic('*', "0.0001", "0.00001", &text));  // 1E-9 is scientific
}

TEST(DecimalNumber, CompareByValue) {
  EXPECT_EQ(DecimalNumber::Compare(N("5"), N("5.0")), 0);
  EXPECT_EQ(DecimalNumber::Compare(N("1.23"), N("1.3")), -1);
  EXPECT_EQ(DecimalNumber::Compare(N("-1"), N("-2")), 1);
  EXPECT_EQ(DecimalNumber::Compare(N("0"), N("-0.0001")), 1);
  EXPECT_EQ(DecimalNumber::Compare(N("1e10"), N("9999999999")), 1);
  int64_t value = 0;
  EXPECT_TRUE(N("1.2e3").ToInt64(&value));
  EXPECT_EQ(value, 1200);
  EXPECT_FALSE(N("1.5").ToInt64(&value));
  EXPECT_FALSE(N("1e19").ToInt64(&value));
}

}  // namespace
}  // namespace ddb2pg::processor
