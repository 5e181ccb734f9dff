// The snapshot fence (docs/consistency.md, "The stream beside the snapshot") as a property, against
// the real PostgreSQL and the real PostgresSink: thousands of random histories, each with its scan
// read at random moments and its snapshot and stream batches committed in a random interleaving
// (stream batches in order, snapshot batches anywhere, some batches mixing both, as a lane's do).
// Whatever the interleaving, the table must end equal to the last change of every key: no stale
// snapshot row over a newer change, no deleted key brought back.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/partition.h"
#include "sink/sql_text.h"
#include "sink_fixture.h"

namespace ddb2pg::sink::testing {
namespace {

constexpr int kKeys = 6;

struct Op {
  int key = 0;
  std::optional<int> value;  // nullopt: a delete
};

class SnapshotFenceTest : public SinkTest {
 protected:
  void SetUp() override {
    SinkTest::SetUp();
    db_->Exec("CREATE TABLE " + schema_ + ".kv (id INTEGER PRIMARY KEY, v INTEGER)");
    kv_.schema = schema_;
    kv_.name = "kv";
    kv_.columns = {Column("id", ColumnKind::kInteger), Column("v", ColumnKind::kInteger)};
    kv_.key_columns = {"id"};
    kv_.delete_policy = model::DeletePolicy::kHard;
  }
  void TearDown() override {
    db_->Exec("DELETE FROM ddb2pg.partitions WHERE checkpoint_id = '" + schema_ + "'");
    db_->Exec("DELETE FROM ddb2pg.snapshot_fence WHERE checkpoint_id = '" + schema_ + "'");
    db_->Exec("DELETE FROM ddb2pg.pipelines WHERE checkpoint_id = '" + schema_ + "'");
    db_->Exec("DELETE FROM ddb2pg.snapshot_seen WHERE checkpoint_id = '" + schema_ + "'");
    SinkTest::TearDown();
  }

  static Row KvRow(int key, std::optional<int> value, RowAction action) {
    Row row;
    row.action = action;
    row.AppendCell(std::to_string(key));
    if (value) {
      row.AppendCell(std::to_string(*value));
    } else {
      row.AppendNull();
    }
    return row;
  }

  // The ending of the snapshot races a slow stream batch (below); `conninfo_suffix` goes after
  // the test's conninfo for ddb2pg's own connections.
  void EndTheSnapshotBesideASlowStreamBatch(const std::string& conninfo_suffix);

  // Pipeline "kv" of this checkpoint snapshots (the fence is up for its table), with one
  // unfinished segment `segment` of its own.
  void StartSnapshot(bool reconcile, const std::string& segment) {
    db_->Exec("INSERT INTO ddb2pg.pipelines (checkpoint_id, pipeline, target, mapping, phase, reconcile, segments) "
              "VALUES ('" + schema_ + "', 'kv', '" + QualifiedName(kv_) + "', '', 'snapshot', " +
              (reconcile ? "true" : "false") + ", 1)");
    db_->Exec("INSERT INTO ddb2pg.partitions (checkpoint_id, partition_id, kind, owner, epoch, scope) VALUES ('" +
              schema_ + "', '" + segment + "', 'segment', 'runner', 1, 'kv')");
  }

  // The table as key → value.
  std::map<int, int> Table() {
    std::map<int, int> out;
    for (const auto& row : db_->Query("SELECT id, v FROM " + schema_ + ".kv")) out[std::stoi(*row[0])] = std::stoi(*row[1]);
    return out;
  }

  TableSpec kv_;
};

TEST_F(SnapshotFenceTest, AnyInterleavingOfSnapshotAndStreamBatchesEndsAtEachKeysLastChange) {
  PostgresSinkOptions options = Options();
  options.runner_id = "runner";
  options.direct_copy = true;  // the fast path too: see direct_with_stream_rows below
  options.tables = {&kv_};
  PostgresSink sink(options);
  ASSERT_TRUE(sink.Open().ok());
  // The table's pipeline snapshots: the fence is up for every batch below.
  StartSnapshot(false, "scan/0");

  std::mt19937 rng(20261129);
  const int scenarios = 1500;
  int fenced_skips_seen = 0;
  int direct_with_stream_rows = 0;  // batches holding stream rows that took the direct COPY
  for (int scenario = 0; scenario < scenarios; ++scenario) {
    db_->Exec("TRUNCATE " + schema_ + ".kv; DELETE FROM ddb2pg.snapshot_fence WHERE checkpoint_id = '" + schema_ + "'");
    // The state when the stream starts, then a history of changes (the stream, in order).
    std::map<int, int> state;
    for (int k = 0; k < kKeys; ++k) {
      if (rng() % 2 == 0) state[k] = 1000 + k;
    }
    std::vector<std::map<int, int>> states{state};  // states[t]: after t changes
    std::vector<Op> history;
    const int changes = 4 + static_cast<int>(rng() % 12);
    for (int t = 0; t < changes; ++t) {
      Op op{static_cast<int>(rng() % kKeys), std::nullopt};
      if (rng() % 3 != 0) op.value = 10000 * (scenario + 1) + t;
      if (op.value) {
        state[op.key] = *op.value;
      } else {
        state.erase(op.key);
      }
      history.push_back(op);
      states.push_back(state);
    }
    // The scan reads each key at its own moment: what the table held then (absent: no row).
    std::vector<Row> snapshot_rows;
    for (int k = 0; k < kKeys; ++k) {
      const auto& seen = states[rng() % states.size()];
      auto found = seen.find(k);
      if (found != seen.end()) snapshot_rows.push_back(KvRow(k, found->second, RowAction::kSnapshotUpsert));
    }
    std::shuffle(snapshot_rows.begin(), snapshot_rows.end(), rng);

    // Batches: the stream's changes in order, in chunks; the snapshot rows in chunks placed
    // anywhere among them; sometimes a snapshot chunk rides in the same batch as a stream chunk.
    std::vector<std::vector<Row>> batches;
    size_t next_change = 0;
    size_t next_snapshot = 0;
    while (next_change < history.size() || next_snapshot < snapshot_rows.size()) {
      std::vector<Row> rows;
      const bool take_stream = next_change < history.size() && (next_snapshot >= snapshot_rows.size() || rng() % 2 == 0);
      const bool take_snapshot = next_snapshot < snapshot_rows.size() && (!take_stream || rng() % 3 == 0);
      if (take_snapshot) {
        const size_t n = 1 + rng() % 3;
        for (size_t i = 0; i < n && next_snapshot < snapshot_rows.size(); ++i) rows.push_back(snapshot_rows[next_snapshot++]);
      }
      if (take_stream) {
        const size_t n = 1 + rng() % 3;
        for (size_t i = 0; i < n && next_change < history.size(); ++i, ++next_change) {
          const Op& op = history[next_change];
          rows.push_back(KvRow(op.key, op.value, op.value ? RowAction::kUpsert : RowAction::kHardDelete));
        }
      }
      // A mixed batch: the snapshot rows moved among the stream rows, whose order stays.
      if (take_snapshot && take_stream && rng() % 2 == 0) {
        std::vector<Row> mixed;
        size_t s = 0;
        for (auto& row : rows) {
          if (row.action == RowAction::kSnapshotUpsert) continue;
          while (s < rows.size() && rows[s].action == RowAction::kSnapshotUpsert && rng() % 2 == 0) mixed.push_back(rows[s++]);
          mixed.push_back(std::move(row));
        }
        for (; s < rows.size() && rows[s].action == RowAction::kSnapshotUpsert; ++s) mixed.push_back(rows[s]);
        rows = std::move(mixed);
      }
      batches.push_back(std::move(rows));
    }
    bool marked = false;  // some batch's last change of a key was a hard delete: the deletion mark
    for (auto& rows : batches) {
      std::map<std::string, RowAction> last_change;  // in the batch, per key (the deduper keeps it)
      for (const Row& row : rows) {
        if (row.action != RowAction::kSnapshotUpsert) last_change[std::string(row.cell(0))] = row.action;
      }
      for (const auto& [key, action] : last_change) marked = marked || action == RowAction::kHardDelete;
      const bool stream_rows = !last_change.empty();
      Batch batch;
      batch.tables.push_back({&kv_, std::move(rows)});
      auto committed = sink.Commit(batch, std::vector<pipeline::PartitionAdvance>{});
      ASSERT_TRUE(committed.ok()) << "scenario " << scenario << ": " << committed.status().ToString();
      ASSERT_TRUE(committed->committed());
      direct_with_stream_rows += stream_rows && committed->tables.at(0).copied_directly;
    }
    const std::map<int, int> table = Table();
    ASSERT_EQ(table, state) << "scenario " << scenario;
    // The fence holds a claim for every key the stream wrote, whichever path its batch took, and
    // the deletion mark exactly when a batch hard-deleted a key.
    std::set<std::string> claimed;
    for (const Op& op : history) claimed.insert("(" + std::to_string(op.key) + ")");
    if (marked) claimed.insert("");
    std::set<std::string> fence;
    for (const auto& row :
         db_->Query("SELECT key FROM ddb2pg.snapshot_fence WHERE checkpoint_id = '" + schema_ + "'")) {
      fence.insert(*row[0]);
    }
    ASSERT_EQ(fence, claimed) << "scenario " << scenario;
    fenced_skips_seen += !fence.empty();
  }
  EXPECT_GT(fenced_skips_seen, scenarios / 2) << "most scenarios should have fenced keys";
  // Stream batches (and mixed ones, while no hard delete is fenced) take the direct COPY where
  // their keys are new; the interleavings above must reach that path too.
  EXPECT_GT(direct_with_stream_rows, 100);
  std::printf("direct COPY with stream rows: %d batches\n", direct_with_stream_rows);

  // Once the snapshot is complete and ended the fence is emptied and snapshot rows are plain upserts.
  db_->Exec("UPDATE ddb2pg.partitions SET state = 'done' WHERE checkpoint_id = '" + schema_ + "'");
  auto ended = sink.EndSnapshots([] { return true; });
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  ASSERT_EQ(ended->size(), 1u);
  EXPECT_EQ((*ended)[0].swept, -1);  // it did not reconcile
  EXPECT_EQ(Scalar("SELECT count(*) FROM ddb2pg.snapshot_fence WHERE checkpoint_id = '" + schema_ + "'"), "0");
  Batch last;
  last.tables.push_back({&kv_, {KvRow(0, 7, RowAction::kSnapshotUpsert)}});
  ASSERT_TRUE(sink.Commit(last, std::vector<pipeline::PartitionAdvance>{}).ok());
  EXPECT_EQ(Scalar("SELECT v FROM " + schema_ + ".kv WHERE id = 0"), "7");
}

TEST_F(SnapshotFenceTest, AReconcilingSnapshotEndsBySweepingTheRowsNeitherTheScanNorTheStreamWrote) {
  PostgresSinkOptions options = Options();
  options.runner_id = "runner";
  options.tables = {&kv_};
  PostgresSink sink(options);
  ASSERT_TRUE(sink.Open().ok());
  // Rows of an earlier snapshot: items 5 and 6 were deleted while nothing read the stream.
  db_->Exec("INSERT INTO " + schema_ + ".kv SELECT i, 0 FROM generate_series(1, 6) AS i");
  StartSnapshot(true, "scan/0/1@b1");

  auto commit = [&](std::vector<Row> rows) {
    Batch batch;
    batch.tables.push_back({&kv_, std::move(rows)});
    auto committed = sink.Commit(batch, std::vector<pipeline::PartitionAdvance>{});
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  };
  commit({KvRow(1, 10, RowAction::kSnapshotUpsert), KvRow(2, 10, RowAction::kSnapshotUpsert)});
  commit({KvRow(3, 30, RowAction::kUpsert), KvRow(7, 70, RowAction::kUpsert), KvRow(4, std::nullopt, RowAction::kHardDelete)});
  commit({KvRow(3, 11, RowAction::kSnapshotUpsert)});  // read before the change to 30: stays out

  // Not ended while its segment is unfinished.
  auto early = sink.EndSnapshots([] { return true; });
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_TRUE(early->empty());
  EXPECT_EQ(Table(), (std::map<int, int>{{1, 10}, {2, 10}, {3, 30}, {5, 0}, {6, 0}, {7, 70}}));

  db_->Exec("UPDATE ddb2pg.partitions SET state = 'done' WHERE checkpoint_id = '" + schema_ + "'");
  auto ended = sink.EndSnapshots([] { return true; });
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  ASSERT_EQ(ended->size(), 1u);
  EXPECT_EQ((*ended)[0].pipeline, "kv");
  EXPECT_EQ((*ended)[0].swept, 2);
  EXPECT_EQ(Table(), (std::map<int, int>{{1, 10}, {2, 10}, {3, 30}, {7, 70}}));
  EXPECT_EQ(Scalar("SELECT phase || ' ' || swept FROM ddb2pg.pipelines WHERE checkpoint_id = '" + schema_ + "'"),
            "streaming 2");
  EXPECT_EQ(Scalar("SELECT count(*) FROM ddb2pg.snapshot_fence WHERE checkpoint_id = '" + schema_ + "'"), "0");
}

// The sweep goes a range of keys per transaction (TableWriter::kSweepRangeRows): with a composite
// key and 12,000 rows, three ranges, each keeping exactly the rows whose keys were seen or fenced.
TEST_F(SnapshotFenceTest, TheSweepGoesRangeByRangeOverACompositeKey) {
  db_->Exec("CREATE TABLE " + schema_ + ".pairs (a INTEGER, b TEXT, v INTEGER, PRIMARY KEY (a, b))");
  TableSpec pairs;
  pairs.schema = schema_;
  pairs.name = "pairs";
  pairs.columns = {Column("a", ColumnKind::kInteger), Column("b", ColumnKind::kText), Column("v", ColumnKind::kInteger)};
  pairs.key_columns = {"a", "b"};
  pairs.delete_policy = model::DeletePolicy::kHard;
  PostgresSinkOptions options = Options();
  options.runner_id = "runner";
  options.tables = {&pairs};
  PostgresSink sink(options);
  ASSERT_TRUE(sink.Open().ok());
  const std::string target = QualifiedName(pairs);
  db_->Exec("INSERT INTO " + schema_ + ".pairs SELECT i / 2, 'k' || (i % 2), i FROM generate_series(0, 11999) AS i");
  db_->Exec("INSERT INTO ddb2pg.pipelines (checkpoint_id, pipeline, target, mapping, phase, reconcile, segments) "
            "VALUES ('" + schema_ + "', 'pairs', '" + target + "', '', 'snapshot', true, 1)");
  db_->Exec("INSERT INTO ddb2pg.partitions (checkpoint_id, partition_id, kind, state, scope) VALUES ('" + schema_ +
            "', 'scan/0/1@b', 'segment', 'done', 'pairs')");
  // The Scan read every row with b = 'k0'; the stream wrote the keys with a < 100.
  db_->Exec("INSERT INTO ddb2pg.snapshot_seen SELECT '" + schema_ + "', '" + target + "', ROW(a, b)::text FROM " +
            schema_ + ".pairs WHERE b = 'k0'");
  db_->Exec("INSERT INTO ddb2pg.snapshot_fence SELECT '" + schema_ + "', '" + target + "', ROW(a, b)::text FROM " +
            schema_ + ".pairs WHERE a < 100");
  // Asked to stop after the first range: cancelled, the phase unchanged, the next call starts over.
  auto stopped = sink.EndSnapshots([] { return false; });
  EXPECT_EQ(stopped.status().code(), core::StatusCode::kCancelled) << stopped.status().ToString();
  ASSERT_TRUE(sink.Open().ok());
  EXPECT_EQ(Scalar("SELECT phase FROM ddb2pg.pipelines WHERE checkpoint_id = '" + schema_ + "'"), "snapshot");
  // The first range (a < 2500) lost its 2,400 unseen rows (b = 'k1', a >= 100).
  EXPECT_EQ(Scalar("SELECT count(*) FROM " + schema_ + ".pairs"), "9600");
  int ranges = 0;
  auto ended = sink.EndSnapshots([&] { return ++ranges > 0; });
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  ASSERT_EQ(ended->size(), 1u);
  EXPECT_EQ(ranges, 2);  // 9,600 rows left: two ranges of keys, then an empty one
  EXPECT_EQ((*ended)[0].swept, 3500);  // the first range was swept by the first call
  EXPECT_EQ(Scalar("SELECT count(*) FROM " + schema_ + ".pairs"), "6100");
  EXPECT_EQ(Scalar("SELECT count(*) FROM " + schema_ + ".pairs WHERE b = 'k1' AND a >= 100"), "0");
  EXPECT_EQ(Scalar("SELECT count(*) FROM ddb2pg.snapshot_seen WHERE checkpoint_id = '" + schema_ + "'"), "0");
}

// The race behind a fence that outlived its snapshot (a flaky ReferenceScenario run found 48 keys
// fenced after "snapshot complete"): a stream batch reads the phases ('snapshot'), then is slowed
// before it takes the fence's lock; meanwhile the snapshot is ended. The ending must wait for the
// batch (it takes the checkpoint's lock exclusively, which the batch holds shared from before it
// read the phases), so the batch's fenced key is emptied with the rest. Made deterministic by
// holding the row lock of the batch's own partition, which its guard statement waits for.
void SnapshotFenceTest::EndTheSnapshotBesideASlowStreamBatch(const std::string& conninfo_suffix) {
  PostgresSinkOptions options = Options();
  options.conninfo += conninfo_suffix;
  options.runner_id = "runner";
  options.tables = {&kv_};
  PostgresSink batches(options);
  ASSERT_TRUE(batches.Open().ok());
  PostgresSink ender(options);
  ASSERT_TRUE(ender.Open().ok());
  StartSnapshot(false, "scan/0");
  db_->Exec("INSERT INTO ddb2pg.partitions (checkpoint_id, partition_id, kind, owner, epoch) VALUES ('" + schema_ +
            "', 'shard/a', 'shard', 'runner', 1)");
  // The Scan is read to its end; the pipeline still snapshots until EndSnapshots.
  db_->Exec("UPDATE ddb2pg.partitions SET state = 'done' WHERE checkpoint_id = '" + schema_ +
            "' AND partition_id = 'scan/0'");

  ddb2pg::testing::PgTestConnection blocker(conninfo_);
  blocker.Exec("BEGIN");
  blocker.Exec("SELECT 1 FROM ddb2pg.partitions WHERE checkpoint_id = '" + schema_ +
               "' AND partition_id = 'shard/a' FOR UPDATE");
  auto waiting = [&](int n) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < until) {
      if (std::stoi(Scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + schema_ +
                           "' AND wait_event_type = 'Lock'")) >= n) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  };

  auto stream_batch = std::async(std::launch::async, [&] {
    Batch batch;
    batch.tables.push_back({&kv_, {KvRow(1, 10, RowAction::kUpsert)}});
    return batches.Commit(batch, std::vector<pipeline::PartitionAdvance>{{"shard/a", 1, "seq-1", false, 1}});
  });
  ASSERT_TRUE(waiting(1)) << "the stream batch should wait at its guard, after reading the phases";
  auto end = std::async(std::launch::async, [&] { return ender.EndSnapshots([] { return true; }); });
  // The ending waits for the batch (checked below by its outcome); give it the chance to overtake.
  const bool ender_waits = waiting(2);
  blocker.Exec("ROLLBACK");
  auto committed = stream_batch.get();
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  ASSERT_TRUE(committed->committed());
  auto ended = end.get();
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_TRUE(ender_waits) << "EndSnapshots finished while a batch that had read the phase 'snapshot' was in flight";
  ASSERT_EQ(ended->size(), 1u);
  EXPECT_EQ(Scalar("SELECT phase FROM ddb2pg.pipelines WHERE checkpoint_id = '" + schema_ + "'"), "streaming");
  EXPECT_EQ(Scalar("SELECT count(*) FROM ddb2pg.snapshot_fence WHERE checkpoint_id = '" + schema_ + "'"), "0")
      << "a key fenced after its snapshot ended is never emptied";
  EXPECT_EQ(Scalar("SELECT v FROM " + schema_ + ".kv WHERE id = 1"), "10");
}

TEST_F(SnapshotFenceTest, EndingTheSnapshotWaitsForABatchThatReadItsPhaseSoNoKeyStaysFenced) {
  EndTheSnapshotBesideASlowStreamBatch("");
}

// The same race where the default isolation is REPEATABLE READ: the ending's snapshot would be
// fixed at its first statement, before the batch it waits for committed its claim, so that claim
// would not be emptied (this failed before every connection set READ COMMITTED for itself).
TEST_F(SnapshotFenceTest, TheFenceHoldsWhereTheDefaultIsolationIsRepeatableRead) {
  EndTheSnapshotBesideASlowStreamBatch(" options='-c default_transaction_isolation=repeatable\\\\ read'");
}

}  // namespace
}  // namespace ddb2pg::sink::testing
