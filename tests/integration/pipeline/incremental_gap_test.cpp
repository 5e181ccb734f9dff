// Issue 28: stream.on_trimmed: incremental_export through `ddb2pg run` on the real servers —
// DynamoDB Local and its stream, PostgreSQL, s3rver — with the fake export control plane in front
// of DynamoDB Local (it has no export API; fake_export_control_plane.h writes each incremental
// export in AWS's layout from the changes the test logged). The stream is replaced while ddb2pg is
// stopped (disabled, changed, enabled: the changes in between are in no stream), which is data
// lost like a trimmed position; the restart bridges the gap with incremental exports instead of a
// re-snapshot, applies it before the new stream, and no row is ever written older than it was.
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "export_writer.h"
#include "fake_export_control_plane.h"
#include "in_process_run.h"
#include "pipeline_fixture.h"

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
  // The hard-delete pipeline's table, and every write to it, in order (a trigger).
  pg_->Exec("CREATE TABLE " + schema_ + ".hard (id UUID PRIMARY KEY, v BIGINT)");
  pg_->Exec("CREATE TABLE " + schema_ + ".hard_writes (seq BIGSERIAL, id UUID, v BIGINT, op TEXT)");
  pg_->Exec("CREATE FUNCTION " + schema_ + ".log_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO " +
            schema_ + ".hard_writes (id, v, op) VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, CASE "
            "WHEN TG_OP = 'DELETE' THEN OLD.v ELSE NEW.v END, TG_OP); RETURN NULL; END $$");
  pg_->Exec("CREATE TRIGGER log_write AFTER INSERT OR UPDATE OR DELETE ON " + schema_ +
            ".hard FOR EACH ROW EXECUTE FUNCTION " + schema_ + ".log_write()");
  FakeExportControlPlane control(*ddb_, *s3_, 2, aws_.dynamodb_endpoint);
  config::Config config = LoadConfig(ConfigText() + "\n  - name: hard\n    source: users\n    table: " + schema_ +
                                     ".hard\n    key: id\n    on_delete: hard\n    columns:\n      id: UUID <- id\n"
                                     "      v: BIGINT <- v\n");
  config.sources[0].stream.on_trimmed = "incremental_export";
  config.sources[0].snapshot.export_bucket = kTestBucket;
  config.sources[0].snapshot.export_prefix = key_ + "/gaps/";
  config.sources[0].endpoint = control.url();
  config.sources[0].streams_endpoint = aws_.dynamodb_endpoint;
  config.runtime.lanes = 2;
  run_.set_export_polls({std::chrono::milliseconds(20), std::chrono::milliseconds(80)});

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
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mutex_);
    ids.assign(live_.begin(), live_.end());
  }
  ASSERT_GE(ids.size(), 500u);
  int deleted = 0, reinserted = 0, updated = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string& id = ids[static_cast<size_t>(i) * 2];
    switch (i % 4) {
      case 0:
        Delete(control, id);
        ++deleted;
        break;
      case 1:
        Put(control, data, id, VersionOf(id) + 1);
        ++updated;
        break;
      case 2:  // deleted and inserted again: the export holds its new image
        Delete(control, id);
        Put(control, data, id, VersionOf(id) + 1);
        ++reinserted;
        break;
      default:  // updated twice: the export holds the second
        Put(control, data, id, VersionOf(id) + 1);
        Put(control, data, id, VersionOf(id) + 1);
        ++updated;
        break;
    }
  }
  for (int i = 0; i < 20; ++i) Put(control, data, data.NewId(), 1);
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
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.partitions WHERE partition_id = 'gap'"), "0");
  EXPECT_EQ(pg_->Scalar("SELECT string_agg(DISTINCT state, ',') FROM ddb2pg.partitions WHERE partition_id LIKE "
                        "'gap/%'"),
            "done");
  EXPECT_EQ(pg_->Scalar("SELECT string_agg(DISTINCT phase, ',') FROM ddb2pg.pipelines"), "streaming");
  // The hard table holds exactly the live items at their versions.
  std::string expected_rows;
  int64_t expected_sum = 0;
  {
    std::lock_guard lock(mutex_);
    expected_rows = std::to_string(live_.size());
    for (const auto& id : live_) expected_sum += expected_[id].version;
  }
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".hard"), expected_rows);
  EXPECT_EQ(pg_->Scalar("SELECT coalesce(sum(v), 0) FROM " + schema_ + ".hard"), std::to_string(expected_sum));
  // Nothing older: no insert or update of a key wrote a version below one written before it.
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".hard_writes w WHERE op <> 'DELETE' AND v < (SELECT "
                        "max(x.v) FROM " + schema_ + ".hard_writes x WHERE x.id = w.id AND x.seq < w.seq)"),
            "0");
  // The gap's deletes were applied, and its re-inserts are rows again.
  EXPECT_GE(std::stoi(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".hard_writes WHERE op = 'DELETE' AND seq > " +
                                  writes_before)),
            deleted);
  EXPECT_GT(reinserted, 0);
  EXPECT_GT(updated, 0);
}

}  // namespace
}  // namespace ddb2pg::testing
