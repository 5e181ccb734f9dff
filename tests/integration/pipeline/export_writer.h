// ExportWriter: writes a DynamoDB table's items to S3 as a completed export in the layout AWS
// documents (S3DataExport.Output): <prefix>/AWSDynamoDB/<id>/manifest-summary.json,
// manifest-files.json (JSON lines with itemCount, md5Checksum, etag, dataFileS3Key) and
// data/<n>.json.gz ({"Item":{…}} lines, DYNAMODB_JSON). DynamoDB Local has no export: this stands
// in for the service, for the export tests and benchmarks. Not thread-safe.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include "aws/dynamodb_client.h"
#include "aws/md5_digest.h"
#include "aws/s3_client.h"
#include "core/json_writer.h"
#include "core/value_json.h"
#include "support/gzip.h"

namespace ddb2pg::testing {

class ExportWriter {
 public:
  ExportWriter(aws::DynamoDbClient& table, aws::S3Client& s3, std::string bucket, std::string prefix)
      : table_(table), s3_(s3), bucket_(std::move(bucket)), prefix_(std::move(prefix)) {}

  // Scans `table_name` now and writes its items in `files` data files as an export at
  // `export_time`; returns the manifest-summary.json URI, or "" after a test failure.
  std::string Write(const std::string& table_name, int files, std::chrono::system_clock::time_point export_time) {
    std::vector<std::string> lines(static_cast<size_t>(files));
    std::vector<int64_t> counts(static_cast<size_t>(files), 0);
    int64_t total = 0;
    aws::ScanRequest request;
    request.table_name = table_name;
    request.consistent_read = true;
    while (true) {
      auto page = table_.Scan(request);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) return "";
      for (const auto& item : page->items) {
        const size_t file = static_cast<size_t>(total % files);
        lines[file] += "{\"Item\":" + core::ItemToJson(item) + "}\n";
        ++counts[file];
        ++total;
      }
      if (!page->last_evaluated_key) break;
      request.exclusive_start_key = std::move(page->last_evaluated_key);
    }
    const std::string id = std::to_string(core_millis(export_time)) + "-ddb2pgts";
    const std::string dir = prefix_ + "AWSDynamoDB/" + id;
    std::string manifest_files;
    for (size_t f = 0; f < lines.size(); ++f) {
      const std::string gz = Gzip(lines[f]);
      const std::string key = dir + "/data/" + std::to_string(f) + "abcdefgh.json.gz";
      if (!Put(key, gz)) return "";
      manifest_files += "{\"itemCount\":" + std::to_string(counts[f]) + ",\"md5Checksum\":\"" +
                        aws::Md5Digest::Base64Of(gz) + "\",\"etag\":\"" + std::to_string(f) +
                        "-1\",\"dataFileS3Key\":\"" + key + "\"}\n";
    }
    if (!Put(dir + "/manifest-files.json", manifest_files)) return "";
    const std::string time = IsoTime(export_time);
    const std::string summary =
        "{\"version\":\"2020-06-30\",\"exportArn\":\"arn:aws:dynamodb:us-east-1:000000000000:table/" + table_name +
        "/export/" + id + "\",\"startTime\":\"" + time + "\",\"endTime\":\"" + time +
        "\",\"tableArn\":\"arn:aws:dynamodb:us-east-1:000000000000:table/" + table_name +
        "\",\"tableId\":\"local\",\"exportTime\":\"" + time + "\",\"s3Bucket\":\"" + bucket_ + "\",\"s3Prefix\":\"" +
        prefix_ + "\",\"s3SseAlgorithm\":\"AES256\",\"s3SseKmsKeyId\":null,\"manifestFilesS3Key\":\"" + dir +
        "/manifest-files.json\",\"billedSizeBytes\":0,\"itemCount\":" + std::to_string(total) +
        ",\"outputFormat\":\"DYNAMODB_JSON\",\"exportType\":\"FULL_EXPORT\"}";
    if (!Put(dir + "/manifest-summary.json", summary)) return "";
    items_ = total;
    return "s3://" + bucket_ + "/" + dir + "/manifest-summary.json";
  }

  int64_t items() const { return items_; }

  // An incremental export (ExportType INCREMENTAL_EXPORT, NEW_AND_OLD_IMAGES) of the window
  // [from, to) in one data file: `lines` are its change lines as AWS writes them
  // ({"Metadata":{"WriteTimestampMicros":{"N":…}},"Keys":…,"NewImage":…,"OldImage":…}); the
  // summary names the window as exportFromTime / exportToTime. Returns the manifest URI.
  std::string WriteIncremental(const std::string& table_name, const std::vector<std::string>& lines,
                               std::chrono::system_clock::time_point from, std::chrono::system_clock::time_point to) {
    const std::string id = std::to_string(core_millis(to)) + "-ddb2pgin";
    const std::string dir = prefix_ + "AWSDynamoDB/" + id;
    std::string body;
    for (const auto& line : lines) body += line + "\n";
    const std::string gz = Gzip(body);
    const std::string key = dir + "/data/0abcdefgh.json.gz";
    if (!Put(key, gz)) return "";
    const std::string manifest_files = "{\"itemCount\":" + std::to_string(lines.size()) + ",\"md5Checksum\":\"" +
                                       aws::Md5Digest::Base64Of(gz) + "\",\"etag\":\"0-1\",\"dataFileS3Key\":\"" +
                                       key + "\"}\n";
    if (!Put(dir + "/manifest-files.json", manifest_files)) return "";
    const std::string summary =
        "{\"version\":\"2023-08-01\",\"exportArn\":\"arn:aws:dynamodb:us-east-1:000000000000:table/" + table_name +
        "/export/" + id + "\",\"startTime\":\"" + IsoTime(to) + "\",\"endTime\":\"" + IsoTime(to) +
        "\",\"tableArn\":\"arn:aws:dynamodb:us-east-1:000000000000:table/" + table_name +
        "\",\"tableId\":\"local\",\"exportFromTime\":\"" + IsoTime(from) + "\",\"exportToTime\":\"" + IsoTime(to) +
        "\",\"s3Bucket\":\"" + bucket_ + "\",\"s3Prefix\":\"" + prefix_ +
        "\",\"s3SseAlgorithm\":\"AES256\",\"s3SseKmsKeyId\":null,\"manifestFilesS3Key\":\"" + dir +
        "/manifest-files.json\",\"billedSizeBytes\":0,\"itemCount\":" + std::to_string(lines.size()) +
        ",\"outputFormat\":\"DYNAMODB_JSON\",\"outputView\":\"NEW_AND_OLD_IMAGES\",\"exportType\":\"INCREMENTAL_EXPORT\"}";
    if (!Put(dir + "/manifest-summary.json", summary)) return "";
    return "s3://" + bucket_ + "/" + dir + "/manifest-summary.json";
  }


 private:
  static int64_t core_millis(std::chrono::system_clock::time_point time) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  }
  static std::string IsoTime(std::chrono::system_clock::time_point time) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
    char millis[8];
    std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(core_millis(time) % 1000));
    return std::string(buffer) + millis;
  }
  bool Put(const std::string& key, const std::string& body) {
    auto put = s3_.PutObject(bucket_, key, body);
    EXPECT_TRUE(put.ok()) << put.ToString();
    return put.ok();
  }

  aws::DynamoDbClient& table_;
  aws::S3Client& s3_;
  std::string bucket_;
  std::string prefix_;
  int64_t items_ = 0;
};

}  // namespace ddb2pg::testing
