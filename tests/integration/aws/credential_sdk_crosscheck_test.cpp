// Issue 15 cross-check: the AWS SDK for JavaScript v3 (fromNodeProviderChain, from npm, pinned in
// tests/js/aws-credentials/package.json) and ddb2pg resolve credentials in the same environment,
// against the same FakeCredentialEndpoints, and must arrive at the same access key for every
// provider. Skipped (with a message) only where node is not installed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "aws/credential_parsing.h"
#include "credential_test_env.h"
#include "fake_credential_endpoints.h"

namespace ddb2pg::testing {
namespace {

constexpr char kRoleArn[] = "arn:aws:iam::123456789012:role/ddb2pg-reader";

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class SdkCrossCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v node >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "node is not installed: the AWS SDK for JavaScript cross-check is skipped";
    }
    script_ = std::string(DDB2PG_SOURCE_DIR) + "/tests/js/aws-credentials/resolve.mjs";
    ASSERT_TRUE(std::filesystem::exists(std::string(DDB2PG_SOURCE_DIR) +
                                        "/tests/js/aws-credentials/node_modules/@aws-sdk/credential-providers"))
        << "@aws-sdk/credential-providers is not installed: run scripts/setup (npm ci in tests/js/aws-credentials)";
  }

  // The access key the JavaScript SDK finds with exactly `env` (plus PATH), or "error: ...".
  std::string NodeKey(const CredentialEnv& env) const {
    std::string command = "env -i PATH=" + ShellQuote(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
    for (const auto& [name, value] : env.values()) command += " " + name + "=" + ShellQuote(value);
    command += " node " + ShellQuote(script_) + " 2>&1";
    std::string output;
    FILE* pipe = popen(command.c_str(), "r");
    char buffer[4096];
    while (pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
    if (pipe != nullptr) pclose(pipe);
    std::smatch match;
    if (std::regex_search(output, match, std::regex("\"accessKeyId\":\"([^\"]+)\""))) return match[1];
    return "error: " + output;
  }

  std::string DdbKey(const CredentialEnv& env) const {
    auto resolved = Resolve(env);
    return resolved.ok() ? resolved->credentials.access_key_id : "error: " + resolved.status().ToString();
  }

  void ExpectSameKey(const CredentialEnv& env, const std::string& expected) {
    EXPECT_EQ(DdbKey(env), expected);
    EXPECT_EQ(NodeKey(env), expected);
  }

  std::string script_;
  FakeCredentialEndpoints fake_;
  CredentialTempHome home_;
};

TEST_F(SdkCrossCheck, Environment) {
  CredentialEnv env(home_);
  env.Set("AWS_REGION", "eu-west-1").Set("AWS_ACCESS_KEY_ID", "AKIAENVCROSSCHECK").Set("AWS_SECRET_ACCESS_KEY", "s");
  ExpectSameKey(env, "AKIAENVCROSSCHECK");
}

TEST_F(SdkCrossCheck, InstanceMetadataIMDSv2) {
  CredentialEnv env(home_);
  env.Unset("AWS_EC2_METADATA_DISABLED").Set("AWS_REGION", "eu-west-1").Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake_.url());
  ExpectSameKey(env, fake_.Key("IMDS"));
}

TEST_F(SdkCrossCheck, ContainerFullUriWithTokenFile) {
  const std::string token_file = home_.Write("pod-identity-token", FakeCredentialEndpoints::kContainerToken);
  CredentialEnv env(home_);
  env.Set("AWS_REGION", "eu-west-1")
      .Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", fake_.url() + "/v2/credentials/pod")
      .Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file);
  ExpectSameKey(env, fake_.Key("CONTAINER"));
}

TEST_F(SdkCrossCheck, WebIdentityFromEnvironment) {
  const std::string token_file = home_.Write("irsa-token", FakeCredentialEndpoints::kWebIdentityToken);
  CredentialEnv env(home_);
  env.Set("AWS_REGION", "eu-west-1")
      .Set("AWS_WEB_IDENTITY_TOKEN_FILE", token_file)
      .Set("AWS_ROLE_ARN", kRoleArn)
      .Set("AWS_ENDPOINT_URL_STS", fake_.url());
  ExpectSameKey(env, fake_.Key("WEBID"));
}

TEST_F(SdkCrossCheck, AssumeRoleWithSourceProfile) {
  home_.Write(".aws/credentials", "[base]\naws_access_key_id = AKIABASECROSS\naws_secret_access_key = basesecret\n");
  home_.Write(".aws/config", "[profile admin]\nrole_arn = " + std::string(kRoleArn) + "\nsource_profile = base\n");
  CredentialEnv env(home_);
  env.Set("AWS_REGION", "eu-west-1").Set("AWS_PROFILE", "admin").Set("AWS_ENDPOINT_URL_STS", fake_.url());
  ExpectSameKey(env, fake_.Key("ROLE"));
  for (const std::string& caller : fake_.AssumeRoleCallers()) {
    EXPECT_THAT(caller, ::testing::StartsWith("AKIABASECROSS/"));  // both signed with the source profile's key
  }
}

TEST_F(SdkCrossCheck, CredentialProcess) {
  const std::string script = home_.Write(
      "creds.sh", "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"ASIAPROCESSCROSS\", \"SecretAccessKey\": \"x\", "
                  "\"SessionToken\": \"y\", \"Expiration\": \"2099-01-01T00:00:00Z\"}'\n");
  home_.Write(".aws/config", "[profile tool]\ncredential_process = sh " + script + "\n");
  CredentialEnv env(home_);
  env.Set("AWS_REGION", "eu-west-1").Set("AWS_PROFILE", "tool");
  ExpectSameKey(env, "ASIAPROCESSCROSS");
}

TEST_F(SdkCrossCheck, SsoSession) {
  const std::string start_url = "https://d-1234567890.awsapps.com/start";
  home_.Write(".aws/config",
              "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Reader\n"
              "[sso-session corp]\nsso_start_url = " + start_url + "\nsso_region = eu-west-1\n");
  home_.Write(".aws/sso/cache/" + aws::Sha1Hex("corp") + ".json",
              "{\"startUrl\": \"" + start_url + "\", \"region\": \"eu-west-1\", \"accessToken\": \"" +
                  FakeCredentialEndpoints::kSsoToken + "\", \"expiresAt\": \"" +
                  aws::FormatIso8601(std::chrono::system_clock::now() + std::chrono::hours(8)) + "\"}");
  CredentialEnv env(home_);
  env.Set("AWS_REGION", "eu-west-1").Set("AWS_PROFILE", "dev").Set("AWS_ENDPOINT_URL_SSO", fake_.url());
  ExpectSameKey(env, fake_.Key("SSO"));
}

}  // namespace
}  // namespace ddb2pg::testing
