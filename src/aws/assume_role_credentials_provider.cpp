#include "aws/assume_role_credentials_provider.h"

namespace ddb2pg::aws {

AssumeRoleCredentialsProvider::AssumeRoleCredentialsProvider(const CredentialContext& context,
                                                             std::unique_ptr<CredentialProvider> source,
                                                             AssumeRoleSettings settings)
    : sts_(context), source_(std::move(source)), settings_(std::move(settings)) {
  if (settings_.session_name.empty()) settings_.session_name = DefaultRoleSessionName(*context.clock);
}

std::string AssumeRoleCredentialsProvider::Name() const {
  return "assume role (profile " + settings_.profile + ", role " + settings_.role_arn + ", from " + source_->Name() + ")";
}

core::Result<Credentials> AssumeRoleCredentialsProvider::Fetch() {
  auto source = source_->Fetch();
  if (!source.ok()) {
    return source.status().WithContext("profile " + settings_.profile + ": source credentials for " + settings_.role_arn);
  }
  auto credentials = sts_.AssumeRole(*source, settings_.role_arn, settings_.session_name, settings_.external_id,
                                     settings_.duration_seconds);
  if (!credentials.ok()) return credentials.status().WithContext("profile " + settings_.profile);
  credentials->source = Name();
  return credentials;
}

}  // namespace ddb2pg::aws
