#include "processor/decimal_text.h"

#include <algorithm>
#include <limits>

namespace ddb2pg::processor {

namespace {
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// Exponents beyond this are clamped: no DynamoDB number comes near, and it keeps the index
// arithmetic below far from overflow for number-like strings.
constexpr int64_t kExponentClamp = 1'000'000'000;
}  // namespace

std::optional<DecimalText> DecimalText::Parse(std::string_view text) {
  DecimalText d;
  size_t i = 0;
  const size_t n = text.size();
  if (i < n && (text[i] == '-' || text[i] == '+')) d.negative_ = text[i++] == '-';
  const size_t int_begin = i;
  while (i < n && IsDigit(text[i])) ++i;
  d.int_digits_ = text.substr(int_begin, i - int_begin);
  if (i < n && text[i] == '.') {
    const size_t frac_begin = ++i;
    while (i < n && IsDigit(text[i])) ++i;
    d.frac_digits_ = text.substr(frac_begin, i - frac_begin);
  }
  if (d.DigitCount() == 0) return std::nullopt;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < n && (text[i] == '-' || text[i] == '+')) exp_negative = text[i++] == '-';
    const size_t exp_begin = i;
    int64_t exponent = 0;
    while (i < n && IsDigit(text[i])) {
      if (exponent < kExponentClamp) exponent = exponent * 10 + (text[i] - '0');
      ++i;
    }
    if (i == exp_begin) return std::nullopt;
    d.exponent_ = exp_negative ? -exponent : exponent;
  }
  if (i != n) return std::nullopt;
  const size_t count = d.DigitCount();
  for (size_t k = 0; k < count; ++k) {
    if (d.DigitAt(k) != '0') {
      if (d.zero_) d.first_nonzero_ = k;
      d.zero_ = false;
      d.last_nonzero_ = k;
    }
  }
  return d;
}

int64_t DecimalText::magnitude() const {
  if (zero_) return 0;
  return static_cast<int64_t>(int_digits_.size()) - 1 - static_cast<int64_t>(first_nonzero_) +
         exponent_;
}

std::optional<int64_t> DecimalText::ScaledInteger(int shift, bool* exact) const {
  if (zero_) {
    *exact = true;
    return 0;
  }
  // Digit k has the power int_len - 1 - k + exponent + shift; `units` is the index of the digit
  // whose power is 0 (it may lie outside the written digits).
  const int64_t units = static_cast<int64_t>(int_digits_.size()) - 1 + exponent_ + shift;
  const auto first = static_cast<int64_t>(first_nonzero_);
  const auto last = static_cast<int64_t>(last_nonzero_);
  const auto count = static_cast<int64_t>(DigitCount());
  *exact = last <= units;
  uint64_t result = 0;
  const uint64_t limit = negative_ ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  for (int64_t k = first; k <= units; ++k) {
    const uint64_t digit = k < count ? static_cast<uint64_t>(DigitAt(static_cast<size_t>(k)) - '0') : 0;
    if (result > (limit - digit) / 10) return std::nullopt;
    result = result * 10 + digit;
  }
  const int64_t round_index = units + 1;
  if (round_index >= first && round_index < count &&
      DigitAt(static_cast<size_t>(round_index)) >= '5') {
    if (result == limit) return std::nullopt;
    ++result;
  }
  if (negative_) {
    if (result == uint64_t{1} << 63) return std::numeric_limits<int64_t>::min();
    return -static_cast<int64_t>(result);
  }
  return static_cast<int64_t>(result);
}

std::string DecimalText::RoundedToScale(int scale, int* integer_digits) const {
  const int64_t top = zero_ ? 0 : std::max<int64_t>(magnitude(), 0);
  if (top > 1100) {  // beyond any NUMERIC precision; the caller rejects it by its digit count
    *integer_digits = static_cast<int>(top + 1);
    return {};
  }
  // Digit with power p sits at index int_len - 1 + exponent - p.
  const int64_t base = static_cast<int64_t>(int_digits_.size()) - 1 + exponent_;
  const auto count = static_cast<int64_t>(DigitCount());
  auto digit_for_power = [&](int64_t power) -> char {
    const int64_t k = base - power;
    return k >= 0 && k < count ? DigitAt(static_cast<size_t>(k)) : '0';
  };
  std::string digits;  // powers top .. -scale, no point
  digits.reserve(static_cast<size_t>(top + 2 + scale));
  for (int64_t power = top; power >= -scale; --power) digits += digit_for_power(power);
  if (!zero_ && digit_for_power(-scale - 1) >= '5') {
    size_t k = digits.size();
    while (k > 0) {
      --k;
      if (digits[k] == '9') {
        digits[k] = '0';
      } else {
        ++digits[k];
        break;
      }
      if (k == 0) digits.insert(digits.begin(), '1');
    }
  }
  const size_t int_len = digits.size() - static_cast<size_t>(scale);
  size_t skip = 0;
  while (skip + 1 < int_len && digits[skip] == '0') ++skip;
  const bool all_zero = digits.find_first_not_of('0') == std::string::npos;
  std::string out;
  if (negative_ && !all_zero) out += '-';
  out.append(digits, skip, int_len - skip);
  if (scale > 0) {
    out += '.';
    out.append(digits, int_len, std::string::npos);
  }
  const bool int_zero = int_len - skip == 1 && digits[skip] == '0';
  *integer_digits = int_zero ? 0 : static_cast<int>(int_len - skip);
  return out;
}

std::string DecimalText::JsonNumber() const {
  std::string out;
  if (negative_) out += '-';
  size_t skip = 0;
  while (skip + 1 < int_digits_.size() && int_digits_[skip] == '0') ++skip;
  if (int_digits_.empty()) {
    out += '0';
  } else {
    out.append(int_digits_.substr(skip));
  }
  if (!frac_digits_.empty()) {
    out += '.';
    out.append(frac_digits_);
  }
  if (exponent_ != 0) {
    out += 'e';
    out += std::to_string(exponent_);
  }
  return out;
}

bool NumericEqual(const DecimalText& a, const DecimalText& b) {
  if (a.zero_ || b.zero_) return a.zero_ && b.zero_;
  if (a.negative_ != b.negative_ || a.magnitude() != b.magnitude()) return false;
  const size_t len = a.last_nonzero_ - a.first_nonzero_;
  if (len != b.last_nonzero_ - b.first_nonzero_) return false;
  for (size_t k = 0; k <= len; ++k) {
    if (a.DigitAt(a.first_nonzero_ + k) != b.DigitAt(b.first_nonzero_ + k)) return false;
  }
  return true;
}

bool NumberTextsEqual(std::string_view a, std::string_view b) {
  if (a == b) return true;
  auto da = DecimalText::Parse(a);
  auto db = DecimalText::Parse(b);
  return da && db && NumericEqual(*da, *db);
}

}  // namespace ddb2pg::processor
