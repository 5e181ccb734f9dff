// ExportSnapshot: a source's snapshot taken from a completed DynamoDB export in S3 instead of a
// Scan (snapshot.from: export), for DynamoDbRecordSource.
//
// The export's data files are the snapshot's partitions: file i of manifest-files.json is
// "scan/<i>" (so leases, progress and the snapshot fence treat them as they treat Scan segments),
// read by an ExportFileReader. The export time is the snapshot's hand-off to the stream: every
// shard starts from a watermark at the export time with no iterator (StreamWatermark), i.e. from
// TRIM_HORIZON skipping records older than the export time less the watermark's margin; what the
// margin lets through is applied behind the snapshot fence like any change (docs/consistency.md).
// The export must therefore be younger than the stream's retention (24 h): older changes are gone.
//
// The manifest is read once, on first use, and kept (an export never changes).
// Ownership: borrows the ObjectStoreApi (it outlives this object and every reader it opened).
// Thread-safety: every method is safe from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "aws/dynamodb_types.h"
#include "aws/s3_api.h"
#include "core/clock.h"
#include "pipeline/record_source.h"
#include "source/export_manifest.h"

namespace ddb2pg::source {

class ExportSnapshot {
 public:
  ExportSnapshot(aws::ObjectStoreApi& s3, std::string manifest_uri);

  // The export's manifest (read on the first call; an error is not kept, so a later call retries).
  core::Result<ExportManifest> Manifest();

  // Whether `lease` is one of the export's partitions: a segment of the source's first snapshot
  // ("scan/<i>", no scope). A backfill or re-snapshot of some pipelines ("scan/<i>/<n>@<tag>")
  // scans the table: an old export would not meet the stream where they join it.
  static bool Covers(const pipeline::ClaimedPartition& lease);

  // Starts reading data file lease.segment from lease.position; a reader that failed at once
  // (FailedPartitionReader) when the manifest cannot be read or does not list that file.
  std::unique_ptr<pipeline::PartitionReader> Open(
      const pipeline::ClaimedPartition& lease, const std::string& table, std::vector<std::string> key_names,
      std::shared_ptr<const aws::AttributeSelection> decode_only, const core::Clock& clock, uint64_t tag,
      core::BoundedQueue<core::Record>* out, core::FetchGate* gate);

 private:
  aws::ObjectStoreApi& s3_;
  std::string manifest_uri_;
  std::mutex mutex_;
  std::optional<ExportManifest> manifest_;  // guarded by mutex_
};

}  // namespace ddb2pg::source
