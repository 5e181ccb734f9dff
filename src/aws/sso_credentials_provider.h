// SsoCredentialsProvider: IAM Identity Center (SSO) profiles after `aws sso login` — reads the
// cached access token from ~/.aws/sso/cache/<sha1>.json (sha1 of the sso_session name, or of
// sso_start_url for legacy profiles), then calls the portal's GetRoleCredentials:
// GET https://portal.sso.<sso_region>.amazonaws.com/federation/credentials?role_name=R&account_id=A
// with header x-amz-sso_bearer_token; the answer is
// {"roleCredentials": {"accessKeyId", "secretAccessKey", "sessionToken", "expiration" (epoch ms)}}.
// Portal endpoint overrides: AWS_ENDPOINT_URL_SSO → AWS_ENDPOINT_URL.
// An expired or missing cached token is an error that says to run `aws sso login`; ddb2pg does
// not refresh the SSO token itself.
// Thread-safety: one Fetch() at a time (RefreshingCredentials serializes).
#pragma once

#include <memory>
#include <string>

#include "aws/credential_provider.h"

namespace ddb2pg::aws {

struct SsoSettings {
  std::string profile;
  std::string session_name;  // sso_session; empty for a legacy profile
  std::string start_url;
  std::string sso_region;
  std::string account_id;
  std::string role_name;
};

class SsoCredentialsProvider final : public CredentialProvider {
 public:
  SsoCredentialsProvider(const CredentialContext& context, SsoSettings settings);
  core::Result<Credentials> Fetch() override;
  std::string Name() const override { return "SSO (profile " + settings_.profile + ", role " + settings_.role_name + ")"; }
  // The cache file that holds the token for these settings ("" without HOME).
  std::string CacheFile() const;

 private:
  CredentialContext context_;
  SsoSettings settings_;
  std::unique_ptr<HttpTransport> transport_;
};

}  // namespace ddb2pg::aws
