// Issue 16 acceptance, in process on the real servers: per-pipeline progress and the re-snapshot
// that reconciles.
//  - A pipeline added to a running source backfills only its own table: the other tables see no
//    snapshot write (an audit trigger counts every write) and keep streaming meanwhile.
//  - `resnapshot` after items were deleted while nothing read the stream, and the stream was
//    replaced (a new stream ARN): the rows of deleted items are removed (on_delete: hard) or
//    marked deleted (soft) at the end, and a concurrent reader never sees the row of an existing
//    item missing.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "app/progress_commands.h"
#include "app/run_pipelines.h"
#include "aws/retry_policy.h"
#include "core/clock.h"
#include "pipeline/metrics.h"
#include "pipeline_fixture.h"

namespace ddb2pg::testing {
namespace {

class PipelineProgress : public PipelineFixture {
 protected:
  void Start(config::Config config) {
    auto wired = app::Wire(std::move(config), true);
    ASSERT_TRUE(wired.ok()) << wired.status().ToString();
    wiring_ = std::move(wired).value();
    metrics_ = std::make_unique<pipeline::Metrics>();
    stop_ = false;
    // The previous run's stop ended every sleep and retry of the process: this one sleeps again.
    aws::AllowRetries();
    core::SystemClock::AllowSleeping();
    runner_ = std::thread([this] {
      app::RunOptions run;
      run.progress = app::ProgressMode::kOff;
      run.init_schema = true;
      run.external_stop = &stop_;
      result_ = app::RunPipelines(*wiring_, *metrics_, run);
    });
  }
  void Stop() {
    stop_ = true;
    if (runner_.joinable()) runner_.join();
  }
  void TearDown() override {
    StopWriting();
    Stop();
  }

  // Random changes (the oracle follows them), one every `pause`, on a thread of its own until
  // StopWriting(), which returns how many were made.
  void StartWriting(uint64_t seed, std::chrono::milliseconds pause) {
    writing_ = true;
    changes_ = 0;
    writer_ = std::thread([this, seed, pause] {
      app::SampleData data(seed);
      while (writing_) {
        RandomChange(data);
        ++changes_;
        std::this_thread::sleep_for(pause);
      }
    });
  }
  int StopWriting() {
    writing_ = false;
    if (writer_.joinable()) writer_.join();
    return changes_.load();
  }

  // Waits until PostgreSQL equals DynamoDB (the oracle), then stops the run; checks both.
  void StopWhenEqual(std::chrono::seconds timeout) {
    const auto differences = WaitUntilEqual(timeout);
    Stop();
    ASSERT_TRUE(result_.ok()) << result_.ToString();
    EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  }

  // The stored phase of a pipeline ("" while it has none).
  std::string Phase(const std::string& pipeline) {
    try {
      return pg_->Scalar("SELECT coalesce((SELECT phase FROM ddb2pg.pipelines WHERE pipeline = '" + pipeline +
                         "'), '')");
    } catch (const std::runtime_error&) {
      return "";
    }
  }
  template <typename Predicate>
  bool WaitFor(std::chrono::seconds timeout, Predicate predicate) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (predicate()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return predicate();
  }
  bool HasProfile(const std::string& id) {
    try {
      return pg_->Scalar("SELECT count(*) FROM " + schema_ + ".profile WHERE id = '" + id + "'") == "1";
    } catch (const std::runtime_error&) {
      return false;
    }
  }
  // A new item; true once its profile row is committed (the stream has been read up to it).
  bool PutAndSee(app::SampleData& data, std::chrono::seconds timeout) {
    const std::string id = data.NewId();
    core::Value item = data.MakeItem(id, 1);
    if (!ddb_->PutItem("users", item).ok()) return false;
    Remember(id, item, 1, false);
    return WaitFor(timeout, [&] { return HasProfile(id); });
  }

  std::unique_ptr<app::Wiring> wiring_;
  std::unique_ptr<pipeline::Metrics> metrics_;
  std::atomic<bool> stop_{false};
  std::thread runner_;
  core::Status result_;
  std::atomic<bool> writing_{false};
  std::atomic<int> changes_{0};
  std::thread writer_;
};

TEST_F(PipelineProgress, AnAddedPipelineBackfillsOnlyItsTableWhileTheOthersKeepStreaming) {
  BulkLoad(3000, 61);
  config::Config two = LoadConfig(ConfigText());
  ASSERT_EQ(two.pipelines.back().name, "notification_settings");
  two.pipelines.pop_back();
  two.runtime.lanes = 2;
  Start(std::move(two));
  app::SampleData data(62);
  // Snapshot done and the stream read past the bulk load: nothing of it is left to read.
  ASSERT_TRUE(WaitFor(std::chrono::seconds(120), [&] { return Phase("profile") == "streaming"; }));
  ASSERT_TRUE(PutAndSee(data, std::chrono::seconds(60)));
  Stop();
  ASSERT_TRUE(result_.ok()) << result_.ToString();
  EXPECT_EQ(pg_->Scalar("SELECT to_regclass('" + schema_ + ".notification_settings') IS NULL"), "t");

  // Every write to the first two tables from now on is counted.
  pg_->Exec("CREATE TABLE " + schema_ + ".writes (tbl TEXT)");
  pg_->Exec("CREATE FUNCTION " + schema_ + ".count_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO " +
            schema_ + ".writes VALUES (TG_TABLE_NAME); RETURN NULL; END $$");
  for (const char* table : {"profile", "appearance_settings"}) {
    pg_->Exec(std::string("CREATE TRIGGER counted AFTER INSERT OR UPDATE OR DELETE ON ") + schema_ + "." + table +
              " FOR EACH ROW EXECUTE FUNCTION " + schema_ + ".count_write()");
  }
  StartWriting(63, std::chrono::milliseconds(50));

  // The third pipeline joins, its Scan slowed to about 15 s.
  config::Config three = LoadConfig(ConfigText());
  three.sources[0].snapshot.max_items_per_second = 200;
  three.sources[0].snapshot.page_limit = 50;  // the limit applies between pages
  three.runtime.lanes = 2;
  Start(std::move(three));
  ASSERT_TRUE(WaitFor(std::chrono::seconds(60), [&] { return Phase("notification_settings") == "snapshot"; }));
  // The others stream on meanwhile: a new item reaches profile while the backfill runs.
  ASSERT_TRUE(PutAndSee(data, std::chrono::seconds(60)));
  EXPECT_EQ(Phase("notification_settings"), "snapshot") << "the new item should arrive before the backfill ends";
  EXPECT_EQ(Phase("profile"), "streaming");

  ASSERT_TRUE(WaitFor(std::chrono::seconds(180), [&] { return Phase("notification_settings") == "streaming"; }));
  const int changes = StopWriting();
  StopWhenEqual(std::chrono::seconds(120));

  // No re-snapshot reached the first two tables: at most one write per change and table (a
  // re-snapshot would have written 3,000 rows to each).
  const int written = std::stoi(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".writes"));
  const int bound = 2 * (changes + 1);
  std::printf("[          ] %d changes, %d writes to profile and appearance_settings during the backfill\n",
              changes + 1, written);
  EXPECT_LE(written, bound);
  EXPECT_LT(written, 3000);
  EXPECT_EQ(pg_->Scalar("SELECT count(DISTINCT scope) FROM ddb2pg.partitions WHERE scope = 'notification_settings'"),
            "1");
}

// The reference pipelines plus `hard` (on_delete: hard).
std::string WithHardPipeline(const std::string& text, const std::string& schema) {
  return text + "\n  - name: hard\n    source: users\n    table: " + schema +
         ".hard\n    key: id\n    on_delete: hard\n    columns:\n      id: UUID <- id\n      v: BIGINT <- v\n";
}

class StreamReplaced : public PipelineProgress {
 protected:
  // 1,500 items read to the end; then, while nothing runs, 150 deleted and 100 updated, and the
  // stream replaced (disabled and enabled again: a new ARN, the old positions gone). Returns the
  // live ids.
  std::vector<std::string> DeleteWhileStoppedAndReplaceTheStream() {
    BulkLoad(1500, 71);
    pg_->Exec("CREATE TABLE " + schema_ + ".hard (id UUID PRIMARY KEY, v BIGINT)");
    config::Config first = LoadConfig(WithHardPipeline(ConfigText(), schema_));
    first.runtime.lanes = 2;
    Start(std::move(first));
    EXPECT_TRUE(WaitUntilEqual(std::chrono::seconds(120)).empty());
    Stop();
    EXPECT_TRUE(result_.ok()) << result_.ToString();
    std::vector<std::string> ids;
    {
      std::lock_guard lock(mutex_);
      ids.assign(live_.begin(), live_.end());
    }
    app::SampleData data(72);
    for (int i = 0; i < 250; ++i) {
      const std::string& id = ids[static_cast<size_t>(i) * 5];
      if (i < 150) {
        EXPECT_TRUE(ddb_->DeleteItem("users", core::Value::MakeMap({{"id", core::Value::String(id)}})).ok());
        Remember(id, core::Value(), VersionOf(id), true);
      } else {
        const int64_t version = VersionOf(id) + 1;
        core::Value item = data.MakeItem(id, version);
        EXPECT_TRUE(ddb_->PutItem("users", item).ok());
        Remember(id, item, version, false);
      }
    }
    EXPECT_TRUE(ddb_->UpdateStream("users", false, "").ok());
    EXPECT_TRUE(ddb_->UpdateStream("users", true, "NEW_AND_OLD_IMAGES").ok());
    std::lock_guard lock(mutex_);
    return std::vector<std::string>(live_.begin(), live_.end());
  }

  config::Config Resumed() {
    config::Config again = LoadConfig(WithHardPipeline(ConfigText(), schema_));
    again.runtime.lanes = 2;
    again.sources[0].snapshot.max_items_per_second = 300;  // about 5 s of Scan, read side by side
    again.sources[0].snapshot.page_limit = 50;
    return again;
  }

  // Runs until every pipeline streams again; then the tables equal DynamoDB and the sweep
  // removed (hard) or marked (soft) exactly the deleted items' rows.
  void RunUntilReconciled(config::Config config, size_t live) {
    Start(std::move(config));
    const bool ended = WaitFor(std::chrono::seconds(180), [&] {
      return pg_->Scalar("SELECT count(*) FROM ddb2pg.pipelines WHERE phase = 'snapshot' OR swept IS NULL") == "0";
    });
    StopWhenEqual(std::chrono::seconds(60));
    ASSERT_TRUE(ended);
    EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".hard"), std::to_string(live));
    EXPECT_EQ(pg_->Scalar("SELECT swept FROM ddb2pg.pipelines WHERE pipeline = 'hard'"), "150");
    EXPECT_EQ(pg_->Scalar("SELECT swept FROM ddb2pg.pipelines WHERE pipeline = 'profile'"), "150");
    EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".profile WHERE deleted"), "150");
  }
};

TEST_F(StreamReplaced, ResnapshotRemovesRowsOfItemsDeletedMeanwhileAndNeverHidesALiveOne) {
  const std::vector<std::string> live = DeleteWhileStoppedAndReplaceTheStream();
  ASSERT_FALSE(HasFailure());

  // A reader that checks, again and again, that every live item has its rows.
  std::atomic<bool> reading{true};
  std::atomic<int> reads{0}, missing{0};
  std::thread reader([&] {
    PgTestConnection db(pg_conninfo_);
    db.Exec("CREATE TEMP TABLE live (id UUID PRIMARY KEY)");
    std::string values;
    for (const auto& id : live) values += (values.empty() ? "('" : ", ('") + id + "')";
    db.Exec("INSERT INTO live VALUES " + values);
    const std::string expected = std::to_string(live.size());
    while (reading) {
      const std::string seen = db.Scalar("SELECT (SELECT count(*) FROM " + schema_ + ".hard JOIN live USING (id)) || ' ' || "
                                         "(SELECT count(*) FROM " + schema_ + ".profile JOIN live USING (id) WHERE NOT "
                                         "deleted)");
      if (seen != expected + " " + expected) ++missing;
      ++reads;
    }
  });

  config::Config again = Resumed();
  {
    auto wired = app::Wire(again, true);
    ASSERT_TRUE(wired.ok()) << wired.status().ToString();
    core::Status scheduled = app::Resnapshot(**wired, std::nullopt, stdout);
    ASSERT_TRUE(scheduled.ok()) << scheduled.ToString();
  }
  EXPECT_EQ(pg_->Scalar("SELECT string_agg(DISTINCT phase || ' ' || reconcile, ',') FROM ddb2pg.pipelines"),
            "snapshot true");
  RunUntilReconciled(std::move(again), live.size());
  reading = false;
  reader.join();
  EXPECT_GT(reads.load(), 10);
  EXPECT_EQ(missing.load(), 0) << "a reader saw a live item's row missing in " << missing.load() << " of "
                               << reads.load() << " reads";
}

// stream.on_trimmed: resnapshot does the same by itself when it finds the stream replaced.
TEST_F(StreamReplaced, OnTrimmedResnapshotReconcilesTheSameWay) {
  const std::vector<std::string> live = DeleteWhileStoppedAndReplaceTheStream();
  ASSERT_FALSE(HasFailure());
  config::Config again = Resumed();
  again.sources[0].stream.on_trimmed = "resnapshot";
  RunUntilReconciled(std::move(again), live.size());
}

// `resnapshot --pipeline profile` on a running runner while the table changes all along: the
// Scan's rows never overwrite a newer change, nothing needs sweeping (the stream kept the table
// current), and the other tables see no snapshot write.
TEST_F(PipelineProgress, AResnapshotOfOnePipelineOnARunningRunnerUnderChangesEndsEqualToTheTable) {
  BulkLoad(2000, 81);
  const std::string text = ConfigText();
  config::Config config = LoadConfig(text);
  config.runtime.lanes = 2;
  config.sources[0].snapshot.max_items_per_second = 400;
  config.sources[0].snapshot.page_limit = 50;
  Start(config);
  ASSERT_TRUE(WaitFor(std::chrono::seconds(120), [&] { return Phase("profile") == "streaming"; }));
  StartWriting(82, std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  {
    auto wired = app::Wire(config, true);
    ASSERT_TRUE(wired.ok()) << wired.status().ToString();
    core::Status scheduled = app::Resnapshot(**wired, std::string("profile"), stdout);
    ASSERT_TRUE(scheduled.ok()) << scheduled.ToString();
  }
  EXPECT_EQ(Phase("profile"), "snapshot");
  EXPECT_EQ(Phase("appearance_settings"), "streaming");
  ASSERT_TRUE(WaitFor(std::chrono::seconds(120), [&] { return Phase("profile") == "streaming"; }));
  StopWriting();
  StopWhenEqual(std::chrono::seconds(120));
  EXPECT_EQ(pg_->Scalar("SELECT swept FROM ddb2pg.pipelines WHERE pipeline = 'profile'"), "0");
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.pipelines WHERE swept IS NOT NULL"), "1");
}

}  // namespace
}  // namespace ddb2pg::testing
