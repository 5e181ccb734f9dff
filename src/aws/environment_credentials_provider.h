// EnvironmentCredentialsProvider: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and
// AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION), read at every Fetch(). Empty variables count as
// unset; one of the pair without the other is an error naming both.
// Thread-safety: as safe as the EnvLookup it holds.
#pragma once

#include "aws/credential_provider.h"

namespace ddb2pg::aws {

class EnvironmentCredentialsProvider final : public CredentialProvider {
 public:
  explicit EnvironmentCredentialsProvider(EnvLookup env) : env_(std::move(env)) {}
  core::Result<Credentials> Fetch() override;
  std::string Name() const override { return "environment"; }

 private:
  EnvLookup env_;
};

}  // namespace ddb2pg::aws
