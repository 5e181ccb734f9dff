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

TEST(ExportRequester, IncrementalWindowsCoverTheGapInWindowsOfFifteenMinutesToADay) {
  constexpr int64_t kHour = 3'600'000;
  const int64_t t = 1'700'000'000'000;
  using Windows = std::vector<std::pair<int64_t, int64_t>>;
  EXPECT_EQ(ExportRequester::IncrementalWindows(t, t), Windows{});
  EXPECT_EQ(ExportRequester::IncrementalWindows(t + 999, t + 5 * kHour), (Windows{{t, t + 5 * kHour}}));
  EXPECT_EQ(ExportRequester::IncrementalWindows(t, t + 24 * kHour), (Windows{{t, t + 24 * kHour}}));
  EXPECT_EQ(ExportRequester::IncrementalWindows(t, t + 30 * kHour),
            (Windows{{t, t + 15 * kHour}, {t + 15 * kHour, t + 30 * kHour}}));
  // Under AWS's 15 min minimum: one window of 15 min ending at the gap's end.
  EXPECT_EQ(ExportRequester::IncrementalWindows(t, t + 60'000), (Windows{{t + 60'000 - kHour / 4, t + 60'000}}));
  const auto windows = ExportRequester::IncrementalWindows(t + 1'234, t + 71 * kHour + 7'777);
  ASSERT_EQ(windows.size(), 3u);
  EXPECT_EQ(windows.front().first, t + 1'000) << "whole seconds, rounded down: the window starts no later";
  EXPECT_EQ(windows.back().second, t + 71 * kHour + 7'000);
  for (size_t i = 0; i < windows.size(); ++i) {
    EXPECT_LE(windows[i].second - windows[i].first, 24 * kHour);
    EXPECT_EQ(windows[i].first % 1000, 0);
    if (i > 0) {
      EXPECT_EQ(windows[i].first, windows[i - 1].second) << "no gap between windows";
    }
  }
}

}  // namespace
}  // namespace ddb2pg::source
