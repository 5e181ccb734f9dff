// The DynamoDB export control plane's values (ExportTableToPointInTime, DescribeExport), as AWS's
// JSON API documents them.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>

namespace ddb2pg::aws {

struct ExportRequest {
  std::string table_arn;
  int64_t export_time_ms = 0;  // explicit: the snapshot's hand-off to the stream (whole seconds are sent)
  std::string client_token;    // the same token (and parameters) returns the same export for 8 h
  std::string s3_bucket;
  std::string s3_prefix;
  // An incremental export (ExportType INCREMENTAL_EXPORT, NEW_AND_OLD_IMAGES) of the changes in
  // [incremental_from_ms, incremental_to_ms) when incremental_to_ms > 0 (whole seconds are sent;
  // export_time_ms is then not sent). AWS takes windows of 15 min to 24 h.
  int64_t incremental_from_ms = 0;
  int64_t incremental_to_ms = 0;
};

struct ExportDescription {
  std::string export_arn;
  std::string export_status;    // IN_PROGRESS | COMPLETED | FAILED
  int64_t export_time_ms = 0;
  std::string s3_bucket;
  std::string export_manifest;  // the manifest-summary.json key, once COMPLETED
  std::string failure_code;
  std::string failure_message;
  int64_t item_count = 0;
  int64_t billed_size_bytes = 0;
};

}  // namespace ddb2pg::aws
