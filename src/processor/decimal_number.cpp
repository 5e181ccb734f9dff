#include "processor/decimal_number.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "processor/decimal_text.h"

namespace ddb2pg::processor {

namespace {

// Magnitudes are digit strings, most significant first, possibly with leading zeros.

std::string_view StripLeadingZeros(std::string_view digits) {
  size_t skip = 0;
  while (skip < digits.size() && digits[skip] == '0') ++skip;
  return digits.substr(skip);
}

int CompareMagnitudes(std::string_view a, std::string_view b) {
  a = StripLeadingZeros(a);
  b = StripLeadingZeros(b);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

std::string AddMagnitudes(std::string_view a, std::string_view b) {
  std::string out(std::max(a.size(), b.size()) + 1, '0');
  int carry = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    int sum = carry;
    if (i < a.size()) sum += a[a.size() - 1 - i] - '0';
    if (i < b.size()) sum += b[b.size() - 1 - i] - '0';
    out[out.size() - 1 - i] = static_cast<char>('0' + sum % 10);
    carry = sum / 10;
  }
  return out;
}

// a - b for a ≥ b.
std::string SubtractMagnitudes(std::string_view a, std::string_view b) {
  std::string out(a);
  int borrow = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    int digit = (out[out.size() - 1 - i] - '0') - borrow;
    if (i < b.size()) digit -= b[b.size() - 1 - i] - '0';
    borrow = digit < 0 ? 1 : 0;
    if (digit < 0) digit += 10;
    out[out.size() - 1 - i] = static_cast<char>('0' + digit);
  }
  return out;
}

std::string MultiplyMagnitudes(std::string_view a, std::string_view b) {
  std::vector<uint32_t> sums(a.size() + b.size(), 0);
  for (size_t i = 0; i < a.size(); ++i) {
    const uint32_t x = static_cast<uint32_t>(a[a.size() - 1 - i] - '0');
    if (x == 0) continue;
    for (size_t j = 0; j < b.size(); ++j) {
      sums[i + j] += x * static_cast<uint32_t>(b[b.size() - 1 - j] - '0');
    }
  }
  std::string out(sums.size(), '0');
  uint32_t carry = 0;
  for (size_t k = 0; k < sums.size(); ++k) {
    const uint32_t value = sums[k] + carry;
    out[out.size() - 1 - k] = static_cast<char>('0' + value % 10);
    carry = value / 10;
  }
  return out;
}

// Schoolbook long division: *quotient = a / b, *remainder = a % b (b non-zero).
void DivideMagnitudes(std::string_view a, std::string_view b, std::string* quotient, std::string* remainder) {
  b = StripLeadingZeros(b);
  quotient->assign(a.size(), '0');
  std::string current;
  for (size_t i = 0; i < a.size(); ++i) {
    if (current == "0") current.clear();
    current += a[i];
    const std::string_view trimmed = StripLeadingZeros(current);
    if (trimmed.size() != current.size()) current = std::string(trimmed);
    char digit = '0';
    while (CompareMagnitudes(current, b) >= 0) {
      current = std::string(StripLeadingZeros(SubtractMagnitudes(current, b)));
      ++digit;
    }
    (*quotient)[i] = digit;
  }
  *remainder = current.empty() ? std::string("0") : current;
}

// Adds one unit in the last place of a digit string; may grow it by a leading '1'.
void Increment(std::string& digits) {
  for (size_t k = digits.size(); k > 0; --k) {
    if (digits[k - 1] == '9') {
      digits[k - 1] = '0';
    } else {
      ++digits[k - 1];
      return;
    }
  }
  digits.insert(digits.begin(), '1');
}

// Exponents beyond this are not numbers the language meets (DynamoDB's range is ±130).
constexpr int64_t kExponentLimit = 100000;

}  // namespace

namespace {

struct PlainDecimal {
  int64_t coefficient = 0;  // signed
  int scale = 0;            // digits after the point
};

bool ParsePlain(std::string_view text, PlainDecimal* out) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  int64_t coefficient = 0;
  int digits = 0;
  int scale = 0;
  bool point = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      if (++digits > 18) return false;
      coefficient = coefficient * 10 + (c - '0');
      if (point) ++scale;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      return false;  // an exponent, or not a number: the general path decides
    }
  }
  if (digits == 0) return false;
  out->coefficient = negative ? -coefficient : coefficient;
  out->scale = scale;
  return true;
}

__int128 PowerOfTen(int exponent) {
  __int128 value = 1;
  for (int k = 0; k < exponent; ++k) value *= 10;
  return value;
}

}  // namespace

bool DecimalNumber::TryPlainArithmetic(char op, std::string_view a, std::string_view b, std::string* text) {
  PlainDecimal x, y;
  if (!ParsePlain(a, &x) || !ParsePlain(b, &y)) return false;
  __int128 value = 0;
  int scale = 0;
  if (op == '*') {
    value = static_cast<__int128>(x.coefficient) * y.coefficient;  // |value| < 10^36
    scale = x.scale + y.scale;
  } else {
    scale = std::max(x.scale, y.scale);
    const __int128 left = static_cast<__int128>(x.coefficient) * PowerOfTen(scale - x.scale);
    const __int128 right = static_cast<__int128>(y.coefficient) * PowerOfTen(scale - y.scale);
    value = op == '+' ? left + right : left - right;  // |value| < 2 * 10^36
  }
  const bool negative = value < 0;
  unsigned __int128 magnitude = negative ? -static_cast<unsigned __int128>(value) : static_cast<unsigned __int128>(value);
  // Trailing zeros of the fraction go, as ToText() writes no trailing fraction zeros.
  while (scale > 0 && magnitude % 10 == 0) {
    magnitude /= 10;
    --scale;
  }
  if (magnitude == 0) {
    text->assign("0");
    return true;
  }
  char digits[40];
  int count = 0;
  while (magnitude > 0) {
    digits[count++] = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  }
  const int top = count - 1 - scale;  // power of ten of the leading digit
  if (top < -7 || top >= 39) return false;  // ToText() would write it in scientific notation
  text->clear();
  if (negative) *text += '-';
  if (top < 0) {
    *text += "0.";
    text->append(static_cast<size_t>(-top - 1), '0');
    for (int k = count - 1; k >= 0; --k) *text += digits[k];
    return true;
  }
  for (int k = count - 1; k >= 0; --k) {
    *text += digits[k];
    if (k == scale && scale > 0) *text += '.';
  }
  return true;
}

std::optional<DecimalNumber> DecimalNumber::Parse(std::string_view text) {
  const std::optional<DecimalText> parsed = DecimalText::Parse(text);
  if (!parsed || parsed->exponent() > kExponentLimit || parsed->exponent() < -kExponentLimit) return std::nullopt;
  DecimalNumber d;
  d.negative_ = parsed->negative();
  d.coefficient_.assign(parsed->int_digits()).append(parsed->frac_digits());
  d.exponent_ = parsed->exponent() - static_cast<int64_t>(parsed->frac_digits().size());
  d.Normalize();
  return d;
}

DecimalNumber DecimalNumber::FromInteger(int64_t value) {
  DecimalNumber d;
  d.negative_ = value < 0;
  const uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  d.coefficient_ = std::to_string(magnitude);
  d.Normalize();
  return d;
}

void DecimalNumber::Normalize() {
  size_t skip = 0;
  while (skip < coefficient_.size() && coefficient_[skip] == '0') ++skip;
  coefficient_.erase(0, skip);
  size_t trailing = 0;
  while (trailing < coefficient_.size() && coefficient_[coefficient_.size() - 1 - trailing] == '0') ++trailing;
  coefficient_.resize(coefficient_.size() - trailing);
  exponent_ += static_cast<int64_t>(trailing);
  if (coefficient_.empty()) {
    negative_ = false;
    exponent_ = 0;
  }
}

void DecimalNumber::RoundToPrecision(bool sticky) {
  const size_t precision = kPrecision;
  if (coefficient_.size() > precision) {
    const size_t dropped = coefficient_.size() - precision;
    const char first_dropped = coefficient_[precision];
    bool rest = sticky;
    for (size_t k = precision + 1; k < coefficient_.size() && !rest; ++k) rest = coefficient_[k] != '0';
    const bool last_odd = ((coefficient_[precision - 1] - '0') & 1) != 0;
    const bool up = first_dropped > '5' || (first_dropped == '5' && (rest || last_odd));
    coefficient_.resize(precision);
    exponent_ += static_cast<int64_t>(dropped);
    if (up) {
      Increment(coefficient_);
      if (coefficient_.size() > precision) {  // 99…9 rounded up to 100…0
        coefficient_.pop_back();
        ++exponent_;
      }
    }
  }
  Normalize();
}

DecimalNumber DecimalNumber::Add(const DecimalNumber& a, const DecimalNumber& b) {
  if (a.is_zero()) return b;
  if (b.is_zero()) return a;
  const int64_t exponent = std::min(a.exponent_, b.exponent_);
  const std::string x = a.coefficient_ + std::string(static_cast<size_t>(a.exponent_ - exponent), '0');
  const std::string y = b.coefficient_ + std::string(static_cast<size_t>(b.exponent_ - exponent), '0');
  DecimalNumber out;
  out.exponent_ = exponent;
  if (a.negative_ == b.negative_) {
    out.negative_ = a.negative_;
    out.coefficient_ = AddMagnitudes(x, y);
  } else if (CompareMagnitudes(x, y) >= 0) {
    out.negative_ = a.negative_;
    out.coefficient_ = SubtractMagnitudes(x, y);
  } else {
    out.negative_ = b.negative_;
    out.coefficient_ = SubtractMagnitudes(y, x);
  }
  out.Normalize();
  out.RoundToPrecision(false);
  return out;
}

DecimalNumber DecimalNumber::Subtract(const DecimalNumber& a, const DecimalNumber& b) {
  return Add(a, b.Negated());
}

DecimalNumber DecimalNumber::Multiply(const DecimalNumber& a, const DecimalNumber& b) {
  if (a.is_zero() || b.is_zero()) return DecimalNumber();
  DecimalNumber out;
  out.negative_ = a.negative_ != b.negative_;
  out.coefficient_ = MultiplyMagnitudes(a.coefficient_, b.coefficient_);
  out.exponent_ = a.exponent_ + b.exponent_;
  out.Normalize();
  out.RoundToPrecision(false);
  return out;
}

std::optional<DecimalNumber> DecimalNumber::Divide(const DecimalNumber& a, const DecimalNumber& b) {
  if (b.is_zero()) return std::nullopt;
  if (a.is_zero()) return DecimalNumber();
  // Scale the dividend so that the quotient has at least two digits more than the precision:
  // the digits to round by, and the remainder as the sticky bit.
  const int64_t scale = std::max<int64_t>(
      0, kPrecision + 2 + static_cast<int64_t>(b.coefficient_.size()) - static_cast<int64_t>(a.coefficient_.size()));
  const std::string dividend = a.coefficient_ + std::string(static_cast<size_t>(scale), '0');
  DecimalNumber out;
  std::string remainder;
  DivideMagnitudes(dividend, b.coefficient_, &out.coefficient_, &remainder);
  out.negative_ = a.negative_ != b.negative_;
  out.exponent_ = a.exponent_ - b.exponent_ - scale;
  const bool sticky = remainder != "0";
  // Round before stripping zeros, so that the sticky bit sits below the dropped digits.
  size_t skip = 0;
  while (skip + 1 < out.coefficient_.size() && out.coefficient_[skip] == '0') ++skip;
  out.coefficient_.erase(0, skip);
  out.RoundToPrecision(sticky);
  return out;
}

std::optional<DecimalNumber> DecimalNumber::Remainder(const DecimalNumber& a, const DecimalNumber& b) {
  if (b.is_zero()) return std::nullopt;
  if (a.is_zero()) return DecimalNumber();
  const int64_t exponent = std::min(a.exponent_, b.exponent_);
  const std::string x = a.coefficient_ + std::string(static_cast<size_t>(a.exponent_ - exponent), '0');
  const std::string y = b.coefficient_ + std::string(static_cast<size_t>(b.exponent_ - exponent), '0');
  DecimalNumber out;
  std::string quotient;
  DivideMagnitudes(x, y, &quotient, &out.coefficient_);
  out.negative_ = a.negative_;
  out.exponent_ = exponent;
  out.Normalize();
  out.RoundToPrecision(false);
  return out;
}

int DecimalNumber::Compare(const DecimalNumber& a, const DecimalNumber& b) {
  const int sign_a = a.is_zero() ? 0 : a.negative_ ? -1 : 1;
  const int sign_b = b.is_zero() ? 0 : b.negative_ ? -1 : 1;
  if (sign_a != sign_b) return sign_a < sign_b ? -1 : 1;
  if (sign_a == 0) return 0;
  int magnitude = 0;
  if (a.Top() != b.Top()) {
    magnitude = a.Top() < b.Top() ? -1 : 1;
  } else {
    const int c = a.coefficient_.compare(b.coefficient_);  // same leading power: digit order
    magnitude = c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return sign_a < 0 ? -magnitude : magnitude;
}

DecimalNumber DecimalNumber::Rounded(int64_t digits, Rounding rounding) const {
  const int64_t target = -std::clamp<int64_t>(digits, -1000, 1000);
  if (is_zero() || exponent_ >= target) return *this;
  const auto drop = static_cast<size_t>(target - exponent_);
  std::string padded = coefficient_;
  if (padded.size() < drop + 1) padded.insert(0, drop + 1 - padded.size(), '0');
  std::string kept = padded.substr(0, padded.size() - drop);
  const std::string_view dropped = std::string_view(padded).substr(padded.size() - drop);
  const bool dropped_nonzero = dropped.find_first_not_of('0') != std::string_view::npos;
  bool up = false;
  switch (rounding) {
    case Rounding::kHalfAwayFromZero: up = dropped[0] >= '5'; break;
    case Rounding::kFloor: up = negative_ && dropped_nonzero; break;
    case Rounding::kCeiling: up = !negative_ && dropped_nonzero; break;
  }
  if (up) Increment(kept);
  DecimalNumber out;
  out.negative_ = negative_;
  out.coefficient_ = std::move(kept);
  out.exponent_ = target;
  out.Normalize();
  return out;
}

DecimalNumber DecimalNumber::Negated() const {
  DecimalNumber out = *this;
  if (!out.is_zero()) out.negative_ = !out.negative_;
  return out;
}

DecimalNumber DecimalNumber::Absolute() const {
  DecimalNumber out = *this;
  out.negative_ = false;
  return out;
}

bool DecimalNumber::ToInt64(int64_t* out) const {
  if (is_zero()) {
    *out = 0;
    return true;
  }
  if (exponent_ < 0 || Top() > 18) return false;
  uint64_t value = 0;
  for (char c : coefficient_) value = value * 10 + static_cast<uint64_t>(c - '0');
  for (int64_t k = 0; k < exponent_; ++k) value *= 10;
  if (value > static_cast<uint64_t>(INT64_MAX)) return false;
  *out = negative_ ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
  return true;
}

bool DecimalNumber::InRange() const { return is_zero() || (Top() >= -130 && Top() <= 125); }

std::string DecimalNumber::ToText() const {
  if (is_zero()) return "0";
  std::string out;
  if (negative_) out += '-';
  const int64_t top = Top();
  if (top >= -7 && top < 39) {
    if (exponent_ >= 0) {
      out += coefficient_;
      out.append(static_cast<size_t>(exponent_), '0');
    } else if (top >= 0) {
      const auto integer_digits = static_cast<size_t>(top + 1);
      out.append(coefficient_, 0, integer_digits);
      out += '.';
      out.append(coefficient_, integer_digits, std::string::npos);
    } else {
      out += "0.";
      out.append(static_cast<size_t>(-top - 1), '0');
      out += coefficient_;
    }
    return out;
  }
  out += coefficient_[0];
  if (coefficient_.size() > 1) {
    out += '.';
    out.append(coefficient_, 1, std::string::npos);
  }
  out += top < 0 ? "E-" : "E+";
  out += std::to_string(top < 0 ? -top : top);
  return out;
}

}  // namespace ddb2pg::processor
