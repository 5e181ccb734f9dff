// Committer: commits that a server crash lost (synchronous_commit = off) are found even when the
// batch that meets the crash covers other partitions.
#include "pipeline/committer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>

#include "core/clock.h"
#include "fake_runtime_parts.h"
#include "pipeline/metrics.h"

namespace ddb2pg::pipeline::testing {
namespace {

BuiltBatch BatchFor(const std::string& id, const std::string& before, const std::string& position) {
  BuiltBatch built;
  built.advances.push_back({id, 1, position, false, 1, 0});
  built.before[id] = before;
  return built;
}

TEST(Committer, ACrashThatLostAnotherPartitionsCommitRewindsItToo) {
  FakeStore store;
  for (const char* id : {"a", "b"}) {
    store.AddPartition(id, PartitionKind::kShard);
    store.partitions[id].owner = "me";
    store.partitions[id].epoch = 1;
  }
  FakeSink::fault() = FakeSink::Fault::kLoseLandedCommit;
  FakeSink::faults_left() = 1;
  FakeSink sink(store, "me");
  ASSERT_TRUE(sink.Open().ok());
  std::atomic<bool> stopping{false};
  Metrics metrics;
  int committed = 0;
  Committer committer(sink, core::SystemClock::Instance(), std::chrono::milliseconds(100), stopping, metrics,
                      [&](const BuiltBatch&, const CommitResult&, double) { ++committed; });
  committer.Start("commit-test");
  // Partition a's commit is acknowledged, then lost with the server; the next batch covers only b.
  ASSERT_TRUE(committer.Submit(BatchFor("a", "", "5")));
  committer.WaitIdle();
  ASSERT_TRUE(committer.Submit(BatchFor("b", "", "7")));
  committer.WaitIdle();
  std::optional<CommitProblem> problem = committer.TakeProblem();
  committer.Stop();
  FakeSink::faults_left() = 0;
  FakeSink::fault() = FakeSink::Fault::kNone;
  ASSERT_TRUE(problem.has_value()) << "b's batch was committed again as if nothing was lost";
  EXPECT_TRUE(problem->error.ok()) << problem->error.ToString();
  ASSERT_EQ(problem->rewind.count("a"), 1u) << "a's lost commit was not noticed";
  EXPECT_EQ(problem->rewind.at("a"), "") << "a is read again from what is stored";
  EXPECT_EQ(committed, 1);
  EXPECT_GE(metrics.LeaseEvents("rewind").Value(), 1);
}

}  // namespace
}  // namespace ddb2pg::pipeline::testing
