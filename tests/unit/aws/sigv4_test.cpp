// SigV4: every vector of AWS's published suite (shared/testdata/sigv4, from aws-c-auth), one ctest
// test per folder, plus the DynamoDB-shaped requests ddb2pg actually sends.
//
// Each vector is checked twice: Compute() on the request with the headers the signer would add
// (canonical request, string to sign and signature must match byte for byte), and Sign() with a
// clock fixed at the vector's time (the headers of the signed request must match).
//
// How the vectors' context flags map onto this signer (none is skipped):
// - "normalize": false → SigV4Options::normalize_path = false (S3-style paths; we never send
//   these, but the option keeps the suite whole).
// - "sign_body": true → the caller adds x-amz-content-sha256 before signing, as S3-style
//   clients do; DynamoDB does not use that header.
// - "omit_session_token": true (post-sts-header-after) → the token is attached after signing,
//   unsigned; Sign() always signs it, so the test signs without the token and appends it.
// The query-* files describe presigned URLs, which a POST-JSON client never makes: not checked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "aws/sigv4_signer.h"

namespace ddb2pg::aws {
namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;

class FixedClock final : public core::Clock {
 public:
  explicit FixedClock(system_clock::time_point now) : now_(now) {}
  system_clock::time_point Now() const override { return now_; }
  std::chrono::steady_clock::time_point Monotonic() const override { return {}; }
  void SleepFor(std::chrono::nanoseconds) const override {}
  void Advance(std::chrono::seconds by) { now_ += by; }

 private:
  system_clock::time_point now_;
};

// "2015-08-30T12:36:00Z" → time point.
system_clock::time_point ParseTimestamp(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%dZ", &year, &month, &day, &hour, &minute, &second) != 6) {
    throw std::runtime_error("bad timestamp " + text);
  }
  const std::chrono::sys_days days = std::chrono::year{year} / std::chrono::month{static_cast<unsigned>(month)} /
                                     std::chrono::day{static_cast<unsigned>(day)};
  return system_clock::time_point(days) + std::chrono::hours{hour} + std::chrono::minutes{minute} +
         std::chrono::seconds{second};
}

fs::path VectorRoot() { return fs::path(DDB2PG_SHARED_DIR) / "testdata" / "sigv4"; }

std::vector<std::string> VectorNames() {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(VectorRoot(), error)) {
    if (entry.is_directory() && fs::exists(entry.path() / "request.txt")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// A raw HTTP/1.1 request as the vectors write it: request line, headers (a line starting with
// whitespace continues the previous header's value), a blank line, the body.
struct RawRequest {
  std::string method;
  std::string target;  // path and query, exactly as written (may contain spaces and UTF-8)
  HttpHeaders headers;
  std::string body;
};

RawRequest ParseRawRequest(const std::string& text) {
  RawRequest request;
  size_t position = 0;
  auto next_line = [&](std::string& line) {
    if (position >= text.size()) return false;
    size_t end = text.find('\n', position);
    if (end == std::string::npos) end = text.size();
    line = text.substr(position, end - position);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    position = end + 1;
    return true;
  };
  std::string line;
  if (!next_line(line)) throw std::runtime_error("empty request");
  const size_t method_end = line.find(' ');
  const size_t version_start = line.rfind(" HTTP/");
  if (method_end == std::string::npos || version_start == std::string::npos || version_start <= method_end) {
    throw std::runtime_error("bad request line: " + line);
  }
  request.method = line.substr(0, method_end);
  request.target = line.substr(method_end + 1, version_start - method_end - 1);
  while (next_line(line)) {
    if (line.empty()) {
      request.body = position < text.size() ? text.substr(position) : std::string();
      break;
    }
    if (line[0] == ' ' || line[0] == '\t') {  // obsolete line folding: continues the value
      if (request.headers.empty()) throw std::runtime_error("continuation before any header");
      const size_t first = line.find_first_not_of(" \t");
      request.headers.back().second += ' ';
      request.headers.back().second += line.substr(first == std::string::npos ? line.size() : first);
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos) throw std::runtime_error("bad header line: " + line);
    request.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return request;
}

std::string HeaderValue(const HttpHeaders& headers, const std::string& lower_name) {
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == lower_name) return value;
  }
  return {};
}

size_t CountHeader(const HttpHeaders& headers, const std::string& lower_name) {
  size_t count = 0;
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == lower_name) ++count;
  }
  return count;
}

// Independent of the signer's own hashing, for the x-amz-content-sha256 header.
std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof(byte), "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

struct VectorContext {
  Credentials credentials;
  std::string region;
  std::string service;
  system_clock::time_point time;
  bool normalize = true;
  bool sign_body = false;
  bool omit_session_token = false;
};

VectorContext ParseContext(const fs::path& file) {
  simdjson::dom::parser parser;
  const simdjson::padded_string json = simdjson::padded_string::load(file.string());
  const simdjson::dom::element root = parser.parse(json);
  VectorContext context;
  const simdjson::dom::object credentials = root["credentials"].get_object();
  context.credentials.access_key_id = std::string(credentials["access_key_id"].get_string().value());
  context.credentials.secret_access_key = std::string(credentials["secret_access_key"].get_string().value());
  std::string_view token;
  if (credentials["token"].get(token) == simdjson::SUCCESS) context.credentials.session_token = std::string(token);
  context.credentials.source = "test vector";
  context.region = std::string(root["region"].get_string().value());
  context.service = std::string(root["service"].get_string().value());
  context.time = ParseTimestamp(std::string(root["timestamp"].get_string().value()));
  bool flag = false;
  if (root["normalize"].get(flag) == simdjson::SUCCESS) context.normalize = flag;
  if (root["sign_body"].get(flag) == simdjson::SUCCESS) context.sign_body = flag;
  if (root["omit_session_token"].get(flag) == simdjson::SUCCESS) context.omit_session_token = flag;
  return context;
}

HttpHeaders Sorted(HttpHeaders headers) {
  for (auto& header : headers) {
    std::transform(header.first.begin(), header.first.end(), header.first.begin(),
                   [](unsigned char c) { return std::tolower(c); });
  }
  std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return headers;
}

class SigV4Vector : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4Vector, MatchesAwsCanonicalRequestStringToSignAndSignature) {
  const fs::path folder = VectorRoot() / GetParam();
  const VectorContext context = ParseContext(folder / "context.json");
  const RawRequest raw = ParseRawRequest(ReadFile(folder / "request.txt"));
  const std::string host = HeaderValue(raw.headers, "host");
  ASSERT_FALSE(host.empty()) << "vector has no Host header";

  FixedClock clock(context.time);
  const std::string amz_date = SigV4Signer::FormatAmzDate(context.time);
  ASSERT_EQ(amz_date, "20150830T123600Z");

  // What the signer signs, applying the vector's flags (see the top of this file).
  Credentials signing_credentials = context.credentials;
  if (context.omit_session_token) signing_credentials.session_token.clear();
  const SigV4Signer signer(signing_credentials, context.region, context.service, clock,
                           SigV4Options{.normalize_path = context.normalize});

  HttpRequest request;
  request.method = raw.method;
  request.url = "https://" + host;
  request.url += raw.target;
  request.headers = raw.headers;
  request.body = raw.body;
  if (context.sign_body) request.headers.emplace_back("x-amz-content-sha256", Sha256Hex(raw.body));

  // 1. The three signing steps, byte for byte.
  HttpRequest to_compute = request;
  to_compute.headers.emplace_back("X-Amz-Date", amz_date);
  if (!signing_credentials.session_token.empty()) {
    to_compute.headers.emplace_back("X-Amz-Security-Token", signing_credentials.session_token);
  }
  const SigningParts parts = signer.Compute(to_compute, amz_date);
  EXPECT_EQ(parts.canonical_request, ReadFile(folder / "header-canonical-request.txt"));
  EXPECT_EQ(parts.string_to_sign, ReadFile(folder / "header-string-to-sign.txt"));
  EXPECT_EQ(parts.signature, ReadFile(folder / "header-signature.txt"));

  // 2. Sign() at the vector's time yields the published signed request.
  HttpRequest signed_request = request;
  signer.Sign(signed_request);
  if (context.omit_session_token) {
    signed_request.headers.emplace_back("X-Amz-Security-Token", context.credentials.session_token);
  }
  const RawRequest expected = ParseRawRequest(ReadFile(folder / "header-signed-request.txt"));
  EXPECT_EQ(expected.method, signed_request.method);
  EXPECT_EQ(expected.target, raw.target);
  EXPECT_EQ(expected.body, signed_request.body);
  EXPECT_EQ(Sorted(signed_request.headers), Sorted(expected.headers));
  EXPECT_EQ(HeaderValue(signed_request.headers, "authorization"), parts.authorization);
}

std::string VectorTestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Aws, SigV4Vector, ::testing::ValuesIn(VectorNames()), VectorTestName);

TEST(SigV4VectorSuite, AllPublishedVectorsAreOnDisk) {
  // Guards against a moved folder silently turning the suite above into zero tests.
  EXPECT_EQ(VectorNames().size(), 38u) << "looked in " << VectorRoot();
}

// --- The requests ddb2pg sends -----------------------------------------------------------------

const Credentials kCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "test", {}, {}};

HttpRequest DescribeTableRequest(const std::string& url) {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                     {"X-Amz-Target", "DynamoDB_20120810.DescribeTable"}};
  request.body = R"({"TableName":"users"})";
  return request;
}

TEST(SigV4Signer, SignsDynamoDbRequestAtTheClockTime) {
  FixedClock clock(ParseTimestamp("2024-01-02T03:04:05Z"));
  const SigV4Signer signer(kCredentials, "eu-west-1", "dynamodb", clock);
  HttpRequest request = DescribeTableRequest("https://dynamodb.eu-west-1.amazonaws.com/");
  signer.Sign(request);

  EXPECT_EQ(HeaderValue(request.headers, "host"), "dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(HeaderValue(request.headers, "x-amz-date"), "20240102T030405Z");
  EXPECT_EQ(CountHeader(request.headers, "x-amz-security-token"), 0u);
  EXPECT_EQ(request.body, R"({"TableName":"users"})");
  const std::string authorization = HeaderValue(request.headers, "authorization");
  EXPECT_THAT(authorization,
              ::testing::MatchesRegex("AWS4-HMAC-SHA256 "
                                      "Credential=AKIDEXAMPLE/20240102/eu-west-1/dynamodb/aws4_request, "
                                      "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                                      "Signature=[0-9a-f]{64}"));
  // Computed independently with Python's hmac/hashlib from the same canonical request.
  EXPECT_THAT(authorization, ::testing::EndsWith(
                                 "Signature=8717b69b9c0fe6b1d46541a76991793a4551842b68b9cdc0284f607298fb6a3f"));
}

TEST(SigV4Signer, SignAddsAndSignsTheSessionToken) {
  FixedClock clock(ParseTimestamp("2024-01-02T03:04:05Z"));
  Credentials credentials = kCredentials;
  credentials.session_token = "FwoGZXIvYXdzEXAMPLETOKEN";
  const SigV4Signer signer(credentials, "eu-west-1", "dynamodb", clock);
  HttpRequest request = DescribeTableRequest("https://dynamodb.eu-west-1.amazonaws.com/");
  signer.Sign(request);

  EXPECT_EQ(HeaderValue(request.headers, "x-amz-security-token"), "FwoGZXIvYXdzEXAMPLETOKEN");
  EXPECT_THAT(HeaderValue(request.headers, "authorization"),
              ::testing::HasSubstr("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"));
}

TEST(SigV4Signer, HostHeaderHasPortOnlyWhenNotTheDefault) {
  FixedClock clock(ParseTimestamp("2024-01-02T03:04:05Z"));
  const SigV4Signer signer(kCredentials, "us-east-1", "dynamodb", clock);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http://127.0.0.1:8000/", "127.0.0.1:8000"},
      {"http://localhost:80/", "localhost"},
      {"https://dynamodb.us-east-1.amazonaws.com:443/", "dynamodb.us-east-1.amazonaws.com"},
      {"https://dynamodb.us-east-1.amazonaws.com:8443", "dynamodb.us-east-1.amazonaws.com:8443"},
      {"http://[::1]:8000/", "[::1]:8000"},
      {"http://[::1]:80/", "[::1]"},
      {"http://user@example.com:8000/", "example.com:8000"},
  };
  for (const auto& [url, host] : cases) {
    HttpRequest request = DescribeTableRequest(url);
    signer.Sign(request);
    EXPECT_EQ(HeaderValue(request.headers, "host"), host) << url;
  }
}

TEST(SigV4Signer, KeepsAHostHeaderTheCallerSet) {
  FixedClock clock(ParseTimestamp("2024-01-02T03:04:05Z"));
  const SigV4Signer signer(kCredentials, "us-east-1", "dynamodb", clock);
  HttpRequest request = DescribeTableRequest("http://127.0.0.1:8000/");
  request.headers.emplace_back("host", "proxy.example");
  signer.Sign(request);
  EXPECT_EQ(CountHeader(request.headers, "host"), 1u);
  EXPECT_EQ(HeaderValue(request.headers, "host"), "proxy.example");
}

TEST(SigV4Signer, SigningAgainReplacesDateTokenAndAuthorization) {
  FixedClock clock(ParseTimestamp("2024-01-02T03:04:05Z"));
  Credentials credentials = kCredentials;
  credentials.session_token = "token";
  const SigV4Signer signer(credentials, "us-east-1", "dynamodb", clock);
  HttpRequest request = DescribeTableRequest("https://dynamodb.us-east-1.amazonaws.com/");
  signer.Sign(request);
  const std::string first_authorization = HeaderValue(request.headers, "authorization");
  clock.Advance(std::chrono::seconds(90));
  signer.Sign(request);

  EXPECT_EQ(CountHeader(request.headers, "x-amz-date"), 1u);
  EXPECT_EQ(CountHeader(request.headers, "x-amz-security-token"), 1u);
  EXPECT_EQ(CountHeader(request.headers, "authorization"), 1u);
  EXPECT_EQ(CountHeader(request.headers, "host"), 1u);
  EXPECT_EQ(HeaderValue(request.headers, "x-amz-date"), "20240102T030535Z");
  EXPECT_NE(HeaderValue(request.headers, "authorization"), first_authorization);
}

TEST(SigV4Signer, DerivesANewKeyWhenTheDateChanges) {
  FixedClock clock(ParseTimestamp("2024-01-02T23:59:59Z"));
  const SigV4Signer long_lived(kCredentials, "us-east-1", "dynamodb", clock);
  HttpRequest first_day = DescribeTableRequest("https://dynamodb.us-east-1.amazonaws.com/");
  long_lived.Sign(first_day);
  clock.Advance(std::chrono::seconds(1));
  HttpRequest second_day = DescribeTableRequest("https://dynamodb.us-east-1.amazonaws.com/");
  long_lived.Sign(second_day);

  const SigV4Signer fresh(kCredentials, "us-east-1", "dynamodb", clock);
  HttpRequest expected = DescribeTableRequest("https://dynamodb.us-east-1.amazonaws.com/");
  fresh.Sign(expected);
  EXPECT_THAT(HeaderValue(second_day.headers, "authorization"), ::testing::HasSubstr("/20240103/us-east-1/"));
  EXPECT_EQ(HeaderValue(second_day.headers, "authorization"), HeaderValue(expected.headers, "authorization"));
}

TEST(SigV4Signer, SignsFromManyThreads) {
  FixedClock clock(ParseTimestamp("2024-01-02T03:04:05Z"));
  const SigV4Signer signer(kCredentials, "eu-west-1", "dynamodb", clock);
  std::vector<std::string> authorizations(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < authorizations.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        HttpRequest request = DescribeTableRequest("https://dynamodb.eu-west-1.amazonaws.com/");
        signer.Sign(request);
        authorizations[t] = HeaderValue(request.headers, "authorization");
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const std::string& authorization : authorizations) {
    EXPECT_THAT(authorization, ::testing::EndsWith(
                                   "Signature=8717b69b9c0fe6b1d46541a76991793a4551842b68b9cdc0284f607298fb6a3f"));
  }
}

TEST(SigV4Signer, LeavesProxyRewrittenHeadersUnsigned) {
  FixedClock clock(ParseTimestamp("2024-01-02T03:04:05Z"));
  const SigV4Signer signer(kCredentials, "us-east-1", "dynamodb", clock);
  HttpRequest request = DescribeTableRequest("https://dynamodb.us-east-1.amazonaws.com/");
  request.headers.emplace_back("User-Agent", "ddb2pg/0.1");
  request.headers.emplace_back("Expect", "");
  signer.Sign(request);
  EXPECT_THAT(HeaderValue(request.headers, "authorization"),
              ::testing::HasSubstr("SignedHeaders=content-type;host;x-amz-date;x-amz-target,"));
}

TEST(SigV4Signer, DoubleEncodesAnAlreadyEncodedPathAndCanonicalisesTheQuery) {
  FixedClock clock(ParseTimestamp("2024-01-02T03:04:05Z"));
  const SigV4Signer signer(kCredentials, "us-east-1", "dynamodb", clock);
  HttpRequest request;
  request.method = "GET";
  request.url = "https://example.com/a%20b/./c/../d?b=2&a=x%2Fy&a=1&empty#fragment";
  request.headers = {{"Host", "example.com"}};
  const SigningParts parts = signer.Compute(request, "20240102T030405Z");
  EXPECT_THAT(parts.canonical_request, ::testing::StartsWith("GET\n/a%2520b/d\na=1&a=x%2Fy&b=2&empty=\n"));
}

TEST(SigV4Signer, ComputeDoesNotDependOnTheClock) {
  FixedClock clock(ParseTimestamp("2024-01-02T03:04:05Z"));
  const SigV4Signer signer(kCredentials, "us-east-1", "dynamodb", clock);
  HttpRequest request = DescribeTableRequest("https://dynamodb.us-east-1.amazonaws.com/");
  request.headers.emplace_back("Host", "dynamodb.us-east-1.amazonaws.com");
  request.headers.emplace_back("X-Amz-Date", "20150830T123600Z");
  const SigningParts first = signer.Compute(request, "20150830T123600Z");
  clock.Advance(std::chrono::hours(24 * 400));
  EXPECT_EQ(signer.Compute(request, "20150830T123600Z").signature, first.signature);
  EXPECT_THAT(first.string_to_sign, ::testing::HasSubstr("\n20150830/us-east-1/dynamodb/aws4_request\n"));
}

}  // namespace
}  // namespace ddb2pg::aws
