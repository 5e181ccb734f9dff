// ExportRequester: asks DynamoDB for an export and waits for it — ExportTableToPointInTime with an
// explicit export time and a ClientToken, then DescribeExport polled with backoff until the export
// is COMPLETED (its manifest URI returned) or FAILED (an error with AWS's FailureCode and message).
//
// The token is what makes a restart safe: asked again with the same token and parameters within
// 8 hours, DynamoDB returns the export already under way instead of starting a second one.
// Exports of large tables take minutes to hours; each poll reports progress to `on_progress`
// (status page, `ddb2pg status`). The runtime (app/export_request.h) stores the export time
// before the first request and the ARN after it, and a restart resumes polling that ARN (the
// token's 8 hours may have passed).
//
// Ownership: borrows the ExportApi and the clock. Thread-safety: Run() on one thread at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "aws/export_api.h"
#include "core/clock.h"
#include "core/status.h"

namespace ddb2pg::source {

struct ExportRequesterOptions {
  std::chrono::milliseconds first_poll{10'000};  // exports take minutes at least
  std::chrono::milliseconds max_poll{60'000};    // each DescribeExport is a control-plane call
};

class ExportRequester {
 public:
  using Progress = std::function<void(const aws::ExportDescription& description, int polls)>;

  ExportRequester(aws::ExportApi& api, const core::Clock& clock, ExportRequesterOptions options = {});

  // The ClientToken for a source's export of `table_arn` at `export_time_ms`: the same inputs give
  // the same token (at most 64 characters, as AWS requires).
  static std::string ClientToken(const std::string& checkpoint_id, const std::string& table_arn,
                                 int64_t export_time_ms);

  // The windows of the incremental exports that cover the changes in [from_ms, to_ms) (the times
  // rounded down to whole seconds): as few equal windows of at most 24 h as cover it; a gap under
  // AWS's 15 min minimum is one window of 15 min ending at `to_ms` (the changes before `from_ms`
  // it re-exports are older states of items the window's end state supersedes). Empty when
  // to_ms <= from_ms.
  static std::vector<std::pair<int64_t, int64_t>> IncrementalWindows(int64_t from_ms, int64_t to_ms);

  // Requests the export (or, with `known_arn`, polls that export, requested before) and waits for
  // it; returns the COMPLETED description, whose manifest is "s3://<S3Bucket>/<ExportManifest>".
  // kCancelled once `stop` turns true.
  core::Result<aws::ExportDescription> Run(const aws::ExportRequest& request, const Progress& on_progress,
                                           const std::atomic<bool>& stop, const std::string& known_arn = "");

 private:
  aws::ExportApi& api_;
  const core::Clock& clock_;
  ExportRequesterOptions options_;
};

}  // namespace ddb2pg::source
