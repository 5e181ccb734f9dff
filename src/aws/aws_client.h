// AwsClient: the plumbing DynamoDbClient, StreamsClient and S3Client share — build the request
// (JSON APIs: POST "/", application/x-amz-json-1.0, X-Amz-Target; S3 builds its own REST requests
// and hands them to Send), sign it (AwsClientConfig::service), send it over a pooled transport,
// turn error responses into core::Status (aws_error.h; S3: s3_error.h) and retry what is retryable
// (retry_policy.h).
//
// Transports: HttpTransport is not thread-safe, so the client keeps a mutex-guarded pool of them
// and lends one to each call for its duration; the pool grows to the number of threads calling at
// once (scan segments, shard readers) and each transport keeps its connection alive.
//
// Credentials: each attempt signs with the credential source's current snapshot (a signer is kept
// per snapshot, so a rotation costs one key derivation). A response ExpiredTokenException,
// UnrecognizedClientException, InvalidClientTokenId or ExpiredToken makes the client ask the source for new
// credentials (RefreshingCredentials::RefreshAfterRejection) and send the request once more before
// the error counts; static credentials cannot be refreshed, so the error stands.
//
// Ownership: the client owns its transports and its signers; it shares the credential source;
// `clock` must outlive it. RetryStats is shared (the metrics layer and other clients may hold it).
// Thread-safety: every method is safe to call from many threads at once.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aws/aws_error.h"
#include "aws/credentials.h"
#include "aws/http_transport.h"
#include "aws/refreshing_credentials.h"
#include "aws/retry_policy.h"
#include "aws/sigv4_signer.h"
#include "core/clock.h"
#include "core/status.h"

namespace ddb2pg::aws {

// Makes a new transport; called whenever the pool has none idle. Must be safe to call from any
// thread.
using TransportFactory = std::function<std::unique_ptr<HttpTransport>()>;

// Makes CurlTransports with `options`.
TransportFactory CurlTransportFactory(CurlTransportOptions options = {});

struct AwsClientConfig {
  std::string endpoint;  // "https://dynamodb.eu-west-1.amazonaws.com" or "http://127.0.0.1:8000"
  Credentials credentials;  // used when credential_source is null
  std::string region;
  std::shared_ptr<RefreshingCredentials> credential_source;
  std::string service = "dynamodb";  // the SigV4 service name: "dynamodb" or "s3"
  SigV4Options signing{};            // S3Client sets signing.s3
};

// Decides whether a response is a success: Ok, or the Status for an error response (setting
// *error_type, when not null, to the service's error code, so that refused credentials can be
// refreshed). `secrets` must be scrubbed from any message.
using ResponseCheck = std::function<core::Status(AwsOperation operation, std::string_view resource,
                                                 const HttpResponse& response, std::span<const std::string> secrets,
                                                 std::string* error_type)>;

class AwsClient {
 public:
  // A null `stats` gives the client counters of its own.
  AwsClient(AwsClientConfig config, RetryPolicy retry, const core::Clock& clock, TransportFactory transports,
            std::shared_ptr<RetryStats> stats = nullptr);
  ~AwsClient();
  AwsClient(const AwsClient&) = delete;
  AwsClient& operator=(const AwsClient&) = delete;

  // Sends `body` as `operation`, retrying retryable failures; returns the 200 response's body.
  // `resource` (a table name or stream ARN) names the call in error messages.
  core::Result<std::string> Call(AwsOperation operation, std::string_view resource, std::string body);

  // For the REST services (S3): sends `request` as the caller built it (method, URL, headers,
  // body), signed per attempt, retrying retryable failures; `check` tells success from error.
  core::Result<HttpResponse> Send(AwsOperation operation, std::string_view resource, HttpRequest request,
                                  const ResponseCheck& check);

  // One attempt, no retry: for callers that run their own RetryLoop (BatchWriteItem).
  core::Result<std::string> CallOnce(AwsOperation operation, std::string_view resource, const std::string& body);

  const RetryPolicy& retry_policy() const { return retry_; }
  const core::Clock& clock() const { return clock_; }
  RetryStats& retry_stats() const { return *stats_; }
  const std::shared_ptr<RetryStats>& shared_retry_stats() const { return stats_; }
  // Every secret key and session token signed with so far: what error messages must never contain.
  std::vector<std::string> secrets() const;
  // How many requests were sent again after a refresh of refused credentials.
  uint64_t credential_retries() const { return credential_retries_.load(); }

 private:
  class Lease;
  core::Result<HttpResponse> Attempt(AwsOperation operation, std::string_view resource, HttpRequest& request,
                                     const ResponseCheck& check);
  core::Result<HttpResponse> SendSigned(AwsOperation operation, std::string_view resource, HttpRequest& request,
                                        const ResponseCheck& check, const SigV4Signer& signer,
                                        std::string* error_type);
  HttpRequest BuildRequest(AwsOperation operation, std::string body) const;
  // The signer for `credentials` (the current snapshot), made on first use.
  std::shared_ptr<const SigV4Signer> SignerFor(const std::shared_ptr<const Credentials>& credentials);

  std::string url_;
  std::string region_;
  std::string service_;
  SigV4Options signing_;
  std::shared_ptr<RefreshingCredentials> credential_source_;
  RetryPolicy retry_;
  const core::Clock& clock_;
  TransportFactory transports_;
  std::shared_ptr<RetryStats> stats_;
  std::atomic<uint64_t> credential_retries_{0};

  mutable std::mutex signer_mutex_;
  std::shared_ptr<const Credentials> signed_with_;  // guarded by signer_mutex_
  std::shared_ptr<const SigV4Signer> signer_;       // guarded by signer_mutex_
  std::vector<std::string> secrets_;                // guarded by signer_mutex_

  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<HttpTransport>> idle_;  // guarded by pool_mutex_
};

}  // namespace ddb2pg::aws
