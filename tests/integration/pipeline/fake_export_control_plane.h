// FakeExportControlPlane: DynamoDB's export API, which DynamoDB Local lacks, over HTTP in the JSON
// AWS documents (X-Amz-Target DynamoDB_20120810.ExportTableToPointInTime / DescribeExport,
// {"ExportDescription":{…}}, errors {"__type":…,"message":…}). An export completes at its
// `polls_to_complete`-th DescribeExport: ExportWriter then writes the table's items to S3 in AWS's
// layout, labelled with the requested ExportTime. A repeated ClientToken returns the same export,
// as AWS does. With a `forward_to` endpoint (DynamoDB Local) it is also the source's DynamoDB
// endpoint: every other operation (DescribeTable, Scan, UpdateTable…) is passed on to it, so
// `ddb2pg run` reaches the export API and the table through one endpoint, as on AWS. held(true)
// keeps every export IN_PROGRESS (a restart during the export). Thread-safety: the handler locks
// its own state.
#pragma once

#include <simdjson.h>

#include <map>
#include <mutex>
#include <string>

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
  };

  static TinyResponse Error(int status, const std::string& type, const std::string& message) {
    return {status, "application/x-amz-json-1.0",
            R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + type + R"(","message":")" + message + "\"}", {}};
  }

  static TinyResponse Describe(const Export& e) {
    std::string body = R"({"ExportDescription":{"ExportArn":")" + e.arn + R"(","ExportStatus":")" +
                       (e.failed ? "FAILED" : e.manifest_key.empty() ? "IN_PROGRESS" : "COMPLETED") +
                       R"(","ExportTime":)" + std::to_string(e.export_time) + R"(,"S3Bucket":")" + e.bucket +
                       R"(","S3Prefix":")" + e.prefix + R"(","ExportFormat":"DYNAMODB_JSON","ExportType":"FULL_EXPORT")";
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
      if (body["ExportTime"].get(seconds) != simdjson::SUCCESS) return Error(400, "ValidationException", "no ExportTime");
      e.export_time = static_cast<double>(seconds);
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
        const std::string uri = writer.Write(
            e.table, 3, std::chrono::system_clock::time_point(std::chrono::seconds(static_cast<int64_t>(e.export_time))));
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
  int describe_calls_ = 0;
  std::map<std::string, Export> exports_;     // by ClientToken
  std::map<std::string, std::string> by_arn_;  // ExportArn → ClientToken
  TinyHttpServer server_;  // last: stopped first, while the state it serves still exists
};

}  // namespace ddb2pg::testing
