#include "aws/aws_error.h"

#include <simdjson.h>

#include <algorithm>

#include "aws/json_fields.h"

namespace ddb2pg::aws {
namespace {

// Long enough for every message DynamoDB sends, short enough that a proxy's HTML page cannot
// flood a log line.
constexpr size_t kMaxMessageChars = 300;

bool IsOneOf(std::string_view type, std::initializer_list<std::string_view> names) {
  for (auto name : names) {
    if (type == name) return true;
  }
  return false;
}

// First line only, bounded, control characters dropped: AWS appends the canonical request and
// string to sign to signature errors after a blank line.
std::string CleanMessage(std::string_view message) {
  const auto line_end = message.find_first_of("\r\n");
  if (line_end != std::string_view::npos) message = message.substr(0, line_end);
  std::string out;
  out.reserve(std::min(message.size(), kMaxMessageChars));
  for (char c : message) {
    if (out.size() >= kMaxMessageChars) {
      out += "...";
      break;
    }
    out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::string CallContext(AwsOperation operation, std::string_view resource) {
  std::string context(OperationName(operation));
  if (!resource.empty()) {
    context += ' ';
    context += resource;
  }
  return context;
}

std::string_view OperationName(AwsOperation operation) {
  switch (operation) {
    case AwsOperation::kDescribeTable: return "DescribeTable";
    case AwsOperation::kScan: return "Scan";
    case AwsOperation::kPutItem: return "PutItem";
    case AwsOperation::kBatchWriteItem: return "BatchWriteItem";
    case AwsOperation::kUpdateItem: return "UpdateItem";
    case AwsOperation::kDeleteItem: return "DeleteItem";
    case AwsOperation::kCreateTable: return "CreateTable";
    case AwsOperation::kUpdateTable: return "UpdateTable";
    case AwsOperation::kDeleteTable: return "DeleteTable";
    case AwsOperation::kListStreams: return "ListStreams";
    case AwsOperation::kDescribeStream: return "DescribeStream";
    case AwsOperation::kGetShardIterator: return "GetShardIterator";
    case AwsOperation::kGetRecords: return "GetRecords";
    case AwsOperation::kExportTableToPointInTime: return "ExportTableToPointInTime";
    case AwsOperation::kDescribeExport: return "DescribeExport";
    case AwsOperation::kGetObject: return "GetObject";
    case AwsOperation::kHeadObject: return "HeadObject";
    case AwsOperation::kListObjectsV2: return "ListObjectsV2";
    case AwsOperation::kPutObject: return "PutObject";
  }
  return "Unknown";
}

bool IsStreamsOperation(AwsOperation operation) {
  return operation == AwsOperation::kListStreams || operation == AwsOperation::kDescribeStream ||
         operation == AwsOperation::kGetShardIterator || operation == AwsOperation::kGetRecords;
}

std::string OperationTarget(AwsOperation operation) {
  std::string target = IsStreamsOperation(operation) ? "DynamoDBStreams_20120810." : "DynamoDB_20120810.";
  target += OperationName(operation);
  return target;
}

AwsErrorBody ParseAwsErrorBody(std::string_view body) {
  AwsErrorBody error;
  simdjson::dom::parser parser;
  const std::optional<simdjson::dom::object> parsed = ParseObject(parser, body);
  if (!parsed) return error;
  const simdjson::dom::object object = *parsed;
  std::string_view text;
  if (object["__type"].get(text) == simdjson::SUCCESS) {
    // "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" → the part after '#'.
    const auto hash = text.rfind('#');
    if (hash != std::string_view::npos) text.remove_prefix(hash + 1);
    error.type = std::string(text);
  }
  if (object["message"].get(text) == simdjson::SUCCESS || object["Message"].get(text) == simdjson::SUCCESS) {
    error.message = std::string(text);
  }
  return error;
}

core::StatusCode ClassifyAwsError(long http_status, std::string_view error_type) {
  using core::StatusCode;
  if (IsOneOf(error_type, {"ProvisionedThroughputExceededException", "RequestLimitExceeded",
                           "ThrottlingException", "Throttling", "LimitExceededException"})) {
    return StatusCode::kThrottled;
  }
  if (IsOneOf(error_type, {"InternalServerError", "InternalFailure", "ServiceUnavailable",
                           "ServiceUnavailableException"})) {
    return StatusCode::kUnavailable;
  }
  if (error_type == "ResourceNotFoundException") return StatusCode::kNotFound;
  if (error_type == "ExpiredIteratorException") return StatusCode::kExpiredIterator;
  if (error_type == "TrimmedDataAccessException") return StatusCode::kTrimmedData;
  if (IsOneOf(error_type, {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException",
                           "InvalidSignatureException", "IncompleteSignatureException",
                           "ExpiredTokenException", "MissingAuthenticationTokenException",
                           "InvalidClientTokenId"})) {
    return StatusCode::kPermissionDenied;
  }
  if (IsOneOf(error_type, {"ConditionalCheckFailedException", "ResourceInUseException",
                           "TransactionConflictException"})) {
    return StatusCode::kConflict;
  }
  if (http_status >= 500) return StatusCode::kUnavailable;
  if (http_status == 429) return StatusCode::kThrottled;
  if (http_status == 401 || http_status == 403) return StatusCode::kPermissionDenied;
  return StatusCode::kInvalidArgument;
}

std::string RedactSecrets(std::string text, std::span<const std::string> secrets) {
  static constexpr std::string_view kRedacted = "<redacted>";
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + kRedacted.size())) {
      text.replace(at, secret.size(), kRedacted);
    }
  }
  return text;
}

core::Status AwsErrorStatus(AwsOperation operation, std::string_view resource, long http_status,
                            std::string_view body, std::span<const std::string> secrets) {
  const AwsErrorBody error = ParseAwsErrorBody(body);
  std::string message = CallContext(operation, resource);
  message += ": ";
  if (error.type.empty()) {
    message += "HTTP ";
    message += std::to_string(http_status);
  } else {
    message += error.type;
  }
  // A body without __type is not DynamoDB talking (a proxy or load balancer page): its text is
  // not worth quoting.
  if (!error.message.empty()) {
    message += ": ";
    // Redact before cutting, so no prefix of a secret survives the cut.
    message += CleanMessage(RedactSecrets(error.message, secrets));
  }
  return {ClassifyAwsError(http_status, error.type), RedactSecrets(std::move(message), secrets)};
}

}  // namespace ddb2pg::aws
