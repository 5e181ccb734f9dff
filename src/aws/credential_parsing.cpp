#include "aws/credential_parsing.h"

#include <openssl/evp.h>
#include <simdjson.h>

#include <cstdio>
#include <ctime>

#include "aws/json_fields.h"

namespace ddb2pg::aws {
namespace {

bool ReadDigits(std::string_view text, size_t& at, size_t count, int& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (size_t i = 0; i < count; ++i) {
    const char c = text[at + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  at += count;
  return true;
}

bool Expect(std::string_view text, size_t& at, char c) {
  if (at >= text.size() || (text[at] != c && !(c == 'T' && (text[at] == 't' || text[at] == ' ')))) return false;
  ++at;
  return true;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text) {
  size_t at = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, at, 4, year) || !Expect(text, at, '-') || !ReadDigits(text, at, 2, month) ||
      !Expect(text, at, '-') || !ReadDigits(text, at, 2, day) || !Expect(text, at, 'T') ||
      !ReadDigits(text, at, 2, hour) || !Expect(text, at, ':') || !ReadDigits(text, at, 2, minute) ||
      !Expect(text, at, ':') || !ReadDigits(text, at, 2, second)) {
    return std::nullopt;
  }
  if (at < text.size() && text[at] == '.') {
    ++at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
  }
  int offset_minutes = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const int sign = text[at] == '-' ? -1 : 1;
    ++at;
    int offset_hours = 0, offset_mins = 0;
    if (!ReadDigits(text, at, 2, offset_hours)) return std::nullopt;
    if (at < text.size() && text[at] == ':') ++at;
    if (!ReadDigits(text, at, 2, offset_mins)) return std::nullopt;
    offset_minutes = sign * (offset_hours * 60 + offset_mins);
  } else {
    return std::nullopt;
  }
  if (at != text.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute - offset_minutes) +
         std::chrono::seconds(second);
}

std::string FormatIso8601(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

core::Result<Credentials> ParseCredentialJson(std::string_view body, const std::string& what,
                                              bool require_expiration) {
  simdjson::dom::parser parser;
  const std::optional<simdjson::dom::object> parsed = ParseObject(parser, body);
  if (!parsed) return core::Status::Internal(what + " returned something that is not a JSON object");
  const simdjson::dom::object root = *parsed;
  Credentials credentials;
  auto key_id = TextFieldIfPresent(root, "AccessKeyId");
  auto secret = TextFieldIfPresent(root, "SecretAccessKey");
  if (!key_id || key_id->empty() || !secret || secret->empty()) {
    // IMDS reports failures as {"Code": "...", "Message": "..."}; neither field holds a secret.
    std::string detail;
    if (auto code = TextFieldIfPresent(root, "Code"); code && *code != "Success") detail = " (Code " + *code + ")";
    return core::Status::Internal(what + " returned no AccessKeyId/SecretAccessKey" + detail);
  }
  credentials.access_key_id = *key_id;
  credentials.secret_access_key = *secret;
  if (auto token = TextFieldIfPresent(root, "Token")) {
    credentials.session_token = *token;
  } else if (auto session_token = TextFieldIfPresent(root, "SessionToken")) {
    credentials.session_token = *session_token;
  }
  if (auto expiration = TextFieldIfPresent(root, "Expiration"); expiration && !expiration->empty()) {
    credentials.expiration = ParseIso8601(*expiration);
    if (!credentials.expiration) {
      return core::Status::Internal(what + " returned Expiration '" + *expiration + "', which is not an ISO-8601 time");
    }
  } else if (require_expiration) {
    return core::Status::Internal(what + " returned temporary credentials without Expiration");
  }
  if (auto account = TextFieldIfPresent(root, "AccountId")) credentials.account_id = *account;
  return credentials;
}

std::optional<std::string> XmlElementText(std::string_view xml, std::string_view name) {
  const std::string open = "<" + std::string(name) + ">";
  const std::string close = "</" + std::string(name) + ">";
  const size_t start = xml.find(open);
  if (start == std::string_view::npos) return std::nullopt;
  const size_t begin = start + open.size();
  const size_t end = xml.find(close, begin);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view raw = xml.substr(begin, end - begin);
  std::string text;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      text += raw[i];
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool decoded = false;
    for (const auto& [entity, character] : kEntities) {
      if (raw.substr(i, entity.size()) == entity) {
        text += character;
        i += entity.size() - 1;
        decoded = true;
        break;
      }
    }
    if (!decoded) text += '&';
  }
  return text;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string Sha1Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace ddb2pg::aws
