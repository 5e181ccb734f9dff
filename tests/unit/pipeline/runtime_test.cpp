// The partitioned runtime (lanes, committer, lease manager) against in-memory fakes of its edges:
// every record committed exactly once across lanes, lost leases, lost connections before and after
// a commit lands, commits lost in a server crash, and the on_error policies.
#include "pipeline/source_runtime.h"

#include <gtest/gtest.h>

#include <thread>

#include "fake_runtime_parts.h"

namespace ddb2pg::pipeline {
namespace {

using testing::FakeSink;
using testing::FakeSource;
using testing::FakeStore;

model::ColumnSpec Column(std::string name, std::string_view type, std::string expression) {
  model::ColumnSpec column;
  column.name = std::move(name);
  column.type = *model::ColumnType::Parse(type);
  column.expression = std::move(expression);
  return column;
}

processor::MappingPlan Plan(model::ErrorPolicy on_error = model::ErrorPolicy::kDeadLetter) {
  model::PipelineSpec spec;
  spec.name = "items";
  spec.source = "src";
  spec.table.name = "items";
  spec.table.columns = {Column("id", "text", "id"), Column("v", "integer", "v")};
  spec.table.key_columns = {"id", "v"};
  spec.table.delete_policy = model::DeletePolicy::kHard;
  spec.on_error = on_error;
  auto plan = processor::MappingPlan::Compile(spec);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return std::move(plan).value();
}

std::vector<std::pair<std::string, int64_t>> Items(const std::string& prefix, int count) {
  std::vector<std::pair<std::string, int64_t>> items;
  for (int i = 0; i < count; ++i) items.emplace_back(prefix + std::to_string(i), 1);
  return items;
}

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FakeSink::faults_left() = 0;
    FakeSink::fault() = FakeSink::Fault::kNone;
    for (int s = 0; s < 4; ++s) {
      const std::string id = "scan/" + std::to_string(s);
      store_.AddPartition(id, PartitionKind::kSegment);
      source_.Script(id, Items("s" + std::to_string(s) + "-", 60));
    }
    store_.AddPartition("parent", PartitionKind::kShard);
    store_.AddPartition("child", PartitionKind::kShard, "parent");
    source_.Script("parent", {{"a", 2}, {"b", 2}, {"a", 3}});
    source_.Script("child", {{"a", 4}, {"b", 3}});
  }

  void Start(processor::MappingPlan& plan, int lanes = 2,
             std::chrono::milliseconds batch_max_delay = std::chrono::milliseconds(5), int batch_max_rows = 25) {
    SourceRuntimeParts parts;
    parts.source_name = "src";
    parts.source = &source_;
    parts.store = &store_;
    parts.make_sink = [this](int) { return std::make_unique<FakeSink>(store_, "me"); };
    parts.identity.runner_id = "me";
    RuntimeOptions options;
    options.lanes = lanes;
    options.heartbeat = std::chrono::milliseconds(20);
    options.lease_ttl = std::chrono::milliseconds(2000);
    options.lane.batch_max_rows = batch_max_rows;
    options.lane.batch_max_delay = batch_max_delay;
    options.lane.reconnect_backoff_max = std::chrono::milliseconds(20);
    runtime_ = std::make_unique<SourceRuntime>(std::move(parts), std::vector<const processor::MappingPlan*>{&plan},
                                               metrics_, options);
    thread_ = std::thread([this] { result_ = runtime_->Run(); finished_ = true; });
  }

  // Waits (a hang guard, not a timing assertion) until every partition is done or Run returned.
  void WaitDone() {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!store_.AllDone() && !finished_ && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  core::Status Stop() {
    runtime_->RequestStop();
    if (thread_.joinable()) thread_.join();
    return result_;
  }

  void ExpectEveryRowOnce(size_t expected_rows = 4 * 60 + 5) {
    std::lock_guard lock(store_.mutex);
    EXPECT_EQ(store_.applied.size(), expected_rows);
    for (const auto& [row, times] : store_.applied) EXPECT_EQ(times, 1) << row << " applied " << times << " times";
  }

  FakeStore store_;
  FakeSource source_;
  Metrics metrics_;
  std::unique_ptr<SourceRuntime> runtime_;
  std::thread thread_;
  core::Status result_;
  std::atomic<bool> finished_{false};
};

TEST_F(RuntimeTest, LanesShareTheSegmentsThenTheShardsEveryRowOnce) {
  auto plan = Plan();
  Start(plan, 2);
  WaitDone();
  ASSERT_TRUE(store_.AllDone());
  EXPECT_TRUE(Stop().ok()) << result_.ToString();
  ExpectEveryRowOnce();
  const RuntimeProgress progress = runtime_->progress();
  EXPECT_EQ(progress.records_committed, 4 * 60 + 5);
  EXPECT_EQ(progress.lanes, 2);
  EXPECT_EQ(metrics_.LeaseEvents("claimed").Value(), 6);
}

// A lane whose segments are all read commits its last snapshot batch at once: with a batch delay
// of ten minutes and batches that never fill, the snapshot still ends (the hang guard is 60 s).
TEST_F(RuntimeTest, TheLastSnapshotBatchCommitsWhenTheLanesSegmentsAreReadNotAfterTheBatchDelay) {
  auto plan = Plan();
  Start(plan, 2, std::chrono::minutes(10), 100000);
  WaitDone();
  EXPECT_TRUE(store_.AllDone()) << "a snapshot batch waited for batch_max_delay";
  EXPECT_TRUE(Stop().ok()) << result_.ToString();
  ExpectEveryRowOnce();
}

// A shard whose records trickle in while its reader catches up (hundreds of shards per lane, each
// page fetched in turn) is committed in batches of batch_max_delay, not a commit per record each
// time the lane's queue is empty for a moment. Without the rule each of the 20 records, 10 ms
// apart, is its own commit; with it they wait out the 2 s delay together.
TEST_F(RuntimeTest, AStreamBatchWaitsForAReaderThatIsCatchingUpInsteadOfCommittingEachTrickle) {
  source_.Script("parent", Items("p", 20));
  source_.trickle_ms = 10;
  source_.report_catching_up = true;
  auto plan = Plan();
  Start(plan, 1, std::chrono::seconds(2), 100000);
  WaitDone();
  ASSERT_TRUE(store_.AllDone()) << result_.ToString();
  EXPECT_TRUE(Stop().ok()) << result_.ToString();
  ExpectEveryRowOnce(4 * 60 + 20 + 2);
  std::lock_guard lock(store_.mutex);
  EXPECT_LE(store_.commits_touching["parent"], 2) << "the trickle was committed record by record";
}

TEST_F(RuntimeTest, DynamoDbDownOrTimingOutAtStartOrWhileListingIsWaitedOutNotFatal) {
  source_.describe_failures = 3;
  source_.describe_failure = core::StatusCode::kDeadlineExceeded;  // the AWS client's retry deadline ran out
  source_.list_failures = 2;
  auto plan = Plan();
  Start(plan, 1);
  WaitDone();
  ASSERT_TRUE(store_.AllDone()) << result_.ToString();
  EXPECT_TRUE(Stop().ok()) << result_.ToString();
  ExpectEveryRowOnce();
  EXPECT_GE(source_.describes.load(), 4);
  EXPECT_GE(metrics_.Errors("source").Value(), 3);
}

TEST_F(RuntimeTest, ALeaseLostMidRunIsDroppedWithoutStoppingAndTheNewOwnerGoesOnFromTheStoredPosition) {
  source_.slow = true;
  auto plan = Plan();
  Start(plan, 2);
  // Once scan/1 has committed something, another runner takes it over.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < give_up) {
    std::lock_guard lock(store_.mutex);
    if (!store_.partitions["scan/1"].position.empty()) break;
  }
  store_.Steal("scan/1");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(finished_) << "losing a lease is normal operation: " << result_.ToString();
  EXPECT_GE(metrics_.LeaseEvents("lost").Value(), 1);
  store_.GiveBack("scan/1");  // the other runner leaves; this one claims it again
  WaitDone();
  ASSERT_TRUE(store_.AllDone());
  EXPECT_TRUE(Stop().ok()) << result_.ToString();
  ExpectEveryRowOnce();
}

TEST_F(RuntimeTest, ASupersededRunnerStandsByReadyWithoutExitingAndTakesOverWhenTheNewerRunnersAreGone) {
  source_.slow = true;
  auto plan = Plan();
  Start(plan, 2);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < give_up) {
    std::lock_guard lock(store_.mutex);
    if (!store_.partitions["scan/1"].position.empty()) break;
  }
  store_.Supersede(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(finished_) << "a superseded runner waits: " << result_.ToString();
  EXPECT_EQ(runtime_->progress().state, "standby");
  EXPECT_TRUE(runtime_->progress().ready) << "a standby runner is ready for probes";
  EXPECT_EQ(metrics_.Standby("src").Value(), 1);
  int claims = 0;
  {
    std::lock_guard lock(store_.mutex);
    claims = store_.claims;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  {
    std::lock_guard lock(store_.mutex);
    EXPECT_EQ(store_.claims, claims) << "it claims nothing while it stands by";
    EXPECT_EQ(store_.initializations, 1);
    store_.current_runners = 0;  // the newer configuration's runners are gone
  }
  WaitDone();
  ASSERT_TRUE(store_.AllDone()) << result_.ToString();
  EXPECT_TRUE(Stop().ok()) << result_.ToString();
  ExpectEveryRowOnce();
  EXPECT_EQ(metrics_.Standby("src").Value(), 0);
  std::lock_guard lock(store_.mutex);
  EXPECT_EQ(store_.initializations, 2) << "it decided again, under the store's lock, before taking over";
}

TEST_F(RuntimeTest, AnAcknowledgementLostWithTheConnectionIsRecognisedNotRepeated) {
  FakeSink::fault() = FakeSink::Fault::kDropAfterCommit;
  FakeSink::faults_left() = 3;
  auto plan = Plan();
  Start(plan, 1);
  WaitDone();
  ASSERT_TRUE(store_.AllDone());
  EXPECT_TRUE(Stop().ok()) << result_.ToString();
  ExpectEveryRowOnce();
}

TEST_F(RuntimeTest, ACommitThatNeverLandedIsCommittedAgainAfterReconnecting) {
  FakeSink::fault() = FakeSink::Fault::kDropBeforeCommit;
  FakeSink::faults_left() = 3;
  auto plan = Plan();
  Start(plan, 2);
  WaitDone();
  ASSERT_TRUE(store_.AllDone());
  EXPECT_TRUE(Stop().ok()) << result_.ToString();
  ExpectEveryRowOnce();
}

TEST_F(RuntimeTest, CommitsLostInAServerCrashAreReadAgainFromTheStoredPosition) {
  FakeSink::fault() = FakeSink::Fault::kLoseLandedCommit;
  FakeSink::faults_left() = 1;
  auto plan = Plan();
  Start(plan, 1);
  WaitDone();
  ASSERT_TRUE(store_.AllDone());
  EXPECT_TRUE(Stop().ok()) << "a rewind is recovery, not an exit: " << result_.ToString();
  ExpectEveryRowOnce();
  EXPECT_GE(metrics_.LeaseEvents("rewind").Value(), 1);
}

// A version too large for INTEGER fails the mapping of that record.
constexpr int64_t kTooLarge = 5000000000;

TEST_F(RuntimeTest, OnErrorDeadLetterKeepsEveryOtherRecord) {
  source_.Script("scan/0", {{"good", 1}, {"huge", kTooLarge}, {"good2", 1}});
  auto plan = Plan(model::ErrorPolicy::kDeadLetter);
  Start(plan, 2);
  WaitDone();
  ASSERT_TRUE(store_.AllDone());
  EXPECT_TRUE(Stop().ok()) << result_.ToString();
  ExpectEveryRowOnce(3 * 60 + 2 + 5);
  std::lock_guard lock(store_.mutex);
  ASSERT_EQ(store_.dead_letters.size(), 1u);
  EXPECT_NE(store_.dead_letters[0].find("huge"), std::string::npos);
}

TEST_F(RuntimeTest, OnErrorSkipCountsTheRecord) {
  source_.Script("scan/0", {{"good", 1}, {"huge", kTooLarge}, {"good2", 1}});
  auto plan = Plan(model::ErrorPolicy::kSkip);
  Start(plan, 1);
  WaitDone();
  ASSERT_TRUE(store_.AllDone());
  EXPECT_TRUE(Stop().ok()) << result_.ToString();
  ExpectEveryRowOnce(3 * 60 + 2 + 5);
  EXPECT_EQ(metrics_.RecordsSkipped("items").Value(), 1);
}

TEST_F(RuntimeTest, OnErrorStopStopsWithTheRecordAndCommitsWhatCameBefore) {
  source_.Script("scan/0", {{"good", 1}, {"huge", kTooLarge}, {"good2", 1}});
  auto plan = Plan(model::ErrorPolicy::kStop);
  Start(plan, 1);
  WaitDone();
  ASSERT_TRUE(finished_) << "on_error: stop ends the run";
  core::Status status = Stop();
  EXPECT_EQ(status.code(), core::StatusCode::kDataError) << "exit 1, not 2 (bad configuration)";
  EXPECT_NE(status.message().find("(on_error: stop)"), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find("huge"), std::string::npos) << status.ToString();
  std::lock_guard lock(store_.mutex);
  EXPECT_EQ(store_.applied.count("huge@5000000000"), 0u);
  EXPECT_EQ(store_.applied.count("good2@1"), 0u) << "nothing after the failing record";
}

}  // namespace
}  // namespace ddb2pg::pipeline
