// ExportManifest: a completed DynamoDB export to S3, as AWS documents its layout
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html):
//
//   <prefix>/AWSDynamoDB/<export id>/manifest-summary.json   one JSON object: exportArn,
//       exportTime, outputFormat (DYNAMODB_JSON | ION), exportType, itemCount, manifestFilesS3Key
//   <prefix>/AWSDynamoDB/<export id>/manifest-files.json     JSON lines, one per data file:
//       {"itemCount":N,"md5Checksum":"<base64>","etag":"…","dataFileS3Key":"…/data/….json.gz"}
//   <prefix>/AWSDynamoDB/<export id>/data/*.json.gz          gzip'd JSON lines {"Item":{…}}
//
// Keys in the manifests are keys of the export's bucket; one not under the export prefix (the part
// of the summary's key before "AWSDynamoDB/") is taken as relative to it. Load() reads both
// manifests; only DYNAMODB_JSON full exports are accepted (ION and incremental exports are refused
// naming the setting to change).
//
// Thread-safety: plain values; Load and the parsers keep no state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aws/s3_api.h"
#include "core/status.h"

namespace ddb2pg::source {

struct ExportDataFile {
  std::string key;             // the data file's key in the bucket
  std::string md5_base64;      // manifest-files.json's md5Checksum: MD5 of the .json.gz object
  std::string etag;
  int64_t item_count = 0;
};

// What an export holds: the table at one time (FULL_EXPORT), or the changes of a window
// (INCREMENTAL_EXPORT, lines read by IncrementalExportLine).
enum class ExportType { kFull, kIncremental };

struct ExportManifest {
  std::string manifest_uri;    // s3://bucket/…/manifest-summary.json, as configured
  std::string bucket;
  std::string export_arn;
  int64_t export_time_ms = 0;  // exportTime: the table's state the data files hold (Unix ms);
                               // an incremental export's exportToTime (its window's exclusive end)
  int64_t export_from_time_ms = 0;  // an incremental export's exportFromTime (inclusive); 0 for a full one
  std::string output_format;   // "DYNAMODB_JSON"
  std::string export_type;     // "FULL_EXPORT"
  int64_t item_count = 0;
  std::vector<ExportDataFile> files;  // in manifest-files.json order: file i is partition scan/<i>

  // Reads manifest-summary.json at `manifest_uri` and the manifest-files.json it names.
  // kInvalidArgument names the URI and the problem (not an s3:// URI, not a summary, ION, an
  // export of another type than `expected`, a malformed line with its number); S3 errors keep their
  // own codes.
  static core::Result<ExportManifest> Load(aws::ObjectStoreApi& s3, const std::string& manifest_uri,
                                           ExportType expected = ExportType::kFull);

  // The summary's fields (files left empty). `what` names the document in errors.
  static core::Result<ExportManifest> ParseSummary(std::string_view json, const std::string& what,
                                                   ExportType expected = ExportType::kFull);
  static core::Result<std::vector<ExportDataFile>> ParseFiles(std::string_view json_lines, const std::string& what);
};

// "2020-11-04T07:28:34.028Z" (fraction optional, 'Z' or +00:00) → Unix milliseconds.
core::Result<int64_t> ParseIsoUtcMillis(std::string_view text);

}  // namespace ddb2pg::source
