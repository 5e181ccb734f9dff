// DecimalNumber: an exact decimal value for the expression language's arithmetic (+ - * / %,
// unary minus, round/floor/ceil/abs, ordering comparisons). No double on the way.
//
// A value is sign × coefficient × 10^exponent, the coefficient a string of decimal digits. The
// operations follow DynamoDB's own number model:
//   + - *   exact; a result of more than 38 significant digits (DynamoDB's precision) is rounded
//           to 38, half to even.
//   /       the quotient to 38 significant digits, rounded half to even (so 1 / 3 is
//           0.33333333333333333333333333333333333333, 2 / 3 ends in …67); exact when it fits.
//   %       the exact remainder of truncating division: its sign is the dividend's (-7 % 3 = -1),
//           as in PostgreSQL and C.
//   round   half away from zero to `digits` fraction digits (negative digits round left of the
//           point), as PostgreSQL's round(numeric); floor / ceil toward -∞ / +∞.
// Results must stay within DynamoDB's range (zero, or a magnitude from 1E-130 to below 1E+126);
// InRange() tells, and the evaluator turns a result outside it into an error. Inputs are the
// texts of N values (already valid DynamoDB numbers), so every operation works on at most a few
// hundred digits.
//
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ddb2pg::processor {

class DecimalNumber {
 public:
  static constexpr int kPrecision = 38;

  // nullopt unless `text` is a decimal number (optional sign, digits with an optional point,
  // optional exponent) with an exponent below 100000 in magnitude.
  static std::optional<DecimalNumber> Parse(std::string_view text);
  static DecimalNumber FromInteger(int64_t value);

  static DecimalNumber Add(const DecimalNumber& a, const DecimalNumber& b);
  static DecimalNumber Subtract(const DecimalNumber& a, const DecimalNumber& b);
  static DecimalNumber Multiply(const DecimalNumber& a, const DecimalNumber& b);
  // nullopt when b is zero.
  static std::optional<DecimalNumber> Divide(const DecimalNumber& a, const DecimalNumber& b);
  static std::optional<DecimalNumber> Remainder(const DecimalNumber& a, const DecimalNumber& b);
  // -1, 0, 1 as a <, ==, > b.
  static int Compare(const DecimalNumber& a, const DecimalNumber& b);

  enum class Rounding : uint8_t { kHalfAwayFromZero, kFloor, kCeiling };
  // The value rounded to `digits` fraction digits (|digits| ≤ 1000).
  DecimalNumber Rounded(int64_t digits, Rounding rounding) const;
  DecimalNumber Negated() const;
  DecimalNumber Absolute() const;

  // The fast path of + - * for what columns mostly hold: `a` and `b` plain decimal texts of at
  // most 18 digits without an exponent. Then the result is exact in 128-bit integers (at most 37
  // digits, so no rounding) and *text gets exactly what ToText() of the general operation gives;
  // returns true. False (nothing written) for anything else, or a result that ToText() would
  // write in scientific notation: use the general operations then. `op` is '+', '-' or '*'.
  static bool TryPlainArithmetic(char op, std::string_view a, std::string_view b, std::string* text);

  bool is_zero() const { return coefficient_.empty(); }
  bool negative() const { return negative_; }
  // True when the value is a whole number that fits an int64; sets *out.
  bool ToInt64(int64_t* out) const;
  // Zero, or a magnitude within 1E-130 ≤ |x| < 1E+126.
  bool InRange() const;
  // Canonical text: no trailing fraction zeros; plain digits while the value's leading digit is
  // within 10^-7 … 10^39, else scientific ("1.5E+100", "2E-20").
  std::string ToText() const;

 private:
  bool negative_ = false;
  std::string coefficient_;  // digits, no leading or trailing zeros; empty for zero
  int64_t exponent_ = 0;

  // Strips zeros from both ends of the coefficient (adjusting the exponent) and clears the sign
  // of zero.
  void Normalize();
  // Rounds to kPrecision significant digits, half to even; `sticky` says that non-zero digits
  // were already dropped below the coefficient.
  void RoundToPrecision(bool sticky);
  // Decimal exponent of the leading digit; 0 for zero.
  int64_t Top() const { return static_cast<int64_t>(coefficient_.size()) - 1 + exponent_; }
};

}  // namespace ddb2pg::processor
