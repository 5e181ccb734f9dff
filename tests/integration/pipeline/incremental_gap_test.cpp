// Issue 28: stream.on_trimmed: incremental_export through `ddb2pg run` on the real servers —
// DynamoDB Local and its stream, PostgreSQL, s3rver — with the fake export control plane in front
// of DynamoDB Local (it has no export API; fake_export_control_plane.h writes each incremental
// export in AWS's layout from the changes the test logged). The stream is replaced while ddb2pg is
// stopped (disabled, changed, enabled: the changes in between are in no stream), which is data
// lost like a trimmed position; the restart bridges the gap with incremental exports instead of a
// re-snapshot, applies it before the new stream, and no row is ever written older than it was.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <thread>

#include "app/wiring.h"
#include "export_writer.h"
#include "fake_export_control_plane.h"
#include "in_process_run.h"
#include "pipeline_fixture.h"
#include "sink/pg_connection.h"
#include "sink/system/export_request_sql.h"
#include "sink/system/system_tables.h"

namespace ddb2pg::testing {
namespace {

class IncrementalGapRun : public PipelineFixture {
 protected:
  void SetUp() override {
    PipelineFixture::SetUp();
    setenv("AWS_ENDPOINT_URL_S3", S3Endpoint().c_str(), 1);
    s3_ = std::make_unique<aws::S3Client>(aws_, S3Endpoint(), aws::RetryPolicy(), core::SystemClock::Instance());
  }
  void TearDown() override {
    run_.Stop();
    unsetenv("AWS_ENDPOINT_URL_S3");
  }

  static int64_t NowMs() { return core::ToEpochMillis(std::chrono::system_clock::now()); }
  static core::Value Key(const std::string& id) { return core::Value::MakeMap({{"id", core::Value::String(id)}}); }

  // Writes version `version` of item `id`, in the table, the oracle and the control plane's log.
  void Put(FakeExportControlPlane& control, app::SampleData& data, const std::string& id, int64_t version) {
    core::Value item = data.MakeItem(id, version);
    ASSERT_TRUE(ddb_->PutItem("users", item).ok());
    control.LogChange(Key(id), item, NowMs());
    Remember(id, item, version, false);
  }
  void Delete(FakeExportControlPlane& control, const std::string& id) {
    ASSERT_TRUE(ddb_->DeleteItem("users", Key(id)).ok());
    control.LogChange(Key(id), std::nullopt, NowMs());
    Remember(id, core::Value(), VersionOf(id), true);
  }

  // The hard-delete pipeline's table, every write to it logged in order (a trigger), and a
  // configuration bridging gaps through `control` (the source's DynamoDB endpoint).
  config::Config BridgingConfig(FakeExportControlPlane& control) {
    pg_->Exec("CREATE TABLE " + schema_ + ".hard (id UUID PRIMARY KEY, v BIGINT)");
    pg_->Exec("CREATE TABLE " + schema_ + ".hard_writes (seq BIGSERIAL, id UUID, v BIGINT, op TEXT)");
    pg_->Exec("CREATE FUNCTION " + schema_ + ".log_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO " +
              schema_ + ".hard_writes (id, v, op) VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, "
              "CASE WHEN TG_OP = 'DELETE' THEN OLD.v ELSE NEW.v END, TG_OP); RETURN NULL; END $$");
    pg_->Exec("CREATE TRIGGER log_write AFTER INSERT OR UPDATE OR DELETE ON " + schema_ +
              ".hard FOR EACH ROW EXECUTE FUNCTION " + schema_ + ".log_write()");
    config::Config config = LoadConfig(ConfigText() + "\n  - name: hard\n    source: users\n    table: " + schema_ +
                                       ".hard\n    key: id\n    on_delete: hard\n    columns:\n      id: UUID <- "
                                       "id\n      v: BIGINT <- v\n");
    config.sources[0].stream.on_trimmed = "incremental_export";
    config.sources[0].snapshot.export_bucket = kTestBucket;
    config.sources[0].snapshot.export_prefix = key_ + "/gaps/";
    config.sources[0].endpoint = control.url();
    config.sources[0].streams_endpoint = aws_.dynamodb_endpoint;
    config.runtime.lanes = 2;
    run_.set_export_polls({std::chrono::milliseconds(20), std::chrono::milliseconds(80)});
    return config;
  }

  // Deletes, updates (once or twice) and re-inserts (deleted, then put again) of `count` live
  // items, and 20 new ones, each logged for the control plane.
  void GapChanges(FakeExportControlPlane& control, app::SampleData& data, int count) {
    std::vector<std::string> ids;
    {
      std::lock_guard lock(mutex_);
      ids.assign(live_.begin(), live_.end());
    }
    ASSERT_GE(ids.size(), static_cast<size_t>(count) * 2);
    for (int i = 0; i < count; ++i) {
      const std::string& id = ids[static_cast<size_t>(i) * 2];
      switch (i % 4) {
        case 0:
          Delete(control, id);
          ++gap_deletes_;
          break;
        case 1:
          Put(control, data, id, VersionOf(id) + 1);
          break;
        case 2:  // deleted and inserted again: the export holds its new image
          Delete(control, id);
          Put(control, data, id, VersionOf(id) + 1);
          break;
        default:  // updated twice: the export holds the second
          Put(control, data, id, VersionOf(id) + 1);
          Put(control, data, id, VersionOf(id) + 1);
          break;
      }
    }
    for (int i = 0; i < 20; ++i) Put(control, data, data.NewId(), 1);
  }

  // The target equals the table, and no write went back: the hard table holds exactly the live
  // items at their versions, no insert or update of a key wrote a version below one written
  // before it, and the gap's deletes were applied (after `writes_before`).
  void ExpectBridgedExactly(const std::string& writes_before) {
    std::string expected_rows;
    int64_t expected_sum = 0;
    {
      std::lock_guard lock(mutex_);
      expected_rows = std::to_string(live_.size());
      for (const auto& id : live_) expected_sum += expected_[id].version;
    }
    EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".hard"), expected_rows);
    EXPECT_EQ(pg_->Scalar("SELECT coalesce(sum(v), 0) FROM " + schema_ + ".hard"), std::to_string(expected_sum));
    EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".hard_writes w WHERE op <> 'DELETE' AND v < (SELECT "
                          "max(x.v) FROM " + schema_ + ".hard_writes x WHERE x.id = w.id AND x.seq < w.seq)"),
              "0");
    EXPECT_GE(std::stoi(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".hard_writes WHERE op = 'DELETE' AND seq > " +
                                    writes_before)),
              gap_deletes_);
    EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.partitions WHERE partition_id = 'gap'"), "0");
    EXPECT_EQ(pg_->Scalar("SELECT string_agg(DISTINCT state, ',') FROM ddb2pg.partitions WHERE partition_id LIKE "
                          "'gap/%'"),
              "done");
    EXPECT_EQ(pg_->Scalar("SELECT string_agg(DISTINCT phase, ',') FROM ddb2pg.pipelines"), "streaming");
  }

  int gap_deletes_ = 0;

  std::string Partitions() {
    std::string out;
    for (const auto& row : pg_->Query("SELECT partition_id || ' ' || kind || ' parent ' || coalesce(parent, '-') || ' ' || "
                                      "state || ' at ' || coalesce(position, '-') || ' records ' || records || "
                                      "' change_ms ' || coalesce(change_ms::text, '-') FROM ddb2pg.partitions ORDER BY 1")) {
      out += row[0].value_or("") + "\n";
    }
    return out;
  }

  std::unique_ptr<aws::S3Client> s3_;
  InProcessRun run_;
};

TEST_F(IncrementalGapRun, AReplacedStreamIsBridgedByIncrementalExportsWithDeletesAndReinsertsNothingAppliedOlder) {
  BulkLoad(600, 401);
  FakeExportControlPlane control(*ddb_, *s3_, 2, aws_.dynamodb_endpoint);
  config::Config config = BridgingConfig(control);

  run_.Start(config);
  auto differences = WaitUntilEqual(std::chrono::seconds(120));
  ASSERT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  app::SampleData data(402);
  for (int i = 0; i < 40; ++i) RandomChange(data);
  differences = WaitUntilEqual(std::chrono::seconds(120));
  ASSERT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();
  EXPECT_NE(pg_->Scalar("SELECT count(*) FROM ddb2pg.partitions WHERE kind = 'shard' AND change_ms IS NOT NULL"), "0")
      << "the committed change time is stored per shard";

  // The gap: changes no stream holds (the stream is off), then the stream on again (a new ARN)
  // and a few changes on it before ddb2pg is back (before the gap's end: the gap's too).
  ASSERT_TRUE(ddb_->UpdateStream("users", false, "").ok());
  GapChanges(control, data, 200);
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mutex_);
    ids.assign(live_.begin(), live_.end());
  }
  ASSERT_TRUE(ddb_->UpdateStream("users", true, "NEW_AND_OLD_IMAGES").ok());
  for (int i = 0; i < 10; ++i) {
    const std::string& id = ids[static_cast<size_t>(i) * 2 + 1];
    Put(control, data, id, VersionOf(id) + 1);
  }
  ASSERT_FALSE(HasFailure());
  const std::string writes_before = pg_->Scalar("SELECT coalesce(max(seq), 0) FROM " + schema_ + ".hard_writes");

  // The restart finds the stream replaced: it bridges the gap, then reads the new stream.
  run_.Start(config);
  differences = WaitUntilEqual(std::chrono::seconds(180));
  ASSERT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  for (int i = 0; i < 40; ++i) RandomChange(data);  // the new stream, after the gap
  differences = WaitUntilEqual(std::chrono::seconds(120));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences) << "\npartitions:\n"
                                   << Partitions();
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();

  EXPECT_GE(control.incremental_exports(), 1);
  EXPECT_EQ(control.exports_started(), control.incremental_exports()) << "no full export";
  EXPECT_EQ(run_.metrics().RecordsRead("users", "snapshot").Value(), 0) << "no re-snapshot";
  ExpectBridgedExactly(writes_before);
}

// A trimmed position (GetShardIterator after the stored sequence number answers
// TrimmedDataAccessException) on the same stream, and a runner stopped while the gap's export
// runs: the restart fills the stored gap with the same export (its ClientToken), requests no
// second, and the target ends equal with no write going back.
TEST_F(IncrementalGapRun, ATrimmedPositionIsBridgedAndARestartDuringTheExportRequestsNoSecond) {
  BulkLoad(300, 411);
  FakeExportControlPlane control(*ddb_, *s3_, 2, aws_.dynamodb_endpoint);
  config::Config config = BridgingConfig(control);
  config.sources[0].streams_endpoint = control.url();
  const auto wait_for = [](const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!condition() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return condition();
  };
  run_.Start(config);
  app::SampleData data(412);
  ASSERT_TRUE(WaitUntilEqual(std::chrono::seconds(120)).empty());
  for (int i = 0; i < 20; ++i) RandomChange(data);
  auto differences = WaitUntilEqual(std::chrono::seconds(120));
  ASSERT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();

  GapChanges(control, data, 80);
  ASSERT_FALSE(HasFailure());
  const std::string writes_before = pg_->Scalar("SELECT coalesce(max(seq), 0) FROM " + schema_ + ".hard_writes");
  control.trim_positions(true);
  control.hold(true);
  run_.Start(config);
  ASSERT_TRUE(wait_for([&] { return control.incremental_exports() == 1 && control.describe_calls() >= 2; }));
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.partitions WHERE partition_id = 'gap' AND state = 'pending'"),
            "1")
      << "the gap is stored before its export is requested";
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.partitions WHERE kind = 'shard' AND position NOT LIKE 'exact@%'"),
            "0")
      << "every shard waits at the gap's end\n" << Partitions();
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();
  control.trim_positions(false);  // the shards' positions are the gap's end now, not trimmed ones

  control.hold(false);
  run_.Start(config);
  differences = WaitUntilEqual(std::chrono::seconds(180));
  ASSERT_TRUE(differences.empty()) << ::testing::PrintToString(differences) << "\npartitions:\n" << Partitions();
  for (int i = 0; i < 20; ++i) RandomChange(data);  // the stream, after the gap
  differences = WaitUntilEqual(std::chrono::seconds(120));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences) << "\npartitions:\n" << Partitions();
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();
  EXPECT_EQ(control.incremental_exports(), 1) << "the restart asked for the same export again (its ClientToken)";
  EXPECT_EQ(control.exports_started(), 1);
  EXPECT_EQ(run_.metrics().RecordsRead("users", "snapshot").Value(), 0) << "no re-snapshot";
  ExpectBridgedExactly(writes_before);
}

// snapshot.from: export whose export time is older than the stream's retention (a requested
// export that took 25 h, stored before the request): instead of refusing it, the seed opens a gap
// from the export time, bridged by incremental exports (two windows: at most 24 h each) before the
// stream; changes made after the export was written reach the target through the gap.
TEST_F(IncrementalGapRun, AnExportOlderThanTheStreamIsBridgedByIncrementalExportsInsteadOfRefused) {
  BulkLoad(300, 421);
  FakeExportControlPlane control(*ddb_, *s3_, 2, aws_.dynamodb_endpoint);
  config::Config config = BridgingConfig(control);
  config.sources[0].snapshot.from = "export";
  {
    auto db = sink::PgConnection::Connect(pg_conninfo_, "incremental-gap-test");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(sink::SystemTables::Ensure(**db).ok());
    const int64_t long_ago = (NowMs() - int64_t{25} * 3600 * 1000) / 1000 * 1000;
    auto stored = sink::ExportRequestSql::Begin(**db, app::CheckpointId(config.sources[0]), long_ago);
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  }
  run_.Start(config);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (pg_->Scalar("SELECT count(*) FROM ddb2pg.checkpoints WHERE export_status = 'COMPLETED'") != "1" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(run_.finished()) << run_.result().ToString();
  app::SampleData data(422);
  GapChanges(control, data, 60);
  auto differences = WaitUntilEqual(std::chrono::seconds(180));
  ASSERT_TRUE(differences.empty()) << ::testing::PrintToString(differences) << "\npartitions:\n" << Partitions();
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();
  EXPECT_EQ(control.incremental_exports(), 2) << ::testing::PrintToString(control.incremental_windows());
  EXPECT_EQ(control.exports_started(), 3) << "the snapshot's export and the gap's two";
  EXPECT_EQ(run_.metrics().RecordsRead("users", "snapshot").Value(), 300);
  ExpectBridgedExactly("0");
}

}  // namespace
}  // namespace ddb2pg::testing
