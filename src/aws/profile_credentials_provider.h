// ProfileCredentialsProvider: a profile of the shared files, whatever kind it is, resolved as the
// AWS SDK for JavaScript v3 resolves it:
//   (source profiles only) static keys → role_arn with source_profile (recursive, cycles are an
//   error) or credential_source (Environment, Ec2InstanceMetadata, EcsContainer) → static keys
//   aws_access_key_id / aws_secret_access_key [/ aws_session_token] → web_identity_token_file +
//   role_arn → credential_process → SSO (sso_session + [sso-session] with sso_start_url and
//   sso_region, or legacy sso_start_url + sso_region; sso_account_id, sso_role_name).
// Fetch() is NotFound ("no profile 'x' in ...", "profile 'x' in FILE has no ...") when the
// profile is missing or names no credentials; a half-configured profile is InvalidArgument.
// Ownership: builds and owns the provider for the profile on the first Fetch().
// Thread-safety: one Fetch() at a time (RefreshingCredentials serializes).
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "aws/credential_provider.h"
#include "aws/shared_config.h"

namespace ddb2pg::aws {

class ProfileCredentialsProvider final : public CredentialProvider {
 public:
  // `load` reads the shared files on the first Fetch() (an error there is returned as is).
  using Loader = std::function<core::Result<std::shared_ptr<const SharedConfig>>()>;
  ProfileCredentialsProvider(const CredentialContext& context, Loader load, std::string profile);
  core::Result<Credentials> Fetch() override;
  std::string Name() const override;

  // The provider for `profile` (visited: the profiles already on the role_arn path).
  static core::Result<std::unique_ptr<CredentialProvider>> Build(const CredentialContext& context,
                                                                 const SharedConfig& config,
                                                                 const std::string& profile,
                                                                 std::set<std::string>& visited);

 private:
  CredentialContext context_;
  Loader load_;
  std::string profile_;
  std::unique_ptr<CredentialProvider> inner_;
};

}  // namespace ddb2pg::aws
