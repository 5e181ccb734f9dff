// StaticCredentialsProvider: credentials known up front (the configuration's keys, a profile's
// aws_access_key_id / aws_secret_access_key). They never expire and Fetch() never fails.
// Thread-safety: immutable; safe from any thread.
#pragma once

#include <utility>

#include "aws/credential_provider.h"

namespace ddb2pg::aws {

class StaticCredentialsProvider final : public CredentialProvider {
 public:
  explicit StaticCredentialsProvider(Credentials credentials) : credentials_(std::move(credentials)) {}
  core::Result<Credentials> Fetch() override { return credentials_; }
  std::string Name() const override { return credentials_.source; }

 private:
  Credentials credentials_;
};

}  // namespace ddb2pg::aws
