// Parsing the response bodies of the hot-path operations straight into our types, in one pass.
// Errors (InvalidArgument) name the field path, e.g. "GetRecords: Records[3].dynamodb.NewImage.id: ...".
#pragma once

#include <string>
#include <string_view>

#include "aws/dynamodb_types.h"
#include "core/status.h"

namespace ddb2pg::aws {

core::Result<ScanPage> ParseScanResponse(std::string_view body);
core::Result<GetRecordsResult> ParseGetRecordsResponse(std::string_view body);

}  // namespace ddb2pg::aws
