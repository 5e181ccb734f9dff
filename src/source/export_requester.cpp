#include "source/export_requester.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>

#include "aws/md5_digest.h"

namespace ddb2pg::source {

ExportRequester::ExportRequester(aws::ExportApi& api, const core::Clock& clock, ExportRequesterOptions options)
    : api_(api), clock_(clock), options_(options) {}

std::string ExportRequester::ClientToken(const std::string& checkpoint_id, const std::string& table_arn,
                                         int64_t export_time_ms) {
  // A digest keeps it short and free of the characters AWS refuses; "ddb2pg-" names the caller.
  std::string digest = aws::Md5Digest::Base64Of(checkpoint_id + "\n" + table_arn + "\n" + std::to_string(export_time_ms));
  std::replace(digest.begin(), digest.end(), '+', '-');
  std::replace(digest.begin(), digest.end(), '/', '_');
  std::erase(digest, '=');
  return "ddb2pg-" + digest;
}

std::vector<std::pair<int64_t, int64_t>> ExportRequester::IncrementalWindows(int64_t from_ms, int64_t to_ms) {
  constexpr int64_t kMinimumMs = int64_t{15} * 60 * 1000;
  constexpr int64_t kMaximumMs = int64_t{24} * 3600 * 1000;
  from_ms = from_ms / 1000 * 1000;
  to_ms = to_ms / 1000 * 1000;
  if (to_ms <= from_ms) return {};
  if (to_ms - from_ms < kMinimumMs) return {{to_ms - kMinimumMs, to_ms}};
  const int64_t count = (to_ms - from_ms + kMaximumMs - 1) / kMaximumMs;
  std::vector<std::pair<int64_t, int64_t>> windows;
  for (int64_t i = 0; i < count; ++i) {
    // Whole seconds, the last ending exactly at to_ms.
    const int64_t start = from_ms + (to_ms - from_ms) * i / count / 1000 * 1000;
    const int64_t end = i + 1 == count ? to_ms : from_ms + (to_ms - from_ms) * (i + 1) / count / 1000 * 1000;
    windows.emplace_back(start, end);
  }
  return windows;
}

core::Result<aws::ExportDescription> ExportRequester::Run(const aws::ExportRequest& request,
                                                          const Progress& on_progress,
                                                          const std::atomic<bool>& stop,
                                                          const std::string& known_arn) {
  auto started = known_arn.empty() ? api_.ExportTableToPointInTime(request) : api_.DescribeExport(known_arn);
  if (!started.ok()) return started.status();
  aws::ExportDescription description = std::move(started).value();
  spdlog::info("export {} of {} at {} ms: {}", description.export_arn, request.table_arn, request.export_time_ms,
               description.export_status);
  std::chrono::milliseconds wait = options_.first_poll;
  int polls = 0;
  while (description.export_status == "IN_PROGRESS") {
    if (on_progress) on_progress(description, polls);
    // Sleeps in short steps so a stop ends the wait promptly.
    for (auto left = wait; left.count() > 0 && !stop.load(); left -= std::chrono::milliseconds(100)) {
      clock_.SleepFor(std::min(left, std::chrono::milliseconds(100)));
    }
    if (stop.load()) return core::Status::Cancelled("stopped while waiting for export " + description.export_arn);
    wait = std::min(wait * 2, options_.max_poll);
    auto polled = api_.DescribeExport(description.export_arn);
    ++polls;
    if (!polled.ok()) {
      if (polled.status().transient()) {
        spdlog::warn("DescribeExport {}: {}; polling again", description.export_arn, polled.status().ToString());
        continue;
      }
      return polled.status();
    }
    description = std::move(polled).value();
  }
  if (on_progress) on_progress(description, polls);
  if (description.export_status != "COMPLETED") {
    return core::Status::FailedPrecondition("export " + description.export_arn + " of " + request.table_arn + " " +
                                            description.export_status + ": " + description.failure_code + ": " +
                                            description.failure_message);
  }
  if (description.export_manifest.empty()) {
    return core::Status::Unavailable("export " + description.export_arn + " is COMPLETED but names no ExportManifest");
  }
  return description;
}

}  // namespace ddb2pg::source
