// Issue 16, per-pipeline progress, against a real PostgreSQL: what PgLeaseStore::Initialize does
// with the stored pipelines when the configuration changes (PipelineRegistry) — a new pipeline
// gets a backfill of its own, a rename keeps its progress, a changed mapping is refused until a
// choice is made (keep, backfill), a removed pipeline is left alone — and a checkpoint of an
// earlier release ("source:table:pipelines") is carried over.
#include "sink/system/pipeline_registry.h"

#include <gtest/gtest.h>

#include "integration/sink/sink_fixture.h"
#include "sink/system/pg_lease_store.h"

namespace ddb2pg::sink::testing {
namespace {

using pipeline::PartitionKind;
using pipeline::PipelineInfo;
using pipeline::CheckpointSeed;

class PipelineRegistryTest : public SinkTest {
 protected:
  void SetUp() override {
    SinkTest::SetUp();
    db_->Exec("CREATE TABLE " + schema_ + ".t1 (id INT PRIMARY KEY)");
    db_->Exec("CREATE TABLE " + schema_ + ".t2 (id INT PRIMARY KEY)");
    db_->Exec("CREATE TABLE " + schema_ + ".t3 (id INT PRIMARY KEY)");
  }
  void TearDown() override {
    for (const char* table : {"partitions", "runners", "lease_events", "pipelines", "snapshot_fence", "configs"}) {
      db_->Exec(std::string("DELETE FROM ddb2pg.") + table + " WHERE checkpoint_id LIKE '" + schema_ + "%'");
    }
    db_->Exec("DELETE FROM ddb2pg.checkpoints WHERE id LIKE '" + schema_ + "%'");
    SinkTest::TearDown();
  }
  PipelineInfo Info(const std::string& name, const std::string& table, const std::string& mapping = "m",
                    model::ChangePolicy on_change = model::ChangePolicy::kStop) {
    return {name, "\"" + schema_ + "\"." + table, mapping, on_change, 2};
  }
  static CheckpointSeed Seed() {
    CheckpointSeed seed;
    seed.stream_arn = "arn:stream/1";
    seed.total_segments = 2;
    seed.partitions = {{"scan/0", PartitionKind::kSegment, "", "", false},
                       {"scan/1", PartitionKind::kSegment, "", "", false},
                       {"shard", PartitionKind::kShard, "", "", false}};
    return seed;
  }
  core::Result<pipeline::SourceState> Start(const std::vector<PipelineInfo>& pipelines,
                                             const std::string& checkpoint = "") {
    PgLeaseStore store({conninfo_, checkpoint.empty() ? schema_ : checkpoint, "runner"});
    EXPECT_TRUE(store.Open().ok());
    return store.Initialize([](const std::optional<std::string>&) { return core::Result<CheckpointSeed>(Seed()); },
                            pipelines);
  }
  // "pipeline phase reconcile" per stored pipeline, in name order.
  std::string Pipelines(const std::string& checkpoint = "") {
    std::string out;
    for (const auto& row : db_->Query("SELECT pipeline || ' ' || phase || ' ' || reconcile FROM ddb2pg.pipelines "
                                      "WHERE checkpoint_id = '" + (checkpoint.empty() ? schema_ : checkpoint) +
                                      "' ORDER BY pipeline")) {
      out += (out.empty() ? "" : "; ") + *row[0];
    }
    return out;
  }
  std::string Scopes() {
    return Scalar("SELECT coalesce(string_agg(DISTINCT coalesce(scope, '*'), ' ' ORDER BY coalesce(scope, '*')), '') "
                  "FROM ddb2pg.partitions WHERE checkpoint_id = '" + schema_ + "' AND kind = 'segment'");
  }
  static std::string Notes(const pipeline::SourceState& state) {
    std::string out;
    for (const auto& note : state.notes) out += note + "\n";
    return out;
  }
};

TEST_F(PipelineRegistryTest, ANewPipelineIsBackfilledAloneARenameKeepsItsProgressAndARemovedOneIsLeftAlone) {
  auto first = Start({Info("a", "t1"), Info("b", "t2")});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(Pipelines(), "a snapshot false; b snapshot false");  // the source's snapshot, for both
  EXPECT_EQ(Scopes(), "*");
  // The snapshot ends.
  db_->Exec("UPDATE ddb2pg.partitions SET state = 'done' WHERE checkpoint_id = '" + schema_ + "'");
  db_->Exec("UPDATE ddb2pg.pipelines SET phase = 'streaming' WHERE checkpoint_id = '" + schema_ + "'");

  // A third pipeline, into a table that already has rows: a Scan of its own that reconciles.
  db_->Exec("INSERT INTO " + schema_ + ".t3 VALUES (1)");
  auto added = Start({Info("a", "t1"), Info("b", "t2"), Info("c", "t3")});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_FALSE(added->created);
  EXPECT_NE(Notes(*added).find("pipeline c is new: backfilling"), std::string::npos) << Notes(*added);
  EXPECT_EQ(Pipelines(), "a streaming false; b streaming false; c snapshot true");
  EXPECT_EQ(Scopes(), "* c");
  EXPECT_EQ(Scalar("SELECT count(*) FROM ddb2pg.partitions WHERE checkpoint_id = '" + schema_ +
                   "' AND scope = 'c' AND state = 'pending' AND partition_id LIKE 'scan/_/2@%'"),
            "2");
  // Starting again with the same file changes nothing.
  auto again = Start({Info("a", "t1"), Info("b", "t2"), Info("c", "t3")});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->notes.empty()) << Notes(*again);
  EXPECT_EQ(Scalar("SELECT count(*) FROM ddb2pg.partitions WHERE checkpoint_id = '" + schema_ + "' AND scope = 'c'"),
            "2");

  // c renamed to c2 (the same table): its progress and its segments carry over; nothing new to read.
  auto renamed = Start({Info("a", "t1"), Info("b", "t2"), Info("c2", "t3")});
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  EXPECT_NE(Notes(*renamed).find("pipeline c is now called c2"), std::string::npos) << Notes(*renamed);
  EXPECT_EQ(Pipelines(), "a streaming false; b streaming false; c2 snapshot true");
  EXPECT_EQ(Scopes(), "* c2");
  EXPECT_EQ(Scalar("SELECT count(*) FROM ddb2pg.partitions WHERE checkpoint_id = '" + schema_ + "' AND kind = 'segment'"),
            "4");

  // b removed from the file: left as it is, and said.
  auto removed = Start({Info("a", "t1"), Info("c2", "t3")});
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_NE(Notes(*removed).find("pipeline b (table"), std::string::npos) << Notes(*removed);
  EXPECT_NE(Notes(*removed).find("--pipeline b --yes"), std::string::npos) << Notes(*removed);
  EXPECT_EQ(Pipelines(), "a streaming false; b streaming false; c2 snapshot true");

  // reset --pipeline c2: its row, segments and fence go; the table keeps its rows.
  PgLeaseStore store({conninfo_, schema_, ""});
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(store.Forget(std::string("c2")).ok());
  EXPECT_EQ(Pipelines(), "a streaming false; b streaming false");
  EXPECT_EQ(Scopes(), "*");
  EXPECT_EQ(Scalar("SELECT count(*) FROM " + schema_ + ".t3"), "1");

  // Refused while a runner is live; forgetting the last stored pipeline forgets the source (the
  // next start snapshots again instead of streaming from the stored position).
  db_->Exec("INSERT INTO ddb2pg.runners (checkpoint_id, runner_id) VALUES ('" + schema_ + "', 'live')");
  auto refused = store.Forget(std::string("a"));
  EXPECT_EQ(refused.code(), core::StatusCode::kFailedPrecondition) << refused.ToString();
  db_->Exec("DELETE FROM ddb2pg.runners WHERE checkpoint_id = '" + schema_ + "'");
  ASSERT_TRUE(store.Forget(std::string("a")).ok());
  EXPECT_EQ(Pipelines(), "b streaming false");
  ASSERT_TRUE(store.Forget(std::string("b")).ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM ddb2pg.checkpoints WHERE id = '" + schema_ + "'"), "0");
  EXPECT_EQ(Scalar("SELECT count(*) FROM ddb2pg.partitions WHERE checkpoint_id = '" + schema_ + "'"), "0");
  auto fresh = Start({Info("a", "t1"), Info("b", "t2")});
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->created);
  EXPECT_EQ(Pipelines(), "a snapshot false; b snapshot false");
}

TEST_F(PipelineRegistryTest, WithoutSnapshotsANewPipelineStreamsAndResnapshotOnlyTakesStoredPipelines) {
  ASSERT_TRUE(Start({Info("a", "t1")}).ok());
  db_->Exec("UPDATE ddb2pg.partitions SET state = 'done' WHERE checkpoint_id = '" + schema_ + "'");
  db_->Exec("UPDATE ddb2pg.pipelines SET phase = 'streaming' WHERE checkpoint_id = '" + schema_ + "'");
  PipelineInfo b = Info("b", "t2");
  b.backfill_segments = 0;  // snapshot.enabled: false
  auto added = Start({Info("a", "t1"), b});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_NE(Notes(*added).find("no backfill"), std::string::npos) << Notes(*added);
  EXPECT_EQ(Pipelines(), "a streaming false; b streaming false");
  EXPECT_EQ(Scopes(), "*");

  PgLeaseStore store({conninfo_, schema_, ""});
  ASSERT_TRUE(store.Open().ok());
  // A pipeline the source has not stored: the next start backfills it, not this command.
  auto unknown = store.Resnapshot({Info("c", "t3")}, std::nullopt);
  EXPECT_EQ(unknown.code(), core::StatusCode::kFailedPrecondition) << unknown.ToString();
  EXPECT_NE(unknown.message().find("pipeline c has no stored progress"), std::string::npos) << unknown.message();
  // A mapping unlike the live runners': refused while they run, taken when none does.
  db_->Exec("INSERT INTO ddb2pg.runners (checkpoint_id, runner_id) VALUES ('" + schema_ + "', 'live')");
  auto differs = store.Resnapshot({Info("a", "t1", "other")}, std::nullopt);
  EXPECT_EQ(differs.code(), core::StatusCode::kFailedPrecondition) << differs.ToString();
  EXPECT_NE(differs.message().find("file:    other"), std::string::npos) << differs.message();
  ASSERT_TRUE(store.Resnapshot({Info("a", "t1")}, std::nullopt).ok());
  EXPECT_EQ(Pipelines(), "a snapshot true; b streaming false");
  EXPECT_EQ(Scopes(), "* a");
  // Already being re-snapshotted: refused.
  auto again = store.Resnapshot({Info("a", "t1")}, std::nullopt);
  EXPECT_EQ(again.code(), core::StatusCode::kFailedPrecondition) << again.ToString();
}

TEST_F(PipelineRegistryTest, AChangedMappingIsRefusedUntilTheFileSaysKeepOrBackfill) {
  ASSERT_TRUE(Start({Info("a", "t1", "column x <- x"), Info("b", "t2")}).ok());
  db_->Exec("UPDATE ddb2pg.partitions SET state = 'done' WHERE checkpoint_id = '" + schema_ + "'");
  db_->Exec("UPDATE ddb2pg.pipelines SET phase = 'streaming' WHERE checkpoint_id = '" + schema_ + "'");

  auto refused = Start({Info("a", "t1", "column x <- y"), Info("b", "t2")});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), core::StatusCode::kFailedPrecondition);
  const std::string message = refused.status().message();
  EXPECT_NE(message.find("pipeline a"), std::string::npos) << message;
  EXPECT_NE(message.find("was: column x <- x"), std::string::npos) << message;
  EXPECT_NE(message.find("now: column x <- y"), std::string::npos) << message;
  EXPECT_NE(message.find("on_change: keep"), std::string::npos) << message;
  EXPECT_NE(message.find("on_change: backfill"), std::string::npos) << message;
  EXPECT_NE(message.find("ddb2pg resnapshot -c FILE --pipeline NAME"), std::string::npos) << message;

  // keep: the new mapping is stored; nothing is read again.
  auto kept = Start({Info("a", "t1", "column x <- y", model::ChangePolicy::kKeep), Info("b", "t2")});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_NE(Notes(*kept).find("on_change: keep"), std::string::npos) << Notes(*kept);
  EXPECT_EQ(Pipelines(), "a streaming false; b streaming false");
  EXPECT_EQ(Scopes(), "*");
  EXPECT_TRUE(Start({Info("a", "t1", "column x <- y"), Info("b", "t2")}).ok());  // settled

  // backfill: a Scan into a's table alone, which reconciles.
  auto backfilled = Start({Info("a", "t1", "column x <- z", model::ChangePolicy::kBackfill), Info("b", "t2")});
  ASSERT_TRUE(backfilled.ok()) << backfilled.status().ToString();
  EXPECT_EQ(Pipelines(), "a snapshot true; b streaming false");
  EXPECT_EQ(Scopes(), "* a");
  // Changed again while that backfill runs: refused, naming the way out.
  auto during = Start({Info("a", "t1", "column x <- w", model::ChangePolicy::kBackfill), Info("b", "t2")});
  ASSERT_FALSE(during.ok());
  EXPECT_NE(during.status().message().find("reset -c FILE --pipeline a --yes"), std::string::npos)
      << during.status().message();
}

TEST_F(PipelineRegistryTest, ACheckpointOfAnEarlierReleaseIsCarriedOverWithItsProgress) {
  const std::string old_id = schema_ + ":a,b";
  db_->Exec("INSERT INTO ddb2pg.checkpoints (id, stream_arn, segments) VALUES ('" + old_id + "', 'arn:stream/0', 2)");
  db_->Exec("INSERT INTO ddb2pg.partitions (checkpoint_id, partition_id, kind, state, position) VALUES ('" + old_id +
            "', 'scan/0', 'segment', 'done', NULL), ('" + old_id + "', 'scan/1', 'segment', 'done', NULL), ('" +
            old_id + "', 'shard-9', 'shard', 'pending', '000123')");
  // The file now also has c: a and b carry over, c is backfilled.
  auto state = Start({Info("a", "t1"), Info("b", "t2"), Info("c", "t3")});
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_FALSE(state->created);
  EXPECT_EQ(state->stream_arn, "arn:stream/0");
  EXPECT_NE(Notes(*state).find("pipeline c is new"), std::string::npos) << Notes(*state);
  EXPECT_EQ(Scalar("SELECT position FROM ddb2pg.partitions WHERE checkpoint_id = '" + schema_ +
                   "' AND partition_id = 'shard-9'"),
            "000123");
  EXPECT_EQ(Scalar("SELECT count(*) FROM ddb2pg.checkpoints WHERE id = '" + old_id + "'"), "0");
  EXPECT_EQ(Pipelines(), "a streaming false; b streaming false; c snapshot false");

  // A runner of the earlier release still running it: refused, nothing carried over.
  const std::string other = schema_ + "x";
  db_->Exec("INSERT INTO ddb2pg.checkpoints (id, segments) VALUES ('" + other + ":a', 1)");
  db_->Exec("INSERT INTO ddb2pg.runners (checkpoint_id, runner_id) VALUES ('" + other + ":a', 'old')");
  auto refused = Start({Info("a", "t1")}, other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), core::StatusCode::kConflict);
  EXPECT_NE(refused.status().message().find("still run by 1 runner"), std::string::npos) << refused.status().message();
}

}  // namespace
}  // namespace ddb2pg::sink::testing
