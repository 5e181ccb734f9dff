#include "core/status.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/bounded_queue.h"
#include "core/json_writer.h"
#include "core/record.h"

namespace ddb2pg::core {
namespace {

TEST(Status, RetryableOnlyForTransientCodes) {
  EXPECT_TRUE(Status::Unavailable("x").retryable());
  EXPECT_TRUE(Status::Throttled("x").retryable());
  EXPECT_FALSE(Status::InvalidArgument("x").retryable());
  EXPECT_FALSE(Status::NotFound("x").retryable());
  EXPECT_FALSE(Status(StatusCode::kTrimmedData, "x").retryable());
  EXPECT_FALSE(Status::Ok().retryable());
}

TEST(Status, ToStringAndContext) {
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  Status s = Status::NotFound("no table users").WithContext("DescribeTable");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NotFound: DescribeTable: no table users");
}

Result<int> Half(int n) {
  if (n % 2 != 0) return Status::InvalidArgument(std::to_string(n) + " is odd");
  return n / 2;
}

Result<int> Quarter(int n) {
  DDB2PG_ASSIGN_OR_RETURN(int half, Half(n));
  return Half(half);
}

TEST(Result, HoldsValueOrError) {
  auto ok = Quarter(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 2);
  auto bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "3 is odd");
}

TEST(BoundedQueue, BlocksProducerWhenFullAndDrainsAfterClose) {
  BoundedQueue<int> queue(2);
  EXPECT_TRUE(queue.Push(1));
  EXPECT_TRUE(queue.Push(2));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    queue.Push(3);
    pushed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(pushed.load());  // backpressure: full queue blocks
  EXPECT_EQ(queue.Pop(), 1);
  producer.join();
  EXPECT_TRUE(pushed.load());
  queue.Close();
  EXPECT_FALSE(queue.Push(4));
  EXPECT_EQ(queue.Pop(), 2);
  EXPECT_EQ(queue.Pop(), 3);
  EXPECT_EQ(queue.Pop(), std::nullopt);
}

TEST(BoundedQueue, ABytesBudgetBlocksLargeItemsLongBeforeTheItemCountWould) {
  // 100 items allowed, but only ~1000 bytes: three 600-byte items do not fit.
  BoundedQueue<std::string> queue(100, 1000, [](const std::string& s) { return s.size(); });
  EXPECT_TRUE(queue.Push(std::string(600, 'a')));
  EXPECT_TRUE(queue.Push(std::string(600, 'b')));  // under the budget before it: let in
  EXPECT_EQ(queue.bytes(), 1200u);
  std::atomic<bool> cancel{false};
  std::atomic<bool> pushed{false};
  std::thread producer([&] { pushed = queue.PushUnless(std::string(600, 'c'), cancel); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(pushed.load());  // backpressure by bytes, with 98 item slots free
  std::vector<std::string> out;
  EXPECT_EQ(queue.PopMany(&out, 2, std::chrono::milliseconds(0)), 2u);
  producer.join();
  EXPECT_TRUE(pushed.load());
  EXPECT_EQ(queue.bytes(), 600u);
  EXPECT_EQ(queue.Pop(), std::string(600, 'c'));
  EXPECT_EQ(queue.bytes(), 0u);
  // One item larger than the whole budget still passes, alone.
  EXPECT_TRUE(queue.Push(std::string(5000, 'd')));
  EXPECT_EQ(queue.size(), 1u);
}

TEST(BoundedQueue, PopForTimesOut) {
  BoundedQueue<int> queue(1);
  EXPECT_EQ(queue.PopFor(std::chrono::milliseconds(10)), std::nullopt);
  EXPECT_FALSE(queue.closed());
}

TEST(BoundedQueue, PopManyTakesInOrderUpToMax) {
  BoundedQueue<int> queue(8);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(queue.Push(i));
  std::vector<int> out;
  EXPECT_EQ(queue.PopMany(&out, 3, std::chrono::milliseconds(0)), 3u);
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(queue.PopMany(&out, 10, std::chrono::milliseconds(0)), 2u);  // appends what is left
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(queue.PopMany(&out, 10, std::chrono::milliseconds(10)), 0u);  // empty: times out
  queue.Close();
  EXPECT_EQ(queue.PopMany(&out, 10, std::chrono::seconds(10)), 0u);  // closed: returns at once
}

TEST(BoundedQueue, PopManyWakesWhenAnItemArrives) {
  BoundedQueue<int> queue(4);
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    queue.Push(7);
  });
  std::vector<int> out;
  EXPECT_EQ(queue.PopMany(&out, 4, std::chrono::seconds(10)), 1u);
  EXPECT_EQ(out, std::vector<int>{7});
  producer.join();
}

// Blocked producers are woken only once the queue has drained to half its capacity; a consumer
// taking one item at a time must still get every item, in each producer's order.
TEST(BoundedQueue, BlockedProducersResumeAfterDrainingOneAtATime) {
  constexpr int kProducers = 3;
  constexpr int kEach = 200;
  BoundedQueue<std::pair<int, int>> queue(8);
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) ASSERT_TRUE(queue.Push({p, i}));
    });
  }
  std::vector<int> next(kProducers, 0);
  for (int n = 0; n < kProducers * kEach; ++n) {
    auto item = queue.Pop();
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(item->second, next[static_cast<size_t>(item->first)]++);
  }
  for (auto& producer : producers) producer.join();
  EXPECT_EQ(queue.size(), 0u);
}

TEST(BoundedQueue, CloseReleasesBlockedProducers) {
  BoundedQueue<int> queue(1);
  ASSERT_TRUE(queue.Push(1));
  std::atomic<int> refused{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 3; ++p) {
    producers.emplace_back([&] {
      if (!queue.Push(2)) ++refused;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  queue.Close();
  for (auto& producer : producers) producer.join();
  EXPECT_EQ(refused.load(), 3);
}

TEST(JsonWriter, NestsAndEscapes) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("a").Int(1).Key("b").BeginArray().String("x\x01").Bool(false).Null().EndArray()
      .Key("c").BeginObject().EndObject().EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":["x\u0001",false,null],"c":{}})");
}

TEST(Record, ApproxBytesGrowsWithTheImagesItHolds) {
  Record small;
  small.key = Value::MakeMap({{"id", Value::String("k")}});
  small.after = Value::MakeMap({{"id", Value::String("k")}});
  Record large = small;
  large.after = Value::MakeMap({{"id", Value::String("k")},
                                {"bio", Value::String(std::string(400 * 1024, 'x'))},
                                {"tags", Value::MakeList({Value::String("a"), Value::Number("12")})}});
  EXPECT_LT(small.ApproxBytes(), 1024u);
  EXPECT_GT(large.ApproxBytes(), 400u * 1024u);
  EXPECT_LT(large.ApproxBytes(), 400u * 1024u + 4096u);
}

TEST(Record, ImageFollowsOperation) {
  Record r;
  r.operation = Operation::kDelete;
  r.before = Value::MakeMap({{"id", Value::String("old")}});
  ASSERT_NE(r.image(), nullptr);
  EXPECT_EQ(r.image()->Find("id")->as_string(), "old");
  r.operation = Operation::kUpdate;
  EXPECT_EQ(r.image(), nullptr);
  r.after = Value::MakeMap({{"id", Value::String("new")}});
  EXPECT_EQ(r.image()->Find("id")->as_string(), "new");
  EXPECT_EQ(OperationName(Operation::kSnapshot), "snapshot");
}

}  // namespace
}  // namespace ddb2pg::core
