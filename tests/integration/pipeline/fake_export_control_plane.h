// FakeExportControlPlane: DynamoDB's export API, which DynamoDB Local lacks, over HTTP in the JSON
// AWS documents (X-Amz-Target DynamoDB_20120810.ExportTableToPointInTime / DescribeExport,
// {"ExportDescription":{…}}, errors {"__type":…,"message":…}). An export completes at its
// `polls_to_complete`-th DescribeExport: ExportWriter then writes the table's items to S3 in AWS's
// layout, labelled with the requested ExportTime. A repeated ClientToken returns the same export,
// as AWS does. With a `forward_to` endpoint (DynamoDB Local) it is also the source's DynamoDB
// endpoint: every other operation (DescribeTable, Scan, UpdateTable…) is passed on to it, so
// `ddb2pg run` reaches the export API and the table through one endpoint, as on AWS. held(true)
// keeps every export IN_PROGRESS (a restart during the export). An INCREMENTAL_EXPORT request is
// answered from the changes the test logged (LogChange): for each key, its last change inside
// the window, compacted as AWS documents (no NewImage: deleted). Thread-safety: the handler locks
// its own state.
#pragma once

#include <simdjson.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "aws/curl_transport.h"
#include "export_writer.h"
#include "integration/aws/tiny_http_server.h"

namespace ddb2pg::testing {

class FakeExportControlPlane {
 public:
  FakeExportControlPlane(aws::DynamoDbClient& table, aws::S3Client& s3, int polls_to_complete,
                         std::string forward_to = "")
      : table_(table), s3_(s3), polls_to_complete_(polls_to_complete), forward_to_(std::move(forward_to)),
        server_([this](const TinyRequest& request) { return Handle(request); }) {}

  std::string url() const { return server_.url(); }
  void set_point_in_time_recovery(bool enabled) {
    std::lock_guard lock(mutex_);
    pitr_ = enabled;
  }
  int exports_started() {
    std::lock_guard lock(mutex_);
    return static_cast<int>(exports_.size());
  }
  int describe_calls() {
    std::lock_guard lock(mutex_);
    return describe_calls_;
  }
  void hold(bool held) {
    std::lock_guard lock(mutex_);
    held_ = held;
  }
  // A change made to the table at `time_ms` (Unix ms, the writer's clock): `keys` as a map of
  // the key attributes, `image` the item after it (nullopt: deleted).
  void LogChange(const core::Value& keys, std::optional<core::Value> image, int64_t time_ms) {
    std::lock_guard lock(mutex_);
    changes_.push_back({keys, std::move(image), time_ms});
  }
  // Every shard position is trimmed: GetShardIterator AFTER_ / AT_SEQUENCE_NUMBER (a stored
  // position) answers TrimmedDataAccessException, as DynamoDB Streams does 24 h on; TRIM_HORIZON
  // and LATEST still work. Needs the fake as the streams endpoint too.
  void trim_positions(bool trimmed) {
    std::lock_guard lock(mutex_);
    trimmed_ = trimmed;
  }
  int incremental_exports() {
    std::lock_guard lock(mutex_);
    int count = 0;
    for (const auto& [token, e] : exports_) count += e.incremental ? 1 : 0;
    return count;
  }
  // The windows requested, as "<from s>-<to s>", in request order.
  std::vector<std::string> incremental_windows() {
    std::lock_guard lock(mutex_);
    return windows_;
  }
  // Every export FAILs at its next DescribeExport (S3 access denied), as AWS reports it.
  void fail_exports(bool fail) {
    std::lock_guard lock(mutex_);
    fail_ = fail;
  }

 private:
  struct Export {
    std::string arn;
    std::string table;
    double export_time = 0;
    std::string bucket;
    std::string prefix;
    int polls = 0;
    std::string manifest_key;  // set once COMPLETED
    bool failed = false;
    bool incremental = false;
    int64_t from_s = 0, to_s = 0;  // an incremental export's window
  };
  struct Change {
    core::Value keys;
    std::optional<core::Value> image;
    int64_t time_ms = 0;
  };

  // The window's changes, compacted per key: its last change in [from, to), and its state before
  // the window as OldImage when one is known.
  std::vector<std::string> IncrementalLines(const Export& e) const {
    std::map<std::string, const Change*> before, last;
    for (const auto& change : changes_) {
      const std::string key = core::ItemToJson(change.keys);
      if (change.time_ms < e.from_s * 1000) before[key] = &change;
      if (change.time_ms >= e.from_s * 1000 && change.time_ms < e.to_s * 1000) last[key] = &change;
    }
    std::vector<std::string> lines;
    for (const auto& [key, change] : last) {
      std::string line = R"({"Metadata":{"WriteTimestampMicros":{"N":")" + std::to_string(change->time_ms * 1000) +
                         R"("}},"Keys":)" + key;
      if (change->image) line += R"(,"NewImage":)" + core::ItemToJson(*change->image);
      auto old = before.find(key);
      if (old != before.end() && old->second->image) line += R"(,"OldImage":)" + core::ItemToJson(*old->second->image);
      lines.push_back(line + "}");
    }
    return lines;
  }

  static TinyResponse Error(int status, const std::string& type, const std::string& message) {
    return {status, "application/x-amz-json-1.0",
            R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + type + R"(","message":")" + message + "\"}", {}};
  }

  static TinyResponse Describe(const Export& e) {
    std::string body = R"({"ExportDescription":{"ExportArn":")" + e.arn + R"(","ExportStatus":")" +
                       (e.failed ? "FAILED" : e.manifest_key.empty() ? "IN_PROGRESS" : "COMPLETED") +
                       R"(","ExportTime":)" + std::to_string(e.export_time) + R"(,"S3Bucket":")" + e.bucket +
                       R"(","S3Prefix":")" + e.prefix + R"(","ExportFormat":"DYNAMODB_JSON","ExportType":")" +
                       (e.incremental ? "INCREMENTAL_EXPORT" : "FULL_EXPORT") + "\"";
    if (!e.manifest_key.empty()) body += R"(,"ExportManifest":")" + e.manifest_key + "\"";
    if (e.failed) body += R"(,"FailureCode":"S3AccessDenied","FailureMessage":"Access Denied")";
    return {200, "application/x-amz-json-1.0", body + "}}", {}};
  }

  // Passes a request on to `forward_to_` as it came (DynamoDB Local checks no signature).
  TinyResponse Forward(const TinyRequest& request) const {
    aws::CurlTransport transport;
    aws::HttpRequest out;
    out.method = request.method;
    out.url = forward_to_ + request.target;
    for (const auto& [name, value] : request.headers) {
      if (name != "host" && name != "content-length" && name != "connection") out.headers.emplace_back(name, value);
    }
    out.body = request.body;
    auto response = transport.Send(out);
    if (!response.ok()) return Error(503, "ServiceUnavailable", response.status().message());
    TinyResponse back{static_cast<int>(response->status), "application/x-amz-json-1.0", response->body, {}};
    for (const auto& [name, value] : response->headers) {
      if (name == "content-type") back.content_type = value;
    }
    return back;
  }

  TinyResponse Handle(const TinyRequest& request) {
    const auto target = request.headers.find("x-amz-target");
    if (target == request.headers.end()) return Error(400, "UnknownOperationException", "no target");
    if (target->second == "DynamoDBStreams_20120810.GetShardIterator") {
      std::lock_guard lock(mutex_);
      if (trimmed_ && (request.body.find("\"AFTER_SEQUENCE_NUMBER\"") != std::string::npos ||
                       request.body.find("\"AT_SEQUENCE_NUMBER\"") != std::string::npos)) {
        return Error(400, "TrimmedDataAccessException", "The operation attempted to read past the oldest stream record");
      }
    }
    if (!forward_to_.empty() && target->second != "DynamoDB_20120810.ExportTableToPointInTime" &&
        target->second != "DynamoDB_20120810.DescribeExport") {
      return Forward(request);
    }
    simdjson::dom::parser parser;
    simdjson::dom::object body;
    if (parser.parse(simdjson::padded_string(request.body)).get(body) != simdjson::SUCCESS) {
      return Error(400, "SerializationException", "not JSON");
    }
    const auto text = [&](const char* name) {
      std::string_view value;
      return body[name].get(value) == simdjson::SUCCESS ? std::string(value) : std::string();
    };
    std::lock_guard lock(mutex_);
    if (target->second == "DynamoDB_20120810.ExportTableToPointInTime") {
      const std::string table_arn = text("TableArn");
      if (!pitr_) {
        return Error(400, "PointInTimeRecoveryUnavailableException",
                     "Point in time recovery is not enabled for table '" + table_arn + "'");
      }
      const std::string token = text("ClientToken");
      if (auto found = exports_.find(token); found != exports_.end()) return Describe(found->second);
      Export e;
      e.arn = table_arn + "/export/0170000000000" + std::to_string(exports_.size()) + "-fake";
      e.table = table_arn.substr(table_arn.find(":table/") + 7);
      int64_t seconds = 0;
      if (text("ExportType") == "INCREMENTAL_EXPORT") {
        simdjson::dom::object spec;
        if (body["IncrementalExportSpecification"].get(spec) != simdjson::SUCCESS ||
            spec["ExportFromTime"].get(e.from_s) != simdjson::SUCCESS ||
            spec["ExportToTime"].get(e.to_s) != simdjson::SUCCESS) {
          return Error(400, "ValidationException", "no IncrementalExportSpecification window");
        }
        if (e.to_s - e.from_s < 15 * 60 || e.to_s - e.from_s > 24 * 3600) {
          return Error(400, "ValidationException", "the window must be 15 minutes to 24 hours");
        }
        e.incremental = true;
        e.export_time = static_cast<double>(e.to_s);
        windows_.push_back(std::to_string(e.from_s) + "-" + std::to_string(e.to_s));
      } else if (body["ExportTime"].get(seconds) != simdjson::SUCCESS) {
        return Error(400, "ValidationException", "no ExportTime");
      } else {
        e.export_time = static_cast<double>(seconds);
      }
      e.bucket = text("S3Bucket");
      e.prefix = text("S3Prefix");
      by_arn_[e.arn] = token;
      return Describe(exports_[token] = e);
    }
    if (target->second == "DynamoDB_20120810.DescribeExport") {
      auto token = by_arn_.find(text("ExportArn"));
      if (token == by_arn_.end()) return Error(400, "ExportNotFoundException", "no such export");
      Export& e = exports_[token->second];
      ++describe_calls_;
      if (fail_ && e.manifest_key.empty()) e.failed = true;
      if (e.manifest_key.empty() && !held_ && ++e.polls >= polls_to_complete_) {
        ExportWriter writer(table_, s3_, e.bucket, e.prefix);
        const std::string uri =
            e.incremental
                ? writer.WriteIncremental(e.table, IncrementalLines(e),
                                          std::chrono::system_clock::time_point(std::chrono::seconds(e.from_s)),
                                          std::chrono::system_clock::time_point(std::chrono::seconds(e.to_s)))
                : writer.Write(e.table, 3,
                               std::chrono::system_clock::time_point(std::chrono::seconds(static_cast<int64_t>(e.export_time))));
        e.manifest_key = uri.substr(uri.find('/', 5) + 1);
      }
      return Describe(e);
    }
    return Error(400, "UnknownOperationException", target->second);
  }

  aws::DynamoDbClient& table_;
  aws::S3Client& s3_;
  const int polls_to_complete_;
  const std::string forward_to_;
  std::mutex mutex_;
  bool pitr_ = true;
  bool held_ = false;
  bool fail_ = false;
  bool trimmed_ = false;
  int describe_calls_ = 0;
  std::map<std::string, Export> exports_;     // by ClientToken
  std::map<std::string, std::string> by_arn_;  // ExportArn → ClientToken
  std::vector<Change> changes_;
  std::vector<std::string> windows_;
  TinyHttpServer server_;  // last: stopped first, while the state it serves still exists
};

}  // namespace ddb2pg::testing
