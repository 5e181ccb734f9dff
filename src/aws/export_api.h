// ExportApi: the narrow interface to DynamoDB's export control plane that the source requests
// exports through. ExportClient implements it over HTTP; unit tests implement it with fakes.
// Thread-safety: implementations are safe to call from several threads at once.
#pragma once

#include <string>

#include "aws/export_types.h"
#include "core/status.h"

namespace ddb2pg::aws {

class ExportApi {
 public:
  virtual ~ExportApi() = default;
  virtual core::Result<ExportDescription> ExportTableToPointInTime(const ExportRequest& request) = 0;
  virtual core::Result<ExportDescription> DescribeExport(const std::string& export_arn) = 0;
};

}  // namespace ddb2pg::aws
