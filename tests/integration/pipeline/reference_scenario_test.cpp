// Issue 6 acceptance, in process: the reference scenario end to end on the real servers.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "app/run_pipelines.h"
#include "pipeline/metrics.h"
#include "pipeline_fixture.h"

namespace ddb2pg::testing {
namespace {

class ReferenceScenario : public PipelineFixture {
 protected:
  // Runs the pipelines in a thread until Stop(); the result lands in result_.
  void Start(config::Config config) {
    auto wired = app::Wire(std::move(config), true);
    ASSERT_TRUE(wired.ok()) << wired.status().ToString();
    wiring_ = std::move(wired).value();
    runner_ = std::thread([this] {
      app::RunOptions run;
      run.progress = app::ProgressMode::kOff;
      run.init_schema = true;
      run.external_stop = &stop_;
      result_ = app::RunPipelines(*wiring_, metrics_, run);
    });
  }
  void Stop() {
    stop_ = true;
    if (runner_.joinable()) runner_.join();
  }
  void TearDown() override { Stop(); }

  std::unique_ptr<app::Wiring> wiring_;
  pipeline::Metrics metrics_;
  std::atomic<bool> stop_{false};
  std::thread runner_;
  core::Status result_;
};

TEST_F(ReferenceScenario, SnapshotThenChangesDuringAndAfterItEqualTheTableRowByRow) {
  BulkLoad(10000, 11);
  config::Config config = LoadConfig(ConfigText());
  config.sources[0].snapshot.max_items_per_second = 2500;  // a ~4 s snapshot, so changes overlap it
  config.runtime.lanes = 3;
  Start(std::move(config));

  // Start changing the table once the snapshot is under way (progress is published every 0.5 s).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (metrics_.SnapshotItemsRead("users").Value() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::atomic<bool> changed_during_snapshot{false};
  std::thread writer([&] {
    app::SampleData data(12);
    for (int i = 0; i < 3000; ++i) {
      RandomChange(data);
      // Overlap is what matters: on a loaded machine one change can take 100+ ms, so look early.
      if (i == 2 && metrics_.SnapshotComplete("users").Value() == 0) changed_during_snapshot = true;
    }
  });
  writer.join();
  const auto differences = WaitUntilEqual(std::chrono::seconds(180));
  Stop();
  ASSERT_TRUE(result_.ok()) << result_.ToString();
  EXPECT_TRUE(changed_during_snapshot.load()) << "the writer should have overlapped the snapshot";
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  // Soft deletes: deleted items are still there, marked.
  EXPECT_GT(std::stoi(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".profile WHERE deleted")), 0);
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.dead_letters"), "0");
}

TEST_F(ReferenceScenario, BadItemsLandInDeadLettersWithTheirReasonAndOthersAreCorrect) {
  BulkLoad(300, 21);
  app::SampleData data(22);
  struct Bad {
    app::BadKind kind;
    std::string column;  // the column the reason must name
  };
  const std::vector<Bad> bad = {{app::BadKind::kIdNotUuid, "id"},
                                {app::BadKind::kRepScoreNotNumber, "rep_score"},
                                {app::BadKind::kBioTooLong, "bio"},
                                {app::BadKind::kUnparseableDate, "created_at"}};
  std::vector<std::string> bad_ids;
  for (const auto& b : bad) {
    const std::string id = data.NewId();
    core::Value item = data.MakeItem(id, 1, b.kind);
    bad_ids.push_back(item.Find("id")->as_string());
    ASSERT_TRUE(ddb_->PutItem("users", item).ok());
  }
  Start(LoadConfig(ConfigText()));
  for (int i = 0; i < 100; ++i) RandomChange(data);
  const auto differences = WaitUntilEqual(std::chrono::seconds(120), /*check_counts=*/false);
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  // Every bad item is dead-lettered (snapshot) by the profile pipeline, with a reason naming the column.
  for (size_t i = 0; i < bad.size(); ++i) {
    std::vector<SqlRow> rows;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    do {
      rows = pg_->Query("SELECT reason, item::text, operation FROM ddb2pg.dead_letters WHERE pipeline = 'profile' AND key::text LIKE '%" +
                        bad_ids[i] + "%'");
      if (!rows.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } while (std::chrono::steady_clock::now() < deadline);
    ASSERT_FALSE(rows.empty()) << app::BadKindName(bad[i].kind) << " was not dead-lettered";
    EXPECT_NE(rows[0][0]->find(bad[i].column), std::string::npos)
        << app::BadKindName(bad[i].kind) << ": reason '" << *rows[0][0] << "' should name " << bad[i].column;
    EXPECT_NE(rows[0][1]->find(bad_ids[i]), std::string::npos) << "the raw item is kept";
    EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".profile WHERE id::text = '" +
                          (bad[i].kind == app::BadKind::kIdNotUuid ? std::string("00000000-0000-0000-0000-000000000000")
                                                                   : bad_ids[i]) + "'"),
              "0");
  }
  Stop();
  EXPECT_TRUE(result_.ok()) << result_.ToString();
}

TEST_F(ReferenceScenario, RecoversByItselfWhenPostgresRestartsMidStream) {
  // An own PostgreSQL, so restarting it disturbs no other test.
  const std::string dir = "/tmp/" + key_ + "-pg";
  const std::string servers = std::string(DDB2PG_SOURCE_DIR) + "/scripts/servers";
  ASSERT_EQ(std::system((servers + " start " + dir + " --no-ddb").c_str()), 0);
  struct StopServers {
    std::string command;
    ~StopServers() { (void)std::system(command.c_str()); }
  } stop_servers{servers + " stop " + dir + "; rm -rf " + dir};
  const std::string port = ReadFile(dir + "/pg/port");
  UsePostgres("host=127.0.0.1 port=" + port.substr(0, port.find('\n')) + " user=ddb2pg dbname=postgres");

  BulkLoad(2000, 31);
  config::Config config = LoadConfig(ConfigText());
  config.runtime.lanes = 3;  // each lane has its own connection: all of them must come back
  Start(std::move(config));
  app::SampleData data(32);
  for (int i = 0; i < 500; ++i) RandomChange(data);
  ASSERT_TRUE(WaitUntilEqual(std::chrono::seconds(120)).empty());
  pg_.reset();
  const std::string test_conninfo = pg_conninfo_;
  ASSERT_EQ(std::system((servers + " pg-stop " + dir).c_str()), 0);
  for (int i = 0; i < 500; ++i) RandomChange(data);  // changes while PostgreSQL is down
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_EQ(std::system((servers + " pg-start " + dir).c_str()), 0);
  for (int i = 0; i < 500; ++i) RandomChange(data);
  pg_ = std::make_unique<PgTestConnection>(test_conninfo);
  const auto differences = WaitUntilEqual(std::chrono::seconds(120));
  Stop();
  EXPECT_TRUE(result_.ok()) << result_.ToString();
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  EXPECT_GT(metrics_.Errors("connection").Value(), 0) << "the outage should have been seen and counted";
}

}  // namespace
}  // namespace ddb2pg::testing
