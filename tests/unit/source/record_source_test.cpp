// DynamoDbRecordSource and its readers against scripted fakes of the DynamoDB APIs: the stream
// checks at Describe, every DescribeStream page, seeds (fresh, stream-only at LATEST, converted
// from an earlier release's checkpoint), and each reader's behaviour on its own partition.
#include "source/dynamodb_record_source.h"

#include <gtest/gtest.h>

#include <functional>

#include "fake_dynamodb.h"
#include "source/source_position.h"
#include "source/shard_reader.h"
#include "source/stream_watermark.h"

namespace ddb2pg::source {
namespace {

using pipeline::PartitionKind;
using pipeline::ClaimedPartition;
using testing::FakeStreams;
using testing::FakeTable;

SourceOptions Options(bool snapshot = true) {
  SourceOptions options;
  options.table = "users";
  options.snapshot_enabled = snapshot;
  options.segments = 2;
  options.page_limit = 3;
  options.poll_interval_ms = 5;
  return options;
}

// Pops records until `done` says so; a hang guard (not an assertion on time) ends a broken test.
std::vector<core::Record> Collect(core::BoundedQueue<core::Record>& queue,
                                  const std::function<bool(const std::vector<core::Record>&)>& done) {
  std::vector<core::Record> records;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done(records) && std::chrono::steady_clock::now() < give_up) {
    auto record = queue.PopFor(std::chrono::milliseconds(20));
    if (record) records.push_back(std::move(*record));
  }
  return records;
}

bool EndsDone(const std::vector<core::Record>& records) {
  return !records.empty() && records.back().position.partition_done;
}

ClaimedPartition ShardLease(const std::string& id, const std::string& position = "") {
  ClaimedPartition lease;
  lease.id = id;
  lease.kind = PartitionKind::kShard;
  lease.position = position;
  lease.epoch = 1;
  return lease;
}

TEST(DynamoDbRecordSource, StreamNotEnabledNamesTheFix) {
  FakeTable table;
  FakeStreams streams;
  auto description = table.description();
  description.stream_enabled = false;
  description.latest_stream_arn.clear();
  table.SetDescription(description);
  DynamoDbRecordSource source(Options(), table, streams, core::SystemClock::Instance());
  auto layout = source.Describe();
  EXPECT_EQ(layout.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(layout.status().message(),
            "table users has no stream; enable it with NEW_AND_OLD_IMAGES (aws dynamodb update-table --table-name "
            "users --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES) or set "
            "stream.enable_stream: true");

  description.stream_enabled = true;
  description.latest_stream_arn = "arn:x";
  description.stream_view_type = "KEYS_ONLY";
  table.SetDescription(description);
  layout = source.Describe();
  EXPECT_NE(layout.status().message().find("has a stream of KEYS_ONLY but ddb2pg needs NEW_AND_OLD_IMAGES"),
            std::string::npos)
      << layout.status().message();
}

TEST(DynamoDbRecordSource, EnableStreamOptInUsesTheEnabler) {
  FakeTable table;
  FakeStreams streams;
  auto description = table.description();
  description.stream_enabled = false;
  description.latest_stream_arn.clear();
  table.SetDescription(description);
  SourceOptions options = Options();
  options.enable_stream = true;
  DynamoDbRecordSource source(options, table, streams, core::SystemClock::Instance());
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
  EXPECT_TRUE(source.Describe().ok());
  EXPECT_EQ(enabled_table, "users");
}

TEST(DynamoDbRecordSource, MissingTableIsNotFound) {
  FakeTable table;
  FakeStreams streams;
  SourceOptions options = Options();
  options.table = "nope";
  DynamoDbRecordSource source(options, table, streams, core::SystemClock::Instance());
  EXPECT_EQ(source.Describe().status().code(), core::StatusCode::kNotFound);
}

TEST(DynamoDbRecordSource, ListsEveryShardOfAPagedDescribeStream) {
  FakeTable table;
  FakeStreams streams;
  for (int i = 0; i < 250; ++i) streams.AddShard("shard-" + std::to_string(1000 + i));
  DynamoDbRecordSource source(Options(), table, streams, core::SystemClock::Instance());
  auto layout = source.Describe();
  ASSERT_TRUE(layout.ok()) << layout.status().ToString();
  EXPECT_EQ(layout->shards.size(), 250u);
}

TEST(DynamoDbRecordSource, FreshSeedHasSegmentsAndEveryShard) {
  FakeTable table;
  FakeStreams streams;
  streams.AddShard("closed");
  streams.CloseShard("closed");
  streams.AddShard("open", "closed");
  DynamoDbRecordSource source(Options(), table, streams, core::SystemClock::Instance());
  auto layout = source.Describe();
  ASSERT_TRUE(layout.ok());
  auto seed = source.Seed(*layout, std::nullopt);
  ASSERT_TRUE(seed.ok()) << seed.status().ToString();
  EXPECT_EQ(seed->total_segments, 2);
  ASSERT_EQ(seed->partitions.size(), 4u);
  EXPECT_EQ(seed->partitions[0].id, "scan/0");
  EXPECT_EQ(seed->partitions[1].id, "scan/1");
  EXPECT_EQ(seed->partitions[2].id, "closed");
  EXPECT_TRUE(seed->partitions[2].done) << "a shard closed before the Scan holds only changes the Scan reflects";
  EXPECT_EQ(seed->partitions[3].parent, "closed");
  EXPECT_TRUE(StreamWatermark::Parse(seed->partitions[3].position)) << "an open shard starts at the watermark";

  // Stream only, at LATEST: history is not wanted.
  SourceOptions latest = Options(false);
  latest.stream_start_at = StreamStartAt::kLatest;
  DynamoDbRecordSource stream_only(latest, table, streams, core::SystemClock::Instance());
  seed = stream_only.Seed(*layout, std::nullopt);
  ASSERT_TRUE(seed.ok());
  ASSERT_EQ(seed->partitions.size(), 2u);
  EXPECT_TRUE(seed->partitions[0].done);
  EXPECT_EQ(seed->partitions[1].position, ClaimedPartition::kLatestPosition);
}

TEST(DynamoDbRecordSource, SeedConvertsAnEarlierReleasesCheckpoint) {
  FakeTable table;
  FakeStreams streams;
  streams.AddShard("old");
  streams.CloseShard("old");
  streams.AddShard("current", "old");
  streams.AddShard("new", "current");
  DynamoDbRecordSource source(Options(), table, streams, core::SystemClock::Instance());
  auto layout = source.Describe();
  ASSERT_TRUE(layout.ok());
  SourcePosition legacy;
  legacy.set_stream_arn(layout->stream_arn);
  legacy.set_segment_count(3);
  legacy.mutable_segments()[0].done = true;
  legacy.mutable_segments()[1].last_key = testing::Key("k");
  legacy.set_snapshot_complete(false);
  legacy.set_shard_finished("old");
  legacy.set_shard_sequence_number("current", "000042");
  auto seed = source.Seed(*layout, legacy.Serialize());
  ASSERT_TRUE(seed.ok()) << seed.status().ToString();
  EXPECT_EQ(seed->total_segments, 3) << "the saved segment count is kept";
  std::map<std::string, pipeline::SeedPartition> by_id;
  for (const auto& partition : seed->partitions) by_id[partition.id] = partition;
  EXPECT_TRUE(by_id.at("scan/0").done);
  EXPECT_EQ(by_id.at("scan/1").position, R"({"id":{"S":"k"}})");
  EXPECT_EQ(by_id.at("scan/2").position, "");
  EXPECT_TRUE(by_id.at("old").done);
  EXPECT_EQ(by_id.at("current").position, "000042");
  EXPECT_EQ(by_id.at("current").parent, "old");
  EXPECT_EQ(by_id.at("new").position, "") << "a shard the checkpoint never saw starts at TRIM_HORIZON";
  EXPECT_EQ(by_id.at("new").parent, "current");
}

TEST(SegmentReader, ResumesAfterTheLastKeyWithoutRepeatingAndMarksTheEnd) {
  FakeTable table;
  for (int i = 0; i < 20; ++i) table.Put("k" + std::to_string(100 + i), 1);
  FakeStreams streams;
  DynamoDbRecordSource source(Options(), table, streams, core::SystemClock::Instance());
  ASSERT_TRUE(source.Describe().ok());
  ClaimedPartition lease;
  lease.id = "scan/0";
  lease.kind = PartitionKind::kSegment;
  lease.segment = 0;
  lease.total_segments = 1;
  core::BoundedQueue<core::Record> queue(100);
  auto reader = source.Open(lease, "", 7, &queue, nullptr);
  auto first = Collect(queue, EndsDone);
  reader->Stop();
  ASSERT_EQ(first.size(), 20u);
  EXPECT_EQ(first[0].reader_tag, 7u);
  EXPECT_TRUE(reader->status().ok());

  lease.position = first[9].position.offset;  // committed up to the 10th item
  auto resumed = source.Open(lease, "", 8, &queue, nullptr);
  auto rest = Collect(queue, EndsDone);
  resumed->Stop();
  ASSERT_EQ(rest.size(), 10u);
  for (size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(rest[i].position.offset, first[10 + i].position.offset);
}

TEST(ShardReader, ReadsToTheEndThenMarksItDone) {
  FakeTable table;
  FakeStreams streams;
  streams.set_page_size(2);
  streams.AddShard("s");
  for (int v = 1; v <= 5; ++v) streams.AddRecord("s", v == 1 ? "INSERT" : "MODIFY", "a", v);
  streams.CloseShard("s");
  DynamoDbRecordSource source(Options(false), table, streams, core::SystemClock::Instance());
  ASSERT_TRUE(source.Describe().ok());
  core::BoundedQueue<core::Record> queue(100);
  auto reader = source.Open(ShardLease("s"), "arn:aws:dynamodb:local:000:table/users/stream/1", 1, &queue, nullptr);
  auto records = Collect(queue, EndsDone);
  reader->Stop();
  ASSERT_EQ(records.size(), 6u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(records[i].metadata.shard_id, "s");
  EXPECT_EQ(records.back().operation, core::Operation::kMarker);
  EXPECT_EQ(records.back().position.offset, records[4].position.offset);
}

TEST(ShardReader, ExpiredIteratorResumesAfterTheLastSequenceNumber) {
  FakeTable table;
  FakeStreams streams;
  streams.set_page_size(2);
  streams.AddShard("s");
  for (int v = 1; v <= 6; ++v) streams.AddRecord("s", "MODIFY", "a", v);
  streams.CloseShard("s");
  streams.ExpireNextGetRecords("s", 1);
  DynamoDbRecordSource source(Options(false), table, streams, core::SystemClock::Instance());
  ASSERT_TRUE(source.Describe().ok());
  core::BoundedQueue<core::Record> queue(100);
  auto reader = source.Open(ShardLease("s"), "arn:aws:dynamodb:local:000:table/users/stream/1", 1, &queue, nullptr);
  auto records = Collect(queue, EndsDone);
  reader->Stop();
  ASSERT_EQ(records.size(), 7u) << "each change once, then the marker";
  for (int i = 1; i < 6; ++i) EXPECT_LT(records[i - 1].position.offset, records[i].position.offset);
}

TEST(ShardReader, ResumesFromAStoredSequenceNumber) {
  FakeTable table;
  FakeStreams streams;
  streams.AddShard("s");
  std::string third;
  for (int v = 1; v <= 5; ++v) {
    const std::string sequence = streams.AddRecord("s", "MODIFY", "a", v);
    if (v == 3) third = sequence;
  }
  streams.CloseShard("s");
  DynamoDbRecordSource source(Options(false), table, streams, core::SystemClock::Instance());
  ASSERT_TRUE(source.Describe().ok());
  core::BoundedQueue<core::Record> queue(100);
  auto reader = source.Open(ShardLease("s", third), "arn:aws:dynamodb:local:000:table/users/stream/1", 1, &queue, nullptr);
  auto records = Collect(queue, EndsDone);
  reader->Stop();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_GT(records[0].position.offset, third);
}

TEST(ShardReader, TrimmedDataEndsTheReaderWithTrimmedData) {
  FakeTable table;
  FakeStreams streams;
  streams.AddShard("s");
  streams.AddRecord("s", "INSERT", "a", 1);
  streams.TrimNextGetRecords("s");
  DynamoDbRecordSource source(Options(false), table, streams, core::SystemClock::Instance());
  ASSERT_TRUE(source.Describe().ok());
  core::BoundedQueue<core::Record> queue(100);
  auto reader = source.Open(ShardLease("s"), "arn:aws:dynamodb:local:000:table/users/stream/1", 1, &queue, nullptr);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (reader->status().ok() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(reader->status().code(), core::StatusCode::kTrimmedData) << reader->status().ToString();
}

TEST(ShardReader, AQuietShardBacksOffToTheCeilingAndFourTimesFurtherWhileTheRunnerReadsAScan) {
  ShardReaderOptions options;
  options.poll_interval_ms = 250;
  options.idle_poll_ceiling_ms = 1000;
  std::vector<int64_t> quiet, scanning;
  for (int empty = 0; empty < 7; ++empty) {
    quiet.push_back(ShardReader::IdleWaitMs(empty, options, false));
    scanning.push_back(ShardReader::IdleWaitMs(empty, options, true));
  }
  EXPECT_EQ(quiet, (std::vector<int64_t>{250, 500, 1000, 1000, 1000, 1000, 1000}));
  EXPECT_EQ(scanning, (std::vector<int64_t>{250, 500, 1000, 2000, 4000, 4000, 4000}));
  // A ceiling under the poll interval is the poll interval; a long quiet spell does not overflow.
  options.idle_poll_ceiling_ms = 100;
  EXPECT_EQ(ShardReader::IdleWaitMs(1000000, options, false), 250);
  EXPECT_EQ(ShardReader::IdleWaitMs(1000000, options, true), 1000);
}

TEST(ShardReader, StopUnblocksAReaderOnAFullQueue) {
  FakeTable table;
  FakeStreams streams;
  streams.AddShard("s");
  for (int v = 1; v <= 50; ++v) streams.AddRecord("s", "MODIFY", "a", v);
  DynamoDbRecordSource source(Options(false), table, streams, core::SystemClock::Instance());
  ASSERT_TRUE(source.Describe().ok());
  core::BoundedQueue<core::Record> queue(3);
  auto reader = source.Open(ShardLease("s"), "arn:aws:dynamodb:local:000:table/users/stream/1", 1, &queue, nullptr);
  while (queue.size() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  reader->Stop();  // returns: the blocked push gave up
  EXPECT_FALSE(queue.closed()) << "the queue stays open for the lane's other readers";
}

// The watermark (docs/consistency.md): the history already in the stream when the snapshot
// starts is never read; what is written after the seed is read exactly, from the iterator the
// seed took before any Scan request.
TEST(DynamoDbRecordSource, TheSnapshotsWatermarkIsTakenAtTheSeedAndTheHistoryIsNeverRead) {
  FakeTable table;
  FakeStreams streams;
  streams.AddShard("s");
  for (int i = 0; i < 5; ++i) streams.AddRecord("s", "INSERT", "history" + std::to_string(i), 1);
  DynamoDbRecordSource source(Options(), table, streams, core::SystemClock::Instance());
  auto layout = source.Describe();
  ASSERT_TRUE(layout.ok());
  auto seed = source.Seed(*layout, std::nullopt);
  ASSERT_TRUE(seed.ok()) << seed.status().ToString();
  ASSERT_EQ(seed->partitions.size(), 3u);
  const auto watermark = StreamWatermark::Parse(seed->partitions[2].position);
  ASSERT_TRUE(watermark) << seed->partitions[2].position;
  ASSERT_EQ(streams.iterator_calls().size(), 1u);
  EXPECT_EQ(streams.iterator_calls()[0].type, aws::ShardIteratorType::kLatest);
  EXPECT_EQ(table.scan_calls(), 0) << "the watermark comes before the Scan's first request";

  const std::string after = streams.AddRecord("s", "MODIFY", "history1", 2);
  streams.AddRecord("s", "INSERT", "new", 1);
  streams.CloseShard("s");
  core::BoundedQueue<core::Record> queue(100);
  auto reader = source.Open(ShardLease("s", seed->partitions[2].position), layout->stream_arn, 1, &queue, nullptr);
  auto records = Collect(queue, EndsDone);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].position.offset, after) << "the first record after the watermark, nothing before";
  EXPECT_EQ(records[1].key.Find("id")->as_string(), "new");
  EXPECT_EQ(reader->skipped_before_watermark(), 0);
  EXPECT_EQ(streams.iterator_calls().size(), 1u) << "read from the stored iterator";
}

// Its iterator is refused (older than 15 minutes, or unknown to a restarted endpoint): the shard is
// read from TRIM_HORIZON, skipping the records older than the watermark's time less the margin.
TEST(DynamoDbRecordSource, AWatermarkWhoseIteratorIsRefusedFallsBackToTrimHorizonWithATimeCutoff) {
  FakeTable table;
  FakeStreams streams;
  streams.AddShard("s");
  for (int i = 0; i < 5; ++i) streams.AddRecord("s", "INSERT", "item" + std::to_string(i), 1);
  streams.CloseShard("s");
  // The fake's records are 1 ms apart from 1700000000001: the cutoff falls on the third one.
  const int64_t cutoff = 1700000000003;
  const std::string position = StreamWatermark::Position(cutoff + StreamWatermark::kFallbackMarginMs, "gone|0");
  DynamoDbRecordSource source(Options(), table, streams, core::SystemClock::Instance());
  ASSERT_TRUE(source.Describe().ok());
  core::BoundedQueue<core::Record> queue(100);
  auto reader = source.Open(ShardLease("s", position), "arn:aws:dynamodb:local:000:table/users/stream/1", 1, &queue,
                            nullptr);
  auto records = Collect(queue, EndsDone);
  ASSERT_EQ(records.size(), 4u);  // item2, item3, item4 and the end marker
  EXPECT_EQ(records[0].key.Find("id")->as_string(), "item2");
  EXPECT_EQ(reader->skipped_before_watermark(), 2);
  ASSERT_FALSE(streams.iterator_calls().empty());
  EXPECT_EQ(streams.iterator_calls()[0].type, aws::ShardIteratorType::kTrimHorizon);
}

TEST(StreamWatermark, PositionsRoundTripAndOtherPositionsAreNotWatermarks) {
  const std::string position = StreamWatermark::Position(1733470000123, "arn:aws:x|shard:1|AAAA/b+c=");
  auto parsed = StreamWatermark::Parse(position);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->taken_ms, 1733470000123);
  EXPECT_EQ(parsed->iterator, "arn:aws:x|shard:1|AAAA/b+c=");
  for (const char* other : {"", "LATEST", "000000000000000000042", "watermark@", "watermark@12",
                            "watermark@x1:it", "watermark@:it"}) {
    EXPECT_FALSE(StreamWatermark::Parse(other)) << other;
  }
  // An export's hand-off: a time and no iterator.
  auto from_export = StreamWatermark::Parse(StreamWatermark::Position(1733470000000, ""));
  ASSERT_TRUE(from_export);
  EXPECT_EQ(from_export->taken_ms, 1733470000000);
  EXPECT_EQ(from_export->iterator, "");
  // A bridged gap's end: exact, no margin.
  auto exact = StreamWatermark::Parse(StreamWatermark::ExactPosition(1733470020000));
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->taken_ms, 1733470020000);
  EXPECT_EQ(exact->margin_ms, 0);
  EXPECT_EQ(from_export->margin_ms, StreamWatermark::kFallbackMarginMs);
  for (const char* other : {"exact@", "exact@x", "exact@12x", "exact@-5"}) EXPECT_FALSE(StreamWatermark::Parse(other)) << other;
}

// After a bridged gap (on_trimmed: incremental_export) a shard is read from TRIM_HORIZON and
// exactly the records before the gap's end are skipped: they are the gap's.
TEST(DynamoDbRecordSource, AShardAfterABridgedGapSkipsExactlyTheRecordsBeforeItsEnd) {
  FakeTable table;
  FakeStreams streams;
  streams.AddShard("s");
  for (int i = 0; i < 5; ++i) streams.AddRecord("s", "INSERT", "item" + std::to_string(i), 1);
  streams.CloseShard("s");
  DynamoDbRecordSource source(Options(), table, streams, core::SystemClock::Instance());
  auto layout = source.Describe();
  ASSERT_TRUE(layout.ok());
  // The fake's records are 1 ms apart from 1700000000001: the gap ends at the third one.
  auto shards = source.GapShards(*layout, 1700000000003);
  ASSERT_TRUE(shards.ok());
  ASSERT_EQ(shards->size(), 1u);
  EXPECT_EQ((*shards)[0].change_ms, 1700000000003);
  core::BoundedQueue<core::Record> queue(100);
  auto reader = source.Open(ShardLease("s", (*shards)[0].position), "arn:aws:dynamodb:local:000:table/users/stream/1",
                            1, &queue, nullptr);
  auto records = Collect(queue, EndsDone);
  ASSERT_EQ(records.size(), 4u);  // item2, item3, item4 and the end marker
  EXPECT_EQ(records[0].key.Find("id")->as_string(), "item2");
  EXPECT_EQ(reader->skipped_before_watermark(), 2);
  // No incremental exports configured: the gap's partitions are refused, naming the setting.
  std::atomic<bool> stop{false};
  auto gap = source.GapPartitions(1, 2, stop);
  ASSERT_FALSE(gap.ok());
  EXPECT_NE(gap.status().message().find("incremental_export"), std::string::npos);
}

}  // namespace
}  // namespace ddb2pg::source
