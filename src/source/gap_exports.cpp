#include "source/gap_exports.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "source/export_file_reader.h"
#include "source/failed_partition_reader.h"

namespace ddb2pg::source {
namespace {

constexpr std::string_view kPrefix = "gap/";

}  // namespace

GapExports::GapExports(aws::ExportApi& api, aws::ObjectStoreApi& s3, aws::TableApi& table_api,
                       const core::Clock& clock, GapExportsOptions options)
    : api_(api), s3_(s3), table_api_(table_api), clock_(clock), options_(std::move(options)) {}

bool GapExports::Covers(const pipeline::ClaimedPartition& lease) {
  return lease.kind == pipeline::PartitionKind::kSegment && lease.id.starts_with(kPrefix);
}

core::Result<std::vector<pipeline::SeedPartition>> GapExports::Partitions(int64_t from_ms, int64_t to_ms,
                                                                          const std::atomic<bool>& stop) {
  auto table = table_api_.DescribeTable(options_.table);
  if (!table.ok()) return table.status().WithContext("DescribeTable " + options_.table + " (to export its gap)");
  if (table->table_arn.empty()) return core::Status::Internal("DescribeTable " + options_.table + " returned no TableArn");
  IncrementalGap gap(api_, s3_, clock_, options_.requester);
  IncrementalGapRequest request;
  request.checkpoint_id = options_.checkpoint_id;
  request.table_arn = table->table_arn;
  request.s3_bucket = options_.s3_bucket;
  request.s3_prefix = options_.s3_prefix;
  request.from_ms = from_ms;
  request.to_ms = to_ms;
  // Restarts ask again with the same windows: each window's ClientToken returns its export.
  DDB2PG_ASSIGN_OR_RETURN(auto windows, gap.Export(request, {}, nullptr, stop));
  std::vector<pipeline::SeedPartition> partitions;
  for (size_t w = 0; w < windows.size(); ++w) {
    const ExportManifest& manifest = windows[w].manifest;
    {
      std::lock_guard lock(mutex_);
      manifests_.emplace(manifest.manifest_uri, manifest);
    }
    for (size_t f = 0; f < manifest.files.size(); ++f) {
      char number[64];
      std::snprintf(number, sizeof number, "%04zu/%05zu", w, f);
      pipeline::SeedPartition partition;
      partition.id = std::string(kPrefix) + number + "@" + manifest.manifest_uri;
      partition.kind = pipeline::PartitionKind::kSegment;
      partitions.push_back(std::move(partition));
    }
  }
  return partitions;
}

core::Result<ExportManifest> GapExports::Manifest(const std::string& uri) {
  {
    std::lock_guard lock(mutex_);
    if (auto found = manifests_.find(uri); found != manifests_.end()) return found->second;
  }
  DDB2PG_ASSIGN_OR_RETURN(ExportManifest loaded, ExportManifest::Load(s3_, uri, ExportType::kIncremental));
  std::lock_guard lock(mutex_);
  return manifests_.emplace(uri, std::move(loaded)).first->second;
}

std::unique_ptr<pipeline::PartitionReader> GapExports::Open(const pipeline::ClaimedPartition& lease,
                                                            const std::string& table,
                                                            std::vector<std::string> key_names,
                                                            std::shared_ptr<const aws::AttributeSelection> decode_only,
                                                            uint64_t tag, core::BoundedQueue<core::Record>* out,
                                                            core::FetchGate* gate) {
  // "gap/<window>/<file>@<manifest URI>"
  const size_t at = lease.id.find('@');
  const size_t slash = lease.id.find('/', kPrefix.size());
  if (at == std::string::npos || slash == std::string::npos || slash > at) {
    return std::make_unique<FailedPartitionReader>(
        core::Status::DataError("partition " + lease.id + " is no gap partition (gap/<window>/<file>@<manifest>)"));
  }
  const int file = std::atoi(lease.id.substr(slash + 1, at - slash - 1).c_str());
  auto manifest = Manifest(lease.id.substr(at + 1));
  if (!manifest.ok()) return std::make_unique<FailedPartitionReader>(manifest.status());
  if (file < 0 || static_cast<size_t>(file) >= manifest->files.size()) {
    return std::make_unique<FailedPartitionReader>(core::Status::DataError(
        "partition " + lease.id + ": the export lists " + std::to_string(manifest->files.size()) + " data file(s)"));
  }
  ExportFileReaderOptions options;
  options.table = table;
  options.key_names = std::move(key_names);
  options.partition_id = lease.id;
  options.bucket = manifest->bucket;
  options.file = manifest->files[static_cast<size_t>(file)];
  options.export_time_ms = manifest->export_time_ms;
  options.type = ExportType::kIncremental;
  options.decode_only = std::move(decode_only);
  auto reader = std::make_unique<ExportFileReader>(std::move(options), lease.position, s3_, clock_, out, tag);
  reader->SetFetchGate(gate);
  reader->Start("gap-" + std::to_string(file));
  return reader;
}

}  // namespace ddb2pg::source
