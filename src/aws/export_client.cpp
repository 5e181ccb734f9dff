#include "aws/export_client.h"

#include <simdjson.h>

#include <cmath>

#include "aws/json_fields.h"
#include "core/json_writer.h"

namespace ddb2pg::aws {
namespace {

std::string TableName(const std::string& table_arn) {
  const size_t slash = table_arn.find(":table/");
  return slash == std::string::npos ? table_arn : table_arn.substr(slash + 7);
}

}  // namespace

ExportClient::ExportClient(const ResolvedAws& aws, RetryPolicy retry, const core::Clock& clock,
                           TransportFactory transports, std::shared_ptr<RetryStats> stats)
    : client_(AwsClientConfig{aws.dynamodb_endpoint, aws.credentials, aws.region, aws.credential_source},
              std::move(retry), clock, std::move(transports), std::move(stats)) {}

core::Result<ExportDescription> ExportClient::ParseExportDescription(std::string_view body,
                                                                     const std::string& context) {
  simdjson::dom::parser parser;
  core::Result<simdjson::dom::object> found = ResponseObject(parser, body, "ExportDescription", context);
  // Kept retryable: an answer cut short is worth asking again.
  if (!found.ok()) return core::Status::Unavailable(found.status().message());
  const simdjson::dom::object description = *found;
  ExportDescription out;
  out.export_arn = TextField(description, "ExportArn");
  out.export_status = TextField(description, "ExportStatus");
  out.s3_bucket = TextField(description, "S3Bucket");
  out.export_manifest = TextField(description, "ExportManifest");
  out.failure_code = TextField(description, "FailureCode");
  out.failure_message = TextField(description, "FailureMessage");
  out.item_count = IntegerField(description, "ItemCount");
  out.billed_size_bytes = IntegerField(description, "BilledSizeBytes");
  double export_time = 0;  // epoch seconds, with a fraction
  if (description["ExportTime"].get(export_time) == simdjson::SUCCESS) {
    out.export_time_ms = static_cast<int64_t>(std::llround(export_time * 1000));
  }
  if (out.export_arn.empty() || out.export_status.empty()) {
    return core::Status::Unavailable(context + ": the ExportDescription has no ExportArn or ExportStatus");
  }
  return out;
}

core::Result<ExportDescription> ExportClient::ExportTableToPointInTime(const ExportRequest& request) {
  std::string body;
  core::JsonWriter json(&body);
  const bool incremental = request.incremental_to_ms > 0;
  json.BeginObject().Key("TableArn").String(request.table_arn);
  if (!incremental) json.Key("ExportTime").Int(request.export_time_ms / 1000);
  json.Key("ClientToken").String(request.client_token).Key("S3Bucket").String(request.s3_bucket);
  if (!request.s3_prefix.empty()) json.Key("S3Prefix").String(request.s3_prefix);
  json.Key("ExportFormat").String("DYNAMODB_JSON");
  if (incremental) {
    json.Key("ExportType").String("INCREMENTAL_EXPORT")
        .Key("IncrementalExportSpecification").BeginObject()
        .Key("ExportFromTime").Int(request.incremental_from_ms / 1000)
        .Key("ExportToTime").Int(request.incremental_to_ms / 1000)
        .Key("ExportViewType").String("NEW_AND_OLD_IMAGES")
        .EndObject();
  } else {
    json.Key("ExportType").String("FULL_EXPORT");
  }
  json.EndObject();
  const std::string table = TableName(request.table_arn);
  auto response = client_.Call(AwsOperation::kExportTableToPointInTime, table, body);
  if (!response.ok()) {
    if (response.status().message().find("PointInTimeRecoveryUnavailableException") != std::string::npos) {
      return core::Status::FailedPrecondition(
          response.status().message() + "; an export needs point-in-time recovery on the table: aws dynamodb "
                                        "update-continuous-backups --table-name " + table +
          " --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true (or use snapshot.from: scan)");
    }
    return response.status();
  }
  return ParseExportDescription(*response, CallContext(AwsOperation::kExportTableToPointInTime, table));
}

core::Result<ExportDescription> ExportClient::DescribeExport(const std::string& export_arn) {
  std::string body;
  core::JsonWriter(&body).BeginObject().Key("ExportArn").String(export_arn).EndObject();
  DDB2PG_ASSIGN_OR_RETURN(std::string response, client_.Call(AwsOperation::kDescribeExport, export_arn, body));
  return ParseExportDescription(response, CallContext(AwsOperation::kDescribeExport, export_arn));
}

}  // namespace ddb2pg::aws
