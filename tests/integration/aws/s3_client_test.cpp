// S3Client against a real local S3 server (s3rver, started by scripts/servers; it does not check
// SigV4 signatures: the unit tests replay AWS's S3 examples), cross-checked with AWS's own client: tests/js/s3/read-objects.mjs reads the same
// objects with @aws-sdk/client-s3 and must see the same keys, sizes, ETags and bytes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <simdjson.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "aws/gzip_decoder.h"
#include "aws/md5_digest.h"
#include "aws/s3_client.h"
#include "core/clock.h"
#include "support/test_env.h"
#include "support/gzip.h"

namespace ddb2pg::aws {

using ddb2pg::testing::Gzip;
namespace {

using ::testing::HasSubstr;

ResolvedAws S3rverAws() {
  ResolvedAws aws;
  aws.credentials.access_key_id = "S3RVER";
  aws.credentials.secret_access_key = "S3RVER";
  aws.credentials.source = "test";
  aws.region = "us-east-1";
  return aws;
}

S3Client LocalS3() {
  RetryOptions options;
  options.max_attempts = 3;
  return S3Client(S3rverAws(), ddb2pg::testing::S3Endpoint(), RetryPolicy(options),
                  core::SystemClock::Instance());
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kDigits[digest[i] >> 4]);
    hex.push_back(kDigits[digest[i] & 0x0f]);
  }
  return hex;
}


std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class S3ClientIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = ddb2pg::testing::UniqueName("s3client") + "/";
    std::string lines;
    for (int i = 0; i < 5000; ++i) {
      lines += R"({"Item":{"id":{"S":"user-)" + std::to_string(i) + R"("},"n":{"N":")" + std::to_string(i * 7) +
               "\"}}}\n";
    }
    text_ = lines;
    std::string binary;
    for (int i = 0; i < 70000; ++i) binary.push_back(static_cast<char>((i * 131) % 256));
    objects_ = {
        {prefix_ + "data/part-0001.json.gz", Gzip(lines)},
        {prefix_ + "a key with spaces & ünïcode.json", R"({"hello":"world"})"},
        {prefix_ + "binary.bin", binary},
    };
    for (const auto& [key, body] : objects_) {
      ASSERT_TRUE(client_.PutObject(ddb2pg::testing::kTestBucket, key, body).ok()) << key;
    }
  }

  std::string prefix_;
  std::string text_;
  std::map<std::string, std::string> objects_;
  S3Client client_ = LocalS3();
};

TEST_F(S3ClientIntegration, ListsHeadsAndReadsWholeAndRanges) {
  std::map<std::string, S3ObjectInfo> listed;
  std::string token;
  int pages = 0;
  do {
    auto page = client_.ListObjectsV2(ddb2pg::testing::kTestBucket, prefix_, token, 2);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& object : page->objects) listed[object.key] = object;
    token = page->is_truncated ? page->next_continuation_token : "";
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 2);
  ASSERT_EQ(listed.size(), objects_.size());

  for (const auto& [key, body] : objects_) {
    ASSERT_TRUE(listed.count(key)) << key;
    EXPECT_EQ(listed[key].size, body.size()) << key;
    auto head = client_.HeadObject(ddb2pg::testing::kTestBucket, key);
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    EXPECT_EQ(head->size, body.size());
    EXPECT_EQ(head->etag, listed[key].etag);
    auto whole = client_.GetObject(ddb2pg::testing::kTestBucket, key);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    EXPECT_EQ(whole->body, body) << key;
    // s3rver's ETag of a single-part upload is the hex MD5, as AWS's.
    EXPECT_EQ(whole->info.etag, head->etag);
    auto range = client_.GetObject(ddb2pg::testing::kTestBucket, key, ByteRange{5, 14});
    ASSERT_TRUE(range.ok()) << range.status().ToString();
    EXPECT_EQ(range->body, body.substr(5, 10)) << key;
    EXPECT_EQ(range->info.size, body.size()) << key;
  }

  auto gz = client_.GetObject(ddb2pg::testing::kTestBucket, prefix_ + "data/part-0001.json.gz");
  ASSERT_TRUE(gz.ok());
  auto inflated = GzipDecoder::Inflate(gz->body);
  ASSERT_TRUE(inflated.ok()) << inflated.status().ToString();
  EXPECT_EQ(*inflated, text_);
}

TEST_F(S3ClientIntegration, MissingObjectsAndBucketsAreClearErrors) {
  auto missing = client_.GetObject(ddb2pg::testing::kTestBucket, prefix_ + "nope.json");
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("GetObject ddb2pg-test/" + prefix_ + "nope.json: NoSuchKey"));
  auto head = client_.HeadObject(ddb2pg::testing::kTestBucket, prefix_ + "nope.json");
  EXPECT_EQ(head.status().code(), core::StatusCode::kNotFound);
  auto no_bucket = client_.ListObjectsV2("no-such-bucket-ddb2pg", "");
  EXPECT_EQ(no_bucket.status().code(), core::StatusCode::kNotFound);
  EXPECT_THAT(no_bucket.status().message(), HasSubstr("ListObjectsV2 no-such-bucket-ddb2pg/: NoSuchBucket"));
}

TEST_F(S3ClientIntegration, AwsSdkForJavaScriptReadsTheSameObjects) {
  if (std::system("command -v node >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "node is not installed: the @aws-sdk/client-s3 cross-check is skipped";
  }
  const std::string js = std::string(DDB2PG_SOURCE_DIR) + "/tests/js/s3";
  ASSERT_TRUE(std::filesystem::exists(js + "/node_modules/@aws-sdk/client-s3"))
      << "@aws-sdk/client-s3 is not installed: run scripts/setup (npm ci in tests/js/s3)";
  const std::string command = "cd " + ShellQuote(js) +
                              " && env NODE_NO_WARNINGS=1 AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 "
                              "node read-objects.mjs " +
                              ShellQuote(ddb2pg::testing::S3Endpoint()) + " " + ddb2pg::testing::kTestBucket + " " +
                              ShellQuote(prefix_) + " 5 14 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  while (pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  ASSERT_NE(pipe, nullptr);
  ASSERT_EQ(pclose(pipe), 0) << output;
  const size_t json_start = output.rfind("{\"objects\"");  // past any warning node printed
  ASSERT_NE(json_start, std::string::npos) << output;
  output = output.substr(json_start);

  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(output).get(root), simdjson::SUCCESS) << output;
  size_t seen = 0;
  for (simdjson::dom::element object : root["objects"].get_array()) {
    const std::string key(object["key"].get_string().value());
    ASSERT_TRUE(objects_.count(key)) << key;
    auto ours = client_.GetObject(ddb2pg::testing::kTestBucket, key);
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    auto range = client_.GetObject(ddb2pg::testing::kTestBucket, key, ByteRange{5, 14});
    ASSERT_TRUE(range.ok());
    EXPECT_EQ(static_cast<uint64_t>(object["size"].get_int64().value()), ours->info.size) << key;
    EXPECT_EQ(std::string(object["etag"].get_string().value()), ours->info.etag) << key;
    EXPECT_EQ(std::string(object["sha256"].get_string().value()), Sha256Hex(ours->body)) << key;
    EXPECT_EQ(std::string(object["rangeSha256"].get_string().value()), Sha256Hex(range->body)) << key;
    std::string_view inflated_sha;
    if (object["inflatedSha256"].get_string().get(inflated_sha) == simdjson::SUCCESS) {
      auto inflated = GzipDecoder::Inflate(ours->body);
      ASSERT_TRUE(inflated.ok());
      EXPECT_EQ(std::string(inflated_sha), Sha256Hex(*inflated)) << key;
    }
    ++seen;
  }
  EXPECT_EQ(seen, objects_.size());
}

}  // namespace
}  // namespace ddb2pg::aws
