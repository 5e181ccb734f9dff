// Metrics: the AWS clients' retry counters reach ddb2pg_aws_retries_total at each scrape.
#include "pipeline/metrics.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>

namespace ddb2pg::pipeline {
namespace {

// A client's retry counters, as aws::RetryStats keeps them.
class FakeRetryCounts : public core::RetryCounts {
 public:
  void Retry(core::StatusCode cause) { ++by_cause_[static_cast<size_t>(cause)]; }
  uint64_t retries(core::StatusCode cause) const override { return by_cause_[static_cast<size_t>(cause)].load(); }

 private:
  std::array<std::atomic<uint64_t>, core::kStatusCodeCount> by_cause_{};
};

TEST(Metrics, AwsRetriesAreMirroredAtEachScrapeSummedOverClients) {
  Metrics metrics;
  auto first = std::make_shared<FakeRetryCounts>();
  auto second = std::make_shared<FakeRetryCounts>();
  metrics.AddRetryStats(first);
  metrics.AddRetryStats(second);
  metrics.AddRetryStats(first);  // shared by a source's two clients: counted once
  EXPECT_NE(metrics.Serialize().find("ddb2pg_aws_retries_total{kind=\"Throttled\"} 0"), std::string::npos);

  first->Retry(core::StatusCode::kThrottled);
  first->Retry(core::StatusCode::kThrottled);
  second->Retry(core::StatusCode::kThrottled);
  second->Retry(core::StatusCode::kUnavailable);
  const std::string text = metrics.Serialize();
  EXPECT_NE(text.find("ddb2pg_aws_retries_total{kind=\"Throttled\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("ddb2pg_aws_retries_total{kind=\"Unavailable\"} 1"), std::string::npos) << text;

  first->Retry(core::StatusCode::kUnavailable);
  EXPECT_NE(metrics.Serialize().find("ddb2pg_aws_retries_total{kind=\"Unavailable\"} 2"), std::string::npos);
}

}  // namespace
}  // namespace ddb2pg::pipeline
