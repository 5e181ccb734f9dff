// S3Client: the S3 calls ddb2pg makes to read DynamoDB exports — GetObject (whole or a byte
// range), HeadObject, ListObjectsV2 — and PutObject for tests and tools that write exports.
//
// Requests are REST (s3_addressing.h for the URL), signed with SigV4 under S3's rules
// (service "s3", the payload hash in X-Amz-Content-Sha256) by the same AwsClient plumbing as
// DynamoDB: the credential chain's live credentials (refreshed when S3 answers ExpiredToken), the
// pooled transports, and the RetryPolicy (SlowDown and 5xx are retried). Errors read
// "<Operation> <bucket>/<key>: <Code>: <message>" (s3_response_parser.h).
//
// Ownership: the client owns its AwsClient; `clock` must outlive it.
// Thread-safety: every method is safe from many threads at once.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "aws/aws_client.h"
#include "aws/credentials.h"
#include "aws/retry_policy.h"
#include "aws/s3_api.h"
#include "aws/s3_types.h"
#include "core/clock.h"
#include "core/status.h"

namespace ddb2pg::aws {

class S3Client final : public ObjectStoreApi {
 public:
  // Signs with aws.credentials / aws.credential_source in aws.region. `endpoint` is the custom
  // endpoint (ResolveS3Endpoint), or "" for AWS's own.
  S3Client(const ResolvedAws& aws, std::string endpoint, RetryPolicy retry, const core::Clock& clock,
           TransportFactory transports = CurlTransportFactory(), std::shared_ptr<RetryStats> stats = nullptr);

  // The object, or `range` of it (206 Partial Content; info.size is then the whole object's,
  // from Content-Range). A range past the end is S3's InvalidRange (kInvalidArgument).
  core::Result<S3Object> GetObject(const std::string& bucket, const std::string& key,
                                   std::optional<ByteRange> range = std::nullopt) override;
  // Size, ETag and Last-Modified; kNotFound when there is no such object.
  core::Result<S3ObjectInfo> HeadObject(const std::string& bucket, const std::string& key) override;
  // One page of the keys under `prefix` (max_keys at most 1000, S3's limit).
  core::Result<S3ListPage> ListObjectsV2(const std::string& bucket, const std::string& prefix,
                                         const std::string& continuation_token = "", int max_keys = 1000);
  core::Status PutObject(const std::string& bucket, const std::string& key, std::string body,
                         const std::string& content_type = "application/octet-stream");

  const std::string& endpoint() const { return endpoint_; }
  RetryStats& retry_stats() const { return client_.retry_stats(); }

 private:
  std::string endpoint_;
  std::string region_;
  AwsClient client_;
};

}  // namespace ddb2pg::aws
