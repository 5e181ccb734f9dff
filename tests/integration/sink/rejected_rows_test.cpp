// Rows PostgreSQL rejects, against a real PostgreSQL: exactly those rows become dead letters
// (or are skipped, or stop the commit), everything else of the batch commits with the
// checkpoint. Each test has its own schema.
#include <gtest/gtest.h>

#include "integration/sink/sink_fixture.h"

namespace ddb2pg::sink::testing {
namespace {

class RejectedRowsTest : public SinkTest, public ::testing::WithParamInterface<bool> {
 protected:
  PostgresSinkOptions PathOptions() {
    auto options = Options();
    options.direct_copy = GetParam();
    return options;
  }

  // A batch of profile rows, each traced to a record: key {"id": {"S": <uuid>}}, position
  // shard-1@<100 + i>.
  PositionedBatch TracedBatch(std::vector<Row> rows, const std::string& checkpoint, model::ErrorPolicy on_error) {
    PositionedBatch batch = MakeBatch(std::move(rows), checkpoint);
    TableRows& table = batch.tables[0];
    table.on_error = on_error;
    table.pipeline = schema_ + "_profile";
    for (size_t i = 0; i < table.rows.size(); ++i) {
      RecordOrigin origin;
      core::Value::Map key;
      key.emplace_back("id", core::Value::String(std::string(table.rows[i].cell(0))));
      origin.key = core::Value::MakeMap(std::move(key));
      origin.operation = core::Operation::kUpdate;
      origin.position = {"shard-1", std::to_string(100 + i)};
      origin.change_time_ms = 1725556580000 + static_cast<int64_t>(i);
      table.origins.push_back(static_cast<uint32_t>(batch.origins.size()));
      batch.origins.push_back(std::move(origin));
    }
    return batch;
  }

  std::vector<ddb2pg::testing::SqlRow> DeadLetters() {
    return db_->Query("SELECT key, operation, reason, item, position, (change_time IS NOT NULL)::text "
                      "FROM ddb2pg.dead_letters WHERE pipeline = '" + schema_ + "_profile' ORDER BY id");
  }
};

INSTANTIATE_TEST_SUITE_P(Paths, RejectedRowsTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "DirectAllowed" : "StagingOnly"; });

TEST_P(RejectedRowsTest, ACheckViolationDeadLettersThatRowAndCommitsTheOthers) {
  CreateProfile();
  db_->Exec("ALTER TABLE " + schema_ + ".profile ADD CHECK (name <> '')");
  LeasedSink sink(PathOptions());
  ASSERT_TRUE(sink.Open({&profile_}).ok());

  std::vector<Row> rows;
  for (int i = 1; i <= 21; ++i) rows.push_back(Profile(i, i == 8 ? "" : "name" + std::to_string(i)));
  pipeline::CommitResult report;
  auto status = sink.Commit(TracedBatch(std::move(rows), "p1", model::ErrorPolicy::kDeadLetter), &report);
  ASSERT_TRUE(status.ok()) << status.ToString();

  EXPECT_EQ(CountProfiles(), "20");
  EXPECT_EQ(Scalar("SELECT count(*) FROM " + schema_ + ".profile WHERE id = '" + Uuid(8) + "'"), "0");
  EXPECT_EQ(Checkpoint(), "p1");
  auto letters = DeadLetters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0][0], R"({"id":{"S":")" + Uuid(8) + R"("}})");
  EXPECT_EQ(letters[0][1], "update");
  ASSERT_TRUE(letters[0][2].has_value());
  const std::string& reason = *letters[0][2];
  EXPECT_NE(reason.find("violates check constraint \"profile_name_check\""), std::string::npos) << reason;
  EXPECT_NE(reason.find("[SQLSTATE 23514]"), std::string::npos) << reason;
  EXPECT_NE(reason.find("id=" + Uuid(8)), std::string::npos) << reason;
  ASSERT_TRUE(letters[0][3].has_value());
  EXPECT_NE(letters[0][3]->find(R"("name":"")"), std::string::npos) << *letters[0][3];
  EXPECT_EQ(letters[0][4], "shard-1@107");
  EXPECT_EQ(letters[0][5], "true");

  ASSERT_EQ(report.tables.size(), 1u);
  EXPECT_EQ(report.tables[0].rows_written, 20);
  EXPECT_EQ(report.tables[0].dead_lettered, 1);
  EXPECT_EQ(RejectedRows(report), 1);
  EXPECT_EQ(report.dead_letters_written, 1);
  // The partition counts the records, rejected or not.
  EXPECT_EQ(Scalar("SELECT records FROM ddb2pg.partitions WHERE checkpoint_id = '" + schema_ + "'"), "21");

  // The sink goes on: the next batch commits normally.
  status = sink.Commit(TracedBatch({Profile(30, "later")}, "p2", model::ErrorPolicy::kDeadLetter), &report);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(RejectedRows(report), 0);
  EXPECT_EQ(CountProfiles(), "21");
  EXPECT_EQ(Checkpoint(), "p2");
}

TEST_P(RejectedRowsTest, TypeAndNotNullErrorsInSeveralTablesAreEachIsolated) {
  CreateProfile();
  CreateAppearance();
  db_->Exec("ALTER TABLE " + schema_ + ".profile ALTER COLUMN handle SET NOT NULL");
  LeasedSink sink(PathOptions());
  ASSERT_TRUE(sink.Open({&profile_, &appearance_}).ok());
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(1, "old")}, "p1")).ok());

  std::vector<Row> rows;
  for (int i = 1; i <= 50; ++i) rows.push_back(Profile(i, "n" + std::to_string(i)));
  rows[9].SetCell(1, "not-a-uuid");  // user_id: refused by the type's input (22P02)
  rows[30].SetNull(4);               // handle: NOT NULL (23502)
  rows[31].SetNull(4);
  PositionedBatch batch = TracedBatch(std::move(rows), "p2", model::ErrorPolicy::kDeadLetter);
  Row appearance;
  for (const char* cell : {"00000000-0000-4000-8000-000000000009", "dark", "blue", "x", "false"}) {
    appearance.AppendCell(cell);
  }
  appearance.AppendNull();
  appearance.AppendCell(Uuid(9));
  batch.tables.push_back(TableRows{&appearance_, {appearance}});
  batch.dead_letters.push_back({schema_ + "_profile", "{}", "create", "mapping reason", "", 0, "shard-1@99"});
  pipeline::CommitResult report;
  auto status = sink.Commit(batch, &report);
  ASSERT_TRUE(status.ok()) << status.ToString();

  EXPECT_EQ(CountProfiles(), "47");
  EXPECT_EQ(Scalar("SELECT name FROM " + schema_ + ".profile WHERE id = '" + Uuid(1) + "'"), "n1");
  EXPECT_EQ(Scalar("SELECT count(*) FROM " + schema_ + ".appearance_settings"), "1");
  auto letters = DeadLetters();
  ASSERT_EQ(letters.size(), 4u);
  EXPECT_EQ(letters[0][2], "mapping reason");
  EXPECT_NE(letters[1][2]->find("[SQLSTATE 22P02]"), std::string::npos) << *letters[1][2];
  EXPECT_NE(letters[1][2]->find("not-a-uuid"), std::string::npos) << *letters[1][2];
  EXPECT_EQ(letters[1][4], "shard-1@109");
  EXPECT_NE(letters[2][2]->find("[SQLSTATE 23502]"), std::string::npos) << *letters[2][2];
  EXPECT_EQ(letters[2][4], "shard-1@130");
  EXPECT_EQ(letters[3][4], "shard-1@131");
  EXPECT_EQ(report.tables[0].rows_written, 47);
  EXPECT_EQ(report.tables[0].dead_lettered, 3);
  EXPECT_EQ(report.tables[1].rows_written, 1);
  EXPECT_EQ(report.dead_letters_written, 4);
  EXPECT_EQ(Checkpoint(), "p2");
}

TEST_P(RejectedRowsTest, SkipLeavesTheRowOutWithoutADeadLetter) {
  CreateProfile();
  db_->Exec("ALTER TABLE " + schema_ + ".profile ADD CHECK (name <> '')");
  LeasedSink sink(PathOptions());
  ASSERT_TRUE(sink.Open({&profile_}).ok());
  pipeline::CommitResult report;
  auto status = sink.Commit(
      TracedBatch({Profile(1, "a"), Profile(2, ""), Profile(3, "c")}, "p1", model::ErrorPolicy::kSkip), &report);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(CountProfiles(), "2");
  EXPECT_EQ(report.tables[0].skipped, 1);
  EXPECT_EQ(report.tables[0].dead_lettered, 0);
  EXPECT_TRUE(DeadLetters().empty());
  EXPECT_EQ(Checkpoint(), "p1");
}

TEST_P(RejectedRowsTest, StopCommitsNothingAndSaysItWasTheData) {
  CreateProfile();
  db_->Exec("ALTER TABLE " + schema_ + ".profile ADD CHECK (name <> '')");
  LeasedSink sink(PathOptions());
  ASSERT_TRUE(sink.Open({&profile_}).ok());
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(1, "good")}, "p1")).ok());

  auto status = sink.Commit(
      TracedBatch({Profile(2, "b"), Profile(3, ""), Profile(4, "d")}, "p2", model::ErrorPolicy::kStop));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), core::StatusCode::kDataError) << status.ToString();
  EXPECT_NE(status.message().find("table " + schema_ + ".profile rejected the row with key id=" + Uuid(3)),
            std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("[SQLSTATE 23514]"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("on_error: stop"), std::string::npos) << status.message();
  EXPECT_EQ(CountProfiles(), "1");
  EXPECT_EQ(Checkpoint(), "p1");
  EXPECT_TRUE(DeadLetters().empty());

  // The sink stays usable.
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(4, "d")}, "p3")).ok());
  EXPECT_EQ(CountProfiles(), "2");
}

}  // namespace
}  // namespace ddb2pg::sink::testing
