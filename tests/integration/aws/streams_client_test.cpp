// StreamsClient against the real DynamoDB Local: ListStreams, DescribeStream (paging, child
// filter), every GetShardIterator type, GetRecords, and a 10,000-item write read back from the
// stream.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include "integration/aws/aws_test_util.h"

namespace ddb2pg::aws::integration {
namespace {

using core::StatusCode;
using core::Value;

std::string Id(int i) {
  char id[32];
  std::snprintf(id, sizeof(id), "user-%05d", i);
  return id;
}

// An item with every attribute type, its content derived from `i` so the reader can check it.
Value RichItem(int i) {
  return Value::MakeMap({
      {"id", Value::String(Id(i))},
      {"seq", Value::Number(std::to_string(i))},
      {"name", Value::String("Näme \"" + std::to_string(i) + "\"\n✓")},
      {"balance", Value::Number("-" + std::to_string(i) + ".25")},
      {"active", Value::Bool(i % 2 == 0)},
      {"deleted_at", Value::Null()},
      {"avatar", Value::Binary(std::string("\x89PNG\0", 5) + std::to_string(i))},
      {"roles", Value::StringSet({"reader", "writer-" + std::to_string(i % 7)})},
      {"appearance", Value::MakeMap({{"theme", Value::String(i % 3 == 0 ? "dark" : "light")},
                                     {"sizes", Value::MakeList({Value::Number(std::to_string(i % 10)),
                                                                Value::String("xl")})}})},
  });
}

struct StreamTable {
  std::string table;
  std::string stream_arn;
};

StreamTable CreateStreamTable(DynamoDbClient& tables, const std::string& table, const std::string& view_type) {
  auto created = tables.CreateTable(HashKeyTable(table, view_type));
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  auto active = tables.WaitForTableActive(table);
  EXPECT_TRUE(active.ok()) << active.status().ToString();
  if (!active.ok()) return {table, ""};
  return {table, active->latest_stream_arn};
}

// Reads a shard from `iterator` until it reports no more records (closed, or caught up: an open
// shard returns empty pages at its end).
std::vector<StreamRecord> ReadShard(StreamsClient& streams, std::string iterator, size_t expect_at_least) {
  std::vector<StreamRecord> records;
  int empty_pages = 0;
  for (int call = 0; call < 10000; ++call) {
    auto page = streams.GetRecords(iterator, 1000);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) break;
    if (page->records.empty()) {
      ++empty_pages;
    } else {
      empty_pages = 0;
    }
    for (auto& record : page->records) records.push_back(std::move(record));
    if (!page->next_shard_iterator.has_value()) break;
    iterator = std::move(*page->next_shard_iterator);
    if (records.size() >= expect_at_least && empty_pages > 0) break;
    if (empty_pages >= 3) break;
  }
  return records;
}

TEST(StreamsClientLocal, BatchWriteTenThousandItemsAndReadEveryInsertFromTheStream) {
  const ResolvedAws aws = LocalAws(ddb2pg::testing::UniqueName("strbulk"));
  DynamoDbClient tables = MakeTables(aws);
  StreamsClient streams = MakeStreams(aws);
  const StreamTable stream = CreateStreamTable(tables, "bulk", "NEW_AND_OLD_IMAGES");
  ASSERT_FALSE(stream.stream_arn.empty());

  constexpr int kItems = 10000;
  std::vector<WriteRequest> writes;
  writes.reserve(kItems);
  for (int i = 0; i < kItems; ++i) writes.push_back({RichItem(i), std::nullopt});
  auto start = std::chrono::steady_clock::now();
  const core::Status written = tables.BatchWriteItem("bulk", writes);
  ASSERT_TRUE(written.ok()) << written.ToString();
  const double write_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  auto listed = streams.ListStreams("bulk");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].stream_arn, stream.stream_arn);
  EXPECT_EQ((*listed)[0].table_name, "bulk");

  DescribeStreamRequest describe;
  describe.stream_arn = stream.stream_arn;
  auto description = streams.DescribeAllShards(describe);
  ASSERT_TRUE(description.ok()) << description.status().ToString();
  ASSERT_FALSE(description->shards.empty());
  EXPECT_EQ(description->stream_status, "ENABLED");
  EXPECT_EQ(description->stream_view_type, "NEW_AND_OLD_IMAGES");
  EXPECT_EQ(description->table_name, "bulk");

  // Parents before children, as the stream reader must.
  std::set<std::string> known;
  for (const auto& shard : description->shards) known.insert(shard.shard_id);
  std::vector<ShardDescription> order;
  std::set<std::string> done;
  while (order.size() < description->shards.size()) {
    const size_t before = order.size();
    for (const auto& shard : description->shards) {
      if (done.count(shard.shard_id)) continue;
      if (shard.parent_shard_id.empty() || !known.count(shard.parent_shard_id) || done.count(shard.parent_shard_id)) {
        order.push_back(shard);
        done.insert(shard.shard_id);
      }
    }
    ASSERT_GT(order.size(), before) << "shard lineage has a cycle";
  }

  start = std::chrono::steady_clock::now();
  std::vector<StreamRecord> records;
  for (const auto& shard : order) {
    auto iterator =
        streams.GetShardIterator(stream.stream_arn, shard.shard_id, ShardIteratorType::kTrimHorizon, "");
    ASSERT_TRUE(iterator.ok()) << iterator.status().ToString();
    auto shard_records = ReadShard(streams, *iterator, kItems - records.size());
    // Sequence numbers grow within a shard (compared as numbers: equal-length digit strings).
    for (size_t i = 1; i < shard_records.size(); ++i) {
      const auto& a = shard_records[i - 1].sequence_number;
      const auto& b = shard_records[i].sequence_number;
      ASSERT_TRUE(a.size() < b.size() || (a.size() == b.size() && a < b)) << a << " then " << b;
    }
    for (auto& record : shard_records) records.push_back(std::move(record));
  }
  const double read_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ figures  ] BatchWriteItem " << kItems << " items with stream: " << static_cast<int>(kItems / write_seconds)
            << " items/s; stream read (" << description->shards.size() << " shard(s), GetRecords Limit 1000): "
            << static_cast<int>(records.size() / read_seconds) << " records/s; retries "
            << tables.retry_stats().retries() << ", unprocessed items re-sent "
            << tables.retry_stats().unprocessed_items() << "\n";

  ASSERT_EQ(records.size(), static_cast<size_t>(kItems));
  std::set<std::string> ids;
  for (const auto& record : records) {
    ASSERT_EQ(record.event_name, "INSERT");
    ASSERT_TRUE(record.keys.is_map());
    const Value* key = record.keys.Find("id");
    ASSERT_NE(key, nullptr);
    ASSERT_TRUE(record.new_image.has_value()) << key->as_string();
    EXPECT_FALSE(record.old_image.has_value()) << key->as_string();
    EXPECT_FALSE(record.sequence_number.empty());
    EXPECT_GT(record.approximate_creation_time_ms, 1700000000000);
    const int i = std::stoi(key->as_string().substr(5));
    ASSERT_EQ(Canonical(*record.new_image), Canonical(RichItem(i))) << record.new_image->DebugString();
    EXPECT_TRUE(ids.insert(key->as_string()).second) << "duplicate " << key->as_string();
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kItems));
}

TEST(StreamsClientLocal, EveryShardIteratorType) {
  const ResolvedAws aws = LocalAws(ddb2pg::testing::UniqueName("striter"));
  DynamoDbClient tables = MakeTables(aws);
  StreamsClient streams = MakeStreams(aws);
  const StreamTable stream = CreateStreamTable(tables, "iter", "NEW_AND_OLD_IMAGES");
  ASSERT_FALSE(stream.stream_arn.empty());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(tables.PutItem("iter", RichItem(i)).ok());
  // An update and a delete: MODIFY carries both images, REMOVE the old one.
  UpdateItemRequest update;
  update.table_name = "iter";
  update.key = Value::MakeMap({{"id", Value::String(Id(0))}});
  update.update_expression = "SET active = :a";
  update.expression_attribute_values = {{":a", Value::Bool(false)}};
  ASSERT_TRUE(tables.UpdateItem(update).ok());
  ASSERT_TRUE(tables.DeleteItem("iter", Value::MakeMap({{"id", Value::String(Id(1))}})).ok());

  DescribeStreamRequest describe;
  describe.stream_arn = stream.stream_arn;
  auto description = streams.DescribeStream(describe);
  ASSERT_TRUE(description.ok()) << description.status().ToString();
  ASSERT_EQ(description->shards.size(), 1u);  // DynamoDB Local 3.3.1: one shard per stream
  const std::string shard_id = description->shards[0].shard_id;
  EXPECT_FALSE(description->shards[0].starting_sequence_number.empty());

  auto trim = streams.GetShardIterator(stream.stream_arn, shard_id, ShardIteratorType::kTrimHorizon, "");
  ASSERT_TRUE(trim.ok()) << trim.status().ToString();
  auto all = ReadShard(streams, *trim, 5);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[3].event_name, "MODIFY");
  ASSERT_TRUE(all[3].old_image.has_value() && all[3].new_image.has_value());
  EXPECT_EQ(all[3].old_image->Find("active")->as_bool(), true);
  EXPECT_EQ(all[3].new_image->Find("active")->as_bool(), false);
  EXPECT_EQ(all[4].event_name, "REMOVE");
  EXPECT_TRUE(all[4].old_image.has_value());
  EXPECT_FALSE(all[4].new_image.has_value());

  auto at = streams.GetShardIterator(stream.stream_arn, shard_id, ShardIteratorType::kAtSequenceNumber,
                                     all[1].sequence_number);
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  auto from_second = ReadShard(streams, *at, 4);
  ASSERT_EQ(from_second.size(), 4u);
  EXPECT_EQ(from_second[0].sequence_number, all[1].sequence_number);

  auto after = streams.GetShardIterator(stream.stream_arn, shard_id, ShardIteratorType::kAfterSequenceNumber,
                                        all[1].sequence_number);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  auto after_second = ReadShard(streams, *after, 3);
  ASSERT_EQ(after_second.size(), 3u);
  EXPECT_EQ(after_second[0].sequence_number, all[2].sequence_number);

  auto latest = streams.GetShardIterator(stream.stream_arn, shard_id, ShardIteratorType::kLatest, "");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  auto empty = streams.GetRecords(*latest, 100);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->records.empty());
  ASSERT_TRUE(empty->next_shard_iterator.has_value());  // the shard is open
  ASSERT_TRUE(tables.PutItem("iter", RichItem(9)).ok());
  auto newest = ReadShard(streams, *empty->next_shard_iterator, 1);
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(newest[0].keys.Find("id")->as_string(), Id(9));
}

TEST(StreamsClientLocal, DescribeStreamPagingChildFilterAndDisabledStream) {
  const ResolvedAws aws = LocalAws(ddb2pg::testing::UniqueName("strdesc"));
  DynamoDbClient tables = MakeTables(aws);
  StreamsClient streams = MakeStreams(aws);
  const StreamTable first = CreateStreamTable(tables, "first", "KEYS_ONLY");
  const StreamTable second = CreateStreamTable(tables, "second", "NEW_IMAGE");
  ASSERT_FALSE(first.stream_arn.empty());
  ASSERT_FALSE(second.stream_arn.empty());

  auto everything = streams.ListStreams("");
  ASSERT_TRUE(everything.ok()) << everything.status().ToString();
  std::set<std::string> arns;
  for (const auto& summary : *everything) arns.insert(summary.stream_arn);
  EXPECT_TRUE(arns.count(first.stream_arn));
  EXPECT_TRUE(arns.count(second.stream_arn));
  auto only_second = streams.ListStreams("second");
  ASSERT_TRUE(only_second.ok());
  ASSERT_EQ(only_second->size(), 1u);
  EXPECT_EQ((*only_second)[0].stream_arn, second.stream_arn);

  DescribeStreamRequest describe;
  describe.stream_arn = first.stream_arn;
  describe.limit = 1;
  auto all = streams.DescribeAllShards(describe);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_FALSE(all->shards.empty());
  EXPECT_EQ(all->stream_view_type, "KEYS_ONLY");

  // A root shard has no children yet.
  describe.limit = 100;
  describe.child_shards_of = all->shards[0].shard_id;
  auto children = streams.DescribeStream(describe);
  ASSERT_TRUE(children.ok()) << children.status().ToString();
  EXPECT_TRUE(children->shards.empty()) << children->shards.size() << " children";

  // Disabling closes the stream; its description stays readable.
  ASSERT_TRUE(tables.UpdateStream("first", false, "").ok());
  describe.child_shards_of.clear();
  auto disabled = streams.DescribeStream(describe);
  ASSERT_TRUE(disabled.ok()) << disabled.status().ToString();
  EXPECT_TRUE(disabled->stream_status == "DISABLED" || disabled->stream_status == "DISABLING")
      << disabled->stream_status;
}

TEST(StreamsClientLocal, ErrorsNameTheStreamAndKeepTheirKinds) {
  const ResolvedAws aws = LocalAws(ddb2pg::testing::UniqueName("strerr"));
  DynamoDbClient tables = MakeTables(aws);
  StreamsClient streams = MakeStreams(aws);
  const StreamTable stream = CreateStreamTable(tables, "errs", "NEW_IMAGE");
  ASSERT_FALSE(stream.stream_arn.empty());

  // A stream ARN of a table that does not exist.
  std::string missing_arn = stream.stream_arn;
  missing_arn.replace(missing_arn.find("table/errs"), 10, "table/nope");
  DescribeStreamRequest describe;
  describe.stream_arn = missing_arn;
  auto described = streams.DescribeStream(describe);
  EXPECT_EQ(described.status().code(), StatusCode::kNotFound) << described.status().ToString();
  EXPECT_NE(described.status().message().find("DescribeStream " + missing_arn), std::string::npos)
      << described.status().message();

  auto bad_shard = streams.GetShardIterator(stream.stream_arn, "shardId-00000000000000000000-00000000",
                                            ShardIteratorType::kTrimHorizon, "");
  EXPECT_FALSE(bad_shard.ok());
  EXPECT_FALSE(bad_shard.status().retryable()) << bad_shard.status().ToString();
  EXPECT_NE(bad_shard.status().message().find("GetShardIterator " + stream.stream_arn), std::string::npos)
      << bad_shard.status().message();

  auto garbage = streams.GetRecords("not-an-iterator", 10);
  EXPECT_FALSE(garbage.ok());
  EXPECT_FALSE(garbage.status().retryable()) << garbage.status().ToString();
  EXPECT_NE(garbage.status().message().find("GetRecords (shard iterator)"), std::string::npos)
      << garbage.status().message();
  EXPECT_EQ(streams.retry_stats().retries(), 0u);
}

}  // namespace
}  // namespace ddb2pg::aws::integration
