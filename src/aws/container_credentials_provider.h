// ContainerCredentialsProvider: ECS task roles and EKS Pod Identity — GET the credentials from
// the container agent:
// - AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: http://169.254.170.2<uri> (ECS);
// - else AWS_CONTAINER_CREDENTIALS_FULL_URI: any https URL, or http only to a loopback address,
//   169.254.170.2 or 169.254.170.23 / [fd00:ec2::23] (EKS Pod Identity), as the SDKs allow;
// with header Authorization: the content of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read at
// every Fetch(), it rotates) or AWS_CONTAINER_AUTHORIZATION_TOKEN.
// The answer is {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}.
// Timeouts: 2 s to connect, 5 s per request. Fetch() is NotFound when neither variable is set.
// Thread-safety: one Fetch() at a time (RefreshingCredentials serializes).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "aws/credential_provider.h"

namespace ddb2pg::aws {

inline constexpr std::chrono::milliseconds kContainerConnectTimeout{2000};
inline constexpr std::chrono::milliseconds kContainerRequestTimeout{5000};

class ContainerCredentialsProvider final : public CredentialProvider {
 public:
  explicit ContainerCredentialsProvider(const CredentialContext& context);
  core::Result<Credentials> Fetch() override;
  std::string Name() const override { return "container credentials (" + url_ + ")"; }
  // True when one of the two variables is set.
  static bool Configured(const EnvLookup& env);

 private:
  CredentialContext context_;
  std::string url_;
  core::Status url_status_;
  std::unique_ptr<HttpTransport> transport_;
};

}  // namespace ddb2pg::aws
