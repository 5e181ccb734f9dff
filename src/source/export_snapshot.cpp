#include "source/export_snapshot.h"

#include "source/export_file_reader.h"
#include "source/failed_partition_reader.h"

namespace ddb2pg::source {

ExportSnapshot::ExportSnapshot(aws::ObjectStoreApi& s3, std::string manifest_uri)
    : s3_(s3), manifest_uri_(std::move(manifest_uri)) {}

core::Result<ExportManifest> ExportSnapshot::Manifest() {
  std::lock_guard lock(mutex_);
  if (!manifest_) {
    DDB2PG_ASSIGN_OR_RETURN(ExportManifest loaded, ExportManifest::Load(s3_, manifest_uri_));
    if (loaded.files.empty()) {
      return core::Status::InvalidArgument(manifest_uri_ +
                                           ": the export has no data files (an empty table needs no export: "
                                           "use snapshot.from: scan)");
    }
    manifest_ = std::move(loaded);
  }
  return *manifest_;
}

bool ExportSnapshot::Covers(const pipeline::ClaimedPartition& lease) {
  return lease.kind == pipeline::PartitionKind::kSegment && lease.scope.empty() && lease.id.starts_with("scan/") &&
         lease.id.find('/', 5) == std::string::npos;
}

std::unique_ptr<pipeline::PartitionReader> ExportSnapshot::Open(
    const pipeline::ClaimedPartition& lease, const std::string& table, std::vector<std::string> key_names,
    std::shared_ptr<const aws::AttributeSelection> decode_only, const core::Clock& clock, uint64_t tag,
    core::BoundedQueue<core::Record>* out, core::FetchGate* gate) {
  auto loaded = Manifest();
  if (!loaded.ok()) return std::make_unique<FailedPartitionReader>(loaded.status());
  const ExportManifest& manifest = *loaded;
  if (lease.segment < 0 || static_cast<size_t>(lease.segment) >= manifest.files.size()) {
    return std::make_unique<FailedPartitionReader>(core::Status::FailedPrecondition(
        "partition " + lease.id + " has no data file in the export " + manifest_uri_ + " (it lists " +
        std::to_string(manifest.files.size()) +
        "): snapshot.export.manifest changed after the snapshot began; restore it, or re-snapshot"));
  }
  ExportFileReaderOptions options;
  options.table = table;
  options.key_names = std::move(key_names);
  options.partition_id = lease.id;
  options.bucket = manifest.bucket;
  options.file = manifest.files[static_cast<size_t>(lease.segment)];
  options.export_time_ms = manifest.export_time_ms;
  options.decode_only = std::move(decode_only);
  auto reader = std::make_unique<ExportFileReader>(std::move(options), lease.position, s3_, clock, out, tag);
  reader->SetFetchGate(gate);
  reader->Start("export-" + std::to_string(lease.segment));
  return reader;
}

}  // namespace ddb2pg::source
