// Issue 18 acceptance against a real PostgreSQL 15 that takes TCP connections only over TLS
// (tests/support/pg_tls_cluster: its own CA and server certificate made by openssl for this run):
// verify-full connects; another CA, a host name the certificate does not list, a missing CA file
// and sslmode=disable each fail at once with one line naming the setting to fix — also through
// the ddb2pg binary; and with postgres.auth iam the RDS token is what the server receives as the
// password, a fresh one for every new connection.
#include <gtest/gtest.h>
#include <unistd.h>
#include <libpq-fe.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "app/wiring.h"
#include "sink/pg_connection.h"
#include "support/test_env.h"

namespace ddb2pg::testing {
namespace {

using std::chrono::system_clock;

std::string RunCapture(const std::string& command, int* exit_code) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  char buffer[4096];
  while (pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pipe != nullptr ? pclose(pipe) : -1;
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

class FixedClock final : public core::Clock {
 public:
  system_clock::time_point Now() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }
  std::chrono::steady_clock::time_point Monotonic() const override { return {}; }
  void SleepFor(std::chrono::nanoseconds) const override {}
  void Advance(std::chrono::seconds by) {
    std::lock_guard lock(mutex_);
    now_ += by;
  }

 private:
  mutable std::mutex mutex_;
  system_clock::time_point now_ = system_clock::from_time_t(1767225600);  // 2026-01-01T00:00:00Z
};

// One TLS-only cluster for every test of this process.
class PgTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = "/tmp/" + UniqueName("pgtls");
    int code = -1;
    const std::string log =
        RunCapture(std::string(DDB2PG_SOURCE_DIR) + "/tests/support/pg_tls_cluster start " + dir_, &code);
    if (code != 0) {
      start_error_ = "pg_tls_cluster start failed (" + std::to_string(code) + "): " + log;
      return;
    }
    std::ifstream env(dir_ + "/env");
    std::string line;
    while (std::getline(env, line)) {
      const size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string value = line.substr(eq + 1);
      if (value.size() >= 2 && value.front() == '\'') value = value.substr(1, value.size() - 2);
      const std::string name = line.substr(7, eq - 7);  // after "export "
      if (name == "PG_TLS_PORT") port_ = value;
      if (name == "PG_TLS_CA") ca_ = value;
      if (name == "PG_TLS_OTHER_CA") other_ca_ = value;
      if (name == "PG_TLS_SOCKET_DIR") socket_dir_ = value;
    }
  }
  static void TearDownTestSuite() {
    int code = -1;
    RunCapture(std::string(DDB2PG_SOURCE_DIR) + "/tests/support/pg_tls_cluster stop " + dir_, &code);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  void SetUp() override { ASSERT_TRUE(start_error_.empty()) << start_error_; }

  // TCP to the cluster, user ddb2pg unless given, plus `extra`.
  static std::string Tcp(const std::string& extra, const std::string& user = "ddb2pg") {
    return "host=localhost port=" + port_ + " user=" + user + " dbname=postgres " + extra;
  }
  // The superuser over the local socket (trusted), for setting up roles.
  static std::string Admin() { return "host=" + socket_dir_ + " port=" + port_ + " user=ddb2pg dbname=postgres"; }

  static std::string WriteConfig(const std::string& postgres) {
    const std::string path = dir_ + "/" + UniqueName("cfg") + ".yaml";
    std::ofstream(path) << "version: 1\nsources:\n  users:\n    table: users\npostgres:\n" << postgres
                        << "pipelines:\n  - name: tls_profile\n    table: " << UniqueName("tls") << ".profile\n"
                        << "    key: id\n    columns:\n      id: UUID <- id\n";
    return path;
  }

  static inline std::string dir_, port_, ca_, other_ca_, socket_dir_, start_error_;
};

void ExpectOneLineNaming(const core::Status& status, const std::string& setting) {
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_EQ(status.message().find('\n'), std::string::npos) << status.message();
  EXPECT_NE(status.message().find(setting), std::string::npos) << status.message();
}

TEST_F(PgTls, VerifyFullConnectsOverTls) {
  auto connected = sink::PgConnection::Connect(Tcp("sslmode=verify-full sslrootcert=" + ca_), "test");
  ASSERT_TRUE(connected.ok()) << connected.status().ToString();
  auto ssl = (*connected)->Query("SELECT ssl::text, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()", {},
                                 "reading pg_stat_ssl");
  ASSERT_TRUE(ssl.ok()) << ssl.status().ToString();
  EXPECT_STREQ(PQgetvalue(ssl->get(), 0, 0), "true");
  EXPECT_EQ(std::string(PQgetvalue(ssl->get(), 0, 1)).rfind("TLSv1.", 0), 0u);

  // The same from the configuration keys, as the app builds the conninfo.
  config::PostgresConfig postgres;
  postgres.conninfo = "postgresql://ddb2pg@localhost:" + port_ + "/postgres";
  postgres.sslmode = "verify-full";
  postgres.sslrootcert = ca_;
  connected = sink::PgConnection::Connect(app::PostgresConninfo(postgres), "test");
  ASSERT_TRUE(connected.ok()) << connected.status().ToString();
}

TEST_F(PgTls, AnotherCaFailsNamingSslrootcert) {
  auto connected = sink::PgConnection::Connect(Tcp("sslmode=verify-full sslrootcert=" + other_ca_), "test");
  ExpectOneLineNaming(connected.status(), "postgres.sslrootcert");
  EXPECT_NE(connected.status().message().find("certificate verify failed"), std::string::npos);
  EXPECT_NE(connected.status().message().find(other_ca_), std::string::npos) << connected.status().message();
  // verify-ca checks the CA too.
  connected = sink::PgConnection::Connect(Tcp("sslmode=verify-ca sslrootcert=" + other_ca_), "test");
  ExpectOneLineNaming(connected.status(), "postgres.sslrootcert");
}

TEST_F(PgTls, HostNameNotInTheCertificateFailsNamingHost) {
  // A name the certificate does not list, reaching the same server through hostaddr.
  const std::string conninfo = "host=db.wrong.example hostaddr=127.0.0.1 port=" + port_ +
                               " user=ddb2pg dbname=postgres sslmode=verify-full sslrootcert=" + ca_;
  auto connected = sink::PgConnection::Connect(conninfo, "test");
  ExpectOneLineNaming(connected.status(), "fix host");
  EXPECT_NE(connected.status().message().find("db.wrong.example"), std::string::npos) << connected.status().message();
  // verify-ca does not check the name: the same connection succeeds.
  auto relaxed = sink::PgConnection::Connect(conninfo + " sslmode=verify-ca", "test");
  EXPECT_TRUE(relaxed.ok()) << relaxed.status().ToString();
}

TEST_F(PgTls, MissingCaFileFailsNamingSslrootcert) {
  auto connected = sink::PgConnection::Connect(Tcp("sslmode=verify-full sslrootcert=" + dir_ + "/missing.crt"), "test");
  ExpectOneLineNaming(connected.status(), "postgres.sslrootcert");
  EXPECT_NE(connected.status().message().find("missing.crt"), std::string::npos) << connected.status().message();
}

TEST_F(PgTls, DisableAgainstHostsslOnlyFailsNamingSslmode) {
  auto connected = sink::PgConnection::Connect(Tcp("sslmode=disable"), "test");
  ExpectOneLineNaming(connected.status(), "postgres.sslmode");
  EXPECT_NE(connected.status().message().find("only over TLS"), std::string::npos) << connected.status().message();
  EXPECT_NE(connected.status().message().find("no encryption"), std::string::npos) << connected.status().message();
}

TEST_F(PgTls, IamTokenIsThePasswordAndEveryNewConnectionSignsAFreshOne) {
  FixedClock clock;
  config::PostgresConfig postgres;
  postgres.auth = "iam";
  postgres.region = "us-east-1";
  aws::Credentials credentials;
  credentials.access_key_id = "AKIDEXAMPLE";
  credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  credentials.session_token = "FwoGZXIvYXdzEXAMPLE//token+=";
  const sink::PgPasswordSupplier iam = app::PostgresPasswordSupplier(
      postgres, [&]() -> core::Result<aws::Credentials> { return credentials; }, clock);

  // A stand-in for RDS: a role whose password is the token expected at the pinned time.
  const std::string user = UniqueName("iam");
  const std::string conninfo = Tcp("sslmode=verify-full sslrootcert=" + ca_, user);
  auto expected = [&] {
    return aws::RdsAuthToken::Build({"localhost", std::stoi(port_), user, "us-east-1"}, credentials, clock.Now());
  };
  PgTestConnection admin(Admin());
  auto set_password = [&](const std::string& password) {
    char* literal = PQescapeLiteral(admin.raw(), password.c_str(), password.size());
    admin.Exec("ALTER ROLE \"" + user + "\" PASSWORD " + std::string(literal));
    PQfreemem(literal);
  };
  admin.Exec("CREATE ROLE \"" + user + "\" LOGIN IN ROLE iam_users");
  set_password(expected());

  auto first = sink::PgConnection::Connect(conninfo, "test", iam);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto who = (*first)->Query("SELECT current_user::text", {}, "who");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(std::string(PQgetvalue(who->get(), 0, 0)), user);

  // Without the supplier the server asks for a password and gets none.
  EXPECT_FALSE(sink::PgConnection::Connect(conninfo, "test").ok());

  // 16 minutes on, the first token has expired: the next connection signs a new one, which the
  // server (still holding the old one) refuses — and no message shows either token.
  const std::string old_token = expected();
  clock.Advance(std::chrono::minutes(16));
  ASSERT_NE(expected(), old_token);
  auto stale = sink::PgConnection::Connect(conninfo, "test", iam);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), core::StatusCode::kPermissionDenied) << stale.status().ToString();
  EXPECT_EQ(stale.status().message().find("X-Amz-"), std::string::npos) << stale.status().message();

  // Once the server expects the new token, the reconnect gets in; the first connection lives on.
  set_password(expected());
  auto second = sink::PgConnection::Connect(conninfo, "test", iam);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE((*first)->Exec("SELECT 1", "first connection").ok());
  admin.Exec("SELECT 1");
}

// A command prefix that runs its program with the clock frozen at `when` (UTC, "YYYY-MM-DD
// hh:mm:ss"): libfaketime preloaded, not through the `faketime` wrapper, which names a semaphore
// after its own pid and fails ("sem_open: File exists") where a killed wrapper left one behind
// for a pid that came round again.
std::string FrozenAt(const std::string& when) {
  const char* library = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
  if (access(library, R_OK) == 0) return std::string("LD_PRELOAD=") + library + " FAKETIME='" + when + "' ";
  return "faketime -f '" + when + "' ";
}

// The binary end to end with auth: iam: credentials from the AWS_* variables, the clock frozen by
// faketime at a known second, the server expecting the token for that second.
TEST_F(PgTls, BinaryLogsInWithTheIamTokenAndNeverPrintsIt) {
  const std::string user = UniqueName("iambin");
  aws::Credentials credentials;
  credentials.access_key_id = "AKIDEXAMPLE";
  credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  credentials.session_token = "FwoGZXIvYXdzEXAMPLE//token+=";
  // Now, to the second: inside the test certificates' validity.
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(system_clock::now());
  const std::time_t seconds = system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char frozen[32];
  std::strftime(frozen, sizeof frozen, "%Y-%m-%d %H:%M:%S", &utc);
  const std::string token =
      aws::RdsAuthToken::Build({"localhost", std::stoi(port_), user, "us-east-1"}, credentials, now);

  PgTestConnection admin(Admin());
  char* literal = PQescapeLiteral(admin.raw(), token.c_str(), token.size());
  admin.Exec("CREATE ROLE \"" + user + "\" LOGIN SUPERUSER IN ROLE iam_users PASSWORD " + std::string(literal));
  PQfreemem(literal);

  const std::string config = WriteConfig("  url: postgresql://" + user + "@localhost:" + port_ +
                                         "/postgres\n  sslmode: verify-full\n  sslrootcert: " + ca_ +
                                         "\n  auth: iam\n  region: us-east-1\n");
  const std::string env = "env -u AWS_PROFILE -u AWS_REGION -u AWS_DEFAULT_REGION -u PGPASSWORD TZ=UTC "
                          "AWS_ACCESS_KEY_ID=" + credentials.access_key_id +
                          " AWS_SECRET_ACCESS_KEY=" + credentials.secret_access_key +
                          " AWS_SESSION_TOKEN='" + credentials.session_token + "' ";
  int code = -1;
  const std::string out = RunCapture(env + FrozenAt(frozen) + DDB2PG_BINARY +
                                         " init-schema --log-level debug -c " + config, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("schema ready"), std::string::npos) << out;
  EXPECT_EQ(out.find("X-Amz-"), std::string::npos) << out;

  // A second later the token is another one, which this server does not expect: refused (4).
  const std::time_t next_second = seconds + 1;
  gmtime_r(&next_second, &utc);
  std::strftime(frozen, sizeof frozen, "%Y-%m-%d %H:%M:%S", &utc);
  const std::string refused = RunCapture(env + FrozenAt(frozen) + DDB2PG_BINARY +
                                             " init-schema --log-level debug -c " + config, &code);
  EXPECT_EQ(code, 4) << refused;
  EXPECT_NE(refused.find("password authentication failed for user \"" + user + "\""), std::string::npos) << refused;
  EXPECT_EQ(refused.find("X-Amz-"), std::string::npos) << refused;
}

TEST_F(PgTls, BinaryFailsAtStartWithOneLineAndValidateWarnsAboutRemoteHosts) {
  const std::string bin = DDB2PG_BINARY;
  int code = -1;
  const std::string url = "  url: postgresql://ddb2pg@localhost:" + port_ + "/postgres\n";

  std::string out = RunCapture(
      bin + " init-schema -c " + WriteConfig(url + "  sslmode: verify-full\n  sslrootcert: " + other_ca_ + "\n"), &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_NE(out.find("postgres.sslrootcert"), std::string::npos) << out;

  out = RunCapture(bin + " init-schema -c " + WriteConfig(url + "  sslmode: disable\n"), &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_NE(out.find("postgres.sslmode"), std::string::npos) << out;

  out = RunCapture(
      bin + " init-schema -c " + WriteConfig(url + "  sslmode: verify-full\n  sslrootcert: " + ca_ + "\n"), &code);
  EXPECT_EQ(code, 0) << out;

  out = RunCapture(bin + " validate --offline -c " +
                       WriteConfig("  url: postgresql://u@db.example.com/app\n  sslmode: require\n"), &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("warning: postgres: host db.example.com is not on this machine and sslmode is require"),
            std::string::npos)
      << out;
  out = RunCapture(bin + " validate --offline -c " +
                       WriteConfig("  url: postgresql://u@db.example.com/app\n  auth: iam\n"), &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("postgres.auth: iam sends a token as the password and needs TLS"), std::string::npos) << out;
}

}  // namespace
}  // namespace ddb2pg::testing
