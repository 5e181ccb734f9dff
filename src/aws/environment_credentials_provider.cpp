#include "aws/environment_credentials_provider.h"

#include "aws/credential_parsing.h"
#include "aws/env_text.h"

namespace ddb2pg::aws {

core::Result<Credentials> EnvironmentCredentialsProvider::Fetch() {
  const auto key_id = Env(env_, "AWS_ACCESS_KEY_ID");
  const auto secret = Env(env_, "AWS_SECRET_ACCESS_KEY");
  if (key_id && secret) {
    Credentials credentials{*key_id, *secret, Env(env_, "AWS_SESSION_TOKEN").value_or(""), "environment", {}, {}};
    if (auto expiration = Env(env_, "AWS_CREDENTIAL_EXPIRATION")) {
      credentials.expiration = ParseIso8601(*expiration);
      if (!credentials.expiration) {
        return core::Status::InvalidArgument("AWS_CREDENTIAL_EXPIRATION '" + *expiration +
                                             "' is not an ISO-8601 time like 2026-11-28T21:05:00Z");
      }
    }
    return credentials;
  }
  if (key_id) return core::Status::InvalidArgument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  if (secret) return core::Status::InvalidArgument("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  return core::Status::NotFound("not in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");
}

}  // namespace ddb2pg::aws
