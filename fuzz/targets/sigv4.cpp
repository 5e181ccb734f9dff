// SigV4 canonicalisation: any bytes as a raw HTTP request in the format of AWS's SigV4 test
// vectors (request line, "Name:value" header lines, a blank line, the body; seeds come from
// ../shared/testdata/sigv4/*/request.txt). Signing must not crash, and the canonical request must
// keep its documented shape: an encoded path starting with '/', a sorted encoded query, sorted
// lower-case header names each once, values trimmed with inner whitespace collapsed, the signed
// header list naming exactly those headers, and the body's SHA-256 in hex. Signing twice gives the
// same headers (a retry replaces, never duplicates, X-Amz-Date and Authorization).
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "aws/sigv4_signer.h"
#include "fixed_clock.h"
#include "fuzz_check.h"
#include "fuzz_targets.h"

namespace ddb2pg::fuzz {
namespace {

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

bool IsUpperHex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

// Every byte unreserved, in `also`, or a %XX escape with upper-case hex.
bool IsEncoded(std::string_view text, std::string_view also) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (IsUnreserved(c) || also.find(c) != std::string_view::npos) continue;
    if (c == '%' && i + 2 < text.size() + 0 && IsUpperHex(text[i + 1]) && IsUpperHex(text[i + 2])) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

// An HTTP token (RFC 9110 tchar): header names outside it make no sense to sign.
bool IsToken(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (IsUnreserved(c)) continue;
    if (std::string_view("!#$%&'*+^`|").find(c) == std::string_view::npos) return false;
  }
  return true;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (true) {
    const size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return lines;
    start = end + 1;
  }
}

struct RawRequest {
  std::string method;
  std::string target;
  aws::HttpHeaders headers;
  std::string body;
};

bool ParseRaw(std::string_view text, RawRequest& out) {
  size_t position = 0;
  auto next_line = [&](std::string_view& line) {
    if (position >= text.size()) return false;
    size_t end = text.find('\n', position);
    if (end == std::string_view::npos) end = text.size();
    line = text.substr(position, end - position);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    position = end + 1;
    return true;
  };
  std::string_view line;
  if (!next_line(line)) return false;
  const size_t method_end = line.find(' ');
  const size_t version_start = line.rfind(" HTTP/");
  if (method_end == std::string_view::npos || version_start == std::string_view::npos || version_start <= method_end) {
    return false;
  }
  out.method = std::string(line.substr(0, method_end));
  out.target = std::string(line.substr(method_end + 1, version_start - method_end - 1));
  while (next_line(line)) {
    if (line.empty()) {
      out.body = position < text.size() ? std::string(text.substr(position)) : std::string();
      break;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (out.headers.empty()) return false;
      out.headers.back().second += ' ';
      out.headers.back().second += std::string(line.substr(1));
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    out.headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  return true;
}

size_t CountHeader(const aws::HttpHeaders& headers, std::string_view lower_name) {
  size_t count = 0;
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == lower_name) ++count;
  }
  return count;
}

}  // namespace

int FuzzSigV4(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  RawRequest raw;
  if (!ParseRaw(input, raw)) return 0;
  if (raw.method.find('\n') != std::string::npos) return 0;
  std::string host = "example.amazonaws.com";
  for (const auto& [name, value] : raw.headers) {
    if (name == "Host" || name == "host") host = value;
  }
  bool tokens_only = true;
  for (const auto& [name, value] : raw.headers) tokens_only = tokens_only && IsToken(name);

  static const FixedClock clock;
  aws::Credentials credentials;
  credentials.access_key_id = "AKIDEXAMPLE";
  credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  credentials.session_token = (size % 2 == 0) ? "" : "session-token";
  const bool normalize = (size % 3) != 0;
  const aws::SigV4Signer signer(credentials, "us-east-1", "service", clock, aws::SigV4Options{.normalize_path = normalize});

  aws::HttpRequest request;
  request.method = raw.method;
  request.url = "https://" + host + raw.target;
  request.headers = raw.headers;
  request.body = raw.body;

  const std::string amz_date = aws::SigV4Signer::FormatAmzDate(clock.Now());
  FUZZ_CHECK(amz_date == "20150830T123600Z", "FormatAmzDate is wrong: " + amz_date);
  const aws::SigningParts parts = signer.Compute(request, amz_date);
  const aws::SigningParts again = signer.Compute(request, amz_date);
  FUZZ_CHECK(parts.canonical_request == again.canonical_request && parts.signature == again.signature,
             "Compute is not deterministic");
  FUZZ_CHECK(parts.signature.size() == 64 && IsEncoded(parts.signature, ""), "signature is not 64 hex digits");

  const std::vector<std::string_view> lines = Lines(parts.canonical_request);
  FUZZ_CHECK(lines.size() >= 6, "canonical request has fewer than 6 lines");
  FUZZ_CHECK(lines[0] == raw.method, "canonical request does not start with the method");
  FUZZ_CHECK(!lines[1].empty() && lines[1][0] == '/', "canonical path does not start with '/'");
  FUZZ_CHECK(IsEncoded(lines[1], "/"), "canonical path is not URI-encoded: " + std::string(lines[1]));
  FUZZ_CHECK(IsEncoded(lines[2], "=&"), "canonical query is not URI-encoded: " + std::string(lines[2]));
  {
    std::vector<std::string_view> params;
    for (std::string_view rest = lines[2]; !rest.empty();) {
      const size_t amp = rest.find('&');
      params.push_back(rest.substr(0, amp));
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    }
    // Sorted by key then value: comparing "key=value" texts would misorder "a=b" vs "a-=b"; compare pairs.
    auto split = [](std::string_view p) {
      const size_t eq = p.find('=');
      return std::pair(p.substr(0, eq), eq == std::string_view::npos ? std::string_view() : p.substr(eq + 1));
    };
    for (size_t i = 1; i < params.size(); ++i) {
      FUZZ_CHECK(!(split(params[i]) < split(params[i - 1])), "canonical query is not sorted: " + std::string(lines[2]));
    }
  }
  const std::string_view payload_hash = lines.back();
  FUZZ_CHECK(payload_hash.size() == 64, "the last line is not the body's SHA-256");
  const std::string_view signed_headers = lines[lines.size() - 2];
  FUZZ_CHECK(lines[lines.size() - 3].empty(), "no blank line after the canonical headers");
  if (tokens_only) {
    std::string names;
    std::string_view previous;
    for (size_t i = 3; i + 3 < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      FUZZ_CHECK(colon != std::string_view::npos, "a canonical header line without ':'");
      const std::string_view name = lines[i].substr(0, colon);
      const std::string_view value = lines[i].substr(colon + 1);
      FUZZ_CHECK(i == 3 || previous < name, "canonical headers not sorted or repeated: " + std::string(name));
      for (char c : name) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'), "an upper-case canonical header name");
      FUZZ_CHECK(value.empty() || (value.front() != ' ' && value.back() != ' '), "an untrimmed header value");
      FUZZ_CHECK(value.find("  ") == std::string_view::npos, "a header value with a run of spaces");
      if (!names.empty()) names += ';';
      names += name;
      previous = name;
    }
    FUZZ_CHECK(signed_headers == names, "signed headers " + std::string(signed_headers) + " != canonical " + names);
  }

  aws::HttpRequest signed_once = request;
  signer.Sign(signed_once);
  aws::HttpRequest signed_twice = signed_once;
  signer.Sign(signed_twice);
  FUZZ_CHECK(CountHeader(signed_twice.headers, "authorization") == 1, "signing twice duplicated Authorization");
  FUZZ_CHECK(CountHeader(signed_twice.headers, "x-amz-date") == 1, "signing twice duplicated X-Amz-Date");
  return 0;
}

}  // namespace ddb2pg::fuzz
