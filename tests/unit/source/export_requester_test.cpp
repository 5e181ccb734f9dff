// ExportRequester against a fake control plane: polls DescribeExport with backoff until the export
// completes or fails, reports progress, stops when asked, and derives a stable ClientToken.
#include "source/export_requester.h"

#include <gtest/gtest.h>

#include <deque>
#include <mutex>

namespace ddb2pg::source {
namespace {

class SleepCountingClock final : public core::Clock {
 public:
  std::chrono::system_clock::time_point Now() const override { return std::chrono::system_clock::time_point{}; }
  std::chrono::steady_clock::time_point Monotonic() const override { return {}; }
  void SleepFor(std::chrono::nanoseconds duration) const override { slept += duration; }
  mutable std::chrono::nanoseconds slept{0};
};

class FakeExports final : public aws::ExportApi {
 public:
  std::deque<std::string> statuses;  // what each DescribeExport answers, in order
  aws::ExportRequest asked;
  int describes = 0;

  int requests = 0;

  core::Result<aws::ExportDescription> ExportTableToPointInTime(const aws::ExportRequest& request) override {
    ++requests;
    asked = request;
    return Description("IN_PROGRESS");
  }
  core::Result<aws::ExportDescription> DescribeExport(const std::string& export_arn) override {
    EXPECT_EQ(export_arn, "arn:export/1");
    ++describes;
    std::string status = statuses.front();
    statuses.pop_front();
    if (status == "throttled") return core::Status::Throttled("DescribeExport: ThrottlingException");
    return Description(status);
  }

 private:
  static aws::ExportDescription Description(const std::string& status) {
    aws::ExportDescription description;
    description.export_arn = "arn:export/1";
    description.export_status = status;
    description.s3_bucket = "b";
    if (status == "COMPLETED") description.export_manifest = "p/AWSDynamoDB/1/manifest-summary.json";
    if (status == "FAILED") {
      description.failure_code = "S3AccessDenied";
      description.failure_message = "Access Denied";
    }
    return description;
  }
};

aws::ExportRequest Request() {
  aws::ExportRequest request;
  request.table_arn = "arn:aws:dynamodb:us-east-1:1:table/users";
  request.export_time_ms = 1700000000000;
  request.client_token = ExportRequester::ClientToken("users", request.table_arn, request.export_time_ms);
  request.s3_bucket = "b";
  return request;
}

TEST(ExportRequester, PollsWithBackoffUntilCompleted) {
  FakeExports exports;
  exports.statuses = {"IN_PROGRESS", "throttled", "IN_PROGRESS", "COMPLETED"};
  SleepCountingClock clock;
  ExportRequester requester(exports, clock, {std::chrono::seconds(10), std::chrono::seconds(30)});
  std::vector<int> progress;
  std::atomic<bool> stop{false};
  auto done = requester.Run(Request(), [&](const aws::ExportDescription&, int polls) { progress.push_back(polls); },
                            stop);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->export_manifest, "p/AWSDynamoDB/1/manifest-summary.json");
  EXPECT_EQ(exports.describes, 4);
  EXPECT_EQ(clock.slept, std::chrono::seconds(10 + 20 + 30 + 30));
  EXPECT_EQ(progress, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(exports.asked.client_token, Request().client_token);
}

TEST(ExportRequester, AFailedExportIsAnErrorWithAwsReason) {
  FakeExports exports;
  exports.statuses = {"FAILED"};
  SleepCountingClock clock;
  ExportRequester requester(exports, clock);
  std::atomic<bool> stop{false};
  auto failed = requester.Run(Request(), {}, stop);
  EXPECT_EQ(failed.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(failed.status().message(),
            "export arn:export/1 of arn:aws:dynamodb:us-east-1:1:table/users FAILED: S3AccessDenied: Access Denied");
}

TEST(ExportRequester, StopEndsTheWait) {
  FakeExports exports;
  SleepCountingClock clock;
  ExportRequester requester(exports, clock);
  std::atomic<bool> stop{true};
  EXPECT_EQ(requester.Run(Request(), {}, stop).status().code(), core::StatusCode::kCancelled);
  EXPECT_EQ(exports.describes, 0);
}

TEST(ExportRequester, TheClientTokenIsStableAndShort) {
  const std::string token = ExportRequester::ClientToken("users", "arn:t", 1);
  EXPECT_EQ(token, ExportRequester::ClientToken("users", "arn:t", 1));
  EXPECT_NE(token, ExportRequester::ClientToken("users", "arn:t", 2));
  EXPECT_LE(token.size(), 64u);
  EXPECT_EQ(token.find_first_of("+/="), std::string::npos);
}

TEST(ExportRequester, AKnownArnIsPolledNotRequestedAgain) {
  FakeExports exports;
  exports.statuses = {"IN_PROGRESS", "COMPLETED"};  // the first answers the resume itself
  SleepCountingClock clock;
  ExportRequester requester(exports, clock, {std::chrono::seconds(10), std::chrono::seconds(30)});
  std::atomic<bool> stop{false};
  auto done = requester.Run(Request(), {}, stop, "arn:export/1");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(exports.requests, 0) << "a restart polls the export it stored; it asks for none";
  EXPECT_EQ(exports.describes, 2);
}

}  // namespace
}  // namespace ddb2pg::source
