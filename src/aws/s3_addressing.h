// Where S3 requests go: the endpoint (AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, else AWS's) and
// the URL of a bucket or object on it.
//
// - A custom endpoint (a local S3 server, MinIO, a VPC endpoint URL) is addressed path-style:
//   "<endpoint>/<bucket>/<key>" — such servers rarely resolve "<bucket>.<host>".
// - AWS's own endpoint is addressed virtual-hosted: "https://<bucket>.s3.<region>.amazonaws.com/
//   <key>" (amazonaws.com.cn in cn-* regions), except a bucket whose name holds a '.', which would
//   not match the wildcard TLS certificate: path-style on "https://s3.<region>.amazonaws.com".
// Keys are percent-encoded once, byte by byte, everything but the unreserved set and '/' (the
// form SigV4 signs for S3).
//
// Thread-safety: free functions over plain values.
#pragma once

#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "core/status.h"

namespace ddb2pg::aws {

// The custom S3 endpoint, or "" for AWS's: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL (empty
// counts as unset), both skipped when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true. No trailing '/'.
std::string ResolveS3Endpoint(const EnvLookup& env);

// The URL of `key` in `bucket` ("" key: the bucket itself, for listings), with `query` (already
// encoded, without '?') appended when non-empty.
std::string S3Url(std::string_view endpoint, std::string_view region, std::string_view bucket, std::string_view key,
                  std::string_view query = {});

struct S3Location {
  std::string bucket;
  std::string key;
};

// "s3://bucket/key/…" → {bucket, key}. kInvalidArgument naming the text when it is not of that
// form (no scheme, no bucket, no key).
core::Result<S3Location> ParseS3Uri(std::string_view uri);

}  // namespace ddb2pg::aws
