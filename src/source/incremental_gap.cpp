#include "source/incremental_gap.h"

#include <spdlog/spdlog.h>

namespace ddb2pg::source {

IncrementalGap::IncrementalGap(aws::ExportApi& api, aws::ObjectStoreApi& s3, const core::Clock& clock,
                               ExportRequesterOptions options)
    : api_(api), s3_(s3), clock_(clock), options_(options) {}

std::string IncrementalGap::ClientToken(const std::string& checkpoint_id, const std::string& table_arn,
                                        const Window& window) {
  // The window's start goes into the table part so a full export at the window's end never
  // shares its token.
  return ExportRequester::ClientToken(checkpoint_id, table_arn + "\nincremental from " + std::to_string(window.first),
                                      window.second);
}

core::Result<std::vector<IncrementalGapWindow>> IncrementalGap::Export(const IncrementalGapRequest& request,
                                                                       const std::map<Window, std::string>& known_arns,
                                                                       const Requested& on_requested,
                                                                       const std::atomic<bool>& stop) {
  std::vector<IncrementalGapWindow> done;
  ExportRequester requester(api_, clock_, options_);
  for (const Window& window : ExportRequester::IncrementalWindows(request.from_ms, request.to_ms)) {
    aws::ExportRequest export_request;
    export_request.table_arn = request.table_arn;
    export_request.client_token = ClientToken(request.checkpoint_id, request.table_arn, window);
    export_request.s3_bucket = request.s3_bucket;
    export_request.s3_prefix = request.s3_prefix;
    export_request.incremental_from_ms = window.first;
    export_request.incremental_to_ms = window.second;
    const auto known = known_arns.find(window);
    std::string arn = known == known_arns.end() ? "" : known->second;
    bool reported = !arn.empty();
    auto progress = [&](const aws::ExportDescription& description, int) {
      if (!reported && on_requested) on_requested(window, description.export_arn);
      reported = true;
    };
    auto completed = requester.Run(export_request, progress, stop, arn);
    if (!completed.ok()) {
      return completed.status().WithContext("incremental export of " + std::to_string(window.first / 1000) + "–" +
                                            std::to_string(window.second / 1000) + " s");
    }
    const std::string manifest_uri = "s3://" + completed->s3_bucket + "/" + completed->export_manifest;
    auto manifest = ExportManifest::Load(s3_, manifest_uri, ExportType::kIncremental);
    if (!manifest.ok()) return manifest.status();
    spdlog::info("incremental export {} of {}: {} changed item(s) in {} file(s)", completed->export_arn,
                 request.table_arn, manifest->item_count, manifest->files.size());
    done.push_back({window.first, window.second, completed->export_arn, std::move(manifest).value()});
  }
  return done;
}

}  // namespace ddb2pg::source
