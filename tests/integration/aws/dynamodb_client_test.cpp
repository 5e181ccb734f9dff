// DynamoDbClient against the real DynamoDB Local: every table and item operation.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "integration/aws/aws_test_util.h"

namespace ddb2pg::aws::integration {
namespace {

using core::StatusCode;
using core::Value;

Value Item(const std::string& id, int n) {
  return Value::MakeMap({{"id", Value::String(id)}, {"n", Value::Number(std::to_string(n))}});
}

Value Key(const std::string& id) { return Value::MakeMap({{"id", Value::String(id)}}); }

// All items of a table, one consistent segment.
std::vector<Value> ScanAll(DynamoDbClient& tables, const std::string& table) {
  std::vector<Value> items;
  ScanRequest request;
  request.table_name = table;
  request.consistent_read = true;
  while (true) {
    auto page = tables.Scan(request);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return items;
    for (auto& item : page->items) items.push_back(std::move(item));
    if (!page->last_evaluated_key.has_value()) return items;
    request.exclusive_start_key = std::move(page->last_evaluated_key);
  }
}

TEST(DynamoDbClientLocal, TableLifecycleWithStreams) {
  const ResolvedAws aws = LocalAws(ddb2pg::testing::UniqueName("ddblife"));
  DynamoDbClient tables = MakeTables(aws);
  const std::string table = "lifecycle";

  auto created = tables.CreateTable(HashKeyTable(table, "NEW_AND_OLD_IMAGES"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->table_name, table);
  auto active = tables.WaitForTableActive(table);
  ASSERT_TRUE(active.ok()) << active.status().ToString();

  auto described = tables.DescribeTable(table);
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->table_status, "ACTIVE");
  ASSERT_EQ(described->key_schema.size(), 1u);
  EXPECT_EQ(described->key_schema[0].attribute_name, "id");
  EXPECT_EQ(described->key_schema[0].key_type, "HASH");
  ASSERT_EQ(described->attribute_definitions.size(), 1u);
  EXPECT_EQ(described->attribute_definitions[0].attribute_type, "S");
  EXPECT_TRUE(described->stream_enabled);
  EXPECT_EQ(described->stream_view_type, "NEW_AND_OLD_IMAGES");
  const std::string first_arn = described->latest_stream_arn;
  EXPECT_NE(first_arn.find(table), std::string::npos) << first_arn;

  // Creating it again is a conflict, not a retryable error.
  auto again = tables.CreateTable(HashKeyTable(table));
  EXPECT_EQ(again.status().code(), StatusCode::kConflict) << again.status().ToString();
  EXPECT_NE(again.status().message().find("CreateTable lifecycle: ResourceInUseException"), std::string::npos)
      << again.status().message();

  auto disabled = tables.UpdateStream(table, false, "");
  ASSERT_TRUE(disabled.ok()) << disabled.status().ToString();
  described = tables.DescribeTable(table);
  ASSERT_TRUE(described.ok());
  EXPECT_FALSE(described->stream_enabled);

  auto enabled = tables.UpdateStream(table, true, "KEYS_ONLY");
  ASSERT_TRUE(enabled.ok()) << enabled.status().ToString();
  ASSERT_TRUE(tables.WaitForTableActive(table).ok());
  described = tables.DescribeTable(table);
  ASSERT_TRUE(described.ok());
  EXPECT_TRUE(described->stream_enabled);
  EXPECT_EQ(described->stream_view_type, "KEYS_ONLY");
  EXPECT_NE(described->latest_stream_arn, first_arn);  // re-enabling makes a new stream

  ASSERT_TRUE(tables.DeleteTable(table).ok());
  auto gone = tables.DescribeTable(table);
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
}

TEST(DynamoDbClientLocal, PutUpdateDeleteItems) {
  const ResolvedAws aws = LocalAws(ddb2pg::testing::UniqueName("ddbitems"));
  DynamoDbClient tables = MakeTables(aws);
  const std::string table = "items";
  ASSERT_TRUE(tables.CreateTable(HashKeyTable(table)).ok());
  ASSERT_TRUE(tables.WaitForTableActive(table).ok());

  const Value full = Value::MakeMap({
      {"id", Value::String("u-1")},
      {"name", Value::String("Ada \"the\" Lovelace ✓")},
      {"score", Value::Number("12345678901234567890.123456789")},
      {"active", Value::Bool(true)},
      {"nothing", Value::Null()},
      {"blob", Value::Binary(std::string("\0\x01\xff", 3))},
      {"tags", Value::StringSet({"b", "a"})},
      {"profile", Value::MakeMap({{"level", Value::Number("3")},
                                  {"history", Value::MakeList({Value::String("x"), Value::Number("-1.5")})}})},
  });
  ASSERT_TRUE(tables.PutItem(table, full).ok());
  ASSERT_TRUE(tables.PutItem(table, Item("u-2", 2)).ok());

  auto items = ScanAll(tables, table);
  ASSERT_EQ(items.size(), 2u);
  const Value* stored = nullptr;
  for (const auto& item : items) {
    if (item.Find("id")->as_string() == "u-1") stored = &item;
  }
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(Canonical(*stored), Canonical(full)) << stored->DebugString();

  UpdateItemRequest update;
  update.table_name = table;
  update.key = Key("u-2");
  update.update_expression = "SET #n = #n + :one, #s = :status";
  update.expression_attribute_names = {{"#n", "n"}, {"#s", "status"}};
  update.expression_attribute_values = {{":one", Value::Number("1")}, {":status", Value::String("ok")}};
  update.condition_expression = "attribute_exists(id)";
  ASSERT_TRUE(tables.UpdateItem(update).ok());

  // A failed condition is a conflict, final.
  update.key = Key("u-404");
  const core::Status failed = tables.UpdateItem(update);
  EXPECT_EQ(failed.code(), StatusCode::kConflict) << failed.ToString();
  EXPECT_NE(failed.message().find("UpdateItem items: ConditionalCheckFailedException"), std::string::npos)
      << failed.message();

  ASSERT_TRUE(tables.DeleteItem(table, Key("u-1")).ok());

  ScanRequest projected;
  projected.table_name = table;
  projected.consistent_read = true;
  projected.projection_expression = "id, #n, #s";
  projected.expression_attribute_names = {{"#n", "n"}, {"#s", "status"}};
  auto page = tables.Scan(projected);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 1u);
  const Value expected = Value::MakeMap(
      {{"id", Value::String("u-2")}, {"n", Value::Number("3")}, {"status", Value::String("ok")}});
  EXPECT_EQ(Canonical(page->items[0]), Canonical(expected)) << page->items[0].DebugString();
}

TEST(DynamoDbClientLocal, MissingTableIsNotFoundNamingTheTable) {
  const ResolvedAws aws = LocalAws(ddb2pg::testing::UniqueName("ddbmissing"));
  DynamoDbClient tables = MakeTables(aws);
  auto described = tables.DescribeTable("no_such_table");
  EXPECT_EQ(described.status().code(), StatusCode::kNotFound);
  EXPECT_NE(described.status().message().find("DescribeTable no_such_table: ResourceNotFoundException"),
            std::string::npos)
      << described.status().message();

  ScanRequest scan;
  scan.table_name = "no_such_table";
  auto page = tables.Scan(scan);
  EXPECT_EQ(page.status().code(), StatusCode::kNotFound);
  EXPECT_NE(page.status().message().find("Scan no_such_table"), std::string::npos) << page.status().message();

  const core::Status put = tables.PutItem("no_such_table", Item("a", 1));
  EXPECT_EQ(put.code(), StatusCode::kNotFound);
  EXPECT_NE(put.message().find("no_such_table"), std::string::npos);
  EXPECT_EQ(tables.retry_stats().retries(), 0u);
}

TEST(DynamoDbClientLocal, InvalidRequestIsInvalidArgument) {
  const ResolvedAws aws = LocalAws(ddb2pg::testing::UniqueName("ddbinvalid"));
  DynamoDbClient tables = MakeTables(aws);
  CreateTableRequest bad = HashKeyTable("bad");
  bad.attribute_definitions = {{"other", "S"}};  // the key attribute is not defined
  auto created = tables.CreateTable(bad);
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument) << created.status().ToString();
  EXPECT_NE(created.status().message().find("CreateTable bad: ValidationException"), std::string::npos)
      << created.status().message();
}

TEST(DynamoDbClientLocal, ParallelScanOfFourSegmentsReturnsEveryItemOnce) {
  const ResolvedAws aws = LocalAws(ddb2pg::testing::UniqueName("ddbscan"));
  DynamoDbClient tables = MakeTables(aws);
  const std::string table = "scanned";
  ASSERT_TRUE(tables.CreateTable(HashKeyTable(table)).ok());
  ASSERT_TRUE(tables.WaitForTableActive(table).ok());

  constexpr int kItems = 3000;
  std::vector<WriteRequest> writes;
  for (int i = 0; i < kItems; ++i) writes.push_back({Item("item-" + std::to_string(i), i), std::nullopt});
  ASSERT_TRUE(tables.BatchWriteItem(table, writes).ok());

  constexpr int kSegments = 4;
  std::mutex mutex;
  std::map<std::string, int> seen;  // id → times seen
  std::vector<int> pages(kSegments, 0);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int segment = 0; segment < kSegments; ++segment) {
    threads.emplace_back([&, segment] {
      ScanRequest request;
      request.table_name = table;
      request.segment = segment;
      request.total_segments = kSegments;
      request.limit = 200;  // several pages per segment, so ExclusiveStartKey is exercised
      while (true) {
        auto page = tables.Scan(request);
        if (!page.ok()) {
          failures.fetch_add(1);
          ADD_FAILURE() << page.status().ToString();
          return;
        }
        {
          std::lock_guard lock(mutex);
          ++pages[segment];
          for (const auto& item : page->items) {
            const Value* n = item.Find("n");
            if (n == nullptr || n->number_text() != item.Find("id")->as_string().substr(5)) failures.fetch_add(1);
            ++seen[item.Find("id")->as_string()];
          }
        }
        if (!page->last_evaluated_key.has_value()) return;
        request.exclusive_start_key = std::move(page->last_evaluated_key);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ figures  ] parallel scan: " << kItems << " items, " << kSegments << " segments, Limit 200: "
            << static_cast<int>(kItems / seconds) << " items/s\n";

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kItems));
  for (const auto& [id, times] : seen) EXPECT_EQ(times, 1) << id;
  for (int segment = 0; segment < kSegments; ++segment) EXPECT_GT(pages[segment], 1) << "segment " << segment;
}

}  // namespace
}  // namespace ddb2pg::aws::integration
