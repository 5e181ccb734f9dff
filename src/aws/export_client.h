// ExportClient: DynamoDB's export control plane — ExportTableToPointInTime with an explicit
// ExportTime and a ClientToken (a restart asks again with the same token and gets the same export
// instead of a second one) and DescribeExport — over the same AwsClient plumbing as
// DynamoDbClient (endpoint, credentials, retries; errors "<Op> <resource>: <Type>: <message>").
//
// A table without point-in-time recovery (PointInTimeRecoveryUnavailableException) is
// kFailedPrecondition naming the fix.
// Thread-safety: every method is safe from many threads at once.
#pragma once

#include <memory>

#include "aws/aws_client.h"
#include "aws/export_api.h"
#include "aws/export_types.h"

namespace ddb2pg::aws {

class ExportClient final : public ExportApi {
 public:
  ExportClient(const ResolvedAws& aws, RetryPolicy retry, const core::Clock& clock,
               TransportFactory transports = CurlTransportFactory(), std::shared_ptr<RetryStats> stats = nullptr);

  // Format DYNAMODB_JSON; type FULL_EXPORT, or INCREMENTAL_EXPORT (NEW_AND_OLD_IMAGES) when the
  // request has an incremental window.
  core::Result<ExportDescription> ExportTableToPointInTime(const ExportRequest& request) override;
  core::Result<ExportDescription> DescribeExport(const std::string& export_arn) override;

  // Parses {"ExportDescription": {...}}; `context` prefixes errors. Exposed for tests.
  static core::Result<ExportDescription> ParseExportDescription(std::string_view body, const std::string& context);

 private:
  AwsClient client_;
};

}  // namespace ddb2pg::aws
