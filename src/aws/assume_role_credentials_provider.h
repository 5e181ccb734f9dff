// AssumeRoleCredentialsProvider: a profile's role_arn with source_profile or credential_source —
// fetches the source credentials (another provider: a profile, possibly itself assuming a role,
// the environment, the container or instance metadata) and calls STS AssumeRole, signed with
// them, at every Fetch().
// Ownership: owns its source provider.
// Thread-safety: one Fetch() at a time (RefreshingCredentials serializes).
#pragma once

#include <memory>
#include <string>

#include "aws/credential_provider.h"
#include "aws/sts_client.h"

namespace ddb2pg::aws {

struct AssumeRoleSettings {
  std::string role_arn;
  std::string session_name;  // empty: DefaultRoleSessionName
  std::string external_id;
  int duration_seconds = 0;  // 0: STS's default (1 hour)
  std::string profile;       // for messages: the profile that names the role
};

class AssumeRoleCredentialsProvider final : public CredentialProvider {
 public:
  AssumeRoleCredentialsProvider(const CredentialContext& context, std::unique_ptr<CredentialProvider> source,
                                AssumeRoleSettings settings);
  core::Result<Credentials> Fetch() override;
  std::string Name() const override;

 private:
  StsClient sts_;
  std::unique_ptr<CredentialProvider> source_;
  AssumeRoleSettings settings_;
};

}  // namespace ddb2pg::aws
