// ProcessCredentialsProvider: a profile's credential_process — runs the command through /bin/sh
// at every Fetch() and reads its standard output, JSON as the AWS CLI documents it:
// {"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken" (optional), "Expiration"
// (ISO-8601, optional: absent means the credentials do not expire)}.
// The command's standard error passes through; a non-zero exit is an error naming the profile and
// the exit status (never the output, which may hold a secret).
// Thread-safety: one Fetch() at a time (RefreshingCredentials serializes).
#pragma once

#include <string>

#include "aws/credential_provider.h"

namespace ddb2pg::aws {

class ProcessCredentialsProvider final : public CredentialProvider {
 public:
  ProcessCredentialsProvider(std::string command, std::string profile)
      : command_(std::move(command)), profile_(std::move(profile)) {}
  core::Result<Credentials> Fetch() override;
  std::string Name() const override { return "credential_process (profile " + profile_ + ")"; }

 private:
  std::string command_;
  std::string profile_;
};

}  // namespace ddb2pg::aws
