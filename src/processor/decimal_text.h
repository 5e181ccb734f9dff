// DecimalText: exact arithmetic on the decimal text of a DynamoDB number.
//
// DynamoDB numbers carry up to 38 significant digits and must never pass through a double on
// their way to a NUMERIC or BIGINT column. These helpers split the text once into sign, digits
// and exponent and answer what the type conversions and comparisons need: an exactly scaled
// integer (epoch seconds → microseconds, integer columns), the decimal magnitude (REAL range
// checks without strtod in the common case), rounding to a NUMERIC scale, numeric equality and
// a JSON-valid spelling. Plain functions on views; nothing allocates except the text outputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ddb2pg::processor {

class DecimalText {
 public:
  // nullopt unless `text` is: optional sign, digits with an optional point (at least one digit),
  // optional exponent (e/E, optional sign, digits). Looser than core::IsValidNumber (no limit on
  // digits or magnitude), so it also reads number-like strings before they are range-checked.
  static std::optional<DecimalText> Parse(std::string_view text);

  bool negative() const { return negative_; }
  bool is_zero() const { return zero_; }
  // The digits as written before and after the point, and the written exponent (after e/E;
  // clamped at ±1e9, far beyond any DynamoDB number).
  std::string_view int_digits() const { return int_digits_; }
  std::string_view frac_digits() const { return frac_digits_; }
  int64_t exponent() const { return exponent_; }
  // Decimal exponent of the leading significant digit: value = d.ddd × 10^magnitude. 0 for zero.
  int64_t magnitude() const;

  // round(value × 10^shift) as an int64, rounding half away from zero. `exact` is set to
  // whether nothing was rounded off. nullopt when the result does not fit an int64.
  std::optional<int64_t> ScaledInteger(int shift, bool* exact) const;

  // The value rounded half away from zero to `scale` fraction digits, as plain decimal text
  // ("-12.50"), and the number of digits before the point (for NUMERIC(p, s) overflow checks).
  std::string RoundedToScale(int scale, int* integer_digits) const;

  // A spelling valid in JSON (RFC 8259): no '+', no leading zeros, digits on both sides of a
  // point. Same value as the input.
  std::string JsonNumber() const;

  // True when both denote the same number ("5" == "5.0" == "0.5e1").
  friend bool NumericEqual(const DecimalText& a, const DecimalText& b);

 private:
  bool negative_ = false;
  bool zero_ = true;
  std::string_view int_digits_;
  std::string_view frac_digits_;
  int64_t exponent_ = 0;  // the written exponent (after e/E)

  // The i-th digit of int_digits_ followed by frac_digits_.
  char DigitAt(size_t i) const {
    return i < int_digits_.size() ? int_digits_[i] : frac_digits_[i - int_digits_.size()];
  }
  size_t DigitCount() const { return int_digits_.size() + frac_digits_.size(); }
  // Index range [first, last] of the non-zero digits; valid when !is_zero().
  size_t first_nonzero_ = 0;
  size_t last_nonzero_ = 0;
};

// Convenience for callers that only need equality of two number texts.
bool NumberTextsEqual(std::string_view a, std::string_view b);

}  // namespace ddb2pg::processor
