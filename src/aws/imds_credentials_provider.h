// ImdsCredentialsProvider: the EC2 instance profile's role — through ImdsClient (IMDSv2):
// GET /latest/meta-data/iam/security-credentials/ names the role, then
// GET /latest/meta-data/iam/security-credentials/<role> returns {"Code": "Success",
// "AccessKeyId", "SecretAccessKey", "Token", "Expiration", ...}.
// In the chain it is the last link: when the service cannot be reached (not on EC2) Fetch() is
// NotFound with the reason, so the chain's "no AWS credentials" message lists it; a service that
// answers wrongly is an error.
// Thread-safety: one Fetch() at a time (RefreshingCredentials serializes).
#pragma once

#include <string>

#include "aws/credential_provider.h"
#include "aws/imds_client.h"

namespace ddb2pg::aws {

class ImdsCredentialsProvider final : public CredentialProvider {
 public:
  explicit ImdsCredentialsProvider(const CredentialContext& context)
      : imds_(context), disabled_(ImdsClient::Disabled(context.env)) {}
  core::Result<Credentials> Fetch() override;
  std::string Name() const override;

 private:
  ImdsClient imds_;
  bool disabled_;  // AWS_EC2_METADATA_DISABLED=true: Fetch() is NotFound
  std::string role_;  // learned at the first Fetch()
};

}  // namespace ddb2pg::aws
