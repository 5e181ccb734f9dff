// Retries, backoff and paging of the AWS clients, against a scripted transport and a fake clock.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "aws/dynamodb_client.h"
#include "aws/retry_policy.h"
#include "aws/streams_client.h"
#include "core/value_json.h"
#include "unit/aws/fake_aws.h"

namespace ddb2pg::aws {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using testing::AwsErrorReply;
using testing::FakeAws;
using testing::FakeClock;
using testing::Reply;

constexpr const char* kTableBody =
    R"({"Table":{"TableName":"users","TableStatus":"ACTIVE","ItemCount":7,"TableSizeBytes":900,)"
    R"("KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],)"
    R"("AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],)"
    R"("StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"},)"
    R"("LatestStreamArn":"arn:aws:dynamodb:us-east-1:000000000000:table/users/stream/2026-01-01T00:00:00.000"}})";

// Full jitter at its ceiling, so the sleeps are exactly the bounds.
RetryPolicy MaxJitterPolicy(RetryOptions options = {}) {
  return RetryPolicy(options, [] { return 0.999999; });
}

simdjson::dom::element ParseBody(simdjson::dom::parser& parser, const std::string& body) {
  return parser.parse(body).value();
}

TEST(RetryPolicy, BackoffCeilingDoublesFromBaseAndStopsAtCap) {
  RetryPolicy policy;
  EXPECT_EQ(policy.BackoffCeiling(1), milliseconds(50));
  EXPECT_EQ(policy.BackoffCeiling(2), milliseconds(100));
  EXPECT_EQ(policy.BackoffCeiling(3), milliseconds(200));
  EXPECT_EQ(policy.BackoffCeiling(7), milliseconds(3200));
  EXPECT_EQ(policy.BackoffCeiling(8), milliseconds(5000));
  EXPECT_EQ(policy.BackoffCeiling(1000), milliseconds(5000));
}

TEST(RetryPolicy, FullJitterStaysWithinTheCeiling) {
  RetryPolicy policy;  // the real thread-local generator
  bool saw_below_half = false;
  for (int retry = 1; retry <= 12; ++retry) {
    for (int i = 0; i < 200; ++i) {
      const nanoseconds sleep = policy.Backoff(retry);
      EXPECT_GE(sleep.count(), 0);
      EXPECT_LE(sleep, policy.BackoffCeiling(retry));
      if (sleep < policy.BackoffCeiling(retry) / 2) saw_below_half = true;
    }
  }
  EXPECT_TRUE(saw_below_half) << "jitter should spread sleeps over the whole range";
}

TEST(RetryPolicy, JitterSourceOutOfRangeIsClamped) {
  RetryPolicy policy(RetryOptions{}, [] { return 7.0; });
  EXPECT_EQ(policy.Backoff(2), milliseconds(100));
}

TEST(RetryLoop, FinalStatusIsReturnedUnchangedWithoutSleeping) {
  FakeClock clock;
  RetryStats stats;
  RetryPolicy policy;
  RetryLoop loop(policy, AwsOperation::kScan, clock, stats);
  const core::Status status = loop.OnFailure(core::Status::NotFound("Scan t: gone"));
  EXPECT_EQ(status.code(), core::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "Scan t: gone");
  EXPECT_TRUE(clock.sleeps().empty());
  EXPECT_EQ(stats.retries(), 0u);
}

TEST(DynamoDbClientRetry, ThrottledTwiceThenSuccessTakesThreeAttemptsWithGrowingSleeps) {
  FakeAws fake;
  FakeClock clock;
  fake.Script(AwsErrorReply(400, "ProvisionedThroughputExceededException", "The level of configured throughput was exceeded"));
  fake.Script(AwsErrorReply(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."));
  fake.Script(Reply(200, kTableBody));
  DynamoDbClient client(testing::TestAws(), MaxJitterPolicy(), clock, fake.Factory());

  auto table = client.DescribeTable("users");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->table_name, "users");
  EXPECT_EQ(fake.request_count(), 3u);
  const auto sleeps = clock.sleeps();
  ASSERT_EQ(sleeps.size(), 2u);
  EXPECT_GT(sleeps[1], sleeps[0]);
  EXPECT_LE(sleeps[0], milliseconds(50));
  EXPECT_LE(sleeps[1], milliseconds(100));
  EXPECT_GT(sleeps[1], milliseconds(99));
  EXPECT_EQ(client.retry_stats().retries(core::StatusCode::kThrottled), 2u);
  EXPECT_EQ(client.retry_stats().retries(AwsOperation::kDescribeTable), 2u);
  EXPECT_EQ(client.retry_stats().retries(AwsOperation::kScan), 0u);
  EXPECT_EQ(client.retry_stats().gave_up(), 0u);
}

TEST(DynamoDbClientRetry, RandomJitterSleepsStayWithinTheirBounds) {
  FakeAws fake;
  FakeClock clock;
  for (int i = 0; i < 6; ++i) fake.Script(AwsErrorReply(400, "RequestLimitExceeded", "Throughput exceeds the account limit"));
  fake.Script(Reply(200, kTableBody));
  RetryPolicy policy;
  DynamoDbClient client(testing::TestAws(), policy, clock, fake.Factory());
  ASSERT_TRUE(client.DescribeTable("users").ok());
  const auto sleeps = clock.sleeps();
  ASSERT_EQ(sleeps.size(), 6u);
  for (size_t i = 0; i < sleeps.size(); ++i) {
    EXPECT_LE(sleeps[i], policy.BackoffCeiling(static_cast<int>(i) + 1)) << "retry " << i + 1;
  }
}

TEST(DynamoDbClientRetry, ValidationExceptionIsTriedExactlyOnce) {
  FakeAws fake;
  FakeClock clock;
  fake.Script(AwsErrorReply(400, "ValidationException", "1 validation error detected"));
  fake.Script(Reply(200, kTableBody));  // must never be reached
  DynamoDbClient client(testing::TestAws(), MaxJitterPolicy(), clock, fake.Factory());

  auto table = client.DescribeTable("users");
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(table.status().message(), "DescribeTable users: ValidationException: 1 validation error detected");
  EXPECT_EQ(fake.request_count(), 1u);
  EXPECT_TRUE(clock.sleeps().empty());
  EXPECT_EQ(client.retry_stats().retries(), 0u);
}

TEST(DynamoDbClientRetry, ServerErrorIsRetried) {
  FakeAws fake;
  FakeClock clock;
  fake.Script(Reply(500, "<html>Internal Server Error</html>"));
  fake.Script(AwsErrorReply(500, "InternalServerError", "Internal server error"));
  fake.Script(Reply(503, ""));
  fake.Script(Reply(200, kTableBody));
  DynamoDbClient client(testing::TestAws(), MaxJitterPolicy(), clock, fake.Factory());
  ASSERT_TRUE(client.DescribeTable("users").ok());
  EXPECT_EQ(fake.request_count(), 4u);
  EXPECT_EQ(client.retry_stats().retries(core::StatusCode::kUnavailable), 3u);
}

TEST(DynamoDbClientRetry, TransportFailureIsRetriedOnAFreshTransport) {
  FakeAws fake;
  FakeClock clock;
  fake.Script(core::Status::Unavailable("HTTP request to http://dynamodb.test:8000/ failed: Couldn't connect to server"));
  fake.Script(Reply(200, kTableBody));
  DynamoDbClient client(testing::TestAws(), MaxJitterPolicy(), clock, fake.Factory());
  ASSERT_TRUE(client.DescribeTable("users").ok());
  EXPECT_EQ(fake.request_count(), 2u);
  EXPECT_EQ(fake.transports_made(), 2);  // the failed one was dropped, not pooled
  fake.Script(Reply(200, kTableBody));
  ASSERT_TRUE(client.DescribeTable("users").ok());
  EXPECT_EQ(fake.transports_made(), 2);  // the good one was pooled and reused
}

TEST(DynamoDbClientRetry, RetryableErrorForeverStopsAtTheDeadline) {
  FakeAws fake;
  FakeClock clock;
  fake.SetResponder([&](const HttpRequest&) {
    clock.Advance(milliseconds(20));  // each request takes a while too
    return AwsErrorReply(400, "ThrottlingException", "Rate exceeded");
  });
  RetryOptions options;
  options.max_attempts = 1000;
  options.deadline = milliseconds(10000);
  DynamoDbClient client(testing::TestAws(), MaxJitterPolicy(options), clock, fake.Factory());

  const auto start = clock.Monotonic();
  auto table = client.DescribeTable("users");
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_LE(clock.Monotonic() - start, milliseconds(10000));
  EXPECT_GT(clock.Monotonic() - start, milliseconds(5000));  // it did keep trying for a while
  EXPECT_NE(table.status().message().find("DescribeTable users: ThrottlingException: Rate exceeded"), std::string::npos)
      << table.status().message();
  EXPECT_NE(table.status().message().find("retry deadline reached"), std::string::npos) << table.status().message();
  EXPECT_LT(fake.request_count(), 1000u);
  EXPECT_EQ(client.retry_stats().gave_up(AwsOperation::kDescribeTable), 1u);
  EXPECT_EQ(client.retry_stats().retries(core::StatusCode::kThrottled), fake.request_count() - 1);
}

TEST(DynamoDbClientRetry, AttemptLimitStopsRetries) {
  FakeAws fake;
  FakeClock clock;
  fake.SetResponder([](const HttpRequest&) { return Reply(503, ""); });
  RetryOptions options;
  options.max_attempts = 4;
  DynamoDbClient client(testing::TestAws(), MaxJitterPolicy(options), clock, fake.Factory());
  auto table = client.DescribeTable("users");
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_NE(table.status().message().find("DescribeTable users: HTTP 503"), std::string::npos);
  EXPECT_NE(table.status().message().find("after 4 attempts"), std::string::npos) << table.status().message();
  EXPECT_EQ(fake.request_count(), 4u);
  EXPECT_EQ(clock.sleeps().size(), 3u);
}

TEST(DynamoDbClientRetry, EachAttemptIsSignedAfreshAtItsOwnTime) {
  FakeAws fake;
  FakeClock clock;
  int calls = 0;
  fake.SetResponder([&](const HttpRequest&) {
    clock.Advance(std::chrono::seconds(2));
    return ++calls == 1 ? AwsErrorReply(400, "ThrottlingException", "slow down") : Reply(200, kTableBody);
  });
  DynamoDbClient client(testing::TestAws(), MaxJitterPolicy(), clock, fake.Factory());
  ASSERT_TRUE(client.DescribeTable("users").ok());
  const auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(testing::HeaderValue(requests[0], "X-Amz-Date"), "20260101T000000Z");
  EXPECT_EQ(testing::HeaderValue(requests[1], "X-Amz-Date"), "20260101T000002Z");
  for (const auto& request : requests) {
    int authorizations = 0;
    for (const auto& header : request.headers) authorizations += header.first == "Authorization" ? 1 : 0;
    EXPECT_EQ(authorizations, 1);
  }
  EXPECT_NE(testing::HeaderValue(requests[0], "Authorization"), testing::HeaderValue(requests[1], "Authorization"));
}

TEST(DynamoDbClientRetry, ManyThreadsNeverShareATransport) {
  FakeAws fake;
  FakeClock clock;
  fake.SetResponder([](const HttpRequest&) {
    std::this_thread::yield();
    return Reply(200, kTableBody);
  });
  DynamoDbClient client(testing::TestAws(), RetryPolicy(), clock, fake.Factory());
  constexpr int kThreads = 6;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (!client.DescribeTable("users").ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_FALSE(fake.concurrent_use_seen());
  EXPECT_LE(fake.transports_made(), kThreads);
  EXPECT_EQ(fake.request_count(), static_cast<size_t>(kThreads * 200));
}

core::Value TestItem(int i) {
  return core::Value::MakeMap({{"id", core::Value::String("item-" + std::to_string(i))},
                               {"n", core::Value::Number(std::to_string(i))}});
}

std::vector<std::string> PutIds(simdjson::dom::parser& parser, const std::string& body, const std::string& table) {
  std::vector<std::string> ids;
  auto writes = ParseBody(parser, body)["RequestItems"][table].get_array();
  EXPECT_EQ(writes.error(), simdjson::SUCCESS) << body;
  if (writes.error() != simdjson::SUCCESS) return ids;
  for (auto write : writes.value()) {
    auto put = write["PutRequest"]["Item"]["id"]["S"].get_string();
    if (put.error() == simdjson::SUCCESS) {
      ids.emplace_back(put.value());
    } else {
      ids.push_back("delete:" + std::string(write["DeleteRequest"]["Key"]["id"]["S"].get_string().value()));
    }
  }
  return ids;
}

TEST(BatchWriteItem, ResendsExactlyTheUnprocessedItems) {
  FakeAws fake;
  FakeClock clock;
  // First chunk (items 0..24): DynamoDB leaves items 3, 7 and 11 unprocessed.
  std::string unprocessed = R"({"UnprocessedItems":{"t":[)";
  for (int i : {3, 7, 11}) {
    if (i != 3) unprocessed += ',';
    unprocessed += R"({"PutRequest":{"Item":)" + core::ItemToJson(TestItem(i)) + "}}";
  }
  unprocessed += "]}}";
  fake.Script(Reply(200, unprocessed));
  fake.Script(Reply(200, R"({"UnprocessedItems":{}})"));
  fake.Script(Reply(200, R"({"UnprocessedItems":{}})"));  // second chunk: items 25..29, one delete

  std::vector<WriteRequest> writes;
  for (int i = 0; i < 29; ++i) writes.push_back({TestItem(i), std::nullopt});
  writes.push_back({std::nullopt, core::Value::MakeMap({{"id", core::Value::String("old")}})});
  DynamoDbClient client(testing::TestAws(), MaxJitterPolicy(), clock, fake.Factory());
  const core::Status status = client.BatchWriteItem("t", writes);
  ASSERT_TRUE(status.ok()) << status.ToString();

  const auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 3u);
  simdjson::dom::parser parser;
  const auto first = PutIds(parser, requests[0].body, "t");
  ASSERT_EQ(first.size(), 25u);
  EXPECT_EQ(first.front(), "item-0");
  EXPECT_EQ(first.back(), "item-24");
  EXPECT_EQ(PutIds(parser, requests[1].body, "t"), (std::vector<std::string>{"item-3", "item-7", "item-11"}));
  // The re-sent items keep every attribute.
  EXPECT_EQ(std::string(ParseBody(parser, requests[1].body)["RequestItems"]["t"].at(1)["PutRequest"]["Item"]["n"]["N"]
                            .get_string()
                            .value()),
            "7");
  EXPECT_EQ(PutIds(parser, requests[2].body, "t"),
            (std::vector<std::string>{"item-25", "item-26", "item-27", "item-28", "delete:old"}));
  EXPECT_EQ(testing::HeaderValue(requests[1], "X-Amz-Target"), "DynamoDB_20120810.BatchWriteItem");
  ASSERT_EQ(clock.sleeps().size(), 1u);  // backed off once before re-sending
  EXPECT_EQ(client.retry_stats().unprocessed_items(), 3u);
}

TEST(BatchWriteItem, ThrottledChunkIsRetriedWhole) {
  FakeAws fake;
  FakeClock clock;
  fake.Script(AwsErrorReply(400, "ProvisionedThroughputExceededException", "slow down"));
  fake.Script(Reply(200, "{}"));
  std::vector<WriteRequest> writes;
  for (int i = 0; i < 3; ++i) writes.push_back({TestItem(i), std::nullopt});
  DynamoDbClient client(testing::TestAws(), MaxJitterPolicy(), clock, fake.Factory());
  ASSERT_TRUE(client.BatchWriteItem("t", writes).ok());
  const auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].body, requests[1].body);
}

TEST(BatchWriteItem, NeverProcessedGivesUpAtTheDeadlineSayingHowManyAreLeft) {
  FakeAws fake;
  FakeClock clock;
  fake.SetResponder([](const HttpRequest& request) {
    // Echo the request back as unprocessed: no progress, ever.
    simdjson::dom::parser parser;
    auto items = parser.parse(request.body)["RequestItems"];
    return Reply(200, "{\"UnprocessedItems\":" + simdjson::minify(items.value()) + "}");
  });
  RetryOptions options;
  options.max_attempts = 1000;
  options.deadline = milliseconds(3000);
  std::vector<WriteRequest> writes;
  for (int i = 0; i < 2; ++i) writes.push_back({TestItem(i), std::nullopt});
  DynamoDbClient client(testing::TestAws(), MaxJitterPolicy(options), clock, fake.Factory());
  const core::Status status = client.BatchWriteItem("t", writes);
  EXPECT_EQ(status.code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_NE(status.message().find("BatchWriteItem t: 2 items left unprocessed"), std::string::npos) << status.message();
  EXPECT_LE(clock.total_slept(), milliseconds(3000));
}

TEST(BatchWriteItem, RejectsAWriteWithNeitherPutNorDelete) {
  FakeAws fake;
  FakeClock clock;
  DynamoDbClient client(testing::TestAws(), MaxJitterPolicy(), clock, fake.Factory());
  const core::Status status = client.BatchWriteItem("t", {WriteRequest{}});
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("write 0"), std::string::npos);
  EXPECT_EQ(fake.request_count(), 0u);
}

// A stream with `total` shards, answered in pages of at most Limit (≤ 100) like DynamoDB Streams.
FakeAws::Responder PagedShards(int total) {
  return [total](const HttpRequest& request) {
    simdjson::dom::parser parser;
    auto body = parser.parse(request.body);
    int64_t limit = 100;
    if (body["Limit"].get(limit) != simdjson::SUCCESS) limit = 100;
    std::string_view start;
    int first = 0;
    if (body["ExclusiveStartShardId"].get(start) == simdjson::SUCCESS) {
      first = std::stoi(std::string(start.substr(start.find('-') + 1))) + 1;
    }
    const int last = std::min<int>(total, first + static_cast<int>(std::min<int64_t>(limit, 100)));
    auto shard_id = [](int i) {
      char id[32];
      std::snprintf(id, sizeof(id), "shardId-%05d", i);
      return std::string(id);
    };
    std::string out = R"({"StreamDescription":{"StreamArn":"arn:s","StreamStatus":"ENABLED","TableName":"t","Shards":[)";
    for (int i = first; i < last; ++i) {
      if (i != first) out += ',';
      out += R"({"ShardId":")" + shard_id(i) + R"(","SequenceNumberRange":{"StartingSequenceNumber":")" +
             std::to_string(1000 + i) + R"("})";
      if (i > 0) out += R"(,"ParentShardId":")" + shard_id(i - 1) + '"';
      out += '}';
    }
    out += ']';
    if (last < total) out += R"(,"LastEvaluatedShardId":")" + shard_id(last - 1) + '"';
    out += "}}";
    return Reply(200, out);
  };
}

TEST(DescribeAllShards, FollowsEveryPage) {
  FakeAws fake;
  FakeClock clock;
  fake.SetResponder(PagedShards(250));
  StreamsClient client(testing::TestAws(), MaxJitterPolicy(), clock, fake.Factory());
  DescribeStreamRequest request;
  request.stream_arn = "arn:s";
  auto stream = client.DescribeAllShards(request);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  ASSERT_EQ(stream->shards.size(), 250u);
  for (int i = 0; i < 250; ++i) {
    char id[32];
    std::snprintf(id, sizeof(id), "shardId-%05d", i);
    EXPECT_EQ(stream->shards[i].shard_id, id);
  }
  EXPECT_EQ(stream->shards[0].parent_shard_id, "");
  EXPECT_EQ(stream->shards[100].parent_shard_id, "shardId-00099");
  EXPECT_EQ(stream->shards[249].starting_sequence_number, "1249");
  EXPECT_TRUE(stream->last_evaluated_shard_id.empty());
  EXPECT_EQ(stream->table_name, "t");

  const auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 3u);
  simdjson::dom::parser parser;
  EXPECT_EQ(ParseBody(parser, requests[0].body)["ExclusiveStartShardId"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(std::string(ParseBody(parser, requests[1].body)["ExclusiveStartShardId"].get_string().value()),
            "shardId-00099");
  EXPECT_EQ(std::string(ParseBody(parser, requests[2].body)["ExclusiveStartShardId"].get_string().value()),
            "shardId-00199");
}

TEST(DescribeAllShards, ARepeatedPageIsAnErrorNotAnEndlessLoop) {
  FakeAws fake;
  FakeClock clock;
  fake.SetResponder([](const HttpRequest&) {
    return Reply(200, R"({"StreamDescription":{"Shards":[{"ShardId":"s1"}],"LastEvaluatedShardId":"s1"}})");
  });
  StreamsClient client(testing::TestAws(), MaxJitterPolicy(), clock, fake.Factory());
  DescribeStreamRequest request;
  request.stream_arn = "arn:s";
  auto stream = client.DescribeAllShards(request);
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.status().code(), core::StatusCode::kInternal);
  EXPECT_LE(fake.request_count(), 3u);
}

TEST(StreamsClientRetry, ThrottledGetRecordsIsRetriedButExpiredIteratorIsNot) {
  FakeAws fake;
  FakeClock clock;
  fake.Script(AwsErrorReply(400, "LimitExceededException", "too many readers"));
  fake.Script(AwsErrorReply(400, "ExpiredIteratorException", "Iterator expired"));
  StreamsClient client(testing::TestAws(), MaxJitterPolicy(), clock, fake.Factory());
  auto records = client.GetRecords("arn:aws:dynamodb:us-east-1:0:table/t/stream/2026|1|AAAA", 1000);
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.status().code(), core::StatusCode::kExpiredIterator);
  EXPECT_EQ(fake.request_count(), 2u);
  EXPECT_EQ(client.retry_stats().retries(AwsOperation::kGetRecords), 1u);
}

}  // namespace
}  // namespace ddb2pg::aws

namespace ddb2pg::aws {
namespace {

// SIGTERM during an outage: a retryable failure is no longer retried, and a real sleep ends early.
TEST(RetryLoop, AfterStopAllRetriesAFailureIsCancelledAndSleepsEndAtOnce) {
  testing::FakeClock clock;
  RetryStats stats;
  RetryPolicy policy;
  RetryLoop loop(policy, AwsOperation::kScan, clock, stats);
  EXPECT_TRUE(loop.OnFailure(core::Status::Unavailable("Scan t: 503")).ok()) << "retried while running";
  StopAllRetries();
  const core::Status status = loop.OnFailure(core::Status::Unavailable("Scan t: 503"));
  EXPECT_EQ(status.code(), core::StatusCode::kCancelled);
  EXPECT_NE(status.message().find("not retried: stopping"), std::string::npos) << status.message();
  AllowRetries();

  std::thread waker([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    core::SystemClock::StopSleeping();
  });
  // Returns once woken; if StopSleeping did not end it, ctest's timeout would.
  core::SystemClock::Instance().SleepFor(std::chrono::hours(1));
  waker.join();
  core::SystemClock::AllowSleeping();
}

}  // namespace
}  // namespace ddb2pg::aws
