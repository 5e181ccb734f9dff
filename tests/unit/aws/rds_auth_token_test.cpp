// RDS IAM authentication tokens: byte for byte what AWS's own JavaScript signer
// (@aws-sdk/rds-signer, installed by scripts/setup into tests/js/rds-signer) builds for the same
// credentials, endpoint, user, region and time; a fresh token from the injected clock on every
// call; the region read from RDS endpoint names.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "aws/rds_auth_token.h"
#include "fake_aws.h"

namespace ddb2pg::aws {
namespace {

using std::chrono::system_clock;

const std::string kSignerDir = std::string(DDB2PG_SOURCE_DIR) + "/tests/js/rds-signer";

struct Case {
  RdsAuthTarget target;
  Credentials credentials;
  std::string time;  // ISO 8601, UTC
};

system_clock::time_point ParseIso(const std::string& text) {
  std::tm tm{};
  if (strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) throw std::runtime_error("bad time " + text);
  return system_clock::from_time_t(timegm(&tm));
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// The token from @aws-sdk/rds-signer, through tests/js/rds-signer/token.js (which pins Date).
std::string JavaScriptToken(const Case& c) {
  const std::string input = "{\"hostname\":" + JsonString(c.target.host) + ",\"port\":" + std::to_string(c.target.port) +
                            ",\"username\":" + JsonString(c.target.user) + ",\"region\":" + JsonString(c.target.region) +
                            ",\"accessKeyId\":" + JsonString(c.credentials.access_key_id) +
                            ",\"secretAccessKey\":" + JsonString(c.credentials.secret_access_key) +
                            ",\"sessionToken\":" + JsonString(c.credentials.session_token) +
                            ",\"time\":" + JsonString(c.time) + "}";
  std::string quoted = "'";
  for (char ch : input) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  quoted += "'";
  const std::string command = "node " + kSignerDir + "/token.js " + quoted + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run node");
  std::string output;
  char buffer[4096];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("token.js failed: " + output);
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return output;
}

Credentials Static(std::string key, std::string secret, std::string token = "") {
  Credentials credentials;
  credentials.access_key_id = std::move(key);
  credentials.secret_access_key = std::move(secret);
  credentials.session_token = std::move(token);
  credentials.source = "test";
  return credentials;
}

TEST(RdsAuthToken, SameTokenAsAwsJavaScriptSignerByteForByte) {
  ASSERT_TRUE(std::filesystem::exists(kSignerDir + "/node_modules/@aws-sdk/rds-signer"))
      << "AWS's signer is not installed: run scripts/setup (it runs npm ci in tests/js/rds-signer)";
  const std::vector<Case> cases = {
      {{"mydb.c9akciq32.eu-west-1.rds.amazonaws.com", 5432, "ddb2pg", "eu-west-1"},
       Static("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
       "2024-01-02T03:04:05Z"},
      // Temporary credentials: the session token is signed and sent, its '/', '+' and '=' encoded.
      {{"cluster.cluster-c9akciq32.us-east-1.rds.amazonaws.com", 3306, "app_writer", "us-east-1"},
       Static("ASIAQEXAMPLE0000", "secret/with+plus=",
              "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+/=="),
       "2026-11-28T23:59:59Z"},
      // A user name that needs encoding, a loopback host, a China region.
      {{"localhost", 15432, "iam user@x/y", "cn-north-1"}, Static("AKID", "s3cr3t"), "2030-02-28T12:00:00Z"},
  };
  for (const Case& c : cases) {
    const std::string ours = RdsAuthToken::Build(c.target, c.credentials, ParseIso(c.time));
    EXPECT_EQ(ours, JavaScriptToken(c)) << c.target.host << " " << c.target.user;
  }
}

TEST(RdsAuthToken, HasTheDocumentedShape) {
  const std::string token = RdsAuthToken::Build({"db.abc.eu-west-1.rds.amazonaws.com", 5432, "ddb2pg", "eu-west-1"},
                                                Static("AKIDEXAMPLE", "secret"), ParseIso("2024-01-02T03:04:05Z"));
  EXPECT_TRUE(token.starts_with("db.abc.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=ddb2pg&"
                                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240102%2F"
                                "eu-west-1%2Frds-db%2Faws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=900&"
                                "X-Amz-Signature="))
      << token;
  EXPECT_TRUE(token.ends_with("&X-Amz-SignedHeaders=host")) << token;
  EXPECT_EQ(token.find("secret"), std::string::npos);
}

TEST(RdsAuthToken, EveryTokenIsFreshFromTheInjectedClockAndAsksForCredentials) {
  testing::FakeClock clock;  // 2026-01-01T00:00:00Z
  int asked = 0;
  RdsAuthToken tokens(
      [&]() -> core::Result<Credentials> {
        ++asked;
        return Static("AKIDEXAMPLE", "secret");
      },
      clock);
  const RdsAuthTarget target{"db.abc.eu-west-1.rds.amazonaws.com", 5432, "ddb2pg", "eu-west-1"};
  auto first = tokens.Generate(target);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_NE(first->find("X-Amz-Date=20260101T000000Z"), std::string::npos) << *first;

  clock.SleepFor(std::chrono::minutes(16));  // past the first token's 15 minutes
  auto second = tokens.Generate(target);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->find("X-Amz-Date=20260101T001600Z"), std::string::npos) << *second;
  EXPECT_NE(*first, *second);
  EXPECT_EQ(*second, RdsAuthToken::Build(target, Static("AKIDEXAMPLE", "secret"), clock.Now()));
  EXPECT_EQ(asked, 2);
}

TEST(RdsAuthToken, MissingPartsAndCredentialFailuresAreClearErrors) {
  testing::FakeClock clock;
  RdsAuthToken tokens([]() -> core::Result<Credentials> { return Static("AKID", "secret"); }, clock);
  EXPECT_NE(tokens.Generate({"", 5432, "u", "eu-west-1"}).status().message().find("host"), std::string::npos);
  EXPECT_NE(tokens.Generate({"h", 5432, "", "eu-west-1"}).status().message().find("user"), std::string::npos);
  EXPECT_NE(tokens.Generate({"h", 5432, "u", ""}).status().message().find("region"), std::string::npos);

  RdsAuthToken failing(
      []() -> core::Result<Credentials> { return core::Status::InvalidArgument("no AWS credentials: nowhere"); },
      clock);
  auto failed = failing.Generate({"h", 5432, "u", "eu-west-1"});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(failed.status().message().find("RDS IAM token"), std::string::npos) << failed.status().message();
  EXPECT_NE(failed.status().message().find("no AWS credentials"), std::string::npos);
}

TEST(RdsAuthToken, RegionFromRdsEndpointNames) {
  EXPECT_EQ(RdsAuthToken::RegionFromHost("mydb.c9akciq32.eu-west-1.rds.amazonaws.com"), "eu-west-1");
  EXPECT_EQ(RdsAuthToken::RegionFromHost("c.cluster-ro-c9akciq32.US-EAST-2.rds.amazonaws.com."), "us-east-2");
  EXPECT_EQ(RdsAuthToken::RegionFromHost("db.x.cn-north-1.rds.amazonaws.com.cn"), "cn-north-1");
  EXPECT_EQ(RdsAuthToken::RegionFromHost("db.x.us-gov-west-1.rds.amazonaws.com"), "us-gov-west-1");
  EXPECT_EQ(RdsAuthToken::RegionFromHost("localhost"), "");
  EXPECT_EQ(RdsAuthToken::RegionFromHost("db.example.com"), "");
  EXPECT_EQ(RdsAuthToken::RegionFromHost("rds.amazonaws.com"), "");
}

}  // namespace
}  // namespace ddb2pg::aws
