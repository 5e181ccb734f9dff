// Issue 24: the snapshot and the stream meet at a watermark (docs/consistency.md, "The
// watermark"). The stream's history — every item inserted, then updated, before the start — is
// never applied again: each item's row is written once by the snapshot, each later change once
// by the stream, and no row ever goes back to an older version, in either hand-off mode.
#include <gtest/gtest.h>

#include <thread>

#include "in_process_run.h"
#include "pipeline_fixture.h"

namespace ddb2pg::testing {
namespace {

class Watermark : public PipelineFixture, public ::testing::WithParamInterface<bool> {
 protected:
  int64_t Read(const char* operation) {
    return static_cast<int64_t>(run_.metrics().RecordsRead("users", operation).Value());
  }

  void TearDown() override { run_.Stop(); }

  InProcessRun run_;
};

TEST_P(Watermark, TheStreamsHistoryIsNotAppliedAgainAndNoRowGoesBackInTime) {
  const bool during_snapshot = GetParam();
  const int items = 1500;
  BulkLoad(items, 71);
  // Each item updated once: the stream holds 2 × items records, all older than the start.
  app::SampleData data(72);
  std::vector<std::string> ids;
  for (const auto& [id, entry] : expected_) ids.push_back(id);
  std::vector<aws::WriteRequest> updates;
  for (const auto& id : ids) {
    core::Value item = data.MakeItem(id, 2);
    Remember(id, item, 2, false);
    updates.push_back({std::move(item), std::nullopt});
  }
  ASSERT_TRUE(ddb_->BatchWriteItem("users", updates).ok());

  // `versions`: one row per item (id, v), every write to it counted, and any that lowers v kept.
  pg_->Exec("CREATE TABLE " + schema_ + ".versions (id UUID PRIMARY KEY, v BIGINT)");
  pg_->Exec("CREATE TABLE " + schema_ + ".writes (op TEXT, id UUID, old_v BIGINT, new_v BIGINT)");
  pg_->Exec("CREATE FUNCTION " + schema_ + ".log_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO " +
            schema_ + ".writes VALUES (TG_OP, coalesce(NEW.id, OLD.id), CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE "
            "OLD.v END, CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.v END); RETURN NULL; END $$");
  pg_->Exec("CREATE TRIGGER log_write AFTER INSERT OR UPDATE OR DELETE ON " + schema_ +
            ".versions FOR EACH ROW EXECUTE FUNCTION " + schema_ + ".log_write()");
  config::Config config = LoadConfig(ConfigText("\n  - name: versions\n    source: users\n    table: " + schema_ +
                                                ".versions\n    key: id\n    on_delete: hard\n    columns:\n"
                                                "      id: UUID <- id\n      v: BIGINT <- v\n"));
  config.sources[0].stream.during_snapshot = during_snapshot;
  config.runtime.lanes = 2;
  run_.Start(std::move(config));
  const auto complete_by = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (run_.metrics().SnapshotComplete("users").Value() == 0 && std::chrono::steady_clock::now() < complete_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(run_.metrics().SnapshotComplete("users").Value(), 1);
  auto differences = WaitUntilEqual(std::chrono::seconds(120));
  ASSERT_TRUE(differences.empty()) << ::testing::PrintToString(differences);

  // Changes after the start are applied, each once.
  const int changes = 60;
  for (int i = 0; i < changes; ++i) RandomChange(data);
  differences = WaitUntilEqual(std::chrono::seconds(120));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // a replay would show itself by now
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();

  EXPECT_EQ(Read("snapshot"), items);
  EXPECT_EQ(Read("create") + Read("update") + Read("delete"), changes)
      << "stream records applied: only the changes made after the start";
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".writes"), std::to_string(items + changes))
      << "each item written once by the snapshot, each later change once by the stream";
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".writes WHERE new_v < old_v"), "0")
      << "no row went back to an older version";
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".versions WHERE v = 2"),
            pg_->Scalar("SELECT count(*) FROM " + schema_ + ".versions WHERE v = 2 AND id IN (SELECT id FROM " +
                        schema_ + ".profile WHERE NOT deleted)"));
}

INSTANTIATE_TEST_SUITE_P(BothHandOffModes, Watermark, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("StreamDuringSnapshot") : std::string("StreamAfterSnapshot");
                         });

}  // namespace
}  // namespace ddb2pg::testing
