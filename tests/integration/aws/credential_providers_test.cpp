// Issue 15: every provider of the default credential chain against FakeCredentialEndpoints, a
// local server speaking AWS's documented formats (IMDSv2, the container agent, STS XML, the SSO
// portal): the key each one hands out, the protocol details (tokens, signing), expiry and
// refresh, wrong tokens, slow and failing endpoints with errors that name the provider.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "aws/credential_parsing.h"
#include "aws/dynamodb_client.h"
#include "aws/imds_client.h"
#include "aws/refreshing_credentials.h"
#include "aws/sts_client.h"
#include "core/clock.h"
#include "credential_test_env.h"
#include "fake_credential_endpoints.h"

namespace ddb2pg::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kRoleArn[] = "arn:aws:iam::123456789012:role/ddb2pg-reader";

std::string ErrorOf(const core::Result<aws::ResolvedAws>& result) {
  EXPECT_FALSE(result.ok()) << "resolved to " << (result.ok() ? result->credentials.Describe() : "");
  return result.ok() ? "" : result.status().ToString();
}

void ExpectNoSecrets(const std::string& text) {
  EXPECT_THAT(text, Not(HasSubstr("/SECRET")));
  EXPECT_THAT(text, Not(HasSubstr("/TOKEN")));
  EXPECT_THAT(text, Not(HasSubstr(FakeCredentialEndpoints::kWebIdentityToken)));
  EXPECT_THAT(text, Not(HasSubstr(FakeCredentialEndpoints::kContainerToken)));
  EXPECT_THAT(text, Not(HasSubstr(FakeCredentialEndpoints::kSsoToken)));
}

// --- EC2 instance metadata (IMDSv2) --------------------------------------------------------------

TEST(ImdsProvider, CredentialsAndRegionThroughIMDSv2) {
  FakeCredentialEndpoints fake;
  CredentialTempHome home;
  CredentialEnv env(home);
  env.Unset("AWS_EC2_METADATA_DISABLED").Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url());
  auto resolved = Resolve(env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, fake.Key("IMDS"));
  EXPECT_EQ(resolved->credentials.secret_access_key, FakeCredentialEndpoints::SecretOf(fake.Key("IMDS")));
  EXPECT_EQ(resolved->credentials.session_token, FakeCredentialEndpoints::TokenOf(fake.Key("IMDS")));
  ASSERT_TRUE(resolved->credentials.expiration.has_value());
  EXPECT_GT(*resolved->credentials.expiration, std::chrono::system_clock::now() + std::chrono::minutes(50));
  EXPECT_THAT(resolved->credentials.source, HasSubstr("instance metadata"));
  EXPECT_THAT(resolved->credentials.source, HasSubstr(FakeCredentialEndpoints::kImdsRole));
  // No region anywhere else: the instance's placement supplies it.
  EXPECT_EQ(resolved->region, FakeCredentialEndpoints::kRegion);
  EXPECT_EQ(resolved->dynamodb_endpoint, std::string("https://dynamodb.") + FakeCredentialEndpoints::kRegion + ".amazonaws.com");
  const auto requests = fake.Requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.front(), "PUT /latest/api/token");  // IMDSv2: a token first, never a plain GET
  ExpectNoSecrets(resolved->credentials.Describe());
}

TEST(ImdsProvider, ExpiredSessionTokenIsFetchedAgainOnce) {
  FakeCredentialEndpoints fake;
  CredentialTempHome home;
  CredentialEnv env(home);
  env.Unset("AWS_EC2_METADATA_DISABLED").Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url()).Set("AWS_REGION", "eu-west-1");
  auto resolved = Resolve(env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  const int tokens = fake.ImdsTokensIssued();
  fake.ExpireImdsTokens();
  fake.Rotate();
  auto fresh = resolved->credential_source->RefreshAfterRejection(resolved->credential_source->Current());
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ((*fresh)->access_key_id, fake.Key("IMDS"));
  EXPECT_EQ(fake.ImdsTokensIssued(), tokens + 1);
}

TEST(ImdsProvider, DisabledOrUnreachableIsListedInTheChainError) {
  FakeCredentialEndpoints fake;
  CredentialTempHome home;
  CredentialEnv env(home);
  env.Set("AWS_REGION", "eu-west-1");
  EXPECT_THAT(ErrorOf(Resolve(env)), HasSubstr("instance metadata disabled (AWS_EC2_METADATA_DISABLED)"));
  // A port nothing listens on: connection refused, listed with the other places looked at.
  env.Unset("AWS_EC2_METADATA_DISABLED").Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1");
  const std::string message = ErrorOf(Resolve(env));
  EXPECT_THAT(message, HasSubstr("no AWS credentials"));
  EXPECT_THAT(message, HasSubstr("instance metadata"));
  EXPECT_THAT(message, HasSubstr("not in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"));
}

TEST(ImdsProvider, SlowEndpointTimesOutBoundedAndNamesTheProvider) {
  FakeCredentialEndpoints fake;
  fake.SetDelay("/latest/api/token", std::chrono::milliseconds(aws::kImdsRequestTimeout.count() + 1500));
  CredentialTempHome home;
  CredentialEnv env(home);
  env.Unset("AWS_EC2_METADATA_DISABLED").Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url()).Set("AWS_REGION", "eu-west-1");
  const std::string message = ErrorOf(Resolve(env));
  EXPECT_THAT(message, HasSubstr("instance metadata"));
  EXPECT_THAT(message, HasSubstr("Timeout"));
}

TEST(ImdsProvider, FailingEndpointIsAnErrorNamingIt) {
  FakeCredentialEndpoints fake;
  fake.SetFailure("/latest/meta-data/iam", 500);
  CredentialTempHome home;
  CredentialEnv env(home);
  env.Unset("AWS_EC2_METADATA_DISABLED").Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url()).Set("AWS_REGION", "eu-west-1");
  auto result = Resolve(env);
  const std::string message = ErrorOf(result);
  EXPECT_THAT(message, HasSubstr("instance metadata at " + fake.url()));
  EXPECT_THAT(message, HasSubstr("HTTP 500"));
  EXPECT_EQ(result.status().code(), core::StatusCode::kUnavailable);
}

// --- Container credentials (ECS, EKS Pod Identity) ------------------------------------------------

TEST(ContainerProvider, FullUriWithAuthorizationTokenAndTokenFile) {
  FakeCredentialEndpoints fake;
  CredentialTempHome home;
  CredentialEnv env(home);
  env.Set("AWS_REGION", "eu-west-1")
      .Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", fake.url() + "/v2/credentials/pod")
      .Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", FakeCredentialEndpoints::kContainerToken);
  auto resolved = Resolve(env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, fake.Key("CONTAINER"));
  EXPECT_TRUE(resolved->credentials.expiration.has_value());
  EXPECT_THAT(resolved->credentials.source, HasSubstr("container credentials"));

  // The token file (EKS Pod Identity) wins over the variable and is read at every fetch.
  const std::string token_file = home.Write("eks-pod-identity-token", std::string(FakeCredentialEndpoints::kContainerToken) + "\n");
  env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "stale").Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file);
  resolved = Resolve(env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, fake.Key("CONTAINER"));
}

TEST(ContainerProvider, WrongTokenAndDisallowedHostAreErrors) {
  FakeCredentialEndpoints fake;
  CredentialTempHome home;
  CredentialEnv env(home);
  env.Set("AWS_REGION", "eu-west-1")
      .Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", fake.url() + "/v2/credentials/pod")
      .Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong-token-value");
  auto result = Resolve(env);
  const std::string message = ErrorOf(result);
  EXPECT_THAT(message, HasSubstr("container credentials (" + fake.url()));
  EXPECT_THAT(message, HasSubstr("HTTP 401"));
  EXPECT_THAT(message, Not(HasSubstr("wrong-token-value")));
  EXPECT_EQ(result.status().code(), core::StatusCode::kPermissionDenied);

  env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.1.2.3/creds");
  EXPECT_THAT(ErrorOf(Resolve(env)), HasSubstr("plain http is allowed only to a loopback address"));
}

// --- Web identity (EKS IRSA) ---------------------------------------------------------------------

TEST(WebIdentityProvider, EnvironmentTokenFileThroughStsAssumeRoleWithWebIdentity) {
  FakeCredentialEndpoints fake;
  CredentialTempHome home;
  const std::string token_file = home.Write("irsa-token", FakeCredentialEndpoints::kWebIdentityToken);
  CredentialEnv env(home);
  env.Set("AWS_REGION", "eu-west-1")
      .Set("AWS_WEB_IDENTITY_TOKEN_FILE", token_file)
      .Set("AWS_ROLE_ARN", kRoleArn)
      .Set("AWS_ROLE_SESSION_NAME", "ddb2pg-test")
      .Set("AWS_ENDPOINT_URL_STS", fake.url());
  auto resolved = Resolve(env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, fake.Key("WEBID"));
  EXPECT_THAT(resolved->credentials.source, HasSubstr("web identity"));
  EXPECT_THAT(resolved->credentials.source, HasSubstr(kRoleArn));
  EXPECT_TRUE(fake.AssumeRoleCallers().empty());  // unsigned: no Authorization header went out

  // A token STS does not accept: the error names the provider, STS's code, not the token.
  home.Write("irsa-token", "eyNOT.the.right.token");
  auto refused = Resolve(env);
  const std::string message = ErrorOf(refused);
  EXPECT_THAT(message, HasSubstr("web identity"));
  EXPECT_THAT(message, HasSubstr("InvalidIdentityToken"));
  EXPECT_THAT(message, Not(HasSubstr("eyNOT")));
  env.Unset("AWS_ROLE_ARN");
  EXPECT_THAT(ErrorOf(Resolve(env)), HasSubstr("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not"));
}

TEST(WebIdentityProvider, RegionalStsEndpointByDefault) {
  CredentialTempHome home;
  CredentialEnv env(home);
  auto sts = [&](const std::string& region) {
    aws::CredentialContext context;
    context.env = env.lookup();
    auto endpoint = aws::StsClient::ResolveEndpoint(context, region);
    return endpoint.ok() ? *endpoint : endpoint.status().ToString();
  };
  EXPECT_EQ(sts("eu-west-1"), "https://sts.eu-west-1.amazonaws.com");
  EXPECT_EQ(sts("cn-north-1"), "https://sts.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(sts(""), "https://sts.us-east-1.amazonaws.com");
  env.Set("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/");
  EXPECT_EQ(sts("eu-west-1"), "http://127.0.0.1:4566");
  env.Set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9999");
  EXPECT_EQ(sts("eu-west-1"), "http://127.0.0.1:9999");
  env.Set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
  EXPECT_EQ(sts("eu-west-1"), "https://sts.eu-west-1.amazonaws.com");
}

TEST(WebIdentityProvider, StsEndpointFromTheSharedConfigServicesSection) {
  FakeCredentialEndpoints fake;
  CredentialTempHome home;
  const std::string token_file = home.Write("irsa-token", FakeCredentialEndpoints::kWebIdentityToken);
  home.Write(".aws/config", "[default]\nservices = local\n[services local]\nsts =\n  endpoint_url = " + fake.url() +
                                "\ndynamodb =\n  endpoint_url = http://127.0.0.1:8000\n");
  CredentialEnv env(home);
  env.Set("AWS_REGION", "eu-west-1").Set("AWS_WEB_IDENTITY_TOKEN_FILE", token_file).Set("AWS_ROLE_ARN", kRoleArn);
  auto resolved = Resolve(env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, fake.Key("WEBID"));
  EXPECT_EQ(resolved->dynamodb_endpoint, "http://127.0.0.1:8000");
  EXPECT_EQ(resolved->streams_endpoint, "http://127.0.0.1:8000");
}

// --- Profiles: assume role, credential_process, SSO -----------------------------------------------

TEST(AssumeRoleProvider, SourceProfileSignsAssumeRoleAndChainsRoles) {
  FakeCredentialEndpoints fake;
  CredentialTempHome home;
  home.Write(".aws/credentials", "[base]\naws_access_key_id = AKIABASEKEY\naws_secret_access_key = basesecret\n");
  home.Write(".aws/config",
             "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\n"
             "role_session_name = ddb2pg-admin\nexternal_id = ext-1\n"
             "[profile chained]\nrole_arn = arn:aws:iam::123456789012:role/reader\nsource_profile = admin\n");
  CredentialEnv env(home);
  env.Set("AWS_REGION", "eu-west-1").Set("AWS_PROFILE", "admin").Set("AWS_ENDPOINT_URL_STS", fake.url());
  auto resolved = Resolve(env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, fake.Key("ROLE"));
  EXPECT_THAT(resolved->credentials.source, HasSubstr("assume role (profile admin"));
  auto callers = fake.AssumeRoleCallers();
  ASSERT_EQ(callers.size(), 1u);
  EXPECT_THAT(callers[0], StartsWith("AKIABASEKEY/"));
  EXPECT_THAT(callers[0], HasSubstr("/eu-west-1/sts/aws4_request"));

  // role → role: the second AssumeRole is signed with the first one's credentials.
  env.Set("AWS_PROFILE", "chained");
  resolved = Resolve(env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  callers = fake.AssumeRoleCallers();
  ASSERT_EQ(callers.size(), 3u);
  EXPECT_THAT(callers[1], StartsWith("AKIABASEKEY/"));
  EXPECT_THAT(callers[2], StartsWith(fake.Key("ROLE") + "/"));
}

TEST(AssumeRoleProvider, CredentialSourceEnvironmentAndCycles) {
  FakeCredentialEndpoints fake;
  CredentialTempHome home;
  home.Write(".aws/config",
             "[profile fromenv]\nrole_arn = arn:aws:iam::123456789012:role/a\ncredential_source = Environment\n"
             "[profile loop1]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = loop2\n"
             "[profile loop2]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = loop1\n");
  CredentialEnv env(home);
  // An explicit profile setting skips the environment step for the profile itself, but its
  // credential_source = Environment reads the variables.
  env.Set("AWS_REGION", "eu-west-1").Set("AWS_ENDPOINT_URL_STS", fake.url());
  aws::AwsSettings settings;
  settings.profile = "fromenv";
  env.Set("AWS_ACCESS_KEY_ID", "AKIAENVSOURCE").Set("AWS_SECRET_ACCESS_KEY", "envsecret");
  auto resolved = aws::ResolveAws(settings, env.lookup());
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, fake.Key("ROLE"));
  ASSERT_EQ(fake.AssumeRoleCallers().size(), 1u);
  EXPECT_THAT(fake.AssumeRoleCallers()[0], StartsWith("AKIAENVSOURCE/"));

  settings.profile = "loop1";
  auto looped = aws::ResolveAws(settings, env.lookup());
  ASSERT_FALSE(looped.ok());
  EXPECT_THAT(looped.status().message(), HasSubstr("leads back to a profile already on the role_arn chain"));
}

TEST(ProcessProvider, CredentialProcessJsonVersion1) {
  CredentialTempHome home;
  const std::string script = home.Write(
      "creds.sh",
      "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"ASIAPROCESSKEY\", \"SecretAccessKey\": \"p/SECRET\", "
      "\"SessionToken\": \"p/TOKEN\", \"Expiration\": \"2099-01-01T00:00:00Z\"}'\n");
  home.Write(".aws/config", "[profile tool]\ncredential_process = sh " + script +
                                "\n[profile broken]\ncredential_process = sh -c 'echo nope >&2; exit 3'\n"
                                "[profile v2]\ncredential_process = echo '{\"Version\": 2}'\n");
  CredentialEnv env(home);
  env.Set("AWS_REGION", "eu-west-1").Set("AWS_PROFILE", "tool");
  auto resolved = Resolve(env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, "ASIAPROCESSKEY");
  EXPECT_EQ(resolved->credentials.session_token, "p/TOKEN");
  ASSERT_TRUE(resolved->credentials.expiration.has_value());
  EXPECT_EQ(aws::FormatIso8601(*resolved->credentials.expiration), "2099-01-01T00:00:00Z");
  EXPECT_EQ(resolved->credentials.source, "credential_process (profile tool)");

  env.Set("AWS_PROFILE", "broken");
  EXPECT_THAT(ErrorOf(Resolve(env)), HasSubstr("credential_process (profile broken): the command exited with status 3"));
  env.Set("AWS_PROFILE", "v2");
  EXPECT_THAT(ErrorOf(Resolve(env)), HasSubstr("\"Version\": 1"));
}

std::string SsoCache(const std::string& start_url, const std::string& token, std::chrono::system_clock::time_point expires) {
  return "{\"startUrl\": \"" + start_url + "\", \"region\": \"eu-west-1\", \"accessToken\": \"" + token +
         "\", \"expiresAt\": \"" + aws::FormatIso8601(expires) + "\"}";
}

TEST(SsoProvider, SsoSessionCachedTokenAndGetRoleCredentials) {
  FakeCredentialEndpoints fake;
  CredentialTempHome home;
  const std::string start_url = "https://d-1234567890.awsapps.com/start";
  home.Write(".aws/config",
             "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Reader\n"
             "[sso-session corp]\nsso_start_url = " + start_url + "\nsso_region = eu-west-1\n"
             "[profile legacy]\nsso_start_url = " + start_url + "\nsso_region = eu-west-1\n"
             "sso_account_id = 123456789012\nsso_role_name = Reader\n");
  const auto later = std::chrono::system_clock::now() + std::chrono::hours(8);
  // Cache file names: SHA-1 of the session name (sso_session) or of the start URL (legacy).
  home.Write(".aws/sso/cache/" + aws::Sha1Hex("corp") + ".json", SsoCache(start_url, FakeCredentialEndpoints::kSsoToken, later));
  home.Write(".aws/sso/cache/" + aws::Sha1Hex(start_url) + ".json", SsoCache(start_url, FakeCredentialEndpoints::kSsoToken, later));
  CredentialEnv env(home);
  env.Set("AWS_REGION", "eu-west-1").Set("AWS_PROFILE", "dev").Set("AWS_ENDPOINT_URL_SSO", fake.url());
  auto resolved = Resolve(env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, fake.Key("SSO"));
  EXPECT_EQ(resolved->credentials.account_id, "123456789012");
  EXPECT_TRUE(resolved->credentials.expiration.has_value());
  EXPECT_THAT(resolved->credentials.source, HasSubstr("SSO (profile dev"));
  env.Set("AWS_PROFILE", "legacy");
  resolved = Resolve(env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, fake.Key("SSO"));
}

TEST(SsoProvider, ExpiredOrRefusedTokenSaysToLogIn) {
  FakeCredentialEndpoints fake;
  CredentialTempHome home;
  home.Write(".aws/config",
             "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Reader\n"
             "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\n");
  CredentialEnv env(home);
  env.Set("AWS_REGION", "eu-west-1").Set("AWS_PROFILE", "dev").Set("AWS_ENDPOINT_URL_SSO", fake.url());
  EXPECT_THAT(ErrorOf(Resolve(env)), HasSubstr("no cached SSO token"));
  const std::string cache = ".aws/sso/cache/" + aws::Sha1Hex("corp") + ".json";
  home.Write(cache, SsoCache("https://x.awsapps.com/start", FakeCredentialEndpoints::kSsoToken,
                             std::chrono::system_clock::now() - std::chrono::minutes(1)));
  std::string message = ErrorOf(Resolve(env));
  EXPECT_THAT(message, HasSubstr("has expired"));
  EXPECT_THAT(message, HasSubstr("aws sso login --profile dev"));
  home.Write(cache, SsoCache("https://x.awsapps.com/start", "not-the-portal-token",
                             std::chrono::system_clock::now() + std::chrono::hours(1)));
  message = ErrorOf(Resolve(env));
  EXPECT_THAT(message, HasSubstr("GetRoleCredentials"));
  EXPECT_THAT(message, HasSubstr("Session token not found or invalid"));
  EXPECT_THAT(message, Not(HasSubstr("not-the-portal-token")));
}

// --- Chain order -------------------------------------------------------------------------------

TEST(CredentialChainOrder, EnvironmentThenWebIdentityThenProfileThenContainerThenImds) {
  FakeCredentialEndpoints fake;
  CredentialTempHome home;
  home.Write(".aws/credentials", "[default]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = s\n");
  const std::string token_file = home.Write("irsa-token", FakeCredentialEndpoints::kWebIdentityToken);
  CredentialEnv env(home);
  env.Unset("AWS_EC2_METADATA_DISABLED")
      .Set("AWS_REGION", "eu-west-1")
      .Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url())
      .Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", fake.url() + "/v2/credentials/x")
      .Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", FakeCredentialEndpoints::kContainerToken)
      .Set("AWS_WEB_IDENTITY_TOKEN_FILE", token_file)
      .Set("AWS_ROLE_ARN", kRoleArn)
      .Set("AWS_ENDPOINT_URL_STS", fake.url())
      .Set("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT")
      .Set("AWS_SECRET_ACCESS_KEY", "s");
  auto key = [&] {
    auto resolved = Resolve(env);
    EXPECT_TRUE(resolved.ok()) << resolved.status().ToString();
    return resolved.ok() ? resolved->credentials.access_key_id : "";
  };
  EXPECT_EQ(key(), "AKIAENVIRONMENT");
  env.Unset("AWS_ACCESS_KEY_ID").Unset("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(key(), fake.Key("WEBID"));
  env.Unset("AWS_WEB_IDENTITY_TOKEN_FILE");
  EXPECT_EQ(key(), "AKIAPROFILE");
  home.Write(".aws/credentials", "");
  EXPECT_EQ(key(), fake.Key("CONTAINER"));
  env.Unset("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  EXPECT_EQ(key(), fake.Key("IMDS"));
}

// --- Refresh -----------------------------------------------------------------------------------

TEST(CredentialRefresh, BackgroundRefreshAheadOfExpiryRotatesTheKey) {
  FakeCredentialEndpoints fake;
  // Credentials that expire 5 min + 2 s after issue: due for refresh (5 min ahead) in 2 s.
  fake.SetLifetime(std::chrono::seconds(302));
  CredentialTempHome home;
  CredentialEnv env(home);
  env.Set("AWS_REGION", "eu-west-1")
      .Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", fake.url() + "/v2/credentials/x")
      .Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", FakeCredentialEndpoints::kContainerToken);
  auto resolved = Resolve(env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  const std::string first = resolved->credentials.access_key_id;
  fake.SetLifetime(std::chrono::seconds(3600));
  fake.Rotate();
  auto source = resolved->credential_source;
  std::string current = first;
  for (int i = 0; i < 300 && current == first; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    current = source->Current()->access_key_id;  // never waits for the network
  }
  EXPECT_EQ(current, fake.Key("CONTAINER"));
  EXPECT_NE(current, first);
  EXPECT_EQ(source->refresh_count(), 1u);
  EXPECT_EQ(fake.Issued("CONTAINER"), 2);
}

// A clock the test moves: lazily refreshed credentials are replaced once due, not before.
class StepClock final : public core::Clock {
 public:
  std::chrono::system_clock::time_point Now() const override { return std::chrono::system_clock::now() + offset_.load(); }
  std::chrono::steady_clock::time_point Monotonic() const override { return std::chrono::steady_clock::now(); }
  void SleepFor(std::chrono::nanoseconds) const override {}
  void Advance(std::chrono::seconds by) { offset_ = offset_.load() + by; }

 private:
  std::atomic<std::chrono::system_clock::duration> offset_{std::chrono::system_clock::duration::zero()};
};

TEST(CredentialRefresh, LazyRefreshWhenDueAndExpiredCredentialsAreReplacedBeforeUse) {
  FakeCredentialEndpoints fake;
  CredentialTempHome home;
  CredentialEnv env(home);
  env.Unset("AWS_EC2_METADATA_DISABLED").Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url()).Set("AWS_REGION", "eu-west-1");
  StepClock clock;
  aws::ResolveOptions options;
  options.clock = &clock;
  options.background_refresh = false;
  auto resolved = Resolve(env, options);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  auto source = resolved->credential_source;
  const std::string first = source->Current()->access_key_id;
  fake.Rotate();
  clock.Advance(std::chrono::minutes(30));  // 30 min left: not due
  EXPECT_EQ(source->Current()->access_key_id, first);
  clock.Advance(std::chrono::minutes(26));  // 4 min left: due
  EXPECT_EQ(source->Current()->access_key_id, fake.Key("IMDS"));
  EXPECT_EQ(source->refresh_count(), 1u);
}

// --- Refused credentials: one refresh and a retry ----------------------------------------------

TEST(CredentialRefresh, ExpiredTokenExceptionRefreshesOnceAndRetries) {
  FakeCredentialEndpoints fake;
  CredentialTempHome home;
  CredentialEnv env(home);
  env.Unset("AWS_EC2_METADATA_DISABLED").Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url()).Set("AWS_REGION", "eu-west-1");
  // A DynamoDB stand-in that accepts only the key the fake IMDS hands out now.
  std::mutex mutex;
  std::vector<std::string> seen_keys;
  TinyHttpServer dynamodb([&](const TinyRequest& request) -> TinyResponse {
    const std::string authorization = request.headers.count("authorization") ? request.headers.at("authorization") : "";
    const size_t start = authorization.find("Credential=") + 11;
    const std::string key = authorization.substr(start, authorization.find('/', start) - start);
    {
      std::lock_guard lock(mutex);
      seen_keys.push_back(key);
    }
    if (key != fake.Key("IMDS")) {
      return {400, "application/x-amz-json-1.0",
              "{\"__type\":\"com.amazon.coral.service#ExpiredTokenException\",\"message\":\"The security token included in the request is expired\"}",
              {}};
    }
    return {200, "application/x-amz-json-1.0",
            "{\"Table\":{\"TableName\":\"users\",\"TableStatus\":\"ACTIVE\",\"ItemCount\":0,\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}]}}",
            {}};
  });
  env.Set("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.url());
  auto resolved = Resolve(env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  const std::string first = resolved->credentials.access_key_id;
  fake.Rotate();  // AWS now refuses the first key
  aws::DynamoDbClient client(*resolved, aws::RetryPolicy(), core::SystemClock::Instance());
  auto described = client.DescribeTable("users");
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(seen_keys.size(), 2u);
    EXPECT_EQ(seen_keys[0], first);
    EXPECT_EQ(seen_keys[1], fake.Key("IMDS"));
  }
  EXPECT_EQ(resolved->credential_source->refresh_count(), 1u);

  // Static keys cannot be refreshed: the refusal stands, as permission denied.
  aws::ResolvedAws fixed = *resolved;
  fixed.credential_source = nullptr;
  fixed.credentials.access_key_id = "AKIASTATICOLD";
  aws::DynamoDbClient static_client(fixed, aws::RetryPolicy(), core::SystemClock::Instance());
  auto refused = static_client.DescribeTable("users");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), core::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.status().message(), HasSubstr("ExpiredTokenException"));
}

// --- Proxies and CA bundle (libcurl's own handling) ----------------------------------------------

TEST(CredentialTransport, HttpProxyIsUsedForStsNoProxyBypassesItAndImdsNeverUsesIt) {
  FakeCredentialEndpoints fake;
  std::mutex mutex;
  std::vector<std::string> proxied;
  TinyHttpServer proxy([&](const TinyRequest& request) {
    {
      std::lock_guard lock(mutex);
      proxied.push_back(request.method + " " + request.target);
    }
    return fake.Handle(request);
  });
  CredentialTempHome home;
  const std::string token_file = home.Write("irsa-token", FakeCredentialEndpoints::kWebIdentityToken);
  // libcurl reads the proxy variables from the process environment.
  ::setenv("http_proxy", proxy.url().c_str(), 1);
  ::unsetenv("no_proxy");
  ::unsetenv("NO_PROXY");
  CredentialEnv env(home);
  env.Set("AWS_REGION", "eu-west-1")
      .Set("AWS_WEB_IDENTITY_TOKEN_FILE", token_file)
      .Set("AWS_ROLE_ARN", kRoleArn)
      .Set("AWS_ENDPOINT_URL_STS", "http://sts.proxied.invalid");  // resolvable only by going through the proxy
  auto resolved = Resolve(env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, fake.Key("WEBID"));
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(proxied.size(), 1u);
    EXPECT_EQ(proxied[0], "POST http://sts.proxied.invalid/");
  }
  ::setenv("NO_PROXY", "sts.proxied.invalid", 1);
  EXPECT_THAT(ErrorOf(Resolve(env)), HasSubstr("sts.proxied.invalid"));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(proxied.size(), 1u);
  }
  ::unsetenv("NO_PROXY");
  // Instance metadata is link-local: never through the proxy, even with http_proxy set.
  CredentialEnv imds_env(home);
  imds_env.Unset("AWS_EC2_METADATA_DISABLED").Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url()).Set("AWS_REGION", "eu-west-1");
  auto from_imds = Resolve(imds_env);
  ASSERT_TRUE(from_imds.ok()) << from_imds.status().ToString();
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(proxied.size(), 1u);
  }
  ::unsetenv("http_proxy");
}

TEST(CredentialTransport, HttpsProxyCarriesHttpsCallsThroughConnect) {
  std::mutex mutex;
  std::vector<std::string> proxied;
  TinyHttpServer proxy([&](const TinyRequest& request) {
    std::lock_guard lock(mutex);
    proxied.push_back(request.method + " " + request.target);
    return TinyResponse{403, "text/plain", "tunnels refused by the test proxy", {}};
  });
  CredentialTempHome home;
  const std::string token_file = home.Write("irsa-token", FakeCredentialEndpoints::kWebIdentityToken);
  ::setenv("HTTPS_PROXY", proxy.url().c_str(), 1);
  ::unsetenv("NO_PROXY");
  ::unsetenv("no_proxy");
  CredentialEnv env(home);
  env.Set("AWS_REGION", "eu-west-1")
      .Set("AWS_WEB_IDENTITY_TOKEN_FILE", token_file)
      .Set("AWS_ROLE_ARN", kRoleArn)
      .Set("AWS_ENDPOINT_URL_STS", "https://sts.tunnelled.invalid");
  const std::string message = ErrorOf(Resolve(env));
  ::unsetenv("HTTPS_PROXY");
  EXPECT_THAT(message, HasSubstr("web identity"));
  std::lock_guard lock(mutex);
  ASSERT_EQ(proxied.size(), 1u);
  EXPECT_EQ(proxied[0], "CONNECT sts.tunnelled.invalid:443");
}

TEST(CredentialTransport, CaBundleIsUsedForHttpsCalls) {
  CredentialTempHome home;
  const std::string token_file = home.Write("irsa-token", FakeCredentialEndpoints::kWebIdentityToken);
  FakeCredentialEndpoints fake;
  CredentialEnv env(home);
  env.Set("AWS_REGION", "eu-west-1")
      .Set("AWS_WEB_IDENTITY_TOKEN_FILE", token_file)
      .Set("AWS_ROLE_ARN", kRoleArn)
      .Set("AWS_ENDPOINT_URL_STS", "https://127.0.0.1:" + std::to_string(fake.port()))
      .Set("AWS_CA_BUNDLE", home.path() + "/no-such-ca.pem");
  auto result = Resolve(env);
  const std::string message = ErrorOf(result);
  EXPECT_THAT(message, HasSubstr("web identity"));
  EXPECT_THAT(message, HasSubstr("CA cert"));  // libcurl: "Problem with the SSL CA cert (path? access rights?)"
  auto resolved_ca = aws::ResolveAws(aws::AwsSettings{"AKIA", "s", "", "", "eu-west-1", "", ""}, env.lookup());
  ASSERT_TRUE(resolved_ca.ok());
  EXPECT_EQ(resolved_ca->ca_bundle, home.path() + "/no-such-ca.pem");
}

}  // namespace
}  // namespace ddb2pg::testing
