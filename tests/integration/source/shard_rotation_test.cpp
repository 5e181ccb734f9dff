// Shard rotation on real DynamoDB Local 1.25.1 under an accelerated clock (faketime x1000): it
// closes a shard 4 h (of its clock) old and opens a child, like AWS. Measured here: a rotation
// every ~3-4 s of real time; records are trimmed after 24 h of its clock (~86 s real) and
// iterators expire after 15 min of its clock (< 1 s real), so the reader also meets
// ExpiredIterator often. The test starts and stops that server itself.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "source/dynamodb_source.h"
#include "source_test_support.h"

namespace ddb2pg::source {
namespace {

using testing::Database;
using testing::TargetModel;
using testing::WriterModel;

// Starts `scripts/servers start DIR --ddb-version 1.25.1 --faketime ...` and stops it on exit.
class RotatingServer {
 public:
  RotatingServer() : dir_("/tmp/" + ddb2pg::testing::UniqueName("srcrot")) {
    const std::string command = std::string(DDB2PG_SOURCE_DIR) + "/scripts/servers start " + dir_ +
                                " --ddb-version 1.25.1 --faketime '+0 x2000' --no-pg >" + dir_ + ".log 2>&1";
    started_ = std::system(command.c_str()) == 0;
    std::ifstream env(dir_ + "/env");
    std::string line;
    const std::string prefix = "export DDB2PG_TEST_DYNAMODB_ENDPOINT=";
    while (std::getline(env, line)) {
      if (line.rfind(prefix, 0) == 0) endpoint_ = line.substr(prefix.size());
    }
  }
  ~RotatingServer() {
    const std::string command = std::string(DDB2PG_SOURCE_DIR) + "/scripts/servers stop " + dir_ + " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) std::cerr << "could not stop the server in " << dir_ << "\n";
    std::remove((dir_ + ".log").c_str());
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  bool ok() const { return started_ && !endpoint_.empty(); }
  const std::string& endpoint() const { return endpoint_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool started_ = false;
  std::string endpoint_;
};

template <typename Done>
bool Drain(core::BoundedQueue<core::Record>& queue, std::vector<core::Record>* kept, Done done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(5);  // hang guard only
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    auto record = queue.PopFor(std::chrono::milliseconds(100));
    if (!record) {
      if (queue.closed()) return false;
      continue;
    }
    kept->push_back(std::move(*record));
  }
  return true;
}

// Updates the same keys across many rotations, with one crash and resume in the middle: per-key
// order and completeness hold, every shard is read after its parent, none is read twice.
TEST(ShardRotation, PerKeyOrderAndCompletenessAcrossRotations) {
  RotatingServer server;
  ASSERT_TRUE(server.ok()) << "could not start DynamoDB Local 1.25.1 (see " << server.dir() << ".log)";
  Database db(server.endpoint(), ddb2pg::testing::UniqueName("rot"));
  const std::string table = "rotating";
  db.CreateTable(table);
  WriterModel writer(db, table, 5);
  writer.BulkInsert(0, 20);

  std::atomic<bool> writer_done{false};
  std::thread writer_thread([&] {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(40);
    while (std::chrono::steady_clock::now() < end) {
      writer.RandomChange(25);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    writer_done = true;
  });

  SourceOptions options;
  options.table = table;
  options.segments = 2;
  options.discovery_interval_ms = 500;
  options.max_concurrent_shards = 4;

  TargetModel target;
  SourcePosition committed;
  std::set<std::string> shards_with_records;
  std::map<std::string, size_t> marker_index;  // shard → index of its final marker in commit order
  std::map<std::string, size_t> first_record_index;
  size_t committed_count = 0;
  auto commit = [&](const core::Record& record) {
    ASSERT_TRUE(committed.Fold(record.position).ok());
    target.Apply(record);
    if (!record.metadata.shard_id.empty()) {
      if (record.operation == core::Operation::kMarker) {
        EXPECT_EQ(marker_index.count(record.metadata.shard_id), 0u) << "shard read twice: " << record.metadata.shard_id;
        marker_index[record.metadata.shard_id] = committed_count;
      } else {
        shards_with_records.insert(record.metadata.shard_id);
        first_record_index.try_emplace(record.metadata.shard_id, committed_count);
      }
    }
    ++committed_count;
  };

  // Run 1: about 12 s of real time, then a crash; commit a prefix of what arrived.
  {
    DynamoDbSource source(options, db.table, db.streams, core::SystemClock::Instance());
    core::BoundedQueue<core::Record> queue(256);
    ASSERT_TRUE(source.Start(std::nullopt, &queue).ok());
    std::vector<core::Record> received;
    const auto crash_at = std::chrono::steady_clock::now() + std::chrono::seconds(12);
    Drain(queue, &received, [&] { return std::chrono::steady_clock::now() > crash_at; });
    ASSERT_TRUE(source.status().ok()) << source.status().ToString();
    source.Stop();
    const size_t keep = received.size() * 2 / 3;
    for (size_t i = 0; i < keep; ++i) commit(received[i]);
    std::cout << "run 1: " << received.size() << " records, committed " << keep << ", "
              << source.progress().shards_finished << " shards finished\n";
  }
  // Run 2: resume from the committed position until the target equals the table.
  DynamoDbSource source(options, db.table, db.streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(256);
  ASSERT_TRUE(source.Start(committed.Serialize(), &queue).ok());
  std::string missing;
  std::vector<core::Record> received;
  size_t applied = 0;
  bool caught_up = Drain(queue, &received, [&] {
    for (; applied < received.size(); ++applied) commit(received[applied]);
    return writer_done && target.snapshot_done() && target.rows() == writer.live() &&
           target.SawEveryVersion(writer.versions_written(), &missing);
  });
  writer_thread.join();
  const SourceProgress progress = source.progress();
  source.Stop();
  ASSERT_TRUE(caught_up) << "missing " << missing << "; " << source.status().ToString();
  EXPECT_EQ(target.chain_breaks(), 0);

  // Lineage: no record of a shard was committed before its parent's final marker.
  for (const auto& shard : progress.shards) {
    if (shard.parent_shard_id.empty() || first_record_index.count(shard.shard_id) == 0) continue;
    auto parent_marker = marker_index.find(shard.parent_shard_id);
    if (parent_marker == marker_index.end()) continue;  // finished before this run's view (resumed)
    EXPECT_LT(parent_marker->second, first_record_index[shard.shard_id]) << shard.shard_id;
  }
  std::cout << "changes: " << target.changes() << " over " << shards_with_records.size() << " shards; "
            << marker_index.size() << " shards finished; writes " << writer.inserts() << "/" << writer.updates()
            << "/" << writer.deletes() << "\n";
  EXPECT_GE(shards_with_records.size(), 4u) << "expected several rotations during the test";
}

}  // namespace
}  // namespace ddb2pg::source
