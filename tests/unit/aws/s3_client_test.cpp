// S3: SigV4 under S3's rules (AWS's published S3 examples, byte for byte), addressing (virtual-hosted
// for AWS, path-style for a custom endpoint), the client's requests and error handling against a
// scripted transport, the XML it reads, and the gzip and MD5 helpers export reading needs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "aws/gzip_decoder.h"
#include "aws/md5_digest.h"
#include "aws/s3_addressing.h"
#include "aws/s3_client.h"
#include "aws/s3_response_parser.h"
#include "aws/sigv4_signer.h"
#include "fake_aws.h"
#include "support/gzip.h"

namespace ddb2pg::aws {

using ddb2pg::testing::Gzip;
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::FakeAws;
using testing::FakeClock;
using testing::HeaderValue;

constexpr char kEmptyHash[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

class FixedClock final : public core::Clock {
 public:
  explicit FixedClock(std::chrono::system_clock::time_point now) : now_(now) {}
  std::chrono::system_clock::time_point Now() const override { return now_; }
  std::chrono::steady_clock::time_point Monotonic() const override { return {}; }
  void SleepFor(std::chrono::nanoseconds) const override {}

 private:
  std::chrono::system_clock::time_point now_;
};

// The examples of AWS's "Signature Calculations for the Authorization Header" page for S3
// (examplebucket, 2013-05-24, the documentation's example keys).
SigV4Signer ExampleS3Signer(const core::Clock& clock) {
  Credentials credentials;
  credentials.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  SigV4Options options;
  options.s3 = true;
  return SigV4Signer(credentials, "us-east-1", "s3", clock, options);
}

std::chrono::system_clock::time_point ExampleTime() {
  return std::chrono::sys_days(std::chrono::year{2013} / 5 / 24);
}

std::string SignatureOf(const HttpRequest& request) {
  const std::string authorization = HeaderValue(request, "authorization");
  return authorization.substr(authorization.find("Signature=") + 10);
}

TEST(S3Signing, GetObjectWithRangeMatchesAwsExample) {
  FixedClock clock(ExampleTime());
  HttpRequest request;
  request.method = "GET";
  request.url = "https://examplebucket.s3.amazonaws.com/test.txt";
  request.headers = {{"Range", "bytes=0-9"}};
  ExampleS3Signer(clock).Sign(request);
  EXPECT_EQ(HeaderValue(request, "x-amz-content-sha256"), kEmptyHash);
  EXPECT_EQ(HeaderValue(request, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(S3Signing, ListObjectsMatchesAwsExample) {
  FixedClock clock(ExampleTime());
  HttpRequest request;
  request.method = "GET";
  request.url = "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J";
  ExampleS3Signer(clock).Sign(request);
  EXPECT_EQ(SignatureOf(request), "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(S3Signing, KeyIsSignedAsEncodedOnceAndNotNormalized) {
  FixedClock clock(ExampleTime());
  HttpRequest request;
  request.method = "GET";
  request.url = S3Url("http://127.0.0.1:9000", "us-east-1", "bucket", "a b/../c%/é.json");
  EXPECT_EQ(request.url, "http://127.0.0.1:9000/bucket/a%20b/../c%25/%C3%A9.json");
  const SigningParts parts = ExampleS3Signer(clock).Compute(request, "20130524T000000Z");
  EXPECT_THAT(parts.canonical_request, ::testing::StartsWith("GET\n/bucket/a%20b/../c%25/%C3%A9.json\n\n"));
}

TEST(S3Signing, SigningAgainReplacesThePayloadHash) {
  FixedClock clock(ExampleTime());
  HttpRequest request;
  request.method = "PUT";
  request.url = "https://examplebucket.s3.amazonaws.com/x";
  request.body = "abc";
  const SigV4Signer signer = ExampleS3Signer(clock);
  signer.Sign(request);
  signer.Sign(request);
  int hashes = 0;
  for (const auto& [name, value] : request.headers) hashes += name == "X-Amz-Content-Sha256";
  EXPECT_EQ(hashes, 1);
  EXPECT_EQ(HeaderValue(request, "x-amz-content-sha256"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// s3rver does not verify signatures, so S3 signing is also checked against the AWS SDK's own
// signer (@smithy/signature-v4, tests/js/s3/sign.mjs) on requests like the ones S3Client sends.
TEST(S3Signing, SameAuthorizationAsTheAwsSdkSigner) {
  if (std::system("command -v node >/dev/null 2>&1") != 0) GTEST_SKIP() << "node is not installed";
  const std::string js = std::string(DDB2PG_SOURCE_DIR) + "/tests/js/s3";
  ASSERT_TRUE(std::filesystem::exists(js + "/node_modules/@smithy/signature-v4"))
      << "@smithy/signature-v4 is not installed: run scripts/setup (npm ci in tests/js/s3)";
  struct Case {
    std::string method, path, query_encoded, query_json, header_name, header_value, body;
  };
  const std::vector<Case> cases = {
      {"GET", "/exports/dir/a%20b%26%C3%A9.json.gz", "", "{}", "range", "bytes=0-9", ""},
      {"GET", "/exports/", "continuation-token=1ue%2Fx%2By%3D&list-type=2&max-keys=2&prefix=p%2F",
       R"({"continuation-token":"1ue/x+y=","list-type":"2","max-keys":"2","prefix":"p/"})", "", "", ""},
      {"PUT", "/exports/k%2Bv", "", "{}", "content-type", "application/octet-stream", "abc"},
  };
  std::string json = "[";
  for (const Case& c : cases) {
    if (json.size() > 1) json += ",";
    json += R"({"method":")" + c.method + R"(","host":"127.0.0.1:9000","path":")" + c.path + R"(","query":)" +
            c.query_json + R"(,"headers":{)" +
            (c.header_name.empty() ? "" : "\"" + c.header_name + "\":\"" + c.header_value + "\"") + R"(},"body":")" +
            c.body + "\"}";
  }
  json += "]";
  std::string quoted = "'";
  for (char ch : json) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  quoted += "'";
  FILE* pipe = popen(("cd '" + js + "' && NODE_NO_WARNINGS=1 node sign.mjs " + quoted + " 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::vector<std::string> theirs;
  char line[4096];
  while (fgets(line, sizeof line, pipe) != nullptr) {
    std::string text(line);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    theirs.push_back(text);
  }
  ASSERT_EQ(pclose(pipe), 0) << ::testing::PrintToString(theirs);
  ASSERT_EQ(theirs.size(), cases.size()) << ::testing::PrintToString(theirs);

  FixedClock clock(std::chrono::sys_days(std::chrono::year{2026} / 1 / 1));
  Credentials credentials;
  credentials.access_key_id = "AKIDEXAMPLE";
  credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  SigV4Options options;
  options.s3 = true;
  const SigV4Signer signer(credentials, "us-east-1", "s3", clock, options);
  for (size_t i = 0; i < cases.size(); ++i) {
    HttpRequest request;
    request.method = cases[i].method;
    request.url = "http://127.0.0.1:9000" + cases[i].path +
                  (cases[i].query_encoded.empty() ? "" : "?" + cases[i].query_encoded);
    if (!cases[i].header_name.empty()) request.headers.emplace_back(cases[i].header_name, cases[i].header_value);
    request.body = cases[i].body;
    signer.Sign(request);
    EXPECT_EQ(HeaderValue(request, "authorization"), theirs[i]) << cases[i].method << " " << cases[i].path;
  }
}

TEST(S3Addressing, VirtualHostedOnAwsPathStyleOnACustomEndpoint) {
  EXPECT_EQ(S3Url("", "eu-west-1", "exports", "AWSDynamoDB/1/manifest-summary.json"),
            "https://exports.s3.eu-west-1.amazonaws.com/AWSDynamoDB/1/manifest-summary.json");
  EXPECT_EQ(S3Url("", "cn-north-1", "exports", "k"), "https://exports.s3.cn-north-1.amazonaws.com.cn/k");
  EXPECT_EQ(S3Url("", "eu-west-1", "my.exports", "k"), "https://s3.eu-west-1.amazonaws.com/my.exports/k");
  EXPECT_EQ(S3Url("http://127.0.0.1:4568", "us-east-1", "exports", "", "list-type=2"),
            "http://127.0.0.1:4568/exports/?list-type=2");
}

TEST(S3Addressing, EndpointFromTheEnvironment) {
  std::map<std::string, std::string> vars;
  const EnvLookup env = [&](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  EXPECT_EQ(ResolveS3Endpoint(env), "");
  vars["AWS_ENDPOINT_URL"] = "http://general:1/";
  EXPECT_EQ(ResolveS3Endpoint(env), "http://general:1");
  vars["AWS_ENDPOINT_URL_S3"] = "http://s3only:2";
  EXPECT_EQ(ResolveS3Endpoint(env), "http://s3only:2");
  vars["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "TRUE";
  EXPECT_EQ(ResolveS3Endpoint(env), "");
}

TEST(S3Addressing, ParsesS3Uris) {
  auto location = ParseS3Uri("s3://my-exports/ddb2pg/users/AWSDynamoDB/0123-abcd/manifest-summary.json");
  ASSERT_TRUE(location.ok()) << location.status().ToString();
  EXPECT_EQ(location->bucket, "my-exports");
  EXPECT_EQ(location->key, "ddb2pg/users/AWSDynamoDB/0123-abcd/manifest-summary.json");
  for (const char* bad : {"https://x/y", "s3://", "s3://bucket", "s3://bucket/", "s3:///key"}) {
    auto parsed = ParseS3Uri(bad);
    EXPECT_EQ(parsed.status().code(), core::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(parsed.status().message(), HasSubstr(bad));
  }
}

core::Result<HttpResponse> S3Reply(long status, std::string body, HttpHeaders headers = {}) {
  HttpResponse response;
  response.status = status;
  response.headers = std::move(headers);
  response.body = std::move(body);
  return response;
}

std::string S3Error(const std::string& code, const std::string& message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message +
         "</Message><StringToSign>secret-ish</StringToSign></Error>";
}

class S3ClientTest : public ::testing::Test {
 protected:
  S3Client Client() {
    RetryOptions options;
    options.max_attempts = 4;
    return S3Client(testing::TestAws(), "http://s3.test:4568", RetryPolicy(options, [] { return 0.5; }), clock_,
                    fake_.Factory());
  }
  FakeAws fake_;
  FakeClock clock_;
};

TEST_F(S3ClientTest, GetObjectSendsTheRangeAndReadsTheWholeSize) {
  fake_.Script(S3Reply(206, "0123456789", {{"etag", "\"abc\""}, {"content-range", "bytes 0-9/443"},
                                          {"content-length", "10"}}));
  auto object = Client().GetObject("exports", "dir/a b.json.gz", ByteRange{0, 9});
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  EXPECT_EQ(object->body, "0123456789");
  EXPECT_EQ(object->info.size, 443u);
  EXPECT_EQ(object->info.etag, "abc");
  const HttpRequest sent = fake_.requests().at(0);
  EXPECT_EQ(sent.method, "GET");
  EXPECT_EQ(sent.url, "http://s3.test:4568/exports/dir/a%20b.json.gz");
  EXPECT_EQ(HeaderValue(sent, "range"), "bytes=0-9");
  EXPECT_EQ(HeaderValue(sent, "x-amz-content-sha256"), kEmptyHash);
  EXPECT_EQ(HeaderValue(sent, "x-amz-security-token"), testing::kTestToken);
  EXPECT_THAT(HeaderValue(sent, "authorization"), HasSubstr("/us-east-1/s3/aws4_request"));
}

TEST_F(S3ClientTest, SlowDownAndServerErrorsAreRetried) {
  fake_.Script(S3Reply(503, S3Error("SlowDown", "Please reduce your request rate.")));
  fake_.Script(S3Reply(500, S3Error("InternalError", "We encountered an internal error.")));
  fake_.Script(S3Reply(200, "whole", {{"etag", "\"e\""}}));
  S3Client client = Client();
  auto object = client.GetObject("exports", "k");
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  EXPECT_EQ(object->body, "whole");
  EXPECT_EQ(object->info.size, 5u);
  EXPECT_EQ(fake_.request_count(), 3u);
  EXPECT_EQ(client.retry_stats().retries(AwsOperation::kGetObject), 2u);
  EXPECT_EQ(client.retry_stats().retries(core::StatusCode::kThrottled), 1u);
}

TEST_F(S3ClientTest, ErrorsNameTheOperationAndObjectAndHideSecrets) {
  fake_.Script(S3Reply(404, S3Error("NoSuchKey", "The specified key does not exist.")));
  auto missing = Client().GetObject("exports", "no/such.json");
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "GetObject exports/no/such.json: NoSuchKey: The specified key does not exist.");

  fake_.Script(S3Reply(403, S3Error("AccessDenied", std::string("Access Denied for ") + testing::kTestSecret)));
  auto denied = Client().GetObject("exports", "k");
  EXPECT_EQ(denied.status().code(), core::StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.status().message(), Not(HasSubstr(testing::kTestSecret)));
  EXPECT_THAT(denied.status().message(), Not(HasSubstr("secret-ish")));

  fake_.Script(S3Reply(404, ""));
  auto head = Client().HeadObject("exports", "gone");
  EXPECT_EQ(head.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(head.status().message(), "HeadObject exports/gone: HTTP 404");
}

TEST_F(S3ClientTest, HeadObjectReadsSizeAndEtag) {
  fake_.Script(S3Reply(200, "", {{"etag", "\"9b2cf535f27731c974343645a3985328\""}, {"content-length", "1234"},
                                 {"last-modified", "Wed, 01 Jan 2026 00:00:00 GMT"}}));
  auto info = Client().HeadObject("exports", "k");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, 1234u);
  EXPECT_EQ(info->etag, "9b2cf535f27731c974343645a3985328");
  EXPECT_EQ(fake_.requests().at(0).method, "HEAD");
}

TEST_F(S3ClientTest, ListObjectsV2PagesWithTheContinuationToken) {
  fake_.Script(S3Reply(200, R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>exports</Name><Prefix>p/</Prefix>
<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
<Contents><Key>p/a&amp;b &lt;1&gt;.json</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>
<ETag>&quot;e1&quot;</ETag><Size>10</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>p/&#233;</Key><ETag>"e2"</ETag><Size>20</Size></Contents></ListBucketResult>)"));
  fake_.Script(S3Reply(200, R"(<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>)"));
  S3Client client = Client();
  auto first = client.ListObjectsV2("exports", "p/", "", 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->objects.size(), 2u);
  EXPECT_EQ(first->objects[0].key, "p/a&b <1>.json");
  EXPECT_EQ(first->objects[0].etag, "e1");
  EXPECT_EQ(first->objects[0].size, 10u);
  EXPECT_EQ(first->objects[1].key, "p/\xC3\xA9");
  EXPECT_TRUE(first->is_truncated);
  auto second = client.ListObjectsV2("exports", "p/", first->next_continuation_token, 2);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->objects.empty());
  EXPECT_FALSE(second->is_truncated);
  EXPECT_EQ(fake_.requests().at(0).url, "http://s3.test:4568/exports/?list-type=2&max-keys=2&prefix=p%2F");
  EXPECT_EQ(fake_.requests().at(1).url,
            "http://s3.test:4568/exports/?continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D&"
            "list-type=2&max-keys=2&prefix=p%2F");
}

TEST(S3ResponseParser, RejectsWhatIsNotAListing) {
  EXPECT_EQ(ParseListObjectsV2("<html>proxy</html>").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>").status().code(),
            core::StatusCode::kInvalidArgument);
}


TEST(Gzip, InflatesWholeInPiecesAndConcatenatedMembers) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "{\"Item\":{\"id\":{\"S\":\"" + std::to_string(i) + "\"}}}\n";
  const std::string compressed = Gzip(text);
  auto whole = GzipDecoder::Inflate(compressed);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(*whole, text);

  GzipDecoder decoder;
  std::string pieces;
  for (size_t at = 0; at < compressed.size(); at += 7) {
    ASSERT_TRUE(decoder.Feed(std::string_view(compressed).substr(at, 7), pieces).ok());
  }
  EXPECT_TRUE(decoder.Finish().ok());
  EXPECT_EQ(pieces, text);

  auto two = GzipDecoder::Inflate(Gzip("first\n") + Gzip("second\n"));
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, "first\nsecond\n");
}

TEST(Gzip, TruncatedOrCorruptIsADataError) {
  const std::string compressed = Gzip("some text that compresses\n");
  EXPECT_EQ(GzipDecoder::Inflate(compressed.substr(0, compressed.size() - 5)).status().code(),
            core::StatusCode::kDataError);
  EXPECT_EQ(GzipDecoder::Inflate("not gzip at all").status().code(), core::StatusCode::kDataError);
}

TEST(Md5, MatchesKnownDigests) {
  EXPECT_EQ(Md5Digest::Base64Of(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
  Md5Digest digest;
  digest.Update("The quick brown fox ");
  digest.Update("jumps over the lazy dog");
  EXPECT_EQ(digest.FinishBase64(), "nhB9nTcrtoJr2B01QqQZ1g==");
}

}  // namespace
}  // namespace ddb2pg::aws
