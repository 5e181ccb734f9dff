// The DynamoDB source against real DynamoDB Local 3.3.1: snapshot completeness, changes during
// the snapshot, crash/resume from folded positions, and a replaced stream.
#include "source/dynamodb_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "source_test_support.h"

namespace ddb2pg::source {
namespace {

using testing::Database;
using testing::TargetModel;
using testing::WriterModel;

constexpr auto kHangGuard = std::chrono::minutes(5);  // ends a broken test; never an assertion on time

SourceOptions Options(const std::string& table, int segments) {
  SourceOptions options;
  options.table = table;
  options.segments = segments;
  options.discovery_interval_ms = 500;
  options.max_concurrent_shards = 4;
  return options;
}

// Pops and applies records until `done()`; false when the queue closed or the hang guard hit.
template <typename Done>
bool Drain(core::BoundedQueue<core::Record>& queue, TargetModel* target, std::vector<core::Record>* kept, Done done) {
  const auto give_up = std::chrono::steady_clock::now() + kHangGuard;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    auto record = queue.PopFor(std::chrono::milliseconds(100));
    if (!record) {
      if (queue.closed()) return false;
      continue;
    }
    if (target) target->Apply(*record);
    if (kept) kept->push_back(std::move(*record));
  }
  return true;
}

TEST(DynamoDbSourceIntegration, SnapshotOf10000ItemsEqualsTheTable) {
  Database db(ddb2pg::testing::DynamoDbEndpoint(), ddb2pg::testing::UniqueName("srcsnap"));
  const std::string table = "users";
  db.CreateTable(table);
  WriterModel writer(db, table, 1);
  writer.BulkInsert(0, 10000);

  for (int segments : {1, 4}) {
    SourceOptions options = Options(table, segments);
    DynamoDbSource source(options, db.table, db.streams, core::SystemClock::Instance());
    core::BoundedQueue<core::Record> queue(4096);
    ASSERT_TRUE(source.Start(std::nullopt, &queue).ok());
    TargetModel target;
    const auto started = std::chrono::steady_clock::now();
    ASSERT_TRUE(Drain(queue, &target, nullptr, [&] { return target.snapshot_done(); })) << source.status().ToString();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const SourceProgress progress = source.progress();
    source.Stop();
    EXPECT_EQ(target.rows(), writer.live()) << "segments " << segments;
    EXPECT_EQ(target.snapshot_ids().size(), 10000u);
    EXPECT_EQ(progress.segments_done, segments);
    EXPECT_EQ(progress.item_count_estimate, 10000);
    const double rate = 10000 / seconds;
    std::cout << "snapshot of 10000 items with " << segments << " segment(s): " << static_cast<int64_t>(rate)
              << " items/s (" << seconds << " s)\n";
    ::testing::Test::RecordProperty("items_per_second_" + std::to_string(segments) + "_segments",
                                    std::to_string(static_cast<int64_t>(rate)));
  }
}

// 2,000 inserts, updates and deletes while the Scan runs: all arrive after the snapshot, in per-key
// order, and the target ends equal to the table.
TEST(DynamoDbSourceIntegration, ChangesDuringTheSnapshotAllArriveInPerKeyOrder) {
  Database db(ddb2pg::testing::DynamoDbEndpoint(), ddb2pg::testing::UniqueName("srcconc"));
  const std::string table = "users";
  db.CreateTable(table);
  WriterModel writer(db, table, 2);
  writer.BulkInsert(0, 10000);

  SourceOptions options = Options(table, 4);
  options.page_limit = 100;  // a slower scan, so the writes overlap it
  DynamoDbSource source(options, db.table, db.streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(256);
  ASSERT_TRUE(source.Start(std::nullopt, &queue).ok());

  std::atomic<bool> writer_done{false};
  int64_t snapshot_rows_when_writes_ended = 0;
  std::thread writer_thread([&] {
    for (int i = 0; i < 2000; ++i) writer.RandomChange(12000);
    snapshot_rows_when_writes_ended = source.progress().snapshot_items;
    writer_done = true;
  });
  TargetModel target;
  std::string missing;
  bool caught_up = Drain(queue, &target, nullptr, [&] {
    return writer_done && target.snapshot_done() && target.rows() == writer.live() &&
           target.SawEveryVersion(writer.versions_written(), &missing);
  });
  writer_thread.join();
  source.Stop();
  ASSERT_TRUE(caught_up) << "missing " << missing << "; " << source.status().ToString();
  EXPECT_EQ(target.chain_breaks(), 0);
  std::cout << "writes during the snapshot: " << writer.inserts() << " inserts, " << writer.updates() << " updates, "
            << writer.deletes() << " deletes; the scan had emitted " << snapshot_rows_when_writes_ended
            << " rows when they ended; stream changes applied: " << target.changes() << "\n";
  EXPECT_EQ(writer.inserts() + writer.updates() + writer.deletes(), 2000);
}

// Ten crashes at random points; each restart resumes from the position folded over a random prefix
// of what the previous run emitted (the last commit). The union of committed records has no gap
// (every version of every key, an unbroken chain per key) and no repeat.
TEST(DynamoDbSourceIntegration, CrashAndResumeTenTimesLosesAndRepeatsNothing) {
  Database db(ddb2pg::testing::DynamoDbEndpoint(), ddb2pg::testing::UniqueName("srccrash"));
  const std::string table = "users";
  db.CreateTable(table);
  WriterModel writer(db, table, 3);
  writer.BulkInsert(0, 3000);

  std::atomic<bool> writer_done{false};
  std::thread writer_thread([&] {
    for (int i = 0; i < 1500; ++i) writer.RandomChange(3500);
    writer_done = true;
  });

  std::mt19937 random(20240611);
  SourcePosition committed;
  TargetModel target;  // sees committed records only, in commit order
  SourceOptions options = Options(table, 3);
  options.page_limit = 50;
  for (int run = 0; run <= 10; ++run) {
    DynamoDbSource source(options, db.table, db.streams, core::SystemClock::Instance());
    core::BoundedQueue<core::Record> queue(64);
    std::optional<std::string> saved;
    if (!committed.empty()) saved = committed.Serialize();
    ASSERT_TRUE(source.Start(saved, &queue).ok()) << "run " << run;
    std::vector<core::Record> received;
    if (run < 10) {
      const size_t stop_after = 1 + random() % 1200;
      Drain(queue, nullptr, &received, [&] { return received.size() >= stop_after; });
      source.Stop();
      const size_t commit = random() % (received.size() + 1);
      for (size_t i = 0; i < commit; ++i) {
        ASSERT_TRUE(committed.Fold(received[i].position).ok());
        target.Apply(received[i]);
      }
      std::cout << "run " << run << ": received " << received.size() << ", committed " << commit
                << (committed.snapshot_complete() ? " (snapshot complete)" : "") << "\n";
    } else {
      std::string missing;
      bool caught_up = Drain(queue, &target, nullptr, [&] {
        return writer_done && target.snapshot_done() && target.rows() == writer.live() &&
               target.SawEveryVersion(writer.versions_written(), &missing);
      });
      source.Stop();
      EXPECT_TRUE(caught_up) << "missing " << missing << "; " << source.status().ToString();
    }
  }
  writer_thread.join();
  EXPECT_EQ(target.chain_breaks(), 0);
}

// Disabling and re-enabling the stream gives a new ARN: changes in between are lost, so the source
// reads the old stream to its end and then stops with an error naming the policy.
TEST(DynamoDbSourceIntegration, ReplacedStreamIsAFatalErrorUnderStop) {
  Database db(ddb2pg::testing::DynamoDbEndpoint(), ddb2pg::testing::UniqueName("srcarn"));
  const std::string table = "users";
  db.CreateTable(table);
  WriterModel writer(db, table, 4);
  writer.BulkInsert(0, 10);

  SourceOptions options = Options(table, 1);
  options.discovery_interval_ms = 200;
  DynamoDbSource source(options, db.table, db.streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(1000);
  ASSERT_TRUE(source.Start(std::nullopt, &queue).ok());
  TargetModel target;
  ASSERT_TRUE(Drain(queue, &target, nullptr, [&] { return target.changes() == 10; }));

  auto before = db.table.DescribeTable(table);
  ASSERT_TRUE(before.ok());
  auto disabled = db.table.UpdateStream(table, false, "");
  ASSERT_TRUE(disabled.ok()) << disabled.status().ToString();
  auto enabled = db.table.UpdateStream(table, true, "NEW_AND_OLD_IMAGES");
  ASSERT_TRUE(enabled.ok()) << enabled.status().ToString();

  core::Status status = source.WaitForError();
  EXPECT_EQ(status.code(), core::StatusCode::kTrimmedData) << status.ToString();
  EXPECT_NE(status.message().find("on_trimmed is stop"), std::string::npos) << status.message();
  source.Stop();

  // A restart from the committed position refuses the new stream too.
  SourcePosition position;
  position.set_stream_arn(before->latest_stream_arn);
  DynamoDbSource restarted(options, db.table, db.streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue2(10);
  core::Status start = restarted.Start(position.Serialize(), &queue2);
  EXPECT_EQ(start.code(), core::StatusCode::kTrimmedData) << start.ToString();
}

}  // namespace
}  // namespace ddb2pg::source
