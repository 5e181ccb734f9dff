#include "source/dynamodb_source.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "fake_dynamodb.h"

namespace ddb2pg::source {
namespace {

using testing::FakeStreams;
using testing::FakeTable;

SourceOptions StreamOnly() {
  SourceOptions options;
  options.table = "users";
  options.snapshot_enabled = false;
  options.discovery_interval_ms = 20;
  options.max_idle_poll_ms = 5;
  options.max_concurrent_shards = 4;
  return options;
}

// Pops records until `done` says so; a hang guard (not an assertion on time) ends a broken test.
std::vector<core::Record> Collect(core::BoundedQueue<core::Record>& queue,
                                  const std::function<bool(const std::vector<core::Record>&)>& done) {
  std::vector<core::Record> records;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done(records) && std::chrono::steady_clock::now() < give_up) {
    auto record = queue.PopFor(std::chrono::milliseconds(50));
    if (record) records.push_back(std::move(*record));
    if (!record && queue.closed()) break;
  }
  return records;
}

size_t CountChanges(const std::vector<core::Record>& records) {
  size_t count = 0;
  for (const auto& record : records) count += record.operation != core::Operation::kMarker ? 1 : 0;
  return count;
}

bool HasDoneMarker(const std::vector<core::Record>& records, const std::string& partition) {
  for (const auto& record : records) {
    if (record.operation == core::Operation::kMarker && record.position.partition == partition &&
        record.position.partition_done) {
      return true;
    }
  }
  return false;
}

std::string IdOf(const core::Record& record) { return record.key.Find("id")->as_string(); }
int VersionOf(const core::Record& record) { return std::stoi(record.after->Find("version")->number_text()); }

TEST(DynamoDbSource, StreamNotEnabledNamesTheFix) {
  FakeTable table;
  FakeStreams streams;
  auto description = table.description();
  description.stream_enabled = false;
  description.latest_stream_arn.clear();
  table.SetDescription(description);
  DynamoDbSource source(StreamOnly(), table, streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(10);
  core::Status status = source.Start(std::nullopt, &queue);
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "table users has no stream; enable it with NEW_AND_OLD_IMAGES (aws dynamodb update-table --table-name "
            "users --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES) or set "
            "stream.enable_stream: true");

  description.stream_enabled = true;
  description.latest_stream_arn = "arn:x";
  description.stream_view_type = "KEYS_ONLY";
  table.SetDescription(description);
  DynamoDbSource keys_only(StreamOnly(), table, streams, core::SystemClock::Instance());
  status = keys_only.Start(std::nullopt, &queue);
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("has a stream of KEYS_ONLY but ddb2pg needs NEW_AND_OLD_IMAGES"), std::string::npos)
      << status.message();
}

TEST(DynamoDbSource, EnableStreamOptInUsesTheEnabler) {
  FakeTable table;
  FakeStreams streams;
  auto description = table.description();
  description.stream_enabled = false;
  description.latest_stream_arn.clear();
  table.SetDescription(description);
  SourceOptions options = StreamOnly();
  options.enable_stream = true;
  DynamoDbSource source(options, table, streams, core::SystemClock::Instance());
  std::string enabled_table;
  source.SetStreamEnabler([&](const std::string& name) {
    enabled_table = name;
    auto enabled = table.description();
    enabled.stream_enabled = true;
    enabled.stream_view_type = "NEW_AND_OLD_IMAGES";
    enabled.latest_stream_arn = "arn:aws:dynamodb:local:000:table/users/stream/1";
    table.SetDescription(enabled);
    return core::Status::Ok();
  });
  core::BoundedQueue<core::Record> queue(10);
  ASSERT_TRUE(source.Start(std::nullopt, &queue).ok());
  EXPECT_EQ(enabled_table, "users");
  source.Stop();
}

TEST(DynamoDbSource, MissingTableIsNotFound) {
  FakeTable table;
  FakeStreams streams;
  SourceOptions options = StreamOnly();
  options.table = "nope";
  DynamoDbSource source(options, table, streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(10);
  EXPECT_EQ(source.Start(std::nullopt, &queue).code(), core::StatusCode::kNotFound);
}

// One parent, two children listed (before the parent, even) while the parent still has records
// to give: no child record may come before the parent's last record and its final marker.
TEST(DynamoDbSource, SplitReadsChildrenOnlyAfterTheParent) {
  FakeTable table;
  FakeStreams streams;
  streams.set_page_size(2);  // the parent takes several polls
  streams.AddShard("parent");
  for (int v = 1; v <= 9; ++v) streams.AddRecord("parent", v == 1 ? "INSERT" : "MODIFY", "a", v);
  // Children discovered out of order: listed before their parent, parent still unfinished.
  streams.AddShard("child-1", "parent", /*front=*/true);
  streams.AddShard("child-2", "parent", /*front=*/true);
  for (int v = 11; v <= 15; ++v) streams.AddRecord("child-1", "MODIFY", "a", v);
  for (int v = 1; v <= 5; ++v) streams.AddRecord("child-2", v == 1 ? "INSERT" : "MODIFY", "b", v);

  DynamoDbSource source(StreamOnly(), table, streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(1000);
  ASSERT_TRUE(source.Start(std::nullopt, &queue).ok());
  // Let the readers poll the open parent a while before it closes.
  auto first = Collect(queue, [](const auto& r) { return CountChanges(r) >= 4; });
  streams.AddRecord("parent", "MODIFY", "a", 10);  // a late parent record
  streams.CloseShard("parent");
  auto rest = Collect(queue, [](const auto& r) { return CountChanges(r) >= 16 && HasDoneMarker(r, "parent"); });
  source.Stop();
  first.insert(first.end(), std::make_move_iterator(rest.begin()), std::make_move_iterator(rest.end()));

  ASSERT_EQ(CountChanges(first), 20u);
  size_t parent_marker = first.size();
  size_t last_parent_record = 0;
  size_t first_child_record = first.size();
  for (size_t i = 0; i < first.size(); ++i) {
    const auto& position = first[i].position;
    if (position.partition == "parent" && position.partition_done) parent_marker = i;
    if (position.partition == "parent" && first[i].operation != core::Operation::kMarker) last_parent_record = i;
    if (position.partition.rfind("child", 0) == 0 && first_child_record == first.size()) first_child_record = i;
  }
  EXPECT_LT(last_parent_record, parent_marker);
  EXPECT_LT(parent_marker, first_child_record);
  // Per key, versions strictly increase.
  std::map<std::string, int> last_version;
  for (const auto& record : first) {
    if (record.operation == core::Operation::kMarker || !record.after) continue;
    EXPECT_GT(VersionOf(record), last_version[IdOf(record)]) << IdOf(record);
    last_version[IdOf(record)] = VersionOf(record);
  }
}

TEST(DynamoDbSource, ReadsEveryShardOfAPagedDescribeStream) {
  FakeTable table;
  FakeStreams streams;
  constexpr int kShards = 250;  // three DescribeStream pages of ≤ 100
  for (int i = 0; i < kShards; ++i) {
    const std::string shard_id = "shard-" + std::to_string(1000 + i);
    streams.AddShard(shard_id);
    streams.AddRecord(shard_id, "INSERT", "k" + std::to_string(i), 1);
    streams.CloseShard(shard_id);
  }
  DynamoDbSource source(StreamOnly(), table, streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(10000);
  ASSERT_TRUE(source.Start(std::nullopt, &queue).ok());
  auto records = Collect(queue, [&](const auto& r) { return r.size() >= 1 + 2 * kShards; });
  source.Stop();
  std::set<std::string> ids;
  std::set<std::string> done;
  for (const auto& record : records) {
    if (record.operation == core::Operation::kCreate) ids.insert(IdOf(record));
    if (record.position.partition_done) done.insert(record.position.partition);
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kShards));
  EXPECT_EQ(done.size(), static_cast<size_t>(kShards));
  EXPECT_EQ(source.progress().shards_finished, kShards);
}

TEST(DynamoDbSource, ExpiredIteratorResumesAfterTheLastSequenceNumber) {
  FakeTable table;
  FakeStreams streams;
  streams.set_page_size(3);
  streams.AddShard("s1");
  std::vector<std::string> sequence_numbers;
  for (int v = 1; v <= 10; ++v) sequence_numbers.push_back(streams.AddRecord("s1", "MODIFY", "a", v));
  streams.CloseShard("s1");
  streams.ExpireNextGetRecords("s1", 1);  // the 2nd GetRecords fails with ExpiredIterator

  DynamoDbSource source(StreamOnly(), table, streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(100);
  ASSERT_TRUE(source.Start(std::nullopt, &queue).ok());
  auto records = Collect(queue, [](const auto& r) { return HasDoneMarker(r, "s1"); });
  source.Stop();
  std::vector<std::string> seen;
  for (const auto& record : records) {
    if (record.operation == core::Operation::kUpdate) seen.push_back(record.metadata.sequence_number);
  }
  EXPECT_EQ(seen, sequence_numbers);  // no duplicate, no gap
  auto calls = streams.iterator_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].type, aws::ShardIteratorType::kTrimHorizon);
  EXPECT_EQ(calls[1].type, aws::ShardIteratorType::kAfterSequenceNumber);
  EXPECT_EQ(calls[1].sequence_number, sequence_numbers[2]);
}

TEST(DynamoDbSource, TrimmedDataIsFatalUnderStop) {
  FakeTable table;
  FakeStreams streams;
  streams.AddShard("s1");
  streams.AddRecord("s1", "INSERT", "a", 1);
  streams.TrimNextGetRecords("s1");
  DynamoDbSource source(StreamOnly(), table, streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(100);
  ASSERT_TRUE(source.Start(std::nullopt, &queue).ok());
  core::Status status = source.WaitForError();
  EXPECT_EQ(status.code(), core::StatusCode::kTrimmedData);
  EXPECT_NE(status.message().find("shard s1"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("on_trimmed is stop"), std::string::npos) << status.message();
  EXPECT_EQ(source.status().code(), core::StatusCode::kTrimmedData);
  EXPECT_TRUE(queue.closed());  // the consumer wakes, drains, and reads status()
  source.Stop();
}

TEST(DynamoDbSource, ChangedStreamArnAtStartIsFatalUnderStop) {
  FakeTable table;
  FakeStreams streams;
  streams.AddShard("s1");
  SourcePosition saved;
  saved.set_stream_arn("arn:aws:dynamodb:local:000:table/users/stream/0");
  DynamoDbSource source(StreamOnly(), table, streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(100);
  core::Status status = source.Start(saved.Serialize(), &queue);
  EXPECT_EQ(status.code(), core::StatusCode::kTrimmedData);
  EXPECT_NE(status.message().find("the stream of table users changed since the saved position"), std::string::npos) << status.message();
}

TEST(DynamoDbSource, ResumesTheStreamFromASavedPosition) {
  FakeTable table;
  FakeStreams streams;
  streams.AddShard("old");
  streams.AddRecord("old", "INSERT", "a", 1);
  streams.CloseShard("old");
  streams.AddShard("current", "old");
  std::vector<std::string> sequence_numbers;
  for (int v = 2; v <= 8; ++v) sequence_numbers.push_back(streams.AddRecord("current", "MODIFY", "a", v));

  SourcePosition saved;
  saved.set_stream_arn("arn:aws:dynamodb:local:000:table/users/stream/1");
  saved.set_shard_finished("old");
  saved.set_shard_sequence_number("current", sequence_numbers[2]);
  DynamoDbSource source(StreamOnly(), table, streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(100);
  ASSERT_TRUE(source.Start(saved.Serialize(), &queue).ok());
  auto records = Collect(queue, [](const auto& r) { return CountChanges(r) >= 4; });
  source.Stop();
  std::vector<std::string> seen;
  for (const auto& record : records) {
    EXPECT_NE(record.position.partition, "stream") << "the ARN is pinned already";
    if (record.operation != core::Operation::kMarker) seen.push_back(record.metadata.sequence_number);
  }
  EXPECT_EQ(seen, std::vector<std::string>(sequence_numbers.begin() + 3, sequence_numbers.end()));
  for (const auto& call : streams.iterator_calls()) {
    EXPECT_EQ(call.shard_id, "current") << "a finished shard is never re-read";
    EXPECT_EQ(call.type, aws::ShardIteratorType::kAfterSequenceNumber);
    EXPECT_EQ(call.sequence_number, sequence_numbers[2]);
  }
}

TEST(DynamoDbSource, UnreadShardGoneFromTheStreamIsDataLoss) {
  FakeTable table;
  FakeStreams streams;
  streams.AddShard("current");
  streams.AddRecord("current", "INSERT", "a", 1);
  SourcePosition saved;
  saved.set_stream_arn("arn:aws:dynamodb:local:000:table/users/stream/1");
  saved.set_shard_sequence_number("trimmed-away", "000000000000000000001");
  DynamoDbSource source(StreamOnly(), table, streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(100);
  ASSERT_TRUE(source.Start(saved.Serialize(), &queue).ok());
  core::Status status = source.WaitForError();
  EXPECT_EQ(status.code(), core::StatusCode::kTrimmedData);
  EXPECT_NE(status.message().find("shard trimmed-away"), std::string::npos) << status.message();
  source.Stop();
}

SourceOptions SnapshotOptions(int segments, int page_limit) {
  SourceOptions options = StreamOnly();
  options.snapshot_enabled = true;
  options.segments = segments;
  options.page_limit = page_limit;
  return options;
}

TEST(DynamoDbSource, SnapshotThenStreamFoldsToACompletePosition) {
  FakeTable table;
  FakeStreams streams;
  for (int i = 0; i < 50; ++i) table.Put("item" + std::to_string(100 + i), 1);
  streams.AddShard("s1");
  streams.AddRecord("s1", "MODIFY", "item100", 2);

  DynamoDbSource source(SnapshotOptions(3, 4), table, streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(8);  // small: the scan waits on the consumer
  ASSERT_TRUE(source.Start(std::nullopt, &queue).ok());
  auto records = Collect(queue, [](const auto& r) { return CountChanges(r) >= 51; });
  source.Stop();

  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.front().position, (core::Position{"stream", "arn:aws:dynamodb:local:000:table/users/stream/1", false}));
  SourcePosition folded;
  std::set<std::string> snapshot_ids;
  bool snapshot_marker_seen = false;
  for (const auto& record : records) {
    ASSERT_TRUE(folded.Fold(record.position).ok());
    if (record.operation == core::Operation::kSnapshot) {
      EXPECT_FALSE(snapshot_marker_seen) << "snapshot rows come before the hand-off marker";
      EXPECT_TRUE(snapshot_ids.insert(IdOf(record)).second) << "duplicate " << IdOf(record);
      EXPECT_EQ(record.key, testing::Key(IdOf(record)));
    }
    if (record.position.partition == "snapshot") snapshot_marker_seen = true;
    if (record.operation == core::Operation::kUpdate) {
      EXPECT_TRUE(snapshot_marker_seen) << "stream changes come after the snapshot";
      EXPECT_EQ(record.before->Find("version")->number_text(), "1");
    }
  }
  EXPECT_EQ(snapshot_ids.size(), 50u);
  EXPECT_TRUE(folded.snapshot_complete());
  EXPECT_EQ(folded.shard_sequence_numbers().size(), 1u);
  EXPECT_EQ(source.progress().segments_done, 3);
  EXPECT_EQ(source.progress().snapshot_items, 50);
}

// A crash after some snapshot records were committed: the restart emits exactly the rest of
// each segment (by the last key committed), never an item twice, never restarting from zero.
TEST(DynamoDbSource, SnapshotResumesMidPageWithoutRepeatingItems) {
  FakeTable table;
  FakeStreams streams;
  for (int i = 0; i < 30; ++i) table.Put("item" + std::to_string(100 + i), 1);
  streams.AddShard("s1");

  std::vector<core::Record> first_run;
  {
    DynamoDbSource source(SnapshotOptions(2, 4), table, streams, core::SystemClock::Instance());
    core::BoundedQueue<core::Record> queue(4);
    ASSERT_TRUE(source.Start(std::nullopt, &queue).ok());
    first_run = Collect(queue, [](const auto& r) { return CountChanges(r) >= 11; });
    source.Stop();
  }
  // "Commit" a prefix that ends in the middle of a page (11 items, pages of 4).
  SourcePosition committed;
  std::set<std::string> emitted;
  size_t changes = 0;
  for (const auto& record : first_run) {
    if (changes == 11) break;
    ASSERT_TRUE(committed.Fold(record.position).ok());
    if (record.operation == core::Operation::kSnapshot) {
      emitted.insert(IdOf(record));
      ++changes;
    }
  }
  ASSERT_EQ(emitted.size(), 11u);
  ASSERT_FALSE(committed.snapshot_complete());

  DynamoDbSource resumed(SnapshotOptions(2, 4), table, streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(100);
  ASSERT_TRUE(resumed.Start(committed.Serialize(), &queue).ok());
  auto second_run = Collect(queue, [](const auto& r) { return HasDoneMarker(r, "snapshot"); });
  resumed.Stop();
  std::set<std::string> rest;
  for (const auto& record : second_run) {
    if (record.operation != core::Operation::kSnapshot) continue;
    EXPECT_EQ(emitted.count(IdOf(record)), 0u) << IdOf(record) << " was emitted before the saved position";
    EXPECT_TRUE(rest.insert(IdOf(record)).second);
  }
  EXPECT_EQ(emitted.size() + rest.size(), 30u);
}

TEST(DynamoDbSource, ASavedCompleteSnapshotIsNotScannedAgain) {
  FakeTable table;
  FakeStreams streams;
  table.Put("a", 1);
  streams.AddShard("s1");
  streams.AddRecord("s1", "INSERT", "b", 1);
  SourcePosition saved;
  saved.set_stream_arn("arn:aws:dynamodb:local:000:table/users/stream/1");
  saved.set_snapshot_complete(true);
  DynamoDbSource source(SnapshotOptions(2, 4), table, streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(100);
  ASSERT_TRUE(source.Start(saved.Serialize(), &queue).ok());
  auto records = Collect(queue, [](const auto& r) { return CountChanges(r) >= 1; });
  source.Stop();
  EXPECT_EQ(table.scan_calls(), 0);
  ASSERT_EQ(CountChanges(records), 1u);
}

TEST(DynamoDbSource, ResnapshotPolicyResetsThePositionAndScansAgain) {
  FakeTable table;
  FakeStreams streams;
  table.Put("a", 1);
  streams.AddShard("s1");
  streams.AddRecord("s1", "INSERT", "a", 1);
  streams.TrimNextGetRecords("s1");
  SourceOptions options = SnapshotOptions(1, 10);
  options.on_trimmed = TrimmedPolicy::kResnapshot;
  SourcePosition saved;
  saved.set_stream_arn("arn:aws:dynamodb:local:000:table/users/stream/1");
  saved.set_snapshot_complete(true);
  DynamoDbSource source(options, table, streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(100);
  ASSERT_TRUE(source.Start(saved.Serialize(), &queue).ok());
  auto records = Collect(queue, [](const auto& r) { return CountChanges(r) >= 1; });
  source.Stop();
  ASSERT_GE(records.size(), 3u);
  EXPECT_EQ(records[0].position.partition, "reset");
  // The new snapshot first declares its segment count (a marker on its last segment).
  EXPECT_EQ(records[1].operation, core::Operation::kMarker);
  EXPECT_EQ(records[1].position.partition, SourcePosition::SegmentPartition(0));
  EXPECT_EQ(records[2].operation, core::Operation::kSnapshot);
  SourcePosition folded = saved;
  for (const auto& record : records) ASSERT_TRUE(folded.Fold(record.position).ok());
  EXPECT_FALSE(folded.snapshot_complete());
}

TEST(DynamoDbSource, StopUnblocksAProducerOnAFullQueue) {
  FakeTable table;
  FakeStreams streams;
  for (int i = 0; i < 100; ++i) table.Put("k" + std::to_string(i), 1);
  streams.AddShard("s1");
  DynamoDbSource source(SnapshotOptions(2, 10), table, streams, core::SystemClock::Instance());
  core::BoundedQueue<core::Record> queue(1);
  ASSERT_TRUE(source.Start(std::nullopt, &queue).ok());
  Collect(queue, [](const auto& r) { return r.size() >= 3; });
  source.Stop();  // returns: the blocked Push fails once the queue is closed
  EXPECT_TRUE(queue.closed());
  EXPECT_TRUE(source.status().ok());
  EXPECT_TRUE(source.WaitForError().ok());
}

}  // namespace
}  // namespace ddb2pg::source
