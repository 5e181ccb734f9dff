// Timeouts against a real PostgreSQL: every connection carries TCP keepalives and
// tcp_user_timeout unless the conninfo sets them, and a commit to a frozen server backend
// returns kUnavailable at the deadline instead of hanging.
//
// The freeze test stops (SIGSTOP) exactly one process: the server backend that serves this
// test's own sink connection, found by its application_name, and resumes it (SIGCONT) however
// the test ends. Run it against a throwaway cluster (scripts/servers), as scripts/test does.
#include <signal.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "integration/sink/sink_fixture.h"
#include "sink/pg_connection.h"

namespace ddb2pg::sink::testing {
namespace {

std::string Setting(PgConnection& connection, const char* keyword) {
  std::string value;
  PQconninfoOption* options = PQconninfo(connection.raw());
  for (PQconninfoOption* option = options; option != nullptr && option->keyword != nullptr; ++option) {
    if (std::strcmp(option->keyword, keyword) == 0 && option->val != nullptr) value = option->val;
  }
  PQconninfoFree(options);
  return value;
}

TEST_F(SinkTest, EveryConnectionHasKeepalivesUnlessTheConninfoSetsThem) {
  auto connected = PgConnection::Connect(conninfo_, "ddb2pg keepalive test");
  ASSERT_TRUE(connected.ok()) << connected.status().ToString();
  EXPECT_EQ(Setting(**connected, "keepalives"), "1");
  EXPECT_EQ(Setting(**connected, "keepalives_idle"), "10");
  EXPECT_EQ(Setting(**connected, "keepalives_interval"), "5");
  EXPECT_EQ(Setting(**connected, "keepalives_count"), "3");
  EXPECT_EQ(Setting(**connected, "tcp_user_timeout"), "30000");
  // The server sees them on its side of the socket too.
  auto idle = (*connected)->Query("SHOW tcp_keepalives_idle", {}, "show");
  ASSERT_TRUE(idle.ok()) << idle.status().ToString();

  auto own = PgConnection::Connect(conninfo_ + " keepalives_idle=7 tcp_user_timeout=12000", "ddb2pg keepalive test");
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(Setting(**own, "keepalives_idle"), "7");
  EXPECT_EQ(Setting(**own, "tcp_user_timeout"), "12000");
  EXPECT_EQ(Setting(**own, "keepalives_count"), "3");
}

// The snapshot fence needs a snapshot per statement: every connection runs its transactions at
// READ COMMITTED, also where the conninfo (or the database, or the role) makes another the default.
TEST_F(SinkTest, EveryConnectionRunsItsTransactionsAtReadCommitted) {
  for (const char* level : {"serializable", "repeatable\\\\ read"}) {
    auto connected = PgConnection::Connect(
        conninfo_ + " options='-c default_transaction_isolation=" + level + "'", "ddb2pg isolation test");
    ASSERT_TRUE(connected.ok()) << connected.status().ToString();
    ASSERT_TRUE((*connected)->Exec("BEGIN", "begin").ok());
    auto shown = (*connected)->Query("SHOW transaction_isolation", {}, "show");
    ASSERT_TRUE(shown.ok()) << shown.status().ToString();
    EXPECT_STREQ(PQgetvalue(shown->get(), 0, 0), "read committed") << level;
    ASSERT_TRUE((*connected)->Exec("COMMIT", "commit").ok());
  }
  // The option itself reached the server: a plain libpq connection with it has the other default.
  ddb2pg::testing::PgTestConnection plain(conninfo_ + " options='-c default_transaction_isolation=serializable'");
  EXPECT_EQ(plain.Scalar("SHOW default_transaction_isolation"), "serializable");
}

// Resumes the frozen process however the test ends.
struct Thaw {
  pid_t pid = 0;
  ~Thaw() {
    if (pid > 0) kill(pid, SIGCONT);
  }
};

TEST_F(SinkTest, ACommitToAFrozenBackendIsUnavailableAtTheDeadline) {
  CreateProfile();
  PostgresSinkOptions options = Options();
  options.commit_timeout = std::chrono::milliseconds(1500);
  LeasedSink sink(options);
  ASSERT_TRUE(sink.Open({&profile_}).ok());
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(1, "before")}, "p1")).ok());

  const std::string pid_text =
      Scalar("SELECT pid FROM pg_stat_activity WHERE application_name = '" + schema_ + "' AND pid <> pg_backend_pid()");
  ASSERT_FALSE(pid_text.empty());
  Thaw thaw;
  const auto pid = static_cast<pid_t>(std::stol(pid_text));
  if (kill(pid, SIGSTOP) != 0) {
    GTEST_SKIP() << "cannot stop the server backend " << pid << " (" << std::strerror(errno)
                 << "): the server runs as another user";
  }
  thaw.pid = pid;

  auto status = sink.Commit(MakeBatch({Profile(2, "frozen")}, "p2"));
  EXPECT_EQ(status.code(), core::StatusCode::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find("did not answer before the deadline"), std::string::npos) << status.message();
  EXPECT_TRUE(status.retryable());
  // The sink knows the connection is gone.
  EXPECT_EQ(sink.Commit(MakeBatch({Profile(2, "frozen")}, "p2")).code(), core::StatusCode::kUnavailable);

  kill(pid, SIGCONT);
  thaw.pid = 0;
  // The cancelled transaction never commits; a new connection resumes from the checkpoint.
  auto reopened = sink.Open({&profile_});
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(reopened->position, "p1");
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(2, "after")}, "p2")).ok());
  EXPECT_EQ(Scalar("SELECT string_agg(name, ',' ORDER BY name) FROM " + schema_ + ".profile"), "after,before");
  EXPECT_EQ(Checkpoint(), "p2");
}

}  // namespace
}  // namespace ddb2pg::sink::testing
