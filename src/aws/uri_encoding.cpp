#include "aws/uri_encoding.h"

#include <algorithm>

namespace ddb2pg::aws {

void UriEncodeInto(std::string_view text, bool keep_slash, std::string& out) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0x0f]);
    }
  }
}

std::string UriEncode(std::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size() + 8);
  UriEncodeInto(text, keep_slash, out);
  return out;
}

std::string JoinSortedQuery(std::vector<std::pair<std::string, std::string>> params) {
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += key;
    out.push_back('=');
    out += value;
  }
  return out;
}

}  // namespace ddb2pg::aws
