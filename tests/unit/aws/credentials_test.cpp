// ResolveAws: every step of the credentials, region and endpoint chains, with an injected
// environment and real files in a temporary HOME, and the promise that secrets never leak into
// Describe() or error messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "aws/credentials.h"

namespace ddb2pg::aws {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kToken[] = "FwoGZXIvYXdzEPTOKENSECRETVALUE0123456789";

// A fresh HOME with an .aws folder, removed at the end of the test.
class TempHome {
 public:
  TempHome() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("ddb2pg-credentials-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_ / ".aws");
  }
  ~TempHome() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempHome(const TempHome&) = delete;
  TempHome& operator=(const TempHome&) = delete;

  std::string path() const { return path_.string(); }
  std::string credentials_path() const { return (path_ / ".aws" / "credentials").string(); }
  std::string config_path() const { return (path_ / ".aws" / "config").string(); }
  std::string Write(const std::string& relative, const std::string& content) const {
    const fs::path file = path_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
  }
  void WriteCredentials(const std::string& content) const { Write(".aws/credentials", content); }
  void WriteConfig(const std::string& content) const { Write(".aws/config", content); }

 private:
  fs::path path_;
};

class FakeEnv {
 public:
  // Instance metadata is off unless a test sets the variable: these tests run off EC2, and the
  // providers that need a server are tested in tests/integration/aws/credential_providers_test.cpp.
  explicit FakeEnv(std::map<std::string, std::string> values) : values_(std::move(values)) {
    values_.emplace("AWS_EC2_METADATA_DISABLED", "true");
  }
  EnvLookup lookup() const {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = values_.find(name);
      if (it == values_.end()) return std::nullopt;
      return it->second;
    };
  }
  void Set(const std::string& name, const std::string& value) { values_[name] = value; }

 private:
  std::map<std::string, std::string> values_;
};

AwsSettings WithRegion(const std::string& region = "eu-west-1") {
  AwsSettings settings;
  settings.region = region;
  return settings;
}

ResolvedAws MustResolve(const AwsSettings& settings, const FakeEnv& env) {
  core::Result<ResolvedAws> result = ResolveAws(settings, env.lookup());
  if (!result.ok()) {
    ADD_FAILURE() << result.status().ToString();
    return {};
  }
  return std::move(result).value();
}

std::string MustFail(const AwsSettings& settings, const FakeEnv& env) {
  core::Result<ResolvedAws> result = ResolveAws(settings, env.lookup());
  EXPECT_FALSE(result.ok()) << "resolved to " << (result.ok() ? result->credentials.Describe() : "");
  if (result.ok()) return {};
  EXPECT_EQ(result.status().code(), core::StatusCode::kInvalidArgument);
  return result.status().message();
}

// --- Credentials: each step of the chain --------------------------------------------------------

TEST(CredentialsChain, ExplicitSettingsBeatEnvironmentAndFiles) {
  TempHome home;
  home.WriteCredentials("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n");
  FakeEnv env({{"HOME", home.path()}, {"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}});
  AwsSettings settings = WithRegion();
  settings.access_key_id = "AKIDCONFIG";
  settings.secret_access_key = "configsecret";
  settings.session_token = "configtoken";
  const ResolvedAws resolved = MustResolve(settings, env);
  EXPECT_EQ(resolved.credentials.access_key_id, "AKIDCONFIG");
  EXPECT_EQ(resolved.credentials.secret_access_key, "configsecret");
  EXPECT_EQ(resolved.credentials.session_token, "configtoken");
  EXPECT_EQ(resolved.credentials.source, "config");
}

TEST(CredentialsChain, EnvironmentBeatsSharedFiles) {
  TempHome home;
  home.WriteCredentials("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n");
  FakeEnv env({{"HOME", home.path()},
               {"AWS_ACCESS_KEY_ID", "AKIDENV"},
               {"AWS_SECRET_ACCESS_KEY", "envsecret"},
               {"AWS_SESSION_TOKEN", "envtoken"}});
  const ResolvedAws resolved = MustResolve(WithRegion(), env);
  EXPECT_EQ(resolved.credentials.access_key_id, "AKIDENV");
  EXPECT_EQ(resolved.credentials.secret_access_key, "envsecret");
  EXPECT_EQ(resolved.credentials.session_token, "envtoken");
  EXPECT_EQ(resolved.credentials.source, "environment");
}

TEST(CredentialsChain, EmptyEnvironmentVariablesCountAsUnset) {
  TempHome home;
  home.WriteCredentials("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n");
  FakeEnv env({{"HOME", home.path()}, {"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}, {"AWS_PROFILE", ""}});
  EXPECT_EQ(MustResolve(WithRegion(), env).credentials.access_key_id, "AKIDFILE");
}

TEST(CredentialsChain, SharedCredentialsFileDefaultProfile) {
  TempHome home;
  home.WriteCredentials("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = defaultsecret\n");
  FakeEnv env({{"HOME", home.path()}});
  const ResolvedAws resolved = MustResolve(WithRegion(), env);
  EXPECT_EQ(resolved.credentials.access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(resolved.credentials.secret_access_key, "defaultsecret");
  EXPECT_EQ(resolved.credentials.session_token, "");
  EXPECT_EQ(resolved.credentials.source, "profile default (" + home.credentials_path() + ")");
}

TEST(CredentialsChain, AwsProfileSelectsTheSection) {
  TempHome home;
  home.WriteCredentials(
      "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = defaultsecret\n"
      "[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = worksecret\naws_session_token = worktoken\n");
  FakeEnv env({{"HOME", home.path()}, {"AWS_PROFILE", "work"}});
  const ResolvedAws resolved = MustResolve(WithRegion(), env);
  EXPECT_EQ(resolved.credentials.access_key_id, "AKIDWORK");
  EXPECT_EQ(resolved.credentials.secret_access_key, "worksecret");
  EXPECT_EQ(resolved.credentials.session_token, "worktoken");
  EXPECT_EQ(resolved.credentials.source, "profile work (" + home.credentials_path() + ")");
}

TEST(CredentialsChain, ConfigFileUsesProfilePrefixExceptForDefault) {
  TempHome home;
  home.WriteConfig(
      "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = defaultsecret\n"
      "[work]\naws_access_key_id = AKIDBARE\naws_secret_access_key = baresecret\n"
      "[profile work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = worksecret\n");
  FakeEnv env({{"HOME", home.path()}});
  EXPECT_EQ(MustResolve(WithRegion(), env).credentials.access_key_id, "AKIDDEFAULT");
  env.Set("AWS_PROFILE", "work");
  const ResolvedAws work = MustResolve(WithRegion(), env);
  EXPECT_EQ(work.credentials.access_key_id, "AKIDWORK");
  EXPECT_EQ(work.credentials.source, "profile work (" + home.config_path() + ")");
}

TEST(CredentialsChain, CredentialsFileWinsOverConfigFileKeyByKey) {
  TempHome home;
  home.WriteCredentials("[work]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = credssecret\n");
  home.WriteConfig(
      "[profile work]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = configsecret\n"
      "aws_session_token = configtoken\nregion = ap-southeast-2\n");
  FakeEnv env({{"HOME", home.path()}, {"AWS_PROFILE", "work"}});
  const ResolvedAws resolved = MustResolve(AwsSettings{}, env);
  EXPECT_EQ(resolved.credentials.access_key_id, "AKIDCREDS");
  EXPECT_EQ(resolved.credentials.secret_access_key, "credssecret");
  EXPECT_EQ(resolved.credentials.session_token, "configtoken");
  EXPECT_EQ(resolved.region, "ap-southeast-2");
}

TEST(CredentialsChain, ExplicitProfileOutranksEnvironmentCredentials) {
  TempHome home;
  home.WriteCredentials("[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = worksecret\n");
  FakeEnv env({{"HOME", home.path()},
               {"AWS_ACCESS_KEY_ID", "AKIDENV"},
               {"AWS_SECRET_ACCESS_KEY", "envsecret"},
               {"AWS_PROFILE", "other"}});
  AwsSettings settings = WithRegion();
  settings.profile = "work";
  EXPECT_EQ(MustResolve(settings, env).credentials.access_key_id, "AKIDWORK");
}

TEST(CredentialsChain, FileLocationVariablesAndTildeExpansion) {
  TempHome home;
  home.Write("custom/creds.ini", "[default]\naws_access_key_id = AKIDCUSTOM\naws_secret_access_key = s\n");
  home.Write("elsewhere/config.ini", "[default]\nregion = sa-east-1\n");
  FakeEnv env({{"HOME", home.path()},
               {"AWS_SHARED_CREDENTIALS_FILE", "~/custom/creds.ini"},
               {"AWS_CONFIG_FILE", home.path() + "/elsewhere/config.ini"}});
  const ResolvedAws resolved = MustResolve(AwsSettings{}, env);
  EXPECT_EQ(resolved.credentials.access_key_id, "AKIDCUSTOM");
  EXPECT_EQ(resolved.credentials.source, "profile default (" + home.path() + "/custom/creds.ini)");
  EXPECT_EQ(resolved.region, "sa-east-1");
}

TEST(CredentialsChain, IniCommentsWhitespaceAndNestedKeys) {
  TempHome home;
  home.WriteConfig(
      "# a comment\r\n"
      "; another comment\r\n"
      "\r\n"
      "[sso-session corp]\r\n"
      "sso_region = us-east-1\r\n"
      "  [   profile    work  ]   \r\n"
      "   # indented comment\r\n"
      "s3 =\r\n"
      "    max_concurrent_requests = 20\r\n"
      "    aws_access_key_id = AKIDNESTED\r\n"
      "AWS_ACCESS_KEY_ID=AKIDWORK\r\n"
      "\taws_secret_access_key   =   worksecret   # trailing comment\r\n"
      "region = eu-north-1 ; why not\r\n");
  FakeEnv env({{"HOME", home.path()}, {"AWS_PROFILE", "work"}});
  const ResolvedAws resolved = MustResolve(AwsSettings{}, env);
  EXPECT_EQ(resolved.credentials.access_key_id, "AKIDWORK");
  EXPECT_EQ(resolved.credentials.secret_access_key, "worksecret");
  EXPECT_EQ(resolved.region, "eu-north-1");
}

TEST(CredentialsChain, DescribeShowsKeyPrefixAndSource) {
  Credentials credentials{"AKIAIOSFODNN7EXAMPLE", kSecret, "", "environment", {}, {}};
  EXPECT_EQ(credentials.Describe(), "AKIA… from environment");
  credentials.session_token = kToken;
  EXPECT_EQ(credentials.Describe(), "AKIA… from environment (temporary)");
  EXPECT_EQ(Credentials{}.Describe(), "no access key from unknown source");
}

TEST(CredentialsChain, ProcessEnvironmentReadsTheRealEnvironment) {
  ::setenv("DDB2PG_CREDENTIALS_TEST_VARIABLE", "present", 1);
  const EnvLookup env = ProcessEnvironment();
  EXPECT_EQ(env("DDB2PG_CREDENTIALS_TEST_VARIABLE"), std::optional<std::string>("present"));
  ::unsetenv("DDB2PG_CREDENTIALS_TEST_VARIABLE");
  EXPECT_EQ(env("DDB2PG_CREDENTIALS_TEST_VARIABLE"), std::nullopt);
}

// --- Credentials: errors name what is missing and where we looked -------------------------------

TEST(CredentialsErrors, MissingCredentialsNameEveryPlaceLookedAt) {
  TempHome home;
  FakeEnv env({{"HOME", home.path()}});
  const std::string message = MustFail(WithRegion(), env);
  EXPECT_THAT(message, HasSubstr("no AWS credentials"));
  EXPECT_THAT(message, HasSubstr("not in the configuration (access_key_id/secret_access_key)"));
  EXPECT_THAT(message, HasSubstr("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"));
  EXPECT_THAT(message, HasSubstr("no profile 'default' in " + home.credentials_path() + " (file not found) or " +
                                 home.config_path() + " (file not found)"));
}

TEST(CredentialsErrors, MissingProfileSaysWhereTheNameCameFrom) {
  TempHome home;
  home.WriteCredentials("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s\n");
  home.WriteConfig("[work]\nregion = eu-west-1\n");
  FakeEnv env({{"HOME", home.path()}, {"AWS_PROFILE", "work"}});
  const std::string message = MustFail(WithRegion(), env);
  EXPECT_THAT(message, HasSubstr("no profile 'work' in " + home.credentials_path() + " or " + home.config_path()));
  EXPECT_THAT(message, HasSubstr("must be [profile work]"));
  EXPECT_THAT(message, HasSubstr("comes from AWS_PROFILE"));
}

TEST(CredentialsErrors, ProfileWithoutKeys) {
  TempHome home;
  home.WriteConfig("[default]\nregion = eu-west-1\n");
  FakeEnv env({{"HOME", home.path()}});
  EXPECT_THAT(MustFail(AwsSettings{}, env),
              HasSubstr("profile 'default' in " + home.config_path() + " has no aws_access_key_id/aws_secret_access_key"));
}

TEST(CredentialsErrors, NoHomeSaysSo) {
  FakeEnv env({});
  EXPECT_THAT(MustFail(WithRegion(), env), HasSubstr("HOME is not set, so ~/.aws/credentials could not be read"));
}

TEST(CredentialsErrors, HalfSetExplicitOrEnvironmentCredentials) {
  TempHome home;
  FakeEnv env({{"HOME", home.path()}});
  AwsSettings settings = WithRegion();
  settings.access_key_id = "AKIDCONFIG";
  EXPECT_THAT(MustFail(settings, env), HasSubstr("sets access_key_id but not secret_access_key"));
  settings = WithRegion();
  settings.session_token = kToken;
  EXPECT_THAT(MustFail(settings, env), HasSubstr("sets session_token without access_key_id"));

  env.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  EXPECT_THAT(MustFail(WithRegion(), env), HasSubstr("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
}

TEST(CredentialsErrors, AssumeRoleProfileWithMissingSourceNamesIt) {
  TempHome home;
  home.WriteConfig("[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\n");
  FakeEnv env({{"HOME", home.path()}, {"AWS_PROFILE", "admin"}});
  const std::string message = MustFail(WithRegion(), env);
  EXPECT_THAT(message, HasSubstr("profile 'admin'"));
  EXPECT_THAT(message, HasSubstr("source_profile"));
  EXPECT_THAT(message, HasSubstr("no profile 'base'"));
  home.WriteConfig("[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\n");
  EXPECT_THAT(MustFail(WithRegion(), env), HasSubstr("has role_arn but neither source_profile nor credential_source"));
  home.WriteConfig("[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\ncredential_source = Ec2\n");
  EXPECT_THAT(MustFail(WithRegion(), env), HasSubstr("credential_source 'Ec2' is not one of"));
  home.WriteConfig("[profile admin]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n");
  EXPECT_THAT(MustFail(WithRegion(), env), HasSubstr("has no [sso-session corp] section"));
}

TEST(CredentialsErrors, MalformedFileNamesFileAndLine) {
  TempHome home;
  home.WriteCredentials("[default]\naws_access_key_id = AKIDDEFAULT\nthis line has no equals sign\n");
  FakeEnv env({{"HOME", home.path()}});
  EXPECT_THAT(MustFail(WithRegion(), env), HasSubstr(home.credentials_path() + ":3: expected 'key = value'"));
  home.WriteCredentials("[default\n");
  EXPECT_THAT(MustFail(WithRegion(), env), HasSubstr(home.credentials_path() + ":1: section header has no closing ']'"));
  home.WriteCredentials("aws_access_key_id = AKID\n[default]\n");
  EXPECT_THAT(MustFail(WithRegion(), env), HasSubstr(home.credentials_path() + ":1: 'key = value' before any"));
}

// --- Secrets never leak -------------------------------------------------------------------------

TEST(CredentialsSecrets, NeverInDescribe) {
  TempHome home;
  home.WriteCredentials(std::string("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = ") +
                        kSecret + "\naws_session_token = " + kToken + "\n");
  FakeEnv env({{"HOME", home.path()}});
  const ResolvedAws resolved = MustResolve(WithRegion(), env);
  ASSERT_EQ(resolved.credentials.secret_access_key, kSecret);
  ASSERT_EQ(resolved.credentials.session_token, kToken);
  const std::string description = resolved.credentials.Describe();
  EXPECT_THAT(description, Not(HasSubstr(kSecret)));
  EXPECT_THAT(description, Not(HasSubstr(kToken)));
  EXPECT_THAT(description, Not(HasSubstr("AKIAIOSFODNN7EXAMPLE")));
  EXPECT_THAT(description, HasSubstr("AKIA…"));
}

TEST(CredentialsSecrets, NeverInAnyErrorMessage) {
  TempHome home;
  const std::string secret_line = std::string("aws_secret_access_key = ") + kSecret + "\n";
  const std::string token_line = std::string("aws_session_token = ") + kToken + "\n";
  struct Case {
    std::string name;
    std::string credentials_file;
    std::string config_file;
    std::map<std::string, std::string> env;
    AwsSettings settings;
  };
  AwsSettings only_secret_in_config = WithRegion();
  only_secret_in_config.secret_access_key = kSecret;
  only_secret_in_config.session_token = kToken;
  AwsSettings explicit_ok_but_bad_region;
  explicit_ok_but_bad_region.access_key_id = "AKIDCONFIG";
  explicit_ok_but_bad_region.secret_access_key = kSecret;
  explicit_ok_but_bad_region.session_token = kToken;
  explicit_ok_but_bad_region.region = "Not A Region";
  AwsSettings bad_endpoint = explicit_ok_but_bad_region;
  bad_endpoint.region = "us-east-1";
  bad_endpoint.endpoint = "localhost:8000";
  const std::vector<Case> cases = {
      {"profile with only a secret and a token", "[default]\n" + secret_line + token_line, "", {}, WithRegion()},
      {"config profile with only a secret", "", "[default]\n" + secret_line + token_line, {}, WithRegion()},
      {"secret on a malformed line", "[default]\n" + secret_line + kSecret + "\n" + token_line, "", {}, WithRegion()},
      {"token on a malformed line", "[default]\n" + std::string(kToken) + "\n", "", {}, WithRegion()},
      {"secret before any section", secret_line + "[default]\n", "", {}, WithRegion()},
      {"secret in an unclosed section header", std::string("[") + kSecret + "\n", "", {}, WithRegion()},
      {"keys fine, no region anywhere", "[default]\naws_access_key_id = AKID\n" + secret_line + token_line, "", {},
       AwsSettings{}},
      {"secret in the environment without a key id", "", "",
       {{"AWS_SECRET_ACCESS_KEY", kSecret}, {"AWS_SESSION_TOKEN", kToken}}, WithRegion()},
      {"secret in the configuration without a key id", "", "", {}, only_secret_in_config},
      {"bad region after good credentials", "", "", {}, explicit_ok_but_bad_region},
      {"bad endpoint after good credentials", "", "", {}, bad_endpoint},
      {"role profile with a secret", "", "[default]\nrole_arn = arn:aws:iam::1:role/x\n" + token_line, {},
       WithRegion()},
  };
  for (const Case& test_case : cases) {
    SCOPED_TRACE(test_case.name);
    fs::remove(home.credentials_path());
    fs::remove(home.config_path());
    if (!test_case.credentials_file.empty()) home.WriteCredentials(test_case.credentials_file);
    if (!test_case.config_file.empty()) home.WriteConfig(test_case.config_file);
    FakeEnv env(test_case.env);
    env.Set("HOME", home.path());
    const std::string message = MustFail(test_case.settings, env);
    EXPECT_FALSE(message.empty());
    EXPECT_THAT(message, Not(HasSubstr(kSecret)));
    EXPECT_THAT(message, Not(HasSubstr(kToken)));
    // Not even a recognisable piece of them.
    EXPECT_THAT(message, Not(HasSubstr("K7MDENG")));
    EXPECT_THAT(message, Not(HasSubstr("TOKENSECRET")));
  }
}

// --- Region ------------------------------------------------------------------------------------

TEST(CredentialsRegion, ChainOrder) {
  TempHome home;
  home.WriteCredentials("[default]\naws_access_key_id = AKID\naws_secret_access_key = s\n");
  home.WriteConfig("[default]\nregion = ap-south-1\n");
  FakeEnv env({{"HOME", home.path()}});
  EXPECT_EQ(MustResolve(AwsSettings{}, env).region, "ap-south-1");
  env.Set("AWS_DEFAULT_REGION", "us-west-1");
  EXPECT_EQ(MustResolve(AwsSettings{}, env).region, "us-west-1");
  env.Set("AWS_REGION", "us-west-2");
  EXPECT_EQ(MustResolve(AwsSettings{}, env).region, "us-west-2");
  EXPECT_EQ(MustResolve(WithRegion("eu-central-1"), env).region, "eu-central-1");
}

TEST(CredentialsRegion, MissingRegionNamesWhereItLooked) {
  TempHome home;
  home.WriteConfig("[default]\naws_access_key_id = AKID\naws_secret_access_key = s\n");
  FakeEnv env({{"HOME", home.path()}});
  const std::string message = MustFail(AwsSettings{}, env);
  EXPECT_THAT(message, HasSubstr("no AWS region"));
  EXPECT_THAT(message, HasSubstr("AWS_REGION or AWS_DEFAULT_REGION"));
  EXPECT_THAT(message, HasSubstr("profile 'default' has no region in " + home.config_path() + " or " +
                                 home.credentials_path() + " (file not found)"));
}

TEST(CredentialsRegion, RejectsSomethingThatIsNotARegion) {
  FakeEnv env({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_REGION", "EU West"}});
  EXPECT_THAT(MustFail(AwsSettings{}, env), HasSubstr("AWS region 'EU West' from AWS_REGION is not a region name"));
}

// --- Endpoints ---------------------------------------------------------------------------------

FakeEnv EnvWithKeys() { return FakeEnv({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "s"}}); }

TEST(CredentialsEndpoint, DefaultsFollowTheRegion) {
  FakeEnv env = EnvWithKeys();
  ResolvedAws resolved = MustResolve(WithRegion("eu-west-1"), env);
  EXPECT_EQ(resolved.dynamodb_endpoint, "https://dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(resolved.streams_endpoint, "https://streams.dynamodb.eu-west-1.amazonaws.com");
  resolved = MustResolve(WithRegion("cn-north-1"), env);
  EXPECT_EQ(resolved.dynamodb_endpoint, "https://dynamodb.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(resolved.streams_endpoint, "https://streams.dynamodb.cn-north-1.amazonaws.com.cn");
}

TEST(CredentialsEndpoint, EnvironmentChainOrder) {
  FakeEnv env = EnvWithKeys();
  env.Set("AWS_ENDPOINT_URL", "http://127.0.0.1:1111");
  ResolvedAws resolved = MustResolve(WithRegion(), env);
  EXPECT_EQ(resolved.dynamodb_endpoint, "http://127.0.0.1:1111");
  EXPECT_EQ(resolved.streams_endpoint, "http://127.0.0.1:1111");

  env.Set("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2222/");
  resolved = MustResolve(WithRegion(), env);
  EXPECT_EQ(resolved.dynamodb_endpoint, "http://127.0.0.1:2222");
  EXPECT_EQ(resolved.streams_endpoint, "http://127.0.0.1:2222");

  env.Set("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "http://127.0.0.1:3333");
  resolved = MustResolve(WithRegion(), env);
  EXPECT_EQ(resolved.dynamodb_endpoint, "http://127.0.0.1:2222");
  EXPECT_EQ(resolved.streams_endpoint, "http://127.0.0.1:3333");

  env.Set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
  resolved = MustResolve(WithRegion(), env);
  EXPECT_EQ(resolved.dynamodb_endpoint, "https://dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(resolved.streams_endpoint, "https://streams.dynamodb.eu-west-1.amazonaws.com");
}

TEST(CredentialsEndpoint, ExplicitSettingsBeatEnvironment) {
  FakeEnv env = EnvWithKeys();
  env.Set("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2222");
  env.Set("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "http://127.0.0.1:3333");
  AwsSettings settings = WithRegion();
  settings.endpoint = "http://localhost:8000";
  ResolvedAws resolved = MustResolve(settings, env);
  EXPECT_EQ(resolved.dynamodb_endpoint, "http://localhost:8000");
  EXPECT_EQ(resolved.streams_endpoint, "http://localhost:8000");
  settings.streams_endpoint = "http://localhost:8001";
  resolved = MustResolve(settings, env);
  EXPECT_EQ(resolved.dynamodb_endpoint, "http://localhost:8000");
  EXPECT_EQ(resolved.streams_endpoint, "http://localhost:8001");
}

TEST(CredentialsEndpoint, RejectsAnEndpointWithoutScheme) {
  FakeEnv env = EnvWithKeys();
  env.Set("AWS_ENDPOINT_URL", "localhost:8000");
  EXPECT_THAT(MustFail(WithRegion(), env),
              HasSubstr("endpoint 'localhost:8000' from AWS_ENDPOINT_URL must be a URL like https://host"));
  AwsSettings settings = WithRegion();
  settings.endpoint = "https://";
  EXPECT_THAT(MustFail(settings, EnvWithKeys()), HasSubstr("from the configuration (endpoint)"));
}

TEST(CredentialsEndpoint, SharedConfigServicesSectionAndProfileEndpointUrl) {
  TempHome home;
  home.WriteConfig(
      "[default]\n"
      "services = local\n"
      "endpoint_url = http://127.0.0.1:4566\n"
      "[services local]\n"
      "dynamodb =\n"
      "  endpoint_url = http://127.0.0.1:8000\n"
      "dynamodb_streams =\n"
      "  endpoint_url = http://127.0.0.1:8001/\n"
      "[profile global]\n"
      "endpoint_url = http://127.0.0.1:4566\n"
      "[profile ignoring]\n"
      "endpoint_url = http://127.0.0.1:4566\n"
      "ignore_configured_endpoint_urls = true\n");
  FakeEnv env({{"HOME", home.path()}, {"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "s"}});
  ResolvedAws resolved = MustResolve(WithRegion(), env);
  EXPECT_EQ(resolved.dynamodb_endpoint, "http://127.0.0.1:8000");
  EXPECT_EQ(resolved.streams_endpoint, "http://127.0.0.1:8001");
  // The variables come first.
  env.Set("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9000");
  resolved = MustResolve(WithRegion(), env);
  EXPECT_EQ(resolved.dynamodb_endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(resolved.streams_endpoint, "http://127.0.0.1:9000");
  env.Set("AWS_ENDPOINT_URL_DYNAMODB", "");
  env.Set("AWS_PROFILE", "global");
  resolved = MustResolve(WithRegion(), env);
  EXPECT_EQ(resolved.dynamodb_endpoint, "http://127.0.0.1:4566");
  env.Set("AWS_PROFILE", "ignoring");
  resolved = MustResolve(WithRegion(), env);
  EXPECT_EQ(resolved.dynamodb_endpoint, "https://dynamodb.eu-west-1.amazonaws.com");
}

}  // namespace
}  // namespace ddb2pg::aws
