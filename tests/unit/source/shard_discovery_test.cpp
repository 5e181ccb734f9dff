// ShardDiscovery over the real DynamoDbRecordSource and a scripted DynamoDB Streams (FakeStreams):
// what listing new shards costs in DescribeStream calls, whether the stream holds 16 shards or
// 1,000; children found by ShardFilter where it is honoured, and by the listing after the last
// shard where it is ignored (DynamoDB Local 1.25.1); the full listing only every interval.
#include "pipeline/shard_discovery.h"

#include <gtest/gtest.h>

#include <mutex>

#include "fake_dynamodb.h"
#include "source/dynamodb_record_source.h"

namespace ddb2pg::pipeline {
namespace {

using source::testing::FakeStreams;
using source::testing::FakeTable;

// Monotonic time the test moves by hand.
class StepClock final : public core::Clock {
 public:
  std::chrono::system_clock::time_point Now() const override { return std::chrono::system_clock::time_point{}; }
  std::chrono::steady_clock::time_point Monotonic() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }
  void SleepFor(std::chrono::nanoseconds) const override {}
  void Advance(std::chrono::milliseconds by) {
    std::lock_guard lock(mutex_);
    now_ += by;
  }

 private:
  mutable std::mutex mutex_;
  std::chrono::steady_clock::time_point now_{};
};

source::SourceOptions Options() {
  source::SourceOptions options;
  options.table = "users";
  return options;
}

std::string ShardId(int i) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "shardId-%06d", i);
  return buffer;
}

std::vector<std::string> Ids(const ShardListing& listing) {
  std::vector<std::string> ids;
  for (const auto& shard : listing.shards) ids.push_back(shard.id);
  return ids;
}

struct CallsPerDiscovery {
  int full_listing = 0;   // DescribeStream calls of the first (full) listing
  int quiet = 0;          // of a discovery with nothing new
  int shard_ended = 0;    // of a discovery after a shard ended and got a child
};

CallsPerDiscovery Measure(int shards, bool child_filter) {
  FakeTable table;
  FakeStreams streams;
  streams.set_child_filter(child_filter);
  for (int i = 0; i < shards; ++i) streams.AddShard(ShardId(i));
  StepClock clock;
  source::DynamoDbRecordSource source(Options(), table, streams, clock);
  ShardDiscovery discovery(source, clock, std::chrono::minutes(10));
  const std::string arn = "arn:aws:dynamodb:local:000:table/users/stream/1";
  CallsPerDiscovery calls;

  int before = streams.describe_calls();
  auto first = discovery.Next(arn, {});
  EXPECT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->complete);
  EXPECT_EQ(first->shards.size(), static_cast<size_t>(shards));
  calls.full_listing = streams.describe_calls() - before;

  before = streams.describe_calls();
  clock.Advance(std::chrono::seconds(10));
  auto quiet = discovery.Next(arn, {});
  EXPECT_TRUE(quiet.ok()) << quiet.status().ToString();
  EXPECT_FALSE(quiet->complete);
  EXPECT_TRUE(quiet->shards.empty());
  calls.quiet = streams.describe_calls() - before;

  // Shard 3 ends; its child appears.
  streams.CloseShard(ShardId(3));
  streams.AddShard("shardId-child-of-3", ShardId(3));
  before = streams.describe_calls();
  auto ended = discovery.Next(arn, {ShardId(3)});
  EXPECT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_EQ(Ids(*ended), std::vector<std::string>{"shardId-child-of-3"});
  EXPECT_EQ(ended->shards.at(0).parent, ShardId(3));
  calls.shard_ended = streams.describe_calls() - before;
  EXPECT_EQ(source.describe_stream_calls(), streams.describe_calls());
  return calls;
}

TEST(ShardDiscovery, ListingNewShardsCostsTheSameCallsFor16Or1000Shards) {
  for (bool child_filter : {true, false}) {
    SCOPED_TRACE(child_filter ? "ShardFilter honoured" : "ShardFilter ignored");
    const CallsPerDiscovery small = Measure(16, child_filter);
    const CallsPerDiscovery large = Measure(1000, child_filter);
    EXPECT_EQ(small.full_listing, 1);
    EXPECT_EQ(large.full_listing, 10);  // 100 shards a page: only at the start and every full interval
    EXPECT_EQ(small.quiet, 1);
    EXPECT_EQ(large.quiet, small.quiet);
    EXPECT_EQ(large.shard_ended, small.shard_ended);
    // Honoured: the children (1) and the shards after the last listed (1). Ignored: the filter
    // is asked once, found ignored, and the listing after the last shard finds the child.
    EXPECT_EQ(small.shard_ended, 2);
  }
}

TEST(ShardDiscovery, AnIgnoredFilterIsNotAskedAgain) {
  FakeTable table;
  FakeStreams streams;
  streams.set_child_filter(false);
  streams.AddShard(ShardId(0));
  StepClock clock;
  source::DynamoDbRecordSource source(Options(), table, streams, clock);
  ShardDiscovery discovery(source, clock, std::chrono::minutes(10));
  const std::string arn = "arn:aws:dynamodb:local:000:table/users/stream/1";
  ASSERT_TRUE(discovery.Next(arn, {}).ok());
  for (int i = 1; i <= 3; ++i) {
    streams.CloseShard(ShardId(i - 1));
    streams.AddShard(ShardId(i), ShardId(i - 1));
    const int before = streams.describe_calls();
    auto listing = discovery.Next(arn, {ShardId(i - 1)});
    ASSERT_TRUE(listing.ok()) << listing.status().ToString();
    EXPECT_EQ(Ids(*listing), std::vector<std::string>{ShardId(i)});
    EXPECT_EQ(streams.describe_calls() - before, i == 1 ? 2 : 1);
  }
  EXPECT_FALSE(discovery.child_filter_supported());
}

TEST(ShardDiscovery, EveryShardIsListedAgainOnlyAfterTheFullListingInterval) {
  FakeTable table;
  FakeStreams streams;
  for (int i = 0; i < 250; ++i) streams.AddShard(ShardId(i));
  StepClock clock;
  source::DynamoDbRecordSource source(Options(), table, streams, clock);
  ShardDiscovery discovery(source, clock, std::chrono::minutes(10));
  const std::string arn = "arn:aws:dynamodb:local:000:table/users/stream/1";
  auto first = discovery.Next(arn, {});
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->complete);
  for (int tick = 0; tick < 59; ++tick) {  // 9 min 50 s of discoveries every 10 s
    clock.Advance(std::chrono::seconds(10));
    auto listing = discovery.Next(arn, {});
    ASSERT_TRUE(listing.ok());
    EXPECT_FALSE(listing->complete);
  }
  clock.Advance(std::chrono::seconds(10));
  auto full = discovery.Next(arn, {});
  ASSERT_TRUE(full.ok());
  EXPECT_TRUE(full->complete);
  EXPECT_EQ(full->shards.size(), 250u);
  // A shard that appeared in front of the last one listed (a listing order the incremental
  // listing cannot see) is in the full listing.
  streams.AddShard("shardId-000000-late", "", /*front=*/true);
  clock.Advance(std::chrono::minutes(10));
  auto again = discovery.Next(arn, {});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->complete);
  EXPECT_EQ(again->shards.front().id, "shardId-000000-late");
}

}  // namespace
}  // namespace ddb2pg::pipeline
