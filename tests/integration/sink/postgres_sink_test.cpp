// PostgresSink against a real PostgreSQL, driven as a lane drives it (LeasedSink): upsert / soft /
// hard delete semantics, in-batch dedupe, hostile values, positions committed atomically with the
// rows, a lease taken over, reconnects. Each test has its own schema.
#include "sink/postgres_sink.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "integration/sink/sink_fixture.h"

namespace ddb2pg::sink::testing {
namespace {

// The semantic tests run twice: with the direct-COPY fast path allowed, and staging only.
class SinkPathTest : public SinkTest, public ::testing::WithParamInterface<bool> {
 protected:
  PostgresSinkOptions PathOptions(const std::string& suffix = "") {
    auto options = Options(suffix);
    options.direct_copy = GetParam();
    return options;
  }
};

INSTANTIATE_TEST_SUITE_P(Paths, SinkPathTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "DirectAllowed" : "StagingOnly"; });

TEST_P(SinkPathTest, UpsertUpdateSoftDeleteAndReinsertUndeletes) {
  CreateProfile();
  LeasedSink sink(PathOptions());
  auto opened = sink.Open({&profile_});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_FALSE(opened->position.has_value());
  const std::string where = " FROM " + schema_ + ".profile WHERE id = '" + Uuid(1) + "'";

  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(1, "Ada"), Profile(2, "Bob")}, "p1")).ok());
  EXPECT_EQ(CountProfiles(), "2");
  EXPECT_EQ(Scalar("SELECT name" + where), "Ada");

  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(1, "Ada Lovelace")}, "p2")).ok());
  EXPECT_EQ(Scalar("SELECT name" + where), "Ada Lovelace");

  // The soft delete carries the before image (name "stale"): only deleted / deleted_at change.
  auto status = sink.Commit(
      MakeBatch({Profile(1, "stale", RowAction::kSoftDelete, true, "2025-01-02T03:04:05Z")}, "p3"));
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Scalar("SELECT name || ' ' || deleted || ' ' || (deleted_at = '2025-01-02T03:04:05Z')" + where),
            "Ada Lovelace true true");

  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(1, "Ada again")}, "p4")).ok());
  EXPECT_EQ(Scalar("SELECT name || ' ' || deleted || ' ' || (deleted_at IS NULL)" + where), "Ada again false true");
  EXPECT_EQ(CountProfiles(), "2");
  EXPECT_EQ(Checkpoint(), "p4");
  EXPECT_EQ(Scalar("SELECT records FROM ddb2pg.partitions WHERE checkpoint_id = '" + schema_ + "'"), "5");
}

TEST_P(SinkPathTest, SoftDeleteOfAnAbsentKeyInsertsTheBeforeImage) {
  CreateProfile();
  LeasedSink sink(PathOptions());
  ASSERT_TRUE(sink.Open({&profile_}).ok());
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(7, "Gone", RowAction::kSoftDelete, true, "2025-01-01T00:00:00Z")}, "p"))
                  .ok());
  EXPECT_EQ(Scalar("SELECT name || ' ' || deleted FROM " + schema_ + ".profile"), "Gone true");
}

TEST_P(SinkPathTest, HardDeleteRemovesTheRowAndIgnoresAbsentKeys) {
  CreateProfile();
  profile_.delete_policy = model::DeletePolicy::kHard;
  LeasedSink sink(PathOptions());
  ASSERT_TRUE(sink.Open({&profile_}).ok());
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(1, "A"), Profile(2, "B")}, "p1")).ok());
  auto status = sink.Commit(
      MakeBatch({Profile(1, std::nullopt, RowAction::kHardDelete), Profile(99, std::nullopt, RowAction::kHardDelete),
                 Profile(3, "C")},
                "p2"));
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Scalar("SELECT string_agg(name, ',' ORDER BY name) FROM " + schema_ + ".profile"), "B,C");
}

TEST_P(SinkPathTest, SameKeyThreeTimesInOneBatchKeepsTheLast) {
  CreateProfile();
  LeasedSink sink(PathOptions());
  ASSERT_TRUE(sink.Open({&profile_}).ok());
  for (int round = 0; round < 2; ++round) {  // into an empty table, then over existing rows
    Row upper = Profile(5, "third" + std::to_string(round));
    std::string uuid = Uuid(5);
    for (auto& c : uuid) c = static_cast<char>(std::toupper(c));
    upper.SetCell(0, "{" + uuid + "}");  // the same UUID, spelled differently
    auto status = sink.Commit(MakeBatch(
        {Profile(5, "first"), Profile(6, "other"), Profile(5, "second"), std::move(upper)}, "p" + std::to_string(round)));
    ASSERT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(CountProfiles(), "2");
    EXPECT_EQ(Scalar("SELECT name FROM " + schema_ + ".profile WHERE id = '" + Uuid(5) + "'"),
              "third" + std::to_string(round));
  }
}

TEST_P(SinkPathTest, DeleteAfterUpsertOfTheSameKeyInOneBatchWins) {
  CreateProfile();
  LeasedSink sink(PathOptions());
  ASSERT_TRUE(sink.Open({&profile_}).ok());
  auto status = sink.Commit(MakeBatch(
      {Profile(1, "new"), Profile(1, "new", RowAction::kSoftDelete, true, "2025-01-01T00:00:00Z"),
       Profile(2, "kept"), Profile(2, "kept", RowAction::kSoftDelete, true, "2025-01-01T00:00:00Z"), Profile(2, "back")},
      "p1"));
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Scalar("SELECT string_agg(name || ':' || deleted, ',' ORDER BY name) FROM " + schema_ + ".profile"),
            "back:false,new:true");

  profile_.delete_policy = model::DeletePolicy::kHard;
  status = sink.Commit(MakeBatch({Profile(3, "x"), Profile(3, std::nullopt, RowAction::kHardDelete),
                                  Profile(2, "y"), Profile(2, std::nullopt, RowAction::kHardDelete)},
                                 "p2"));
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Scalar("SELECT string_agg(name, ',' ORDER BY name) FROM " + schema_ + ".profile"), "new");
}

TEST_P(SinkPathTest, HostileValuesAndNullsRoundTripVerbatim) {
  CreateProfile();
  LeasedSink sink(PathOptions());
  ASSERT_TRUE(sink.Open({&profile_}).ok());
  const std::vector<std::string> values = {
      "O'Brien \"quoted\"", "back\\slash \\N \\\\", "tab\there", "new\nline\r\nand CR\r", "\\N", "",
      "unicode: Grüße 日本語 🎉", "semi; DROP TABLE x; --", "$1 $$ %s {}", "\\.", "\\"};
  for (int pass = 0; pass < 2; ++pass) {  // insert, then update through the other path
    std::vector<Row> rows;
    for (size_t i = 0; i < values.size(); ++i) rows.push_back(Profile(static_cast<int>(i) + 1, values[i]));
    rows.push_back(Profile(100, std::nullopt));
    auto status = sink.Commit(MakeBatch(std::move(rows), "p" + std::to_string(pass)));
    ASSERT_TRUE(status.ok()) << status.ToString();
    for (size_t i = 0; i < values.size(); ++i) {
      auto got = db_->Query("SELECT name FROM " + schema_ + ".profile WHERE id = '" + Uuid(static_cast<int>(i) + 1) +
                            "'");
      ASSERT_EQ(got.size(), 1u);
      ASSERT_TRUE(got[0][0].has_value()) << i;
      EXPECT_EQ(*got[0][0], values[i]) << "value " << i;
    }
    auto null_row = db_->Query("SELECT name, website FROM " + schema_ + ".profile WHERE id = '" + Uuid(100) + "'");
    ASSERT_EQ(null_row.size(), 1u);
    EXPECT_FALSE(null_row[0][0].has_value());
    EXPECT_FALSE(null_row[0][1].has_value());
  }
}

TEST_P(SinkPathTest, AFailingRowUnderStopRollsBackTheWholeBatchAndTheCheckpoint) {
  CreateProfile();
  CreateAppearance();
  LeasedSink sink(PathOptions());
  ASSERT_TRUE(sink.Open({&profile_, &appearance_}).ok());
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(1, "good")}, "p1")).ok());

  Row bad = Profile(2, "bad");
  bad.SetCell(1, "not-a-uuid");  // user_id
  Row appearance;
  for (const char* cell : {"00000000-0000-4000-8000-000000000009", "dark", "blue", "x", "false"}) {
    appearance.AppendCell(cell);
  }
  appearance.AppendNull();
  appearance.AppendCell(Uuid(9));
  PositionedBatch batch = MakeBatch({Profile(3, "fine"), Profile(1, "changed"), std::move(bad)}, "p2");
  batch.tables.insert(batch.tables.begin(), TableRows{&appearance_, {appearance}});
  batch.dead_letters.push_back({schema_, "{}", "INSERT", "reason", "{}", 0, "x@1"});
  // on_error: stop is also what a batch that does not say gets.
  auto status = sink.Commit(batch);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), core::StatusCode::kDataError) << status.ToString();
  EXPECT_NE(status.message().find("[SQLSTATE 22P02]"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("not-a-uuid"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("profile"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("id=" + Uuid(2)), std::string::npos) << status.message();

  EXPECT_EQ(Checkpoint(), "p1");
  EXPECT_EQ(CountProfiles(), "1");
  EXPECT_EQ(Scalar("SELECT name FROM " + schema_ + ".profile"), "good");
  EXPECT_EQ(Scalar("SELECT count(*) FROM " + schema_ + ".appearance_settings"), "0");
  EXPECT_EQ(Scalar("SELECT count(*) FROM ddb2pg.dead_letters WHERE pipeline = '" + schema_ + "'"), "0");

  // The sink stays usable: the next batch commits.
  status = sink.Commit(MakeBatch({Profile(3, "fine")}, "p3"));
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Checkpoint(), "p3");
  EXPECT_EQ(CountProfiles(), "2");
}

TEST_F(SinkTest, FanOutTablesAndDeadLettersCommitTogether) {
  CreateProfile();
  CreateAppearance();
  LeasedSink sink(Options());
  ASSERT_TRUE(sink.Open({&profile_, &appearance_}).ok());
  Row appearance;
  for (const char* cell : {"00000000-0000-4000-8000-000000000001", "dark", "blue"}) appearance.AppendCell(cell);
  appearance.AppendNull();
  appearance.AppendCell("false");
  appearance.AppendNull();
  appearance.AppendCell(Uuid(1));
  PositionedBatch batch = MakeBatch({Profile(1, "Ada")}, "p1");
  batch.tables.push_back({&appearance_, {appearance}});
  batch.dead_letters.push_back({schema_, R"({"id":{"S":"x"}})", "INSERT",
                                "column id (UUID): \"x\" is not a UUID", R"({"id":{"S":"x"}})", 1725556580382,
                                "shard-1@42"});
  // Reasons may quote values cut in the middle of a character or holding NUL bytes.
  static constexpr char kBroken[] = "cut \xE6\x97 and nul \0 end";
  batch.dead_letters.push_back({schema_, "", "MODIFY", std::string(kBroken, sizeof(kBroken) - 1), "", 0, "shard-1@43"});
  batch.records = 3;
  batch.max_change_time_ms = 1725556580382;
  auto status = sink.Commit(batch);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Scalar("SELECT mode FROM " + schema_ + ".appearance_settings"), "dark");
  auto letters = db_->Query(
      "SELECT key, operation, reason, item, (change_time = to_timestamp(1725556580.382))::text, position FROM ddb2pg.dead_letters "
      "WHERE pipeline = '" + schema_ + "' ORDER BY id");
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0][0], R"({"id":{"S":"x"}})");
  EXPECT_EQ(letters[0][2], "column id (UUID): \"x\" is not a UUID");
  EXPECT_EQ(letters[0][4], "true");
  EXPECT_EQ(letters[0][5], "shard-1@42");
  EXPECT_FALSE(letters[1][0].has_value());
  EXPECT_EQ(letters[1][2], "cut \xEF\xBF\xBD\xEF\xBF\xBD and nul  end");
  EXPECT_FALSE(letters[1][3].has_value());
  EXPECT_FALSE(letters[1][4].has_value());
  EXPECT_EQ(Scalar("SELECT records FROM ddb2pg.partitions WHERE checkpoint_id = '" + schema_ + "'"), "3");
}

TEST_F(SinkTest, ReadPositionsReturnsWhatWasCommittedAndAnEmptyPositionKeepsIt) {
  CreateProfile();
  LeasedSink sink(Options());
  auto first = sink.Open({&profile_});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->position.has_value());
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(1, "a")}, "shard@1")).ok());
  // An empty position keeps the stored one.
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(2, "b")}, "")).ok());
  auto stored = sink.sink().ReadPositions({LeasedSink::kPartition, "absent"});
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_EQ(stored->size(), 1u);
  const pipeline::StoredPartition& p = stored->at(LeasedSink::kPartition);
  EXPECT_EQ(p.position, "shard@1");
  EXPECT_FALSE(p.done);
  EXPECT_EQ(p.epoch, 1);
  auto second = sink.Open({&profile_});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->position, "shard@1");
}

TEST_F(SinkTest, ARunnerWhoseLeaseWasTakenCommitsNothing) {
  CreateProfile();
  LeasedSink first(Options());
  ASSERT_TRUE(first.Open({&profile_}).ok());
  ASSERT_TRUE(first.Commit(MakeBatch({Profile(1, "one")}, "p1")).ok());

  LeasedSink second(Options());
  auto taken = second.Open({&profile_});
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->position, "p1");

  auto status = first.Commit(MakeBatch({Profile(2, "stale runner")}, "p2-stale"));
  EXPECT_EQ(status.code(), core::StatusCode::kConflict) << status.ToString();
  EXPECT_EQ(CountProfiles(), "1");
  EXPECT_EQ(Checkpoint(), "p1");

  ASSERT_TRUE(second.Commit(MakeBatch({Profile(3, "new runner")}, "p2")).ok());
  EXPECT_EQ(Checkpoint(), "p2");
  EXPECT_EQ(first.Commit(MakeBatch({Profile(4, "x")}, "p3")).code(), core::StatusCode::kConflict);
  EXPECT_EQ(CountProfiles(), "2");
}

TEST_F(SinkTest, TerminatedConnectionIsUnavailableAndReopenResumes) {
  CreateProfile();
  LeasedSink sink(Options());
  ASSERT_TRUE(sink.Open({&profile_}).ok());
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(1, "before")}, "p1")).ok());

  EXPECT_EQ(Scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" +
                   schema_ + "'"),
            "1");
  auto status = sink.Commit(MakeBatch({Profile(2, "lost")}, "p2"));
  EXPECT_EQ(status.code(), core::StatusCode::kUnavailable) << status.ToString();
  EXPECT_TRUE(status.retryable());
  EXPECT_EQ(sink.Commit(MakeBatch({Profile(2, "lost")}, "p2")).code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(CountProfiles(), "1");

  auto reopened = sink.Open({&profile_});
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(reopened->position, "p1");
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(2, "after")}, "p2")).ok());
  EXPECT_EQ(CountProfiles(), "2");
  EXPECT_EQ(Checkpoint(), "p2");
}

TEST_F(SinkTest, BadConninfoNeverShowsThePassword) {
  PostgresSinkOptions options = Options();
  options.conninfo = conninfo_ + " password=TopSecret123 port=1";
  LeasedSink sink(options);
  auto opened = sink.Open({&profile_});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(opened.status().message().find("TopSecret123"), std::string::npos) << opened.status().message();
  EXPECT_NE(opened.status().message().find("port=1"), std::string::npos) << opened.status().message();

  options.conninfo = "postgresql://ddb2pg:TopSecret123@127.0.0.1:1/postgres?bogus_option=1";
  LeasedSink uri_sink(options);
  opened = uri_sink.Open({&profile_});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().message().find("TopSecret123"), std::string::npos) << opened.status().message();
}

TEST_F(SinkTest, DirectCopyFallsBackToUpsertWhenKeysExist) {
  CreateProfile();
  LeasedSink sink(Options());
  ASSERT_TRUE(sink.Open({&profile_}).ok());
  pipeline::CommitResult result;
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(1, "a"), Profile(2, "b")}, "p1"), &result).ok());
  EXPECT_TRUE(result.tables.at(0).copied_directly);
  auto status = sink.Commit(MakeBatch({Profile(3, "c"), Profile(2, "b2")}, "p2"), &result);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_FALSE(result.tables.at(0).copied_directly);
  EXPECT_EQ(Scalar("SELECT string_agg(name, ',' ORDER BY name) FROM " + schema_ + ".profile"), "a,b2,c");
  // Backing off: the next batch of new keys is staged too, and still correct.
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(4, "d")}, "p3"), &result).ok());
  EXPECT_FALSE(result.tables.at(0).copied_directly);
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(5, "e")}, "p4"), &result).ok());
  EXPECT_TRUE(result.tables.at(0).copied_directly);
  EXPECT_EQ(CountProfiles(), "5");
}

TEST_F(SinkTest, MissingKeyConstraintFailsOpenNamingTheTable) {
  db_->Exec("CREATE TABLE " + schema_ + ".profile (id UUID, user_id UUID, created_at TIMESTAMPTZ, name TEXT, "
            "handle TEXT, image_url TEXT, bio VARCHAR(210), location VARCHAR(48), rep_score REAL, website TEXT, "
            "birthdate TIMESTAMPTZ, deleted BOOLEAN DEFAULT FALSE, deleted_at TIMESTAMPTZ)");
  LeasedSink sink(Options());
  auto opened = sink.Open({&profile_});
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find(schema_ + ".profile"), std::string::npos) << opened.status().message();
  EXPECT_NE(opened.status().message().find("needs a primary key or unique index on exactly (id)"), std::string::npos)
      << opened.status().message();
  std::printf("%s\n", opened.status().ToString().c_str());
}

}  // namespace
}  // namespace ddb2pg::sink::testing
