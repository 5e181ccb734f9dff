// PgLeaseStore and PostgresSink's partitioned mode against a real PostgreSQL: the partitions are
// created once, eligibility is enforced in SQL (segments, then shards, parent before child),
// commits are fenced per partition by owner and epoch, an expired lease is taken over and the old
// owner's commit then changes nothing, and a runner of a newer configuration takes over from the
// runners of an older one, which stand by.
#include "sink/system/pg_lease_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "integration/sink/sink_fixture.h"

namespace ddb2pg::sink::testing {
namespace {

using pipeline::PartitionAdvance;
using pipeline::PartitionKind;
using pipeline::CheckpointSeed;

class LeaseStoreTest : public SinkTest {
 protected:
  PgLeaseStore Store(const std::string& runner, std::chrono::milliseconds ttl = std::chrono::milliseconds(10000)) {
    return PgLeaseStore({conninfo_, schema_, runner, ttl});
  }
  pipeline::RunnerIdentity Me(const std::string& runner, const std::string& config = "same") {
    return {runner, "host", 1, 1, config};
  }
  static CheckpointSeed Seed() {
    CheckpointSeed seed;
    seed.stream_arn = "arn:stream/1";
    seed.total_segments = 2;
    seed.partitions = {{"scan/0", PartitionKind::kSegment, "", "", false},
                       {"scan/1", PartitionKind::kSegment, "", "", false},
                       {"parent", PartitionKind::kShard, "", "", false},
                       {"child", PartitionKind::kShard, "parent", "", false}};
    return seed;
  }
  std::vector<std::string> Ids(const std::vector<pipeline::ClaimedPartition>& leases) {
    std::vector<std::string> ids;
    for (const auto& lease : leases) ids.push_back(lease.id);
    return ids;
  }
  void TearDown() override {
    db_->Exec("DELETE FROM ddb2pg.partitions WHERE checkpoint_id = '" + schema_ + "'");
    db_->Exec("DELETE FROM ddb2pg.runners WHERE checkpoint_id = '" + schema_ + "'");
    db_->Exec("DELETE FROM ddb2pg.lease_events WHERE checkpoint_id = '" + schema_ + "'");
    db_->Exec("DELETE FROM ddb2pg.configs WHERE checkpoint_id = '" + schema_ + "'");
    SinkTest::TearDown();
  }
};

TEST_F(LeaseStoreTest, PartitionsAreCreatedOnceAndClaimedSegmentsThenShardsParentFirst) {
  PgLeaseStore a = Store("a");
  ASSERT_TRUE(a.Open().ok());
  ASSERT_TRUE(a.Register(Me("a")).ok());
  int seeded = 0;
  auto state = a.Initialize([&](const std::optional<std::string>& legacy) {
    ++seeded;
    EXPECT_FALSE(legacy.has_value());
    return core::Result<CheckpointSeed>(Seed());
  }, {});
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_TRUE(state->created);
  EXPECT_EQ(state->total_segments, 2);
  PgLeaseStore b = Store("b");
  ASSERT_TRUE(b.Register(Me("b")).ok());
  auto again = b.Initialize([&](const std::optional<std::string>&) {
    ++seeded;
    return core::Result<CheckpointSeed>(Seed());
  }, {});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->stream_arn, "arn:stream/1");
  EXPECT_EQ(seeded, 1);

  auto counts = a.Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->live_runners, 2);
  EXPECT_EQ(counts->workable, 3) << "the segments and the root shard: the stream runs beside the snapshot";
  EXPECT_EQ(counts->segments_pending, 2);

  auto claimed = a.Claim(2);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  EXPECT_EQ(Ids(*claimed), (std::vector<std::string>{"scan/0", "scan/1"})) << "segments first";
  // The root shard is claimable while the snapshot runs; the child waits for its parent.
  auto shards = b.Claim(10);
  ASSERT_TRUE(shards.ok());
  EXPECT_EQ(Ids(*shards), (std::vector<std::string>{"parent"}));
  EXPECT_TRUE(b.Claim(10)->empty()) << "held leases are not claimable, nor a child before its parent";

  PostgresSinkOptions options = Options();
  options.runner_id = "a";
  PostgresSink sink(options);
  ASSERT_TRUE(sink.Open().ok());
  auto committed = sink.Commit(Batch{}, {PartitionAdvance{"scan/0", (*claimed)[0].epoch, "", true, 0},
                                         PartitionAdvance{"scan/1", (*claimed)[1].epoch, "", true, 0}});
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_TRUE(committed->committed());
  PostgresSinkOptions b_options = Options();
  b_options.runner_id = "b";
  PostgresSink b_sink(b_options);
  ASSERT_TRUE(b_sink.Open().ok());
  ASSERT_TRUE(b_sink.Commit(Batch{}, {PartitionAdvance{"parent", (*shards)[0].epoch, "000123", true, 1}})->committed());
  EXPECT_EQ(Ids(*a.Claim(10)), (std::vector<std::string>{"child"}));
}

TEST_F(LeaseStoreTest, WithTheStreamAfterTheSnapshotShardsWaitForEverySegment) {
  PgLeaseStoreOptions options{conninfo_, schema_, "a", std::chrono::milliseconds(10000)};
  options.stream_during_snapshot = false;
  PgLeaseStore a(options);
  ASSERT_TRUE(a.Register(Me("a")).ok());
  ASSERT_TRUE(a.Initialize([](const std::optional<std::string>&) { return core::Result<CheckpointSeed>(Seed()); }, {}).ok());
  auto claimed = a.Claim(10);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  EXPECT_EQ(Ids(*claimed), (std::vector<std::string>{"scan/0", "scan/1"})) << "no shard while a segment is pending";
  PostgresSinkOptions sink_options = Options();
  sink_options.runner_id = "a";
  PostgresSink sink(sink_options);
  ASSERT_TRUE(sink.Open().ok());
  ASSERT_TRUE(sink.Commit(Batch{}, {PartitionAdvance{"scan/0", (*claimed)[0].epoch, "", true, 0},
                                    PartitionAdvance{"scan/1", (*claimed)[1].epoch, "", true, 0}})
                  ->committed());
  EXPECT_EQ(Ids(*a.Claim(10)), (std::vector<std::string>{"parent"}));
  // Segments just read to their end are still this runner's in the renewal (its lanes report
  // them finished next), not leases it lost.
  auto renewed = a.Renew();
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  std::vector<std::string> ids;
  for (const auto& lease : *renewed) ids.push_back(lease.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"parent", "scan/0", "scan/1"}));
}

// A renewal that meets a commit finishing a partition waits for it and then counts the partition
// as this runner's (read to its end), never as a lease it lost: it was once read from the
// renewal's snapshot, where the row was still pending, and dropped.
TEST_F(LeaseStoreTest, ARenewalThatWaitsForACommitFinishingAPartitionStillHoldsIt) {
  PgLeaseStore a = Store("a");
  ASSERT_TRUE(a.Register(Me("a")).ok());
  ASSERT_TRUE(a.Initialize([](const std::optional<std::string>&) { return core::Result<CheckpointSeed>(Seed()); }, {}).ok());
  auto claimed = a.Claim(10);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_FALSE(claimed->empty());
  ddb2pg::testing::PgTestConnection committer(conninfo_);
  committer.Exec("BEGIN");
  committer.Exec("UPDATE ddb2pg.partitions SET state = 'done', updated_at = now() WHERE checkpoint_id = '" + schema_ +
                 "' AND partition_id = 'scan/0'");
  core::Result<std::vector<pipeline::HeldLease>> renewed = core::Status::Internal("not run");
  std::thread renewal([&] { renewed = a.Renew(); });
  // Until the renewal waits on the row the commit holds (a hang guard ends a broken test).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (db_->Scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE "
                     "'%lease_expires%'") == "0" &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  committer.Exec("COMMIT");
  renewal.join();
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  std::vector<std::string> ids;
  for (const auto& lease : *renewed) ids.push_back(lease.id);
  EXPECT_NE(std::find(ids.begin(), ids.end(), "scan/0"), ids.end()) << "scan/0 was reported lost";
  EXPECT_EQ(ids.size(), claimed->size());
}

// on_trimmed: incremental_export. The gap starts at the oldest pending shard's last committed
// change time (a shard with none: its parent's); opening it replaces the shards by ones held back
// behind a placeholder nothing claims; filling it makes the gap's partitions claimable one after
// another, and the shards only after the last.
TEST_F(LeaseStoreTest, AGapStartsAtTheOldestPendingChangeTimeAndItsPartitionsAreClaimedInOrderBeforeTheShards) {
  PgLeaseStore a = Store("a");
  ASSERT_TRUE(a.Open().ok());
  ASSERT_TRUE(a.Register(Me("a")).ok());
  CheckpointSeed seed = Seed();
  seed.partitions[2].change_ms = 5000;  // "parent", seeded at a watermark
  ASSERT_TRUE(a.Initialize([&](const std::optional<std::string>&) { return core::Result<CheckpointSeed>(seed); }, {})
                  .ok());
  const std::string cp = "checkpoint_id = '" + schema_ + "'";
  auto start = a.GapStart();
  ASSERT_TRUE(start.ok()) << start.status().ToString();
  EXPECT_EQ(*start, std::optional<int64_t>(5000)) << "child has none: its parent's";
  db_->Exec("UPDATE ddb2pg.partitions SET change_ms = 7000, state = 'done' WHERE partition_id = 'parent' AND " + cp);
  db_->Exec("UPDATE ddb2pg.partitions SET change_ms = 6000 WHERE partition_id = 'child' AND " + cp);
  EXPECT_EQ(*a.GapStart(), std::optional<int64_t>(6000)) << "the pending shard's own";
  db_->Exec("UPDATE ddb2pg.partitions SET state = 'done' WHERE kind = 'shard' AND " + cp);
  EXPECT_EQ(*a.GapStart(), std::optional<int64_t>(7000)) << "none pending: the newest";
  db_->Exec("UPDATE ddb2pg.partitions SET state = 'done' WHERE kind = 'segment' AND " + cp);

  const std::vector<pipeline::SeedPartition> shards = {{"new-root", PartitionKind::kShard, "gone", "exact@60000", false, 60000},
                                                       {"new-child", PartitionKind::kShard, "new-root", "exact@60000", false, 60000}};
  ASSERT_TRUE(a.OpenGap("arn:stream/2", 6000, 60000, shards).ok());
  ASSERT_TRUE(a.OpenGap("arn:stream/3", 1, 2, {}).ok()) << "a second opening finds the first";
  auto opened = a.OpenedGap();
  ASSERT_TRUE(opened.ok());
  ASSERT_TRUE(opened->has_value());
  EXPECT_EQ(**opened, (std::pair<int64_t, int64_t>(6000, 60000)));
  EXPECT_EQ(db_->Scalar("SELECT stream_arn FROM ddb2pg.checkpoints WHERE id = '" + schema_ + "'"), "arn:stream/2");
  EXPECT_EQ(db_->Scalar("SELECT string_agg(partition_id || ' ' || coalesce(parent, '-'), ', ' ORDER BY partition_id) "
                        "FROM ddb2pg.partitions WHERE kind = 'shard' AND " + cp),
            "new-child new-root, new-root gap");
  auto claimed = a.Claim(10);
  ASSERT_TRUE(claimed.ok());
  EXPECT_TRUE(claimed->empty()) << "nothing is claimable while the gap is open";

  std::vector<pipeline::SeedPartition> gap = {{"gap/0000/00000@s3://b/m1", PartitionKind::kSegment, "", "", false, 0},
                                              {"gap/0001/00000@s3://b/m2", PartitionKind::kSegment, "", "", false, 0}};
  gap[1].parent = gap[0].id;
  ASSERT_TRUE(a.FillGap(gap).ok());
  ASSERT_TRUE(a.FillGap(gap).ok()) << "filling twice changes nothing";
  EXPECT_FALSE(a.OpenedGap()->has_value());
  claimed = a.Claim(10);
  ASSERT_TRUE(claimed.ok());
  EXPECT_EQ(Ids(*claimed), std::vector<std::string>{gap[0].id});
  db_->Exec("UPDATE ddb2pg.partitions SET state = 'done' WHERE partition_id = '" + gap[0].id + "' AND " + cp);
  EXPECT_EQ(Ids(*a.Claim(10)), std::vector<std::string>{gap[1].id});
  db_->Exec("UPDATE ddb2pg.partitions SET state = 'done' WHERE partition_id = '" + gap[1].id + "' AND " + cp);
  EXPECT_EQ(Ids(*a.Claim(10)), std::vector<std::string>{"new-root"});
}

TEST_F(LeaseStoreTest, AnExpiredLeaseIsTakenOverAndTheOldOwnersCommitChangesNothing) {
  CreateProfile();
  PgLeaseStore a = Store("a", std::chrono::milliseconds(300));
  ASSERT_TRUE(a.Register(Me("a")).ok());
  ASSERT_TRUE(a.Initialize([](const std::optional<std::string>&) { return core::Result<CheckpointSeed>(Seed()); }, {}).ok());
  auto mine = a.Claim(1);
  ASSERT_TRUE(mine.ok() && mine->size() == 1u);
  PostgresSinkOptions options = Options();
  options.runner_id = "a";
  options.tables = {&profile_};
  PostgresSink sink(options);
  ASSERT_TRUE(sink.Open().ok());
  const PartitionAdvance first{"scan/0", (*mine)[0].epoch, R"({"id":{"S":"k1"}})", false, 1};
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(1, "one")}, ""), {first})->committed());

  // Runner a stalls past its TTL; runner b takes the partition over.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  PgLeaseStore b = Store("b", std::chrono::milliseconds(300));
  ASSERT_TRUE(b.Register(Me("b")).ok());
  auto taken = b.Claim(1);
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ(Ids(*taken), (std::vector<std::string>{"scan/0"}));
  EXPECT_EQ((*taken)[0].epoch, (*mine)[0].epoch + 1);
  EXPECT_EQ((*taken)[0].position, R"({"id":{"S":"k1"}})") << "the new owner resumes after the last commit";

  // The old owner wakes up: its commit is fenced (nothing written), and renewing does not take it back.
  auto stale = sink.Commit(MakeBatch({Profile(2, "stale")}, ""),
                           {PartitionAdvance{"scan/0", (*mine)[0].epoch, R"({"id":{"S":"k2"}})", false, 1}});
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_EQ(stale->lost, (std::vector<std::string>{"scan/0"}));
  EXPECT_EQ(CountProfiles(), "1");
  auto renewed = a.Renew();
  ASSERT_TRUE(renewed.ok());
  EXPECT_TRUE(renewed->empty()) << "a runner never takes back a lease it lost";
  // Reconnecting changes nothing either.
  sink.Close();
  ASSERT_TRUE(sink.Open().ok());
  EXPECT_FALSE(sink.Commit(MakeBatch({Profile(3, "stale again")}, ""),
                           {PartitionAdvance{"scan/0", (*mine)[0].epoch, "", false, 1}})
                   ->committed());
  EXPECT_EQ(CountProfiles(), "1");
  EXPECT_EQ(Scalar("SELECT string_agg(event || ':' || runner_id || ':' || epoch || ':' || coalesce(previous_owner, '-'), "
                   "',' ORDER BY id) FROM ddb2pg.lease_events WHERE checkpoint_id = '" + schema_ + "'"),
            "claim:a:1:-,claim:b:2:a");
}

TEST_F(LeaseStoreTest, ANewerConfigurationTakesOverAndRunnersOfTheOlderOneStandByAndCommitNothing) {
  auto initialize = [&](PgLeaseStore& store) {
    return store.Initialize([](const std::optional<std::string>&) { return core::Result<CheckpointSeed>(Seed()); }, {});
  };
  CreateProfile();
  PgLeaseStore a = Store("a");
  ASSERT_TRUE(a.Register(Me("a", "config A\n")).ok());
  auto a_state = initialize(a);
  ASSERT_TRUE(a_state.ok()) << a_state.status().ToString();
  EXPECT_FALSE(a_state->standby);
  auto held = a.Claim(2);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  ASSERT_EQ(held->size(), 2u);

  // A runner of a configuration never seen before: newer, it takes over, and a's leases end in
  // the same transaction.
  PgLeaseStore b = Store("b");
  ASSERT_TRUE(b.Register(Me("b", "config B\n")).ok());
  auto b_state = initialize(b);
  ASSERT_TRUE(b_state.ok()) << b_state.status().ToString();
  EXPECT_FALSE(b_state->standby);
  std::string notes;
  for (const auto& note : b_state->notes) notes += note + ";";
  EXPECT_NE(notes.find("this configuration is new"), std::string::npos) << notes;
  EXPECT_NE(notes.find("2 partition(s) taken"), std::string::npos) << notes;

  auto a_counts = a.Counts();
  ASSERT_TRUE(a_counts.ok());
  EXPECT_TRUE(a_counts->superseded);
  EXPECT_EQ(a_counts->current_runners, 1);
  EXPECT_TRUE(a.Claim(10)->empty()) << "a superseded runner claims nothing";
  EXPECT_TRUE(a.Renew()->empty());
  PostgresSinkOptions options = Options();
  options.runner_id = "a";
  options.tables = {&profile_};
  PostgresSink a_sink(options);
  ASSERT_TRUE(a_sink.Open().ok());
  auto stale = a_sink.Commit(MakeBatch({Profile(1, "old mapping")}, ""),
                             {PartitionAdvance{(*held)[0].id, (*held)[0].epoch, "", false, 1}});
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_FALSE(stale->committed()) << "no batch of the old configuration commits after the takeover";
  EXPECT_EQ(CountProfiles(), "0");

  auto b_counts = b.Counts();
  ASSERT_TRUE(b_counts.ok());
  EXPECT_FALSE(b_counts->superseded);
  EXPECT_EQ(b_counts->live_runners, 1) << "runners standing by share nothing";
  EXPECT_EQ(b.Claim(10)->size(), 3u);

  // A runner of the old configuration (re)starting while b runs: it waits, applying nothing.
  PgLeaseStore a2 = Store("a2");
  ASSERT_TRUE(a2.Register(Me("a2", "config A\n")).ok());
  auto a2_state = initialize(a2);
  ASSERT_TRUE(a2_state.ok()) << a2_state.status().ToString();
  EXPECT_TRUE(a2_state->standby);
  EXPECT_NE(a2_state->standby_reason.find("superseded by a newer one"), std::string::npos) << a2_state->standby_reason;
  EXPECT_TRUE(a2.Claim(10)->empty());

  // Once every runner of the current configuration is gone, the older one may run again (a
  // rollback), and B's runners then wait for it in turn.
  ASSERT_TRUE(b.Deregister().ok());
  EXPECT_EQ(a2.Counts()->current_runners, 0);
  auto again = initialize(a2);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->standby);
  EXPECT_EQ(a2.Claim(10)->size(), 3u);
  EXPECT_FALSE(a.Counts()->superseded) << "a runs the current configuration again";
  PgLeaseStore b2 = Store("b2");
  ASSERT_TRUE(b2.Register(Me("b2", "config B\n")).ok());
  auto b2_state = initialize(b2);
  ASSERT_TRUE(b2_state.ok()) << b2_state.status().ToString();
  EXPECT_TRUE(b2_state->standby);
  EXPECT_EQ(Scalar("SELECT count(*) FROM ddb2pg.lease_events WHERE checkpoint_id = '" + schema_ +
                   "' AND event = 'release-superseded'"),
            "2")
      << "a's two leases (b left by releasing its own)";
}

TEST_F(LeaseStoreTest, AnEarlierReleasesCheckpointIsHandedToTheSeedOnce) {
  PgLeaseStore a = Store("a");
  ASSERT_TRUE(a.Open().ok());
  db_->Exec("INSERT INTO ddb2pg.checkpoints (id, position) VALUES ('" + schema_ +
            "', '{\"v\":1,\"arn\":\"arn:old\",\"snapshot_complete\":true}')");
  ASSERT_TRUE(a.Register(Me("a")).ok());
  std::optional<std::string> handed;
  auto state = a.Initialize([&](const std::optional<std::string>& legacy) {
    handed = legacy;
    CheckpointSeed seed;
    seed.stream_arn = "arn:old";
    seed.partitions = {{"shard-1", PartitionKind::kShard, "", "000777", false}};
    return core::Result<CheckpointSeed>(seed);
  }, {});
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_TRUE(state->migrated);
  EXPECT_EQ(handed, std::optional<std::string>(R"({"v":1,"arn":"arn:old","snapshot_complete":true})"));
  EXPECT_EQ(Scalar("SELECT position FROM ddb2pg.partitions WHERE checkpoint_id = '" + schema_ + "'"), "000777");
}

}  // namespace
}  // namespace ddb2pg::sink::testing
