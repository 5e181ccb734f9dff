#include "aws/sigv4_signer.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/uri_encoding.h"
#include "core/text.h"

namespace ddb2pg::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

using Digest = std::array<unsigned char, 32>;

struct MacDeleter {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
};
struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
struct MdDeleter {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
using MacPtr = std::unique_ptr<EVP_MAC, MacDeleter>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter>;
using MdPtr = std::unique_ptr<EVP_MD, MdDeleter>;

[[noreturn]] void OpenSslFailure(const char* what) {
  throw std::runtime_error(std::string("SigV4: OpenSSL failed in ") + what);
}

// Fetched once: explicit fetches avoid OpenSSL's per-call algorithm lookups, which cost far more
// than the hashing itself. Both objects are immutable and reference-counted, so threads share them.
const EVP_MD& Sha256Algorithm() {
  static const MdPtr md = [] {
    MdPtr fetched(EVP_MD_fetch(nullptr, "SHA256", nullptr));
    if (!fetched) OpenSslFailure("EVP_MD_fetch(SHA256)");
    return fetched;
  }();
  return *md;
}

// An HMAC-SHA256 context with its digest already set; each HMAC duplicates it rather than naming
// the digest again (EVP_MAC_init with a digest parameter re-fetches it every call). Only ever
// read after construction, which EVP_MAC_CTX_dup allows from many threads.
const EVP_MAC_CTX& HmacSha256Prototype() {
  static const MacCtxPtr prototype = [] {
    MacPtr mac(EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr));
    if (!mac) OpenSslFailure("EVP_MAC_fetch(HMAC)");
    MacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));  // holds its own reference to `mac`
    if (!ctx) OpenSslFailure("EVP_MAC_CTX_new");
    char digest_name[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                                 OSSL_PARAM_construct_end()};
    if (EVP_MAC_CTX_set_params(ctx.get(), params) != 1) OpenSslFailure("EVP_MAC_CTX_set_params(SHA256)");
    return ctx;
  }();
  return *prototype;
}

Digest Sha256(std::string_view data) {
  Digest out{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &length, &Sha256Algorithm(), nullptr) != 1 ||
      length != out.size()) {
    OpenSslFailure("EVP_Digest(SHA256)");
  }
  return out;
}

Digest HmacSha256(const unsigned char* key, size_t key_length, std::string_view data) {
  MacCtxPtr ctx(EVP_MAC_CTX_dup(&HmacSha256Prototype()));
  if (!ctx) OpenSslFailure("EVP_MAC_CTX_dup");
  if (EVP_MAC_init(ctx.get(), key, key_length, nullptr) != 1) OpenSslFailure("EVP_MAC_init");
  if (EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    OpenSslFailure("EVP_MAC_update");
  }
  Digest out{};
  size_t length = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &length, out.size()) != 1 || length != out.size()) {
    OpenSslFailure("EVP_MAC_final");
  }
  return out;
}

Digest HmacSha256(const Digest& key, std::string_view data) { return HmacSha256(key.data(), key.size(), data); }

std::string Hex(const Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (unsigned char byte : digest) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0x0f]);
  }
  return out;
}

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ToLowerAscii(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

using core::HexDigitValue;

// Query keys and values arrive encoded or not; decoding first makes both spell the same.
// A '%' not followed by two hex digits is kept as a literal '%'.
std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = HexDigitValue(text[i + 1]);
      const int low = HexDigitValue(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

struct UrlParts {
  std::string scheme;     // lower-case
  std::string authority;  // host[:port], without user info
  std::string path;       // as in the URL; "/" when empty
  std::string query;      // without '?'
};

UrlParts SplitUrl(std::string_view url) {
  UrlParts parts;
  std::string_view rest = url;
  if (const size_t fragment = rest.find('#'); fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  if (const size_t scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
    parts.scheme = ToLowerAscii(rest.substr(0, scheme_end));
    rest.remove_prefix(scheme_end + 3);
    const size_t authority_end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, authority_end);
    if (const size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    parts.authority = std::string(authority);
    rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  }
  const size_t query_start = rest.find('?');
  parts.path = std::string(rest.substr(0, query_start));
  if (query_start != std::string_view::npos) parts.query = std::string(rest.substr(query_start + 1));
  if (parts.path.empty()) parts.path.push_back('/');
  return parts;
}

// The Host header for a URL: the port only when it differs from the scheme's default.
std::string HostHeaderValue(const UrlParts& url) {
  const std::string& authority = url.authority;
  // An IPv6 literal ("[::1]:8000") has colons inside the brackets.
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) return authority;
  const std::string_view port = std::string_view(authority).substr(colon + 1);
  if (port.empty() || (url.scheme == "https" && port == "443") || (url.scheme == "http" && port == "80")) {
    return authority.substr(0, colon);
  }
  return authority;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    segments.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

std::string CanonicalUri(std::string_view path, bool normalize) {
  std::string out;
  out.reserve(path.size() + 8);
  if (!normalize) {
    UriEncodeInto(path, /*keep_slash=*/true, out);
    return out.empty() ? "/" : out;
  }
  // RFC 3986 remove_dot_segments, plus dropping empty segments ("//"), as AWS's vectors expect.
  std::vector<std::string_view> kept;
  bool ends_as_directory = false;
  for (std::string_view segment : SplitPath(path)) {
    if (segment.empty() || segment == ".") {
      ends_as_directory = true;
    } else if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
      ends_as_directory = true;
    } else {
      kept.push_back(segment);
      ends_as_directory = false;
    }
  }
  out.push_back('/');
  for (size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) out.push_back('/');
    UriEncodeInto(kept[i], /*keep_slash=*/false, out);
  }
  if (!kept.empty() && ends_as_directory) out.push_back('/');
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= query.size()) {
    const size_t amp = query.find('&', start);
    const size_t end = amp == std::string_view::npos ? query.size() : amp;
    const std::string_view param = query.substr(start, end - start);
    if (!param.empty()) {
      const size_t eq = param.find('=');
      std::string key;
      std::string value;
      UriEncodeInto(PercentDecode(param.substr(0, eq)), false, key);
      if (eq != std::string_view::npos) UriEncodeInto(PercentDecode(param.substr(eq + 1)), false, value);
      params.emplace_back(std::move(key), std::move(value));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return JoinSortedQuery(std::move(params));
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trimmed, with every run of whitespace inside turned into one space.
std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// Headers the AWS SDKs leave unsigned because proxies and HTTP libraries add or rewrite them.
bool IsUnsignedHeader(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "connection" || lower_name == "transfer-encoding" || lower_name == "x-amzn-trace-id";
}

bool HasHeader(const HttpHeaders& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& header) { return EqualsIgnoreCase(header.first, name); });
}

}  // namespace

// Deriving the signing key takes four of the five HMACs of a signature, and the key changes only
// with the date, so it is kept for the last date used.
struct SigV4Signer::SigningKeyCache {
  std::mutex mutex;
  std::string date;  // "20150830"; empty until first use
  Digest key{};
};

SigV4Signer::SigV4Signer(Credentials credentials, std::string region, std::string service,
                         const core::Clock& clock, SigV4Options options)
    : credentials_(std::move(credentials)),
      region_(std::move(region)),
      service_(std::move(service)),
      clock_(clock),
      options_(options),
      key_cache_(std::make_shared<SigningKeyCache>()) {}

std::string SigV4Signer::FormatAmzDate(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  const size_t length = std::strftime(buffer, sizeof(buffer), "%Y%m%dT%H%M%SZ", &utc);
  return std::string(buffer, length);
}

SigningParts SigV4Signer::Compute(const HttpRequest& request, const std::string& amz_date) const {
  const UrlParts url = SplitUrl(request.url);

  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers) {
    std::string lower_name = ToLowerAscii(name);
    if (IsUnsignedHeader(lower_name)) continue;
    headers.emplace_back(std::move(lower_name), CanonicalHeaderValue(value));
  }
  // Stable: repeated headers keep the order they were given in.
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string canonical_headers;
  std::string signed_headers;
  for (size_t i = 0; i < headers.size(); ++i) {
    const bool same_as_previous = i > 0 && headers[i].first == headers[i - 1].first;
    if (same_as_previous) {
      canonical_headers.back() = ',';  // replaces the previous value's '\n'
    } else {
      if (!signed_headers.empty()) signed_headers.push_back(';');
      signed_headers += headers[i].first;
      canonical_headers += headers[i].first;
      canonical_headers.push_back(':');
    }
    canonical_headers += headers[i].second;
    canonical_headers.push_back('\n');
  }

  SigningParts parts;
  std::string& canonical = parts.canonical_request;
  canonical.reserve(256 + canonical_headers.size());
  canonical += request.method;
  canonical.push_back('\n');
  canonical += options_.s3 ? url.path : CanonicalUri(url.path, options_.normalize_path);
  canonical.push_back('\n');
  canonical += CanonicalQuery(url.query);
  canonical.push_back('\n');
  canonical += canonical_headers;
  canonical.push_back('\n');
  canonical += signed_headers;
  canonical.push_back('\n');
  // S3 signs the payload hash it was sent (which may be UNSIGNED-PAYLOAD); the others hash the body.
  const auto content_hash = std::find_if(request.headers.begin(), request.headers.end(), [](const auto& header) {
    return EqualsIgnoreCase(header.first, "x-amz-content-sha256");
  });
  canonical += options_.s3 && content_hash != request.headers.end() ? content_hash->second : Hex(Sha256(request.body));

  const std::string date = amz_date.substr(0, 8);
  std::string scope = date;
  scope += '/';
  scope += region_;
  scope += '/';
  scope += service_;
  scope += "/aws4_request";

  std::string& to_sign = parts.string_to_sign;
  to_sign += kAlgorithm;
  to_sign.push_back('\n');
  to_sign += amz_date;
  to_sign.push_back('\n');
  to_sign += scope;
  to_sign.push_back('\n');
  to_sign += Hex(Sha256(canonical));

  Digest signing_key{};
  bool cached = false;
  {
    std::lock_guard lock(key_cache_->mutex);
    if (key_cache_->date == date) {
      signing_key = key_cache_->key;
      cached = true;
    }
  }
  if (!cached) {
    std::string secret_key = "AWS4";
    secret_key += credentials_.secret_access_key;
    const Digest date_key =
        HmacSha256(reinterpret_cast<const unsigned char*>(secret_key.data()), secret_key.size(), date);
    std::fill(secret_key.begin(), secret_key.end(), '\0');
    const Digest region_key = HmacSha256(date_key, region_);
    const Digest service_key = HmacSha256(region_key, service_);
    signing_key = HmacSha256(service_key, "aws4_request");
    std::lock_guard lock(key_cache_->mutex);
    key_cache_->date = date;
    key_cache_->key = signing_key;
  }
  parts.signature = Hex(HmacSha256(signing_key, to_sign));

  std::string& authorization = parts.authorization;
  authorization += kAlgorithm;
  authorization += " Credential=";
  authorization += credentials_.access_key_id;
  authorization.push_back('/');
  authorization += scope;
  authorization += ", SignedHeaders=";
  authorization += signed_headers;
  authorization += ", Signature=";
  authorization += parts.signature;
  return parts;
}

void SigV4Signer::Sign(HttpRequest& request) const {
  const bool s3 = options_.s3;
  std::erase_if(request.headers, [s3](const auto& header) {
    return EqualsIgnoreCase(header.first, "x-amz-date") || EqualsIgnoreCase(header.first, "x-amz-security-token") ||
           EqualsIgnoreCase(header.first, "authorization") ||
           (s3 && EqualsIgnoreCase(header.first, "x-amz-content-sha256"));
  });
  if (options_.s3) request.headers.emplace_back("X-Amz-Content-Sha256", Hex(Sha256(request.body)));
  if (!HasHeader(request.headers, "host")) {
    request.headers.emplace_back("Host", HostHeaderValue(SplitUrl(request.url)));
  }
  if (!credentials_.session_token.empty()) {
    request.headers.emplace_back("X-Amz-Security-Token", credentials_.session_token);
  }
  const std::string amz_date = FormatAmzDate(clock_.Now());
  request.headers.emplace_back("X-Amz-Date", amz_date);
  SigningParts parts = Compute(request, amz_date);
  request.headers.emplace_back("Authorization", std::move(parts.authorization));
}

}  // namespace ddb2pg::aws
