// AWS Signature Version 4 for the DynamoDB and DynamoDB Streams JSON APIs, and for S3 (SigV4Options::s3).
//
// Signs with an injected clock so tests replay AWS's published vectors at their fixed time. The
// canonical request, string to sign and signature are exposed for those tests.
//
// What is signed (the AWS spec for every service except S3):
// - the path from the URL, with `.`/`..`/empty segments removed (SigV4Options::normalize_path)
//   and each segment URI-encoded again, so an already-encoded "%20" becomes "%2520";
// - the query, each key and value decoded and re-encoded per RFC 3986, sorted by key then value;
// - every header of the request (names lower-cased, values trimmed, runs of spaces collapsed,
//   repeated headers joined with commas in their order), except the ones proxies and HTTP
//   libraries rewrite and the AWS SDKs also leave unsigned: authorization, user-agent, expect,
//   connection, transfer-encoding, x-amzn-trace-id;
// - the hex SHA-256 of the body.
//
// Ownership: the signer keeps a reference to `clock`, which must outlive it. It holds a copy of
// the credentials; nothing it logs or returns contains the secret key (the signature does not
// reveal it).
// Thread-safety: Sign() and Compute() are const and safe from many threads. The key derived from
// the secret is cached per date behind a mutex; copies of a signer share that cache.
#pragma once

#include <memory>
#include <string>

#include "aws/credentials.h"
#include "aws/http_transport.h"
#include "core/clock.h"

namespace ddb2pg::aws {

struct SigningParts {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the full Authorization header value
};

struct SigV4Options {
  // Remove `.` and `..` segments and collapse `//` in the canonical path, as every AWS service
  // except S3 expects. Off only to replay AWS's "-unnormalized" test vectors.
  bool normalize_path = true;
  // S3's rules instead (the "s3" service): the path is signed exactly as the caller encoded it
  // in the URL (each key byte outside the unreserved set percent-encoded once, '/' kept; neither
  // normalized nor encoded again), and Sign() adds X-Amz-Content-Sha256 (the body's hex SHA-256),
  // which S3 requires and which is signed like any other header. normalize_path is then ignored.
  bool s3 = false;
};

class SigV4Signer {
 public:
  // `service` is "dynamodb" for both DynamoDB and DynamoDB Streams.
  SigV4Signer(Credentials credentials, std::string region, std::string service, const core::Clock& clock,
              SigV4Options options = {});

  // Adds X-Amz-Date (from the clock), X-Amz-Security-Token (when there is a session token), Host
  // (from the URL, with the port only when it is not the scheme's default; kept when the caller
  // set one) and Authorization to `request`, then signs every header present (see above).
  // Signing again — a retry after the clock moved on — first drops the X-Amz-Date,
  // X-Amz-Security-Token and Authorization headers an earlier Sign() added.
  // Throws std::runtime_error only if OpenSSL itself fails (out of memory, broken provider).
  void Sign(HttpRequest& request) const;

  // The signing steps for a request at `amz_date` ("20150830T123600Z"): headers as given
  // (the caller includes host and x-amz-date, and x-amz-security-token when wanted), path and
  // query from the URL, the body's SHA-256. Does not modify or read the clock.
  SigningParts Compute(const HttpRequest& request, const std::string& amz_date) const;

  // "20150830T123600Z" for a time point (UTC, whole seconds).
  static std::string FormatAmzDate(std::chrono::system_clock::time_point time);

 private:
  struct SigningKeyCache;  // the derived key for the last date signed (mutex-guarded)

  Credentials credentials_;
  std::string region_;
  std::string service_;
  const core::Clock& clock_;
  SigV4Options options_;
  std::shared_ptr<SigningKeyCache> key_cache_;  // shared by copies, which sign with the same key
};

}  // namespace ddb2pg::aws
