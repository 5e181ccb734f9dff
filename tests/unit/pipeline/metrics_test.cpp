// Metrics: the AWS clients' retry counters reach ddb2pg_aws_retries_total at each scrape.
#include "pipeline/metrics.h"

#include <gtest/gtest.h>

#include "aws/retry_policy.h"

namespace ddb2pg::pipeline {
namespace {

TEST(Metrics, AwsRetriesAreMirroredAtEachScrapeSummedOverClients) {
  Metrics metrics;
  auto first = std::make_shared<aws::RetryStats>();
  auto second = std::make_shared<aws::RetryStats>();
  metrics.AddRetryStats(first);
  metrics.AddRetryStats(second);
  metrics.AddRetryStats(first);  // shared by a source's two clients: counted once
  EXPECT_NE(metrics.Serialize().find("ddb2pg_aws_retries_total{kind=\"Throttled\"} 0"), std::string::npos);

  first->RecordRetry(aws::AwsOperation::kScan, core::StatusCode::kThrottled);
  first->RecordRetry(aws::AwsOperation::kGetRecords, core::StatusCode::kThrottled);
  second->RecordRetry(aws::AwsOperation::kGetRecords, core::StatusCode::kThrottled);
  second->RecordRetry(aws::AwsOperation::kDescribeStream, core::StatusCode::kUnavailable);
  const std::string text = metrics.Serialize();
  EXPECT_NE(text.find("ddb2pg_aws_retries_total{kind=\"Throttled\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("ddb2pg_aws_retries_total{kind=\"Unavailable\"} 1"), std::string::npos) << text;

  first->RecordRetry(aws::AwsOperation::kScan, core::StatusCode::kUnavailable);
  EXPECT_NE(metrics.Serialize().find("ddb2pg_aws_retries_total{kind=\"Unavailable\"} 2"), std::string::npos);
}

}  // namespace
}  // namespace ddb2pg::pipeline
