// Issue 6 acceptance, in process: the reference scenario end to end on the real servers.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <thread>

#include "app/run_pipelines.h"
#include "aws/retry_policy.h"
#include "core/clock.h"
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
    // A run's stop turns retries and sleeps off for the whole process; an earlier test's run in
    // this process must not leave them off (its Scan would ignore max_items_per_second).
    aws::AllowRetries();
    core::SystemClock::AllowSleeping();
    runner_ = std::thread([this] {
      app::RunOptions run;
      run.progress = app::ProgressMode::kOff;
      run.init_schema = true;
      run.external_stop = &stop_;
      result_ = app::RunPipelines(*wiring_, metrics_, run);
    });
    // Changes the test makes from here on come after the snapshot's watermark, so the oracle's
    // every delete leaves its soft-deleted row (an item created and deleted before the start is
    // in neither the Scan nor the applied stream: docs/consistency.md, "The watermark").
    WaitForSeed();
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

// Issue 16: the stream runs beside a slow snapshot. New keys arrive before the snapshot ends, and
// the snapshot fence keeps every snapshot row from overwriting a newer change or bringing back a
// deleted item (a hard-delete pipeline shows resurrections; the soft ones stale rows).
TEST_F(ReferenceScenario, TheStreamRunsBesideASlowSnapshotWithNoStaleRowAndNoResurrection) {
  // At 100 items/s a snapshot of about 35 s (the test prints how long it ran). DynamoDB Local's
  // stream also holds the bulk load itself, so the stream catches up long before the snapshot
  // ends: the late snapshot rows are then all stale or equal, and must all be fenced or harmless.
  BulkLoad(5000, 51);
  pg_->Exec("CREATE TABLE " + schema_ + ".hard (id UUID PRIMARY KEY, v BIGINT)");
  config::Config config = LoadConfig(ConfigText("\n  - name: hard\n    source: users\n    table: " + schema_ +
                                                ".hard\n    key: id\n    on_delete: hard\n    columns:\n"
                                                "      id: UUID <- id\n      v: BIGINT <- v\n"));
  config.sources[0].snapshot.max_items_per_second = 100;
  // Snapshot rows wait up to 2 s in their batch (stream batches commit at once): a wide window in
  // which the writer changes or deletes a key the Scan has just read, as a slow sink would.
  config.postgres.batch_max_delay_ms = 2000;
  config.runtime.lanes = 2;
  Start(std::move(config));
  const auto started = std::chrono::steady_clock::now();
  while (metrics_.SnapshotItemsRead("users").Value() == 0 &&
         std::chrono::steady_clock::now() - started < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // A key inserted after the scan began is in PostgreSQL before the snapshot completes.
  app::SampleData data(52);
  const std::string fresh = data.NewId();
  {
    core::Value item = data.MakeItem(fresh, 1);
    ASSERT_TRUE(ddb_->PutItem("users", item).ok());
    Remember(fresh, item, 1, false);
  }
  bool fresh_seen = false;
  bool snapshot_running_then = false;
  const auto seen_by = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fresh_seen && std::chrono::steady_clock::now() < seen_by) {
    if (pg_->Scalar("SELECT count(*) FROM " + schema_ + ".hard WHERE id = '" + fresh + "'") == "1") {
      fresh_seen = true;
      snapshot_running_then = metrics_.SnapshotComplete("users").Value() == 0;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  EXPECT_TRUE(fresh_seen);
  EXPECT_TRUE(snapshot_running_then) << "the new key should have arrived while the snapshot still ran";

  // Inserts, updates and deletes of scanned and unscanned keys, and re-inserts of deleted ones,
  // while the snapshot runs.
  std::vector<std::string> deleted;
  int changes_during_snapshot = 0;
  for (int i = 0; i < 3000 && metrics_.SnapshotComplete("users").Value() == 0; ++i) {
    if (i % 7 == 6 && !deleted.empty()) {
      const std::string id = deleted.back();
      deleted.pop_back();
      const int64_t version = expected_[id].version + 1;
      core::Value item = data.MakeItem(id, version);
      ASSERT_TRUE(ddb_->PutItem("users", item).ok());
      Remember(id, item, version, false);
    } else {
      RandomChange(data);
    }
    for (const auto& [id, entry] : expected_) {
      if (entry.deleted && std::find(deleted.begin(), deleted.end(), id) == deleted.end() && deleted.size() < 50) {
        deleted.push_back(id);
      }
    }
    ++changes_during_snapshot;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GT(changes_during_snapshot, 100);
  const auto complete_by = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  while (metrics_.SnapshotComplete("users").Value() == 0 && std::chrono::steady_clock::now() < complete_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(metrics_.SnapshotComplete("users").Value(), 1);
  const auto snapshot_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();
  std::printf("the snapshot ran %lld s; %d changes were made during it\n", static_cast<long long>(snapshot_seconds),
              changes_during_snapshot);
  const auto differences = WaitUntilEqual(std::chrono::seconds(180));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences);

  // The hard-delete table holds exactly the live items, each at its last version.
  std::map<std::string, std::string> rows;
  for (const auto& row : pg_->Query("SELECT id::text, v::text FROM " + schema_ + ".hard")) rows[*row[0]] = *row[1];
  size_t live = 0;
  for (const auto& [id, entry] : expected_) {
    if (entry.deleted) {
      EXPECT_EQ(rows.count(id), 0u) << "resurrected: " << id;
      continue;
    }
    ++live;
    ASSERT_EQ(rows.count(id), 1u) << "missing: " << id;
    EXPECT_EQ(rows[id], std::to_string(entry.version)) << "stale: " << id;
  }
  EXPECT_EQ(rows.size(), live);
  Stop();
  ASSERT_TRUE(result_.ok()) << result_.ToString();
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.snapshot_fence WHERE target LIKE '\"" + schema_ + "\".%'"), "0")
      << "emptied once the snapshot completed";
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
