// The DynamoDB / DynamoDB Streams / S3 operations ddb2pg calls, and how their error responses become
// core::Status values.
//
// An error response is JSON: {"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
// "message":"Requested resource not found"} ("Message" in some services). The type decides the
// StatusCode (and so whether a retry can help); the message is kept for people, cut to its first
// line (AWS appends the canonical request, which can hold the session token, to signature errors)
// and scrubbed of every secret the caller names. Requests, headers and credentials are never
// part of a message.
//
// Thread-safety: free functions over plain values.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ddb2pg::aws {

enum class AwsOperation {
  kDescribeTable,
  kScan,
  kPutItem,
  kBatchWriteItem,
  kUpdateItem,
  kDeleteItem,
  kCreateTable,
  kUpdateTable,
  kDeleteTable,
  kListStreams,
  kDescribeStream,
  kGetShardIterator,
  kGetRecords,
  kExportTableToPointInTime,  // the export control plane (DynamoDB's JSON API)
  kDescribeExport,
  kGetObject,                 // S3 (REST, XML errors: s3_error.h)
  kHeadObject,
  kListObjectsV2,
  kPutObject,
};
inline constexpr size_t kAwsOperationCount = static_cast<size_t>(AwsOperation::kPutObject) + 1;

// "DescribeTable", "GetRecords", ...: the name in X-Amz-Target and in error messages.
std::string_view OperationName(AwsOperation operation);
// "<Op> <resource>" (just "<Op>" when resource is empty): how every error message names a call.
std::string CallContext(AwsOperation operation, std::string_view resource);
// True for the DynamoDB Streams operations (target prefix DynamoDBStreams_20120810).
bool IsStreamsOperation(AwsOperation operation);
// "DynamoDB_20120810.Scan" or "DynamoDBStreams_20120810.GetRecords".
std::string OperationTarget(AwsOperation operation);

struct AwsErrorBody {
  std::string type;     // the short type, e.g. "ResourceNotFoundException"; empty if none was sent
  std::string message;  // as sent; may be empty
};

// Reads __type and message/Message from an error body. Never fails: a body that is not JSON (an
// HTML page from a proxy) gives empty fields.
AwsErrorBody ParseAwsErrorBody(std::string_view body);

// The StatusCode for an error response: throttling → kThrottled; InternalServerError,
// ServiceUnavailable, any 5xx → kUnavailable; ResourceNotFoundException → kNotFound;
// ExpiredIteratorException → kExpiredIterator; TrimmedDataAccessException → kTrimmedData;
// refused credentials → kPermissionDenied; ConditionalCheckFailedException, ResourceInUseException,
// TransactionConflictException → kConflict; other 4xx (ValidationException, ...) → kInvalidArgument.
core::StatusCode ClassifyAwsError(long http_status, std::string_view error_type);

// Replaces every occurrence of each non-empty secret in `text` with "<redacted>".
std::string RedactSecrets(std::string text, std::span<const std::string> secrets);

// The Status for a non-200 response: "<operation> <resource>: <ErrorType>: <message>", e.g.
// "DescribeTable users: ResourceNotFoundException: Requested resource not found". Without a
// __type the HTTP status stands in ("HTTP 503"). `secrets` are scrubbed from the message.
core::Status AwsErrorStatus(AwsOperation operation, std::string_view resource, long http_status,
                            std::string_view body, std::span<const std::string> secrets);

}  // namespace ddb2pg::aws
