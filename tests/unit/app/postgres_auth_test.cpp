// postgres.auth, postgres.sslmode and postgres.sslrootcert as the app wires them: the config
// rules (iam needs TLS), the conninfo they make, the `validate` warning for a remote host without
// certificate checks, and the password supplier — asked for a fresh RDS IAM token on every new
// connection, so a reconnect more than 15 minutes after the first connect signs a new one. No
// server is needed: the connects go to a loopback port nothing listens on, and the password
// supplier runs before libpq dials.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <vector>

#include "processor/plan_checker.h"
#include "app/wiring.h"
#include "config/config.h"
#include "sink/pg_connection.h"

namespace ddb2pg::app {
namespace {

using std::chrono::system_clock;

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

aws::Credentials TestCredentials() {
  aws::Credentials credentials;
  credentials.access_key_id = "AKIDEXAMPLE";
  credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  credentials.source = "test";
  return credentials;
}

config::EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto found = vars.find(name);
    if (found == vars.end()) return std::nullopt;
    return found->second;
  };
}

std::string ConfigText(const std::string& postgres) {
  return "version: 1\nsources:\n  users:\n    table: users\npostgres:\n" + postgres +
         "pipelines:\n  - name: profile\n    key: id\n    columns:\n      id: UUID <- id\n";
}

// Nothing listens on port 1 of the loopback interface: libpq fails fast, after the supplier ran.
const std::string kClosedPort = "host=127.0.0.1 port=1 user=iam_user dbname=postgres connect_timeout=2 ";

TEST(PostgresAuth, ReconnectMoreThanFifteenMinutesLaterSignsAFreshToken) {
  FixedClock clock;
  config::PostgresConfig postgres;
  postgres.auth = "iam";
  postgres.region = "eu-west-1";
  int credentials_asked = 0;
  const sink::PgPasswordSupplier iam = PostgresPasswordSupplier(
      postgres,
      [&]() -> core::Result<aws::Credentials> {
        ++credentials_asked;
        return TestCredentials();
      },
      clock);
  ASSERT_TRUE(iam);
  std::vector<std::string> tokens;
  const sink::PgPasswordSupplier recording = [&](const sink::PgEndpoint& endpoint) {
    auto token = iam(endpoint);
    if (token.ok()) tokens.push_back(*token);
    return token;
  };

  auto first = sink::PgConnection::Connect(kClosedPort + "sslmode=require", "test", recording);
  clock.Advance(std::chrono::minutes(16));
  auto second = sink::PgConnection::Connect(kClosedPort + "sslmode=require", "test", recording);

  ASSERT_FALSE(first.ok());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(first.status().code(), core::StatusCode::kUnavailable) << first.status().message();
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(credentials_asked, 2);
  EXPECT_NE(tokens[0], tokens[1]);
  EXPECT_TRUE(tokens[0].starts_with("127.0.0.1:1/?Action=connect&DBUser=iam_user&")) << tokens[0];
  EXPECT_NE(tokens[0].find("X-Amz-Date=20260101T000000Z"), std::string::npos) << tokens[0];
  EXPECT_NE(tokens[1].find("X-Amz-Date=20260101T001600Z"), std::string::npos) << tokens[1];
  aws::RdsAuthTarget target{"127.0.0.1", 1, "iam_user", "eu-west-1"};
  EXPECT_EQ(tokens[1], aws::RdsAuthToken::Build(target, TestCredentials(), clock.Now()));
  // The token is a secret: never in an error message.
  EXPECT_EQ(second.status().message().find("X-Amz-Signature"), std::string::npos) << second.status().message();
}

TEST(PostgresAuth, InstalledSupplierIsUsedByEveryPlainConnect) {
  int asked = 0;
  sink::PgConnection::InstallPasswordSupplier([&](const sink::PgEndpoint& endpoint) -> core::Result<std::string> {
    ++asked;
    EXPECT_EQ(endpoint.host, "127.0.0.1");
    EXPECT_EQ(endpoint.port, "1");
    EXPECT_EQ(endpoint.user, "iam_user");
    EXPECT_EQ(endpoint.sslmode, "verify-full");
    return std::string("token");
  });
  (void)sink::PgConnection::Connect(kClosedPort + "sslmode=verify-full", "test");
  (void)sink::PgConnection::Connect(kClosedPort + "sslmode=verify-full", "test");
  sink::PgConnection::InstallPasswordSupplier({});
  (void)sink::PgConnection::Connect(kClosedPort + "sslmode=verify-full", "test");
  EXPECT_EQ(asked, 2);
}

TEST(PostgresAuth, TokenIsNeverSentWithoutTlsOrToASocket) {
  int asked = 0;
  const sink::PgPasswordSupplier supplier = [&](const sink::PgEndpoint&) -> core::Result<std::string> {
    ++asked;
    return std::string("token");
  };
  for (const char* sslmode : {"disable", "allow", "prefer"}) {
    auto connected = sink::PgConnection::Connect(kClosedPort + "sslmode=" + sslmode, "test", supplier);
    ASSERT_FALSE(connected.ok());
    EXPECT_EQ(connected.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_NE(connected.status().message().find("postgres.sslmode"), std::string::npos) << connected.status().message();
    EXPECT_NE(connected.status().message().find(std::string("sslmode is ") + sslmode), std::string::npos);
  }
  auto socket = sink::PgConnection::Connect("host=/tmp user=u sslmode=require", "test", supplier);
  ASSERT_FALSE(socket.ok());
  EXPECT_NE(socket.status().message().find("TCP host name"), std::string::npos) << socket.status().message();
  EXPECT_EQ(asked, 0);
}

TEST(PostgresAuth, RegionComesFromTheRdsHostNameUnlessConfigured) {
  FixedClock clock;
  config::PostgresConfig postgres;
  postgres.auth = "iam";
  const auto credentials = []() -> core::Result<aws::Credentials> { return TestCredentials(); };
  sink::PgEndpoint endpoint;
  endpoint.host = "mydb.c9akciq32.ap-southeast-2.rds.amazonaws.com";
  endpoint.port = "5432";
  endpoint.user = "ddb2pg";
  auto token = PostgresPasswordSupplier(postgres, credentials, clock)(endpoint);
  ASSERT_TRUE(token.ok()) << token.status().message();
  EXPECT_NE(token->find("%2Fap-southeast-2%2Frds-db%2F"), std::string::npos) << *token;

  postgres.region = "eu-central-1";
  token = PostgresPasswordSupplier(postgres, credentials, clock)(endpoint);
  ASSERT_TRUE(token.ok());
  EXPECT_NE(token->find("%2Feu-central-1%2Frds-db%2F"), std::string::npos) << *token;

  postgres.auth = "password";
  EXPECT_FALSE(PostgresPasswordSupplier(postgres, credentials, clock));
}

TEST(PostgresAuth, ConfigRequiresTlsForIam) {
  auto loaded = config::LoadConfigText(ConfigText("  url: postgresql://u@db.example.com/app\n  auth: iam\n"), "t.yaml", processor::PlanChecker(),
                                       Env({}));
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("t.yaml:7:"), std::string::npos) << loaded.status().message();
  EXPECT_NE(loaded.status().message().find("postgres.auth: iam"), std::string::npos);
  EXPECT_NE(loaded.status().message().find("sslmode is prefer"), std::string::npos) << loaded.status().message();

  loaded = config::LoadConfigText(ConfigText("  url: postgresql://u@db/app\n  auth: iam\n  sslmode: allow\n"), "t.yaml", processor::PlanChecker(),
                                  Env({}));
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("sslmode is allow (postgres.sslmode)"), std::string::npos)
      << loaded.status().message();

  for (const std::string postgres : {"  url: postgresql://u@db/app?sslmode=require\n  auth: iam\n",
                                     "  conninfo: host=db user=u sslmode = 'verify-ca'\n  auth: iam\n",
                                     "  url: postgresql://u@db/app\n  auth: iam\n  sslmode: verify-full\n"
                                     "  sslrootcert: /etc/ssl/rds.pem\n  region: eu-west-1\n"}) {
    loaded = config::LoadConfigText(ConfigText(postgres), "t.yaml", processor::PlanChecker(), Env({}));
    EXPECT_TRUE(loaded.ok()) << postgres << loaded.status().message();
  }
  loaded = config::LoadConfigText(ConfigText("  url: postgresql://u@db/app\n  auth: iam\n"), "t.yaml", processor::PlanChecker(),
                                  Env({{"PGSSLMODE", "verify-full"}}));
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->postgres.auth, "iam");

  loaded = config::LoadConfigText(ConfigText("  auth: kerberos\n"), "t.yaml", processor::PlanChecker(), Env({}));
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("postgres.auth"), std::string::npos) << loaded.status().message();
}

TEST(PostgresAuth, ConninfoGetsSslrootcertQuoted) {
  config::PostgresConfig postgres;
  postgres.conninfo = "host=db user=u";
  postgres.sslmode = "verify-full";
  postgres.sslrootcert = "/etc/ssl/it's here.pem";
  EXPECT_EQ(PostgresConninfo(postgres), "host=db user=u sslmode=verify-full sslrootcert='/etc/ssl/it\\'s here.pem'");
  auto endpoint = sink::PgConnection::ResolveEndpoint(PostgresConninfo(postgres));
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().message();
  EXPECT_EQ(endpoint->sslrootcert, "/etc/ssl/it's here.pem");
  EXPECT_EQ(endpoint->sslmode, "verify-full");

  postgres.conninfo = "postgresql://u@db:5433/app";
  EXPECT_EQ(PostgresConninfo(postgres),
            "postgresql://u@db:5433/app?sslmode=verify-full&sslrootcert=/etc/ssl/it%27s%20here.pem");
  endpoint = sink::PgConnection::ResolveEndpoint(PostgresConninfo(postgres));
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().message();
  EXPECT_EQ(endpoint->sslrootcert, "/etc/ssl/it's here.pem");
  EXPECT_EQ(endpoint->port, "5433");

  postgres.conninfo = "postgresql://u@db/app?sslrootcert=/mine.pem";
  EXPECT_EQ(PostgresConninfo(postgres), "postgresql://u@db/app?sslrootcert=/mine.pem&sslmode=verify-full");
}

TEST(PostgresAuth, ValidateWarnsAboutARemoteHostWithoutCertificateChecks) {
  const auto warnings = PostgresWarnings("host=db.example.com user=u sslmode=require");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("db.example.com"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("sslmode is require"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("postgres.sslmode: verify-full"), std::string::npos) << warnings[0];
  EXPECT_EQ(PostgresWarnings("postgresql://u@db.example.com/app?sslmode=prefer").size(), 1u);
  EXPECT_EQ(PostgresWarnings("host=localhost,10.0.0.7 user=u sslmode=require").size(), 1u);

  EXPECT_TRUE(PostgresWarnings("host=db.example.com user=u sslmode=verify-ca").empty());
  EXPECT_TRUE(PostgresWarnings("host=db.example.com user=u sslmode=verify-full").empty());
  EXPECT_TRUE(PostgresWarnings("host=localhost user=u sslmode=disable").empty());
  EXPECT_TRUE(PostgresWarnings("host=127.0.0.1 user=u").empty());
  EXPECT_TRUE(PostgresWarnings("host=/var/run/postgresql user=u").empty());
  EXPECT_TRUE(PostgresWarnings("host=db.example.com hostaddr=127.0.0.1 user=u").empty());
}

}  // namespace
}  // namespace ddb2pg::app
