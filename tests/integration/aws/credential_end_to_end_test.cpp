// Issue 15 end to end: DynamoDB Local keeps one database per access key, so a table that
// `ddb2pg validate` finds and `ddb2pg run` streams proves which key the built binary used. The
// table is created under the key that the fake instance metadata / container endpoint / STS hands
// out, and the binary runs with no static keys at all. A second test rotates the key mid-run and
// watches the Credential= of every request through a proxy in front of a -sharedDb DynamoDB Local.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "aws/curl_transport.h"
#include "aws/dynamodb_client.h"
#include "aws_test_util.h"
#include "credential_test_env.h"
#include "fake_credential_endpoints.h"
#include "tiny_http_forward.h"
#include "support/test_env.h"

namespace ddb2pg::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kRegion[] = "eu-west-3";  // what the fake instance metadata says

// A subprocess with exactly `env` (plus PATH), stdout and stderr to `log_path`.
class CleanChild {
 public:
  CleanChild(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
             const std::string& log_path) {
    std::vector<std::string> assignments;
    assignments.push_back(std::string("PATH=") + (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"));
    for (const auto& [name, value] : env) assignments.push_back(name + "=" + value);
    pid_ = fork();
    if (pid_ == 0) {
      const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log >= 0) {
        dup2(log, 1);
        dup2(log, 2);
      }
      std::vector<char*> argv, envp;
      for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      for (const auto& assignment : assignments) envp.push_back(const_cast<char*>(assignment.c_str()));
      envp.push_back(nullptr);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
  }
  ~CleanChild() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  CleanChild(const CleanChild&) = delete;
  CleanChild& operator=(const CleanChild&) = delete;
  void Signal(int sig) { kill(pid_, sig); }
  int Wait(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Runs the built binary to completion; its combined output.
std::string RunBinary(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, int* code,
                      const std::string& log_path) {
  std::filesystem::remove(log_path);
  std::vector<std::string> argv = {DDB2PG_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  CleanChild child(argv, env, log_path);
  *code = child.Wait(std::chrono::seconds(120));
  return ReadWhole(log_path);
}

std::string ConfigText(const std::string& schema) {
  return "version: 1\n"
         "sources:\n"
         "  " + schema + ":\n"  // unique: the checkpoint id is "<source>:<table>"
         "    table: users\n"
         "postgres:\n"
         "  url: ${DATABASE_URL}\n"
         "metrics:\n"
         "  listen: \"\"\n"
         "pipelines:\n"
         "  - name: " + schema + "\n"
         "    source: " + schema + "\n"
         "    table: " + schema + ".people\n"
         "    key: id\n"
         "    columns:\n"
         "      id:   TEXT <- id\n"
         "      name: TEXT <- name\n";
}

core::Value Person(const std::string& id, const std::string& name) {
  return core::Value::MakeMap({{"id", core::Value::String(id)}, {"name", core::Value::String(name)}});
}

aws::ResolvedAws LocalAwsAt(const std::string& key, const std::string& endpoint) {
  aws::ResolvedAws aws = aws::integration::LocalAws(key);
  aws.region = kRegion;
  aws.dynamodb_endpoint = endpoint;
  aws.streams_endpoint = endpoint;
  return aws;
}

// Waits (bounded) until `done` holds; returns whether it did.
template <typename Predicate>
bool WaitFor(Predicate done, std::chrono::seconds limit = std::chrono::seconds(90)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

enum class Provider { kImds, kContainer, kWebIdentity };

class CredentialEndToEnd : public ::testing::TestWithParam<Provider> {
 protected:
  void SetUp() override {
    fake_ = std::make_unique<FakeCredentialEndpoints>(UniqueName("K"));
    pg_ = std::make_unique<PgTestConnection>(PostgresConninfo());
    schema_ = UniqueName("creds");
    pg_->Exec("CREATE SCHEMA " + schema_);
    config_path_ = home_.Write("ddb2pg.yaml", ConfigText(schema_));
    env_ = {{"HOME", home_.path()},
            {"DATABASE_URL", PostgresConninfo()},
            {"AWS_ENDPOINT_URL_DYNAMODB", DynamoDbEndpoint()},
            {"AWS_EC2_METADATA_DISABLED", "true"}};
  }
  void TearDown() override {
    if (pg_) pg_->Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
  }

  // The environment for `provider` and the key it will hand out.
  std::string UseProvider(Provider provider) {
    switch (provider) {
      case Provider::kImds:
        env_.erase("AWS_EC2_METADATA_DISABLED");
        env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = fake_->url();  // also the region
        return fake_->Key("IMDS");
      case Provider::kContainer:
        env_["AWS_REGION"] = kRegion;
        env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = fake_->url() + "/v2/credentials/task";
        env_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = FakeCredentialEndpoints::kContainerToken;
        return fake_->Key("CONTAINER");
      case Provider::kWebIdentity:
        env_["AWS_REGION"] = kRegion;
        env_["AWS_WEB_IDENTITY_TOKEN_FILE"] = home_.Write("token", FakeCredentialEndpoints::kWebIdentityToken);
        env_["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/ddb2pg";
        env_["AWS_ENDPOINT_URL_STS"] = fake_->url();
        return fake_->Key("WEBID");
    }
    return "";
  }

  std::unique_ptr<FakeCredentialEndpoints> fake_;
  std::unique_ptr<PgTestConnection> pg_;
  CredentialTempHome home_;
  std::string schema_;
  std::string config_path_;
  std::map<std::string, std::string> env_;
};

TEST_P(CredentialEndToEnd, ValidateAndRunFindTheTableUnderTheProvidersKey) {
  const std::string key = UseProvider(GetParam());
  aws::DynamoDbClient tables(LocalAwsAt(key, DynamoDbEndpoint()), aws::RetryPolicy(), core::SystemClock::Instance());
  auto created = tables.CreateTable(aws::integration::HashKeyTable("users", "NEW_AND_OLD_IMAGES"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(tables.PutItem("users", Person("u" + std::to_string(i), "Ada")).ok());

  int code = -1;
  const std::string log = home_.path() + "/out.log";
  std::string out = RunBinary({"init-schema", "-c", config_path_}, env_, &code, log);
  ASSERT_EQ(code, 0) << out;
  out = RunBinary({"validate", "-c", config_path_}, env_, &code, log);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("table users ok"));
  EXPECT_THAT(out, HasSubstr("AWS credentials " + key.substr(0, 4) + "…"));
  EXPECT_THAT(out, HasSubstr("expire "));
  EXPECT_THAT(out, HasSubstr(std::string("region ") + kRegion));
  EXPECT_THAT(out, Not(HasSubstr("/SECRET")));
  EXPECT_THAT(out, Not(HasSubstr("/TOKEN")));
  switch (GetParam()) {
    case Provider::kImds: EXPECT_THAT(out, HasSubstr("from instance metadata")); break;
    case Provider::kContainer: EXPECT_THAT(out, HasSubstr("from container credentials")); break;
    case Provider::kWebIdentity: EXPECT_THAT(out, HasSubstr("from web identity")); break;
  }

  // Control: any other key sees another database, without the table.
  std::map<std::string, std::string> other = {{"HOME", home_.path()}, {"DATABASE_URL", PostgresConninfo()},
                                              {"AWS_ENDPOINT_URL_DYNAMODB", DynamoDbEndpoint()},
                                              {"AWS_REGION", kRegion}, {"AWS_ACCESS_KEY_ID", "AKIAOTHERDATABASE"},
                                              {"AWS_SECRET_ACCESS_KEY", "otherdatabasesecret"}};
  out = RunBinary({"validate", "-c", config_path_}, other, &code, log);
  EXPECT_EQ(code, 3) << out;
  EXPECT_THAT(out, HasSubstr("ResourceNotFoundException"));

  // A short run streams the table.
  const std::string run_log = home_.path() + "/run.log";
  CleanChild run({DDB2PG_BINARY, "run", "-c", config_path_, "--progress", "plain"}, env_, run_log);
  const bool copied = WaitFor([&] { return pg_->Scalar("SELECT count(*) FROM " + schema_ + ".people") == "3"; });
  EXPECT_TRUE(copied) << ReadWhole(run_log);
  ASSERT_TRUE(tables.PutItem("users", Person("late", "Grace")).ok());
  EXPECT_TRUE(WaitFor([&] {
    return pg_->Scalar("SELECT count(*) FROM " + schema_ + ".people WHERE id = 'late'") == "1";
  })) << ReadWhole(run_log);
  run.Signal(SIGTERM);
  EXPECT_EQ(run.Wait(std::chrono::seconds(30)), 0) << ReadWhole(run_log);
  EXPECT_THAT(ReadWhole(run_log), Not(HasSubstr("/SECRET")));
}

INSTANTIATE_TEST_SUITE_P(Providers, CredentialEndToEnd,
                         ::testing::Values(Provider::kImds, Provider::kContainer, Provider::kWebIdentity),
                         [](const ::testing::TestParamInfo<Provider>& info) {
                           switch (info.param) {
                             case Provider::kImds: return std::string("InstanceMetadata");
                             case Provider::kContainer: return std::string("Container");
                             case Provider::kWebIdentity: return std::string("WebIdentity");
                           }
                           return std::string("Unknown");
                         });

// --- Key rotation mid-run ----------------------------------------------------------------------

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// A DynamoDB Local of the test's own, with -sharedDb: every key sees the same tables.
class SharedDynamoDbLocal {
 public:
  SharedDynamoDbLocal(const std::string& log_path) {
    const std::string dir = std::string(DDB2PG_SOURCE_DIR) + "/.deps/dynamodb-local-3.3.1";
    if (!std::filesystem::exists(dir + "/DynamoDBLocal.jar")) {
      error_ = "DynamoDB Local 3.3.1 missing under " + dir + ": run scripts/setup";
      return;
    }
    port_ = FreePort();
    child_ = std::make_unique<CleanChild>(
        std::vector<std::string>{"/usr/bin/env", "java", "-Xmx512m", "-Djava.library.path=" + dir + "/DynamoDBLocal_lib",
                                 "-jar", dir + "/DynamoDBLocal.jar", "-sharedDb", "-inMemory", "-disableTelemetry",
                                 "-port", std::to_string(port_)},
        std::map<std::string, std::string>{}, log_path);
    aws::CurlTransport http;
    const bool ready = WaitFor([&] {
      aws::HttpRequest request;
      request.url = endpoint() + "/";
      request.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                         {"X-Amz-Target", "DynamoDB_20120810.ListTables"},
                         {"Authorization", "AWS4-HMAC-SHA256 Credential=probe/20260101/us-east-1/dynamodb/aws4_request, "
                                           "SignedHeaders=host, Signature=0"}};
      request.body = "{}";
      auto response = http.Send(request);
      return response.ok() && response->status == 200;
    }, std::chrono::seconds(60));
    if (!ready) error_ = "DynamoDB Local -sharedDb did not start: " + ReadWhole(log_path);
  }
  ~SharedDynamoDbLocal() {
    if (child_) {
      child_->Signal(SIGTERM);
      if (child_->Wait(std::chrono::seconds(10)) < 0) child_->Signal(SIGKILL);
    }
  }
  const std::string& error() const { return error_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_ = 0;
  std::string error_;
  std::unique_ptr<CleanChild> child_;
};

// A reverse proxy in front of DynamoDB Local that notes the access key of every request.
class KeyRecordingProxy {
 public:
  explicit KeyRecordingProxy(std::string upstream)
      : upstream_(std::move(upstream)), server_([this](const TinyRequest& request) { return Forward(request); }) {}
  std::string url() const { return server_.url(); }
  std::vector<std::string> keys() const {
    std::lock_guard lock(mutex_);
    return keys_;
  }

 private:
  TinyResponse Forward(const TinyRequest& request) {
    const std::string authorization = request.headers.count("authorization") ? request.headers.at("authorization") : "";
    const size_t start = authorization.find("Credential=");
    if (start != std::string::npos) {
      const size_t begin = start + 11;
      std::lock_guard lock(mutex_);
      keys_.push_back(authorization.substr(begin, authorization.find('/', begin) - begin));
    }
    return ForwardTinyRequest(upstream_, request);
  }

  std::string upstream_;
  mutable std::mutex mutex_;
  std::vector<std::string> keys_;
  TinyHttpServer server_;
};

TEST(CredentialRotation, ARefreshMidRunSwitchesTheKeyWithoutARestart) {
  CredentialTempHome home;
  SharedDynamoDbLocal dynamodb(home.path() + "/ddb.log");
  ASSERT_TRUE(dynamodb.error().empty()) << dynamodb.error();
  KeyRecordingProxy proxy(dynamodb.endpoint());
  FakeCredentialEndpoints fake(UniqueName("R"));
  // Container credentials that are due for refresh 2 s after each issue (5 min + 2 s of life).
  fake.SetLifetime(std::chrono::seconds(302));

  aws::DynamoDbClient tables(LocalAwsAt("AKIASETUP", dynamodb.endpoint()), aws::RetryPolicy(), core::SystemClock::Instance());
  ASSERT_TRUE(tables.CreateTable(aws::integration::HashKeyTable("users", "NEW_AND_OLD_IMAGES")).ok());
  ASSERT_TRUE(tables.PutItem("users", Person("before", "Ada")).ok());

  PgTestConnection pg(PostgresConninfo());
  const std::string schema = UniqueName("rotate");
  pg.Exec("CREATE SCHEMA " + schema);
  const std::string config_path = home.Write("ddb2pg.yaml", ConfigText(schema));
  std::map<std::string, std::string> env = {
      {"HOME", home.path()},
      {"DATABASE_URL", PostgresConninfo()},
      {"AWS_ENDPOINT_URL_DYNAMODB", proxy.url()},
      {"AWS_REGION", kRegion},
      {"AWS_EC2_METADATA_DISABLED", "true"},
      {"AWS_CONTAINER_CREDENTIALS_FULL_URI", fake.url() + "/v2/credentials/task"},
      {"AWS_CONTAINER_AUTHORIZATION_TOKEN", FakeCredentialEndpoints::kContainerToken}};
  const std::string first_key = fake.Key("CONTAINER");
  const std::string run_log = home.path() + "/run.log";
  CleanChild run({DDB2PG_BINARY, "run", "-c", config_path, "--init-schema", "--progress", "plain"}, env, run_log);
  // --init-schema creates the table after the test starts asking.
  auto scalar = [&](const std::string& sql) {
    try {
      return pg.Scalar(sql);
    } catch (const std::exception&) {
      return std::string();
    }
  };
  ASSERT_TRUE(WaitFor([&] { return scalar("SELECT count(*) FROM " + schema + ".people") == "1"; }))
      << ReadWhole(run_log);

  fake.Rotate();
  const std::string second_key = fake.Key("CONTAINER");
  ASSERT_TRUE(WaitFor([&] {
    const auto keys = proxy.keys();
    return !keys.empty() && keys.back() == second_key;
  })) << ReadWhole(run_log);
  ASSERT_TRUE(tables.PutItem("users", Person("after", "Grace")).ok());
  EXPECT_TRUE(WaitFor([&] {
    return scalar("SELECT count(*) FROM " + schema + ".people WHERE id = 'after'") == "1";
  })) << ReadWhole(run_log);
  run.Signal(SIGTERM);
  EXPECT_EQ(run.Wait(std::chrono::seconds(30)), 0) << ReadWhole(run_log);

  // Every request was signed with one of the two keys: the first until the refresh, then the second.
  const auto keys = proxy.keys();
  const std::set<std::string> distinct(keys.begin(), keys.end());
  EXPECT_EQ(distinct, (std::set<std::string>{first_key, second_key}));
  size_t first_second = keys.size();
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == second_key) {
      first_second = i;
      break;
    }
  }
  size_t stale_after = 0;
  for (size_t i = first_second; i < keys.size(); ++i) stale_after += keys[i] == first_key ? 1 : 0;
  // Requests in flight while the snapshot changed may still carry the first key; not more than a few.
  EXPECT_LE(stale_after, 8u);
  const std::string log = ReadWhole(run_log);
  EXPECT_THAT(log, HasSubstr("AWS credentials refreshed: " + second_key.substr(0, 4) + "… from container credentials"));
  EXPECT_THAT(log, Not(HasSubstr("/SECRET")));
  EXPECT_THAT(log, Not(HasSubstr("/TOKEN")));
  pg.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
}

}  // namespace
}  // namespace ddb2pg::testing
