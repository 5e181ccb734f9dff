// ImdsClient: the EC2 instance metadata service, IMDSv2 only — PUT /latest/api/token with
// X-aws-ec2-metadata-token-ttl-seconds, then GETs with X-aws-ec2-metadata-token. A token the
// service refuses (401) is fetched again once.
//
// Endpoint: AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254 (or http://[fd00:ec2::254]
// when AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6). Disabled() when
// AWS_EC2_METADATA_DISABLED=true. Timeouts: 1 s to connect, 2 s per request, so a machine that is
// not on EC2 learns it quickly. Proxies are never used for it (it is link-local).
// Thread-safety: not thread-safe; one caller at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "aws/credential_provider.h"

namespace ddb2pg::aws {

inline constexpr std::chrono::milliseconds kImdsConnectTimeout{1000};
inline constexpr std::chrono::milliseconds kImdsRequestTimeout{2000};
inline constexpr int kImdsTokenTtlSeconds = 21600;

class ImdsClient {
 public:
  explicit ImdsClient(const CredentialContext& context);

  static bool Disabled(const EnvLookup& env);
  // GET <endpoint><path>; the 200 body, NotFound for a 404, other statuses and transport failures
  // as errors naming "instance metadata" and the path.
  core::Result<std::string> Get(const std::string& path);
  // /latest/meta-data/placement/region
  core::Result<std::string> Region();

  const std::string& endpoint() const { return endpoint_; }
  // True once the service answered anything over HTTP (so it exists).
  bool reached() const { return reached_; }

 private:
  core::Status FetchToken();

  std::string endpoint_;
  std::string token_;
  bool reached_ = false;
  std::unique_ptr<HttpTransport> transport_;
};

}  // namespace ddb2pg::aws
