#include "core/status.h"

#include <gtest/gtest.h>

#include <thread>

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

TEST(BoundedQueue, PopForTimesOut) {
  BoundedQueue<int> queue(1);
  EXPECT_EQ(queue.PopFor(std::chrono::milliseconds(10)), std::nullopt);
  EXPECT_FALSE(queue.closed());
}

TEST(JsonWriter, NestsAndEscapes) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("a").Int(1).Key("b").BeginArray().String("x\x01").Bool(false).Null().EndArray()
      .Key("c").BeginObject().EndObject().EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":["x\u0001",false,null],"c":{}})");
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
