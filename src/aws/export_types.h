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
