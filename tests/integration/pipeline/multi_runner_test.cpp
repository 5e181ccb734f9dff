// Issue 12 acceptance: three runner processes share one configuration's partitions through
// leases. While a writer inserts, updates and deletes, a random runner is killed with SIGKILL and
// restarted every ~1.5 s (12 kills) and one is stopped with SIGTERM mid-run. At the end
// PostgreSQL equals DynamoDB; an audit trigger shows no change applied twice; the lease history
// shows no partition claimed by two runners in one epoch; and every partition a killed runner
// held was taken over within TTL + 2 s.
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <memory>
#include <random>
#include <regex>

#include "aws/curl_transport.h"
#include "pipeline_fixture.h"

namespace ddb2pg::testing {
namespace {

class MultiRunner : public PipelineFixture {};

TEST_F(MultiRunner, ThreeRunnersWithKillsAndATermShareTheWorkExactlyOnce) {
  std::string config = ConfigWithAuditPipeline();
  ReplaceAll(config, "segments: 4", "segments: 4\n      max_items_per_second: 1000");
  constexpr int kTtlMs = 3000;
  config += "\nruntime:\n  lease_ttl_ms: " + std::to_string(kTtlMs) + "\n  heartbeat_ms: 500\n";
  const std::string config_path = ScratchDir() + "/" + key_ + ".yaml";
  const std::string log_path = ScratchDir() + "/" + key_ + ".log";
  std::ofstream(config_path) << config;

  BulkLoad(4000, 51);
  const std::vector<std::string> args = {DDB2PG_BINARY, "run", "-c", config_path, "--progress", "plain",
                                         "--metrics-listen", "off", "--init-schema", "--lanes", "2"};
  std::array<std::unique_ptr<ChildProcess>, 3> runners;
  for (auto& runner : runners) runner = std::make_unique<ChildProcess>(args, ChildEnvironment(), log_path);
  // The changes start once the snapshot's watermark is taken: every one of them is then a change
  // the stream applies (the bulk load before it is the snapshot's).
  WaitForSeed();
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    app::SampleData data(52);
    for (int i = 0; i < 2500; ++i) {
      RandomChange(data);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    writer_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));

  struct Kill {
    int pid;
    std::string at;  // PostgreSQL's clock_timestamp() right after the kill
  };
  std::vector<Kill> kills;
  std::mt19937 rng(53);
  for (int round = 0; round < 12; ++round) {
    const size_t victim = rng() % runners.size();
    ASSERT_EQ(runners[victim]->Wait(std::chrono::milliseconds(0)), -1) << "a runner exited early; see " << log_path;
    const int pid = runners[victim]->pid();
    runners[victim]->Signal(SIGKILL);
    EXPECT_EQ(runners[victim]->Wait(std::chrono::seconds(5)), 128 + SIGKILL);
    kills.push_back({pid, pg_->Scalar("SELECT clock_timestamp()::text")});
    if (round == 6) {
      // A graceful stop mid-run: commits what it read, releases its leases, exits 0 within 5 s.
      const size_t other = (victim + 1) % runners.size();
      runners[other]->Signal(SIGTERM);
      EXPECT_EQ(runners[other]->Wait(std::chrono::seconds(5)), 0) << "see " << log_path;
      runners[other] = std::make_unique<ChildProcess>(args, ChildEnvironment(), log_path);
    }
    runners[victim] = std::make_unique<ChildProcess>(args, ChildEnvironment(), log_path);
    std::this_thread::sleep_for(std::chrono::milliseconds(800 + rng() % 1400));
  }
  writer.join();
  const auto differences = WaitUntilEqual(std::chrono::seconds(180));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences) << " (log: " << log_path << ")";
  for (auto& runner : runners) runner->Signal(SIGTERM);
  for (auto& runner : runners) EXPECT_EQ(runner->Wait(std::chrono::seconds(5)), 0) << "see " << log_path;

  const auto twice = pg_->Query("SELECT id::text, v, op, count(*) FROM " + schema_ +
                                ".audit_log GROUP BY 1, 2, 3 HAVING count(*) > 1 LIMIT 5");
  EXPECT_TRUE(twice.empty()) << "changes applied twice, e.g. " << *twice[0][0] << " v" << *twice[0][1] << " "
                             << *twice[0][2];
  const std::string applied = pg_->Scalar("SELECT count(DISTINCT (id, v, op)) FROM " + schema_ +
                                          ".audit_log WHERE op <> 'snapshot'");
  EXPECT_GE(std::stoll(applied), 2500) << "every insert, update and delete after the start reached the audit table";

  // The lease history: one owner per (partition, epoch).
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM (SELECT partition_id, epoch FROM ddb2pg.lease_events WHERE event = "
                        "'claim' GROUP BY 1, 2 HAVING count(DISTINCT runner_id) > 1) x"),
            "0");
  EXPECT_GT(std::stoi(pg_->Scalar("SELECT count(DISTINCT runner_id) FROM ddb2pg.lease_events WHERE event = 'claim'")),
            3)
      << "the restarted runners took part";
  // Every partition a killed runner held was claimed again within TTL + 2 s of the kill.
  std::string kill_times = "{";
  for (size_t i = 0; i < kills.size(); ++i) kill_times += (i ? ",\"" : "\"") + kills[i].at + "\"";
  kill_times += "}";
  const auto late = pg_->Query(
      "SELECT e.partition_id, e.runner_id FROM ddb2pg.lease_events e WHERE e.event = 'claim' AND e.previous_owner IS "
      "NOT NULL AND e.previous_owner <> e.runner_id AND NOT EXISTS (SELECT 1 FROM ddb2pg.lease_events r WHERE "
      "r.partition_id = e.partition_id AND r.runner_id = e.previous_owner AND r.event LIKE 'release%' AND r.epoch = "
      "e.epoch - 1) AND e.at > (SELECT max(k.killed) FROM unnest('" + kill_times +
      "'::timestamptz[]) AS k(killed) WHERE k.killed < e.at) + interval '" + std::to_string(kTtlMs + 2000) +
      " milliseconds'");
  EXPECT_TRUE(late.empty()) << "takeover later than TTL + 2 s after a kill: " << *late[0][0];
  std::printf("%zu kills; lease events: %s\n", kills.size(),
              pg_->Scalar("SELECT string_agg(event || '=' || n, ', ') FROM (SELECT event, count(*) n FROM "
                          "ddb2pg.lease_events GROUP BY 1 ORDER BY 1) x")
                  .c_str());
}

// Issue 26 acceptance: a configuration change rolled out as a Deployment does it. Three runners
// of config A run under writes; one at a time a runner of config B (B adds a column to profile,
// on_change: backfill) starts and then an A runner gets SIGTERM; mid-way an A runner killed with
// SIGKILL restarts with A after B took over. Nobody exits non-zero: the first B runner takes the
// partitions over (A's leases revoked in the transaction that applies B's mapping), A's runners
// stand by. At the end PostgreSQL equals DynamoDB, the audit table shows no change applied twice,
// and every profile row has B's column.
TEST_F(MultiRunner, ARolloutReplacesRunnersOfConfigAOneAtATimeByConfigBWithoutAnExitOrALostRow) {
  std::string config_a = ConfigWithAuditPipeline();
  config_a += "\nruntime:\n  lease_ttl_ms: 3000\n  heartbeat_ms: 500\n";
  std::string config_b = config_a;
  ReplaceAll(config_b, "    columns:\n      id:         UUID <- id\n      user_id:",
             "    on_change: backfill\n    columns:\n      name_copy:  TEXT <- name\n      id:         UUID <- id\n"
             "      user_id:");
  ASSERT_NE(config_b, config_a) << "the reference mapping changed; adapt the test";
  const std::string a_path = ScratchDir() + "/" + key_ + "-a.yaml", b_path = ScratchDir() + "/" + key_ + "-b.yaml";
  const std::string a_log = ScratchDir() + "/" + key_ + "-a.log", b_log = ScratchDir() + "/" + key_ + "-b.log";
  std::ofstream(a_path) << config_a;
  std::ofstream(b_path) << config_b;
  auto args = [](const std::string& path) {
    return std::vector<std::string>{DDB2PG_BINARY, "run", "-c", path, "--progress", "off", "--metrics-listen", "off",
                                    "--init-schema", "--lanes", "2"};
  };
  auto phases = [&] {
    return pg_->Scalar("SELECT string_agg(pipeline || ' ' || phase, ', ' ORDER BY pipeline) FROM ddb2pg.pipelines");
  };
  auto wait_streaming = [&](std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        if (pg_->Scalar("SELECT count(*) FROM ddb2pg.pipelines WHERE phase = 'streaming'") == "4" &&
            pg_->Scalar("SELECT count(*) FROM ddb2pg.pipelines") == "4") {
          return true;
        }
      } catch (const std::runtime_error&) {  // ddb2pg's tables are not created yet
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    return false;
  };

  BulkLoad(2000, 81);
  std::array<std::unique_ptr<ChildProcess>, 3> runners;
  for (auto& runner : runners) runner = std::make_unique<ChildProcess>(args(a_path), ChildEnvironment(), a_log);
  // The changes start once the snapshot's watermark is taken: each one is then a change the
  // stream applies (the bulk load before it is the snapshot's).
  WaitForSeed();
  std::atomic<bool> writing{true};
  std::atomic<int> changes{0};
  std::thread writer([&] {
    app::SampleData data(82);
    while (writing) {
      RandomChange(data);
      ++changes;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  ASSERT_TRUE(wait_streaming(std::chrono::seconds(90))) << phases() << "; see " << a_log;
  // The migration before the rollout: B's column (the schema check names it otherwise).
  pg_->Exec("ALTER TABLE " + schema_ + ".profile ADD COLUMN name_copy TEXT");

  std::array<std::unique_ptr<ChildProcess>, 3> replaced;
  for (size_t i = 0; i < runners.size(); ++i) {
    // maxSurge: the new pod starts, then the old one is stopped.
    replaced[i] = std::make_unique<ChildProcess>(args(b_path), ChildEnvironment(), b_log);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    for (size_t j = i; j < runners.size(); ++j) {
      ASSERT_EQ(runners[j]->Wait(std::chrono::milliseconds(0)), -1) << "an A runner exited; see " << a_log;
    }
    for (size_t j = 0; j <= i; ++j) {
      ASSERT_EQ(replaced[j]->Wait(std::chrono::milliseconds(0)), -1) << "a B runner exited; see " << b_log;
    }
    runners[i]->Signal(SIGTERM);
    EXPECT_EQ(runners[i]->Wait(std::chrono::seconds(5)), 0) << "see " << a_log;
    if (i == 0) {
      // An old pod restarting after B took over: it waits rather than fighting.
      runners[1]->Signal(SIGKILL);
      EXPECT_EQ(runners[1]->Wait(std::chrono::seconds(5)), 128 + SIGKILL);
      std::vector<std::string> restarted = args(a_path);
      restarted[7] = "127.0.0.1:0";  // --metrics-listen: its probes, metrics and status page
      const std::string restarted_log = ScratchDir() + "/" + key_ + "-a-restarted.log";
      runners[1] = std::make_unique<ChildProcess>(restarted, ChildEnvironment(), restarted_log);
      std::string port;
      for (int tries = 0; tries < 100 && port.empty(); ++tries) {
        std::smatch match;
        const std::string log = ReadFile(restarted_log);
        if (std::regex_search(log, match, std::regex("status page on http://127\\.0\\.0\\.1:([0-9]+)/"))) {
          port = match[1];
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      ASSERT_FALSE(port.empty()) << ReadFile(restarted_log);
      auto get = [&](const std::string& path) {
        aws::CurlTransport http(aws::CurlTransportOptions{});
        aws::HttpRequest request;
        request.method = "GET";
        request.url = "http://127.0.0.1:" + port + path;
        auto response = http.Send(request);
        return response.ok() ? *response : aws::HttpResponse{};
      };
      // It waits, ready for probes, and says so in its metrics and status.
      long ready = 0;
      bool metric = false, status = false;
      for (int tries = 0; tries < 100 && !(ready == 200 && metric && status); ++tries) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ready = get("/readyz").status;
        metric = get("/metrics").body.find("ddb2pg_standby{source=\"users\"} 1") != std::string::npos;
        status = get("/api/status").body.find("\"standby\":true") != std::string::npos;
      }
      EXPECT_EQ(ready, 200) << ReadFile(restarted_log);
      EXPECT_TRUE(metric) << get("/metrics").body;
      EXPECT_TRUE(status) << get("/api/status").body;
      ASSERT_EQ(runners[1]->Wait(std::chrono::milliseconds(0)), -1) << "the restarted A runner exited";
      EXPECT_NE(ReadFile(restarted_log).find("superseded by a newer one"), std::string::npos)
          << "the restarted A runner said why it waits";
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  writing = false;
  writer.join();

  EXPECT_TRUE(wait_streaming(std::chrono::seconds(120))) << phases() << "; see " << b_log;
  const auto differences = WaitUntilEqual(std::chrono::seconds(120));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences) << " (log: " << b_log << ")";
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".profile WHERE NOT deleted AND name_copy IS DISTINCT "
                        "FROM name"),
            "0")
      << "every row has B's column";
  for (auto& runner : replaced) runner->Signal(SIGTERM);
  for (auto& runner : replaced) EXPECT_EQ(runner->Wait(std::chrono::seconds(5)), 0) << "see " << b_log;

  const auto twice = pg_->Query("SELECT id::text, v, op, count(*) FROM " + schema_ +
                                ".audit_log GROUP BY 1, 2, 3 HAVING count(*) > 1 LIMIT 5");
  EXPECT_TRUE(twice.empty()) << "changes applied twice, e.g. " << *twice[0][0] << " v" << *twice[0][1] << " "
                             << *twice[0][2];
  const std::string applied = pg_->Scalar("SELECT count(DISTINCT (id, v, op)) FROM " + schema_ +
                                          ".audit_log WHERE op <> 'snapshot'");
  EXPECT_GE(std::stoll(applied), changes.load()) << "every insert, update and delete after the start reached the audit table";
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM (SELECT partition_id, epoch FROM ddb2pg.lease_events WHERE event = "
                        "'claim' GROUP BY 1, 2 HAVING count(DISTINCT runner_id) > 1) x"),
            "0");
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.configs WHERE superseded_at IS NULL"), "1");
  const std::string said = ReadFile(a_log);
  EXPECT_NE(said.find("standing by"), std::string::npos) << said.substr(0, 4000);
  std::printf("%d changes during the rollout; lease events: %s\n", changes.load(),
              pg_->Scalar("SELECT string_agg(event || '=' || n, ', ') FROM (SELECT event, count(*) n FROM "
                          "ddb2pg.lease_events GROUP BY 1 ORDER BY 1) x")
                  .c_str());
}

// The one exit left: a changed mapping under on_change: stop is a person's decision. The new
// runner exits 3 naming the lines; nothing of it is recorded, and the running runner runs on.
TEST_F(MultiRunner, AChangedMappingUnderOnChangeStopExitsThreeAndTheRunningRunnerRunsOn) {
  BulkLoad(50, 71);
  const std::string config = ConfigText();
  std::string changed = config;
  ReplaceAll(changed, "name:       TEXT <- name", "name:       TEXT <- handle");
  ASSERT_NE(changed, config) << "the reference mapping changed; adapt the test";
  const std::string first_path = ScratchDir() + "/" + key_ + "-a.yaml", second_path = ScratchDir() + "/" + key_ + "-b.yaml";
  std::ofstream(first_path) << config;
  std::ofstream(second_path) << changed;
  const std::string log_path = ScratchDir() + "/" + key_ + ".log", second_log = ScratchDir() + "/" + key_ + "-b.log";
  ChildProcess first({DDB2PG_BINARY, "run", "-c", first_path, "--progress", "off", "--metrics-listen", "off",
                      "--init-schema"},
                     ChildEnvironment(), log_path);
  const auto differences = WaitUntilEqual(std::chrono::seconds(60));
  ASSERT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  ChildProcess second({DDB2PG_BINARY, "run", "-c", second_path, "--progress", "off", "--metrics-listen", "off"},
                      ChildEnvironment(), second_log);
  EXPECT_EQ(second.Wait(std::chrono::seconds(30)), 3) << "see " << second_log;
  const std::string said = ReadFile(second_log);
  EXPECT_NE(said.find("was: column name TEXT <- name"), std::string::npos) << said;
  EXPECT_NE(said.find("now: column name TEXT <- handle"), std::string::npos) << said;
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.configs"), "1") << "the refused configuration is not recorded";
  BulkLoad(20, 72);
  EXPECT_TRUE(WaitUntilEqual(std::chrono::seconds(60)).empty()) << "the running runner runs on; see " << log_path;
  EXPECT_EQ(first.Wait(std::chrono::milliseconds(0)), -1) << "the running runner is undisturbed";
  first.Signal(SIGTERM);
  EXPECT_EQ(first.Wait(std::chrono::seconds(5)), 0);
}

}  // namespace
}  // namespace ddb2pg::testing
