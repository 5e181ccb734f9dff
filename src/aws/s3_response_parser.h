// Reading S3's XML answers: the error document (<Error><Code>NoSuchKey</Code><Message>…</Message>
// </Error>) and the ListObjectsV2 result. S3's XML is flat and attribute-free below the root, so
// a small scanner for <Tag>text</Tag> (with the five named entities and numeric character
// references decoded) is enough; nothing here needs a general XML parser.
//
// Thread-safety: free functions over plain values.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aws/aws_error.h"
#include "aws/http_transport.h"
#include "aws/s3_types.h"
#include "core/status.h"

namespace ddb2pg::aws {

struct S3ErrorBody {
  std::string code;     // "NoSuchKey", "AccessDenied", "SlowDown", ...; empty if none was sent
  std::string message;  // as sent; may be empty
};

// Never fails: a body that is not an S3 error document (a proxy's page, HEAD's empty body) gives
// empty fields.
S3ErrorBody ParseS3ErrorBody(std::string_view body);

// SlowDown, 503, 429 → kThrottled; InternalError, other 5xx → kUnavailable; NoSuchKey,
// NoSuchBucket, 404 → kNotFound; AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch,
// ExpiredToken, 401/403 → kPermissionDenied; other 4xx → kInvalidArgument.
core::StatusCode ClassifyS3Error(long http_status, std::string_view code);

// The ResponseCheck (aws_client.h) for S3: 2xx is success; otherwise "<Op> <resource>: <Code>:
// <message>" ("HTTP 404" when the body has no code, as HEAD's never has), secrets scrubbed.
core::Status S3ResponseCheck(AwsOperation operation, std::string_view resource, const HttpResponse& response,
                             std::span<const std::string> secrets, std::string* error_type);

// kInvalidArgument when the body is not a ListBucketResult.
core::Result<S3ListPage> ParseListObjectsV2(std::string_view body);

// The text of every <tag>…</tag> in `xml`, in order, entities decoded. Exposed for tests.
std::vector<std::string> XmlElementTexts(std::string_view xml, std::string_view tag);

}  // namespace ddb2pg::aws
