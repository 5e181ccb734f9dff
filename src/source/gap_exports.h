// GapExports: the source's side of on_trimmed: incremental_export, for DynamoDbRecordSource. It
// turns a gap [from_ms, to_ms) into partitions — IncrementalGap requests and waits for one
// INCREMENTAL_EXPORT per window — and opens them: each data file of each window is one partition,
// "gap/<window>/<file>@<manifest URI>" (the id names the export, so any runner, after any restart,
// opens it without other state), read by an ExportFileReader of type kIncremental whose records
// are changes (create / update / delete, each with its own change time).
//
// Manifests are read once per export and kept (an export never changes).
// Ownership: borrows the ExportApi, the ObjectStoreApi, the TableApi and the clock (they outlive this object and
// every reader it opened).
// Thread-safety: Open() and Covers() from any thread; Partitions() on one thread at a time.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aws/dynamodb_types.h"
#include "aws/dynamodb_api.h"
#include "aws/export_api.h"
#include "aws/s3_api.h"
#include "core/clock.h"
#include "pipeline/record_source.h"
#include "source/export_manifest.h"
#include "source/incremental_gap.h"

namespace ddb2pg::source {

struct GapExportsOptions {
  std::string checkpoint_id;  // part of each window's ClientToken
  std::string table;          // its ARN is asked for (DescribeTable) at the first gap
  std::string s3_bucket;
  std::string s3_prefix;
  ExportRequesterOptions requester;
};

class GapExports {
 public:
  GapExports(aws::ExportApi& api, aws::ObjectStoreApi& s3, aws::TableApi& table_api, const core::Clock& clock,
             GapExportsOptions options);

  // Whether `lease` is a gap partition ("gap/…").
  static bool Covers(const pipeline::ClaimedPartition& lease);

  // The gap's data files as partitions (kind segment, pending), windows in time order and files in
  // manifest order; no chaining (the runtime orders them). kCancelled once `stop` turns true.
  core::Result<std::vector<pipeline::SeedPartition>> Partitions(int64_t from_ms, int64_t to_ms,
                                                                const std::atomic<bool>& stop);

  // Starts reading the data file `lease` names from lease.position; a reader that failed at once
  // (FailedPartitionReader) when the id or the manifest cannot be read.
  std::unique_ptr<pipeline::PartitionReader> Open(const pipeline::ClaimedPartition& lease, const std::string& table,
                                                  std::vector<std::string> key_names,
                                                  std::shared_ptr<const aws::AttributeSelection> decode_only,
                                                  uint64_t tag, core::BoundedQueue<core::Record>* out,
                                                  core::FetchGate* gate);

 private:
  core::Result<ExportManifest> Manifest(const std::string& uri);

  aws::ExportApi& api_;
  aws::ObjectStoreApi& s3_;
  aws::TableApi& table_api_;
  const core::Clock& clock_;
  GapExportsOptions options_;
  std::mutex mutex_;
  std::map<std::string, ExportManifest> manifests_;  // by URI; guarded by mutex_
};

}  // namespace ddb2pg::source
