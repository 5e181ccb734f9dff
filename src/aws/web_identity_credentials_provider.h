// WebIdentityCredentialsProvider: EKS IAM Roles for Service Accounts and any OIDC token file —
// reads the token file at every Fetch() (the kubelet rotates it) and exchanges it through STS
// AssumeRoleWithWebIdentity (unsigned) for temporary credentials.
//
// From the environment: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME];
// from a profile: web_identity_token_file + role_arn [+ role_session_name]. `origin` says which,
// for messages. The token is never logged.
// Thread-safety: one Fetch() at a time (RefreshingCredentials serializes).
#pragma once

#include <string>

#include "aws/credential_provider.h"
#include "aws/sts_client.h"

namespace ddb2pg::aws {

class WebIdentityCredentialsProvider final : public CredentialProvider {
 public:
  WebIdentityCredentialsProvider(const CredentialContext& context, std::string token_file, std::string role_arn,
                                 std::string session_name, std::string origin);
  core::Result<Credentials> Fetch() override;
  std::string Name() const override { return "web identity (" + origin_ + ", role " + role_arn_ + ")"; }

 private:
  StsClient sts_;
  std::string token_file_;
  std::string role_arn_;
  std::string session_name_;
  std::string origin_;
};

}  // namespace ddb2pg::aws
