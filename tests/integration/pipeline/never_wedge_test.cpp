// Issue 13 acceptance ("never wedge"), through the real `ddb2pg run` binary on the real servers,
// one test per event the issue measured:
//  - a row PostgreSQL rejects (a CHECK constraint) is dead-lettered with PostgreSQL's message and
//    SQLSTATE 23514 while the items after it arrive and the runner keeps running;
//  - a PostgreSQL crash (`pg_ctl stop -m immediate`, then start) mid-stream: the runner keeps
//    running, the final state equals the table, and an audit trigger shows no change applied twice;
//  - every process of PostgreSQL frozen (SIGSTOP) while items are written: /readyz turns 503, and
//    back to 200 once it thaws (SIGCONT) and commits succeed; every item arrives;
//  - polling cost at a shard's tip: a counting proxy between ddb2pg and DynamoDB Local sees at most
//    4 GetRecords calls a second per shard at 2 writes/s; the lag of each change is printed (the
//    figure bench/run's section 4 reports), not asserted;
//  - SIGTERM while DynamoDB is unreachable (the reader retrying) exits 0, as the README's table says.
// Tests that stop or freeze PostgreSQL use a cluster of their own (scripts/servers start DIR
// --no-ddb), never the shared one.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>

#include "aws/curl_transport.h"
#include "counting_streams_proxy.h"
#include "pipeline_fixture.h"

namespace ddb2pg::testing {
namespace {

// Stops and joins a writer thread when the test leaves its scope, also on a failed ASSERT.
struct JoinOnExit {
  std::atomic<bool>& stop;
  std::thread& thread;
  ~JoinOnExit() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
};

const std::string kServers = std::string(DDB2PG_SOURCE_DIR) + "/scripts/servers";

int Shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class NeverWedge : public PipelineFixture {
 protected:
  void TearDown() override {
    Thaw();  // a test that failed while PostgreSQL was frozen must not leave it so
    if (RunnerAlive()) {
      runner_->Signal(SIGTERM);
      EXPECT_EQ(WaitRunner(std::chrono::seconds(10)), 0) << "SIGTERM should end the runner; see " << log_path_;
    }
    runner_.reset();
    if (!cluster_dir_.empty()) {
      pg_.reset();
      (void)Shell(kServers + " stop " + cluster_dir_ + " >/dev/null 2>&1; rm -rf " + cluster_dir_);
    }
  }

  // A PostgreSQL cluster of this test's own; the test's database (and ddb2pg's) moves there.
  void UseOwnCluster() {
    cluster_dir_ = "/tmp/" + key_ + "-pg";
    ASSERT_EQ(Shell(kServers + " start " + cluster_dir_ + " --no-ddb"), 0);
    const std::string port = ReadFile(cluster_dir_ + "/pg/port");
    UsePostgres("host=127.0.0.1 port=" + port.substr(0, port.find('\n')) + " user=ddb2pg dbname=postgres");
  }

  // Writes the configuration, and runs `ddb2pg init-schema` with it when asked (so a test can
  // change the tables before the runner starts).
  void WriteConfig(const std::string& text, bool init_schema) {
    config_path_ = ScratchDir() + "/" + key_ + ".yaml";
    log_path_ = ScratchDir() + "/" + key_ + ".log";
    std::ofstream(config_path_) << text;
    schema_made_ = init_schema;
    if (!init_schema) return;
    ChildProcess init({DDB2PG_BINARY, "init-schema", "-c", config_path_}, ChildEnvironment(), log_path_);
    ASSERT_EQ(init.Wait(std::chrono::seconds(60)), 0) << ReadFile(log_path_);
  }

  // Starts `ddb2pg run` with the written configuration; with `metrics`, on a free loopback port
  // that metrics_port_ then names.
  void StartRunner(bool metrics, std::vector<std::string> env) {
    std::vector<std::string> args = {DDB2PG_BINARY, "run", "-c", config_path_, "--progress", "plain",
                                     "--metrics-listen", metrics ? "127.0.0.1:0" : "off"};
    if (!schema_made_) args.push_back("--init-schema");
    runner_ = std::make_unique<ChildProcess>(args, env, log_path_);
    if (!metrics) return;
    for (int i = 0; i < 300 && metrics_port_.empty(); ++i) {
      std::smatch match;
      const std::string log = ReadFile(log_path_);
      if (std::regex_search(log, match, std::regex("status page on http://127\\.0\\.0\\.1:([0-9]+)/"))) {
        metrics_port_ = match[1];
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_FALSE(metrics_port_.empty()) << ReadFile(log_path_);
  }

  // The runner's exit code, or -1 while it still runs after `timeout` (ChildProcess reaps once).
  int WaitRunner(std::chrono::milliseconds timeout) {
    if (!runner_exit_) {
      const int code = runner_->Wait(timeout);
      if (code != -1) runner_exit_ = code;
    }
    return runner_exit_.value_or(-1);
  }
  bool RunnerAlive() { return runner_ != nullptr && WaitRunner(std::chrono::milliseconds(0)) == -1; }

  // /readyz's HTTP status (0: no answer).
  long ReadyStatus() {
    aws::CurlTransportOptions options;
    options.request_timeout = std::chrono::milliseconds(5000);
    aws::CurlTransport http(options);
    aws::HttpRequest request;
    request.method = "GET";
    request.url = "http://127.0.0.1:" + metrics_port_ + "/readyz";
    auto response = http.Send(request);
    return response.ok() ? response->status : 0;
  }

  // Polls /readyz until it answers `status` or `timeout` passes.
  bool WaitForReady(long status, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ReadyStatus() == status) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

  // Every process of the own cluster: the postmaster (postmaster.pid's first line) and its children.
  std::vector<pid_t> ClusterProcesses() const {
    std::vector<pid_t> pids;
    std::ifstream pid_file(cluster_dir_ + "/pg/data/postmaster.pid");
    pid_t postmaster = 0;
    if (!(pid_file >> postmaster) || postmaster <= 0) return pids;
    pids.push_back(postmaster);
    FILE* children = popen(("pgrep -P " + std::to_string(postmaster)).c_str(), "r");
    if (children == nullptr) return pids;
    int child = 0;
    while (std::fscanf(children, "%d", &child) == 1) pids.push_back(child);
    pclose(children);
    return pids;
  }

  void Freeze() {
    frozen_ = ClusterProcesses();
    for (pid_t pid : frozen_) kill(pid, SIGSTOP);
  }
  void Thaw() {
    for (pid_t pid : frozen_) kill(pid, SIGCONT);
    frozen_.clear();
  }

  // A new item with `name`, written now; the oracle remembers it unless told not to.
  std::string PutNewItem(app::SampleData& data, std::optional<std::string> name, bool remember = true) {
    const std::string id = data.NewId();
    core::Value item = data.MakeItem(id, 1);
    if (name) item.Set("name", core::Value::String(*name));
    EXPECT_TRUE(ddb_->PutItem("users", item).ok());
    if (remember) Remember(id, item, 1, false);
    return id;
  }

  // A counting proxy in front of DynamoDB Local (it outlives the runner: TearDown stops that first).
  CountingStreamsProxy& StartProxy() {
    proxy_ = std::make_unique<CountingStreamsProxy>(aws_.dynamodb_endpoint);
    return *proxy_;
  }
  // ChildEnvironment() with DynamoDB (and DynamoDB Streams) reached through the proxy.
  std::vector<std::string> ProxiedEnvironment() const {
    std::vector<std::string> env = ChildEnvironment();
    for (auto& assignment : env) {
      if (assignment.rfind("AWS_ENDPOINT_URL_DYNAMODB=", 0) == 0) assignment = "AWS_ENDPOINT_URL_DYNAMODB=" + proxy_->url();
    }
    return env;
  }

  std::string config_path_, log_path_, metrics_port_, cluster_dir_;
  std::unique_ptr<CountingStreamsProxy> proxy_;
  std::unique_ptr<ChildProcess> runner_;
  std::optional<int> runner_exit_;
  std::vector<pid_t> frozen_;
  bool schema_made_ = false;  // `ddb2pg init-schema` ran before the runner
};

TEST_F(NeverWedge, ARowACheckConstraintRejectsIsDeadLetteredAndTheItemsAfterItArrive) {
  BulkLoad(50, 81);
  WriteConfig(ConfigText(), /*init_schema=*/true);
  if (HasFatalFailure()) return;
  pg_->Exec("ALTER TABLE " + schema_ + ".profile ADD CONSTRAINT name_not_empty CHECK (name <> '')");
  StartRunner(false, ChildEnvironment());
  ASSERT_TRUE(WaitUntilEqual(std::chrono::seconds(60)).empty()) << ReadFile(log_path_);

  app::SampleData data(82);
  const std::string bad_id = PutNewItem(data, std::string(""), /*remember=*/false);
  for (int i = 0; i < 20; ++i) PutNewItem(data, std::nullopt);
  const auto differences = WaitUntilEqual(std::chrono::seconds(60));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences) << " (log: " << log_path_ << ")";

  const auto letters = pg_->Query("SELECT reason, operation FROM ddb2pg.dead_letters WHERE pipeline = 'profile' "
                                  "AND key LIKE '%" + bad_id + "%'");
  ASSERT_EQ(letters.size(), 1u) << "the rejected row is dead-lettered once; log: " << log_path_;
  const std::string reason = letters[0][0].value_or("");
  EXPECT_NE(reason.find("violates check constraint \"name_not_empty\""), std::string::npos) << reason;
  EXPECT_NE(reason.find("SQLSTATE 23514"), std::string::npos) << reason;
  EXPECT_EQ(letters[0][1].value_or(""), "create");
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.dead_letters"), "1") << "nothing else was rejected";
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".profile WHERE id = '" + bad_id + "'"), "0");
  // The other pipelines of the same item are untouched by the profile row's rejection.
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".appearance_settings WHERE profile_id = '" + bad_id + "'"),
            "1");
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".notification_settings WHERE profile_id = '" + bad_id +
                        "'"),
            "1");
  EXPECT_TRUE(RunnerAlive()) << "the runner keeps running; see " << log_path_;
}

TEST_F(NeverWedge, APostgresCrashMidStreamIsRecoveredWithoutApplyingAnyChangeTwice) {
  UseOwnCluster();
  if (HasFatalFailure()) return;
  WriteConfig(ConfigWithAuditPipeline(), /*init_schema=*/false);
  BulkLoad(1000, 91);
  StartRunner(false, ChildEnvironment());
  WaitForSeed();  // the changes below come after the snapshot's watermark: each one is applied

  std::atomic<int> changes{0};
  std::atomic<bool> stop_writing{false};
  std::thread writer([&] {
    app::SampleData data(92);
    while (!stop_writing && changes < 1500) {
      RandomChange(data);
      ++changes;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  JoinOnExit join_writer{stop_writing, writer};

  // Crash while changes stream in (and the runner has committed some of them).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (changes < 300 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(RunnerAlive()) << ReadFile(log_path_);
  const std::string conninfo = pg_conninfo_;
  pg_.reset();
  ASSERT_EQ(Shell(kServers + " pg-stop " + cluster_dir_ + " --immediate"), 0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_EQ(Shell(kServers + " pg-start " + cluster_dir_), 0);
  pg_ = std::make_unique<PgTestConnection>(conninfo);

  writer.join();
  const int made = changes;
  const auto differences = WaitUntilEqual(std::chrono::seconds(120));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences) << " (log: " << log_path_ << ")";
  EXPECT_TRUE(RunnerAlive()) << "the runner recovers by itself; see " << log_path_;

  const auto twice = pg_->Query("SELECT id::text, v, op, count(*) FROM " + schema_ +
                                ".audit_log GROUP BY 1, 2, 3 HAVING count(*) > 1 LIMIT 5");
  EXPECT_TRUE(twice.empty()) << "changes applied twice, e.g. " << *twice[0][0] << " v" << *twice[0][1] << " "
                             << *twice[0][2] << " (log: " << log_path_ << ")";
  // Every change after the start reached the audit table (the bulk load is the snapshot's).
  const std::string applied = pg_->Scalar("SELECT count(DISTINCT (id, v, op)) FROM " + schema_ +
                                          ".audit_log WHERE op <> 'snapshot'");
  EXPECT_GE(std::stoll(applied), made);
  const std::string log = ReadFile(log_path_);
  std::printf("%d changes; %s distinct changes in the audit log; %s\n", made, applied.c_str(),
              log.find("commits lost in a server crash") != std::string::npos ? "the runner rewound and replayed lost commits"
                                                      : "no commit was lost by the crash");
}

TEST_F(NeverWedge, AFrozenPostgresTurnsReadyzTo503AndBackTo200AfterItThaws) {
  UseOwnCluster();
  if (HasFatalFailure()) return;
  WriteConfig(ConfigText() + "\nruntime:\n  stall_ms: 3000\n", /*init_schema=*/false);
  BulkLoad(200, 101);
  StartRunner(true, ChildEnvironment());
  if (HasFatalFailure()) return;
  ASSERT_TRUE(WaitUntilEqual(std::chrono::seconds(60)).empty()) << ReadFile(log_path_);
  // On failure, the runner's log says which of readiness's conditions held it back (a lane not
  // connected, a state other than snapshot/streaming/standby, records waiting past stall_ms).
  ASSERT_TRUE(WaitForReady(200, std::chrono::seconds(30))) << "ready once caught up; the runner's log:\n"
                                                           << ReadFile(log_path_);

  std::atomic<bool> stop_writing{false};
  std::thread writer([&] {
    app::SampleData data(102);
    while (!stop_writing) {
      PutNewItem(data, std::nullopt);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  JoinOnExit join_writer{stop_writing, writer};

  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::string conninfo = pg_conninfo_;
  pg_.reset();  // the test's own connection would block on the frozen server too
  const auto frozen_at = std::chrono::steady_clock::now();
  Freeze();
  const size_t frozen_count = frozen_.size();
  ASSERT_GE(frozen_count, 2u) << "the postmaster and its children";
  // 503 once records have waited stall_ms (3 s) uncommitted; the bound is only for liveness.
  const bool turned_unready = WaitForReady(503, std::chrono::seconds(30));
  const auto unready_at = std::chrono::steady_clock::now();
  Thaw();
  EXPECT_TRUE(turned_unready) << "/readyz should answer 503 while PostgreSQL is frozen; see " << log_path_;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  stop_writing = true;
  writer.join();

  pg_ = std::make_unique<PgTestConnection>(conninfo);
  const auto differences = WaitUntilEqual(std::chrono::seconds(120));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences) << " (log: " << log_path_ << ")";
  EXPECT_TRUE(WaitForReady(200, std::chrono::seconds(60))) << "ready again once commits succeed; see " << log_path_;
  EXPECT_TRUE(RunnerAlive()) << "see " << log_path_;
  auto seconds = [](auto duration) { return std::chrono::duration<double>(duration).count(); };
  std::printf("froze %zu processes; /readyz 503 after %.1f s (stall_ms 3 s); 200 again within %.1f s of the thaw\n",
              frozen_count, seconds(unready_at - frozen_at), seconds(std::chrono::steady_clock::now() - unready_at));
}

// Also bench/run's section 4 figure: DDB2PG_POLLING_SECONDS sets how long it writes (default 20).
TEST_F(NeverWedge, AtTwoWritesASecondGetRecordsIsCalledAtMostFourTimesASecondPerShard) {
  CountingStreamsProxy& proxy = StartProxy();
  const std::vector<std::string> env = ProxiedEnvironment();
  BulkLoad(20, 111);
  WriteConfig(ConfigText(), /*init_schema=*/true);
  if (HasFatalFailure()) return;
  // When each row was committed: the lag of a change is that minus when it was written.
  pg_->Exec("ALTER TABLE " + schema_ + ".profile ADD COLUMN committed_at TIMESTAMPTZ DEFAULT clock_timestamp()");
  StartRunner(false, env);
  ASSERT_TRUE(WaitUntilEqual(std::chrono::seconds(60)).empty()) << ReadFile(log_path_);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // at the tip: idle polling only

  const char* seconds_text = std::getenv("DDB2PG_POLLING_SECONDS");
  const int seconds = seconds_text != nullptr ? std::max(5, std::atoi(seconds_text)) : 20;
  app::SampleData data(112);
  std::map<std::string, double> written_ms;  // id → when its PutItem started, ms since the epoch
  const auto from = CountingStreamsProxy::Clock::now();
  for (int i = 0; i < seconds * 2; ++i) {
    const auto due = from + std::chrono::milliseconds(500 * i);
    std::this_thread::sleep_until(due);
    const double now_ms =
        std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
    written_ms[PutNewItem(data, std::nullopt)] = now_ms;
  }
  std::this_thread::sleep_until(from + std::chrono::seconds(seconds));
  const auto to = CountingStreamsProxy::Clock::now();
  const double window_s = std::chrono::duration<double>(to - from).count();
  const auto differences = WaitUntilEqual(std::chrono::seconds(60));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences) << " (log: " << log_path_ << ")";
  EXPECT_TRUE(RunnerAlive()) << "see " << log_path_;

  const auto calls = proxy.GetRecordsBetween(from, to);
  ASSERT_FALSE(calls.empty()) << "no GetRecords call went through the proxy";
  int total = 0;
  // A call in flight at each edge of the window may count for a poll interval outside it.
  const double tolerance = 2.0 / window_s;
  for (const auto& [shard, count] : calls) {
    total += count;
    EXPECT_LE(count / window_s, 4.0 + tolerance) << count << " GetRecords calls on " << shard << " in " << window_s
                                                 << " s";
  }

  std::vector<double> lags;
  for (const auto& row : pg_->Query("SELECT id::text, extract(epoch FROM committed_at) * 1000 FROM " + schema_ +
                                    ".profile")) {
    const auto written = written_ms.find(row[0].value_or(""));
    if (written != written_ms.end() && row[1]) lags.push_back(std::stod(*row[1]) - written->second);
  }
  ASSERT_EQ(lags.size(), written_ms.size());
  std::sort(lags.begin(), lags.end());
  auto percentile = [&](double p) { return lags[std::min(lags.size() - 1, static_cast<size_t>(p * lags.size()))]; };
  // One line for bench/run to read; the figures are reported, not asserted (timing varies by machine).
  // With 40 changes (20 s), the p99 is the largest lag: read it as a maximum.
  std::printf("polling cost: shards=%zu getrecords_per_shard_per_s=%.2f describestream=%d window_s=%.1f "
              "writes=%zu lag_p50_ms=%.0f lag_p99_ms=%.0f lag_max_ms=%.0f\n",
              calls.size(), total / window_s / static_cast<double>(calls.size()), proxy.DescribeStreamBetween(from, to),
              window_s, lags.size(), percentile(0.5), percentile(0.99), lags.back());
}

}  // namespace
}  // namespace ddb2pg::testing

namespace ddb2pg::testing {
namespace {

// README: exit 0 "also after Ctrl-C/SIGTERM, which flushes and commits first" — also while
// DynamoDB is unreachable and the stream reader is retrying (the stop cuts the retries short).
TEST_F(NeverWedge, SigtermDuringADynamoDbOutageCommitsWhatWasReadAndExitsZero) {
  StartProxy();
  BulkLoad(20, 121);
  WriteConfig(ConfigText(), /*init_schema=*/false);
  StartRunner(false, ProxiedEnvironment());
  ASSERT_TRUE(WaitUntilEqual(std::chrono::seconds(60)).empty()) << ReadFile(log_path_);
  proxy_.reset();  // DynamoDB unreachable: connections refused
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_TRUE(RunnerAlive()) << "an outage is retried, not fatal; see " << log_path_;
  runner_->Signal(SIGTERM);
  EXPECT_EQ(WaitRunner(std::chrono::seconds(5)), 0) << ReadFile(log_path_);
}

}  // namespace
}  // namespace ddb2pg::testing
