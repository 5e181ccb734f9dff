// IncrementalGap: the incremental exports that bridge a trimmed stream (on_trimmed:
// incremental_export): the gap [from_ms, to_ms) cut into windows by
// ExportRequester::IncrementalWindows, each window's INCREMENTAL_EXPORT requested and waited for
// in turn, and each manifest read (ExportType::kIncremental), ready for ExportFileReaders of type
// kIncremental.
//
// Restart safety: each window's ClientToken is derived from the checkpoint, the table and the
// window, so asking again after a kill returns the export already made (DynamoDB keeps a token
// 8 h). `on_requested` hears each window's export ARN as soon as DynamoDB accepted it; a caller
// that stores it passes it back in `known_arns`, and that export is polled, never requested again.
//
// Used by GapExports (on_trimmed: incremental_export; docs/consistency.md, "Bridging a gap").
// Ownership: borrows the ExportApi, the ObjectStoreApi and the clock. Thread-safety: Export() on
// one thread at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "aws/export_api.h"
#include "aws/s3_api.h"
#include "core/clock.h"
#include "core/status.h"
#include "source/export_manifest.h"
#include "source/export_requester.h"

namespace ddb2pg::source {

struct IncrementalGapRequest {
  std::string checkpoint_id;  // the source's checkpoint: part of each window's ClientToken
  std::string table_arn;
  std::string s3_bucket;
  std::string s3_prefix;
  int64_t from_ms = 0;  // the gap: changes at or after from_ms …
  int64_t to_ms = 0;    // … and before to_ms
};

struct IncrementalGapWindow {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  std::string export_arn;
  ExportManifest manifest;  // type kIncremental; export_time_ms is the window's end
};

class IncrementalGap {
 public:
  using Window = std::pair<int64_t, int64_t>;
  using Requested = std::function<void(const Window& window, const std::string& export_arn)>;

  IncrementalGap(aws::ExportApi& api, aws::ObjectStoreApi& s3, const core::Clock& clock,
                 ExportRequesterOptions options = {});

  // The ClientToken of one window's export (at most 64 characters; stable for the same inputs).
  static std::string ClientToken(const std::string& checkpoint_id, const std::string& table_arn, const Window& window);

  // Every window's completed export and manifest, in time order (empty when the gap is empty).
  // kCancelled once `stop` turns true; a FAILED export is kFailedPrecondition with AWS's reason.
  core::Result<std::vector<IncrementalGapWindow>> Export(const IncrementalGapRequest& request,
                                                         const std::map<Window, std::string>& known_arns,
                                                         const Requested& on_requested,
                                                         const std::atomic<bool>& stop);

 private:
  aws::ExportApi& api_;
  aws::ObjectStoreApi& s3_;
  const core::Clock& clock_;
  ExportRequesterOptions options_;
};

}  // namespace ddb2pg::source
