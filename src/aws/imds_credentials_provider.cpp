#include "aws/imds_credentials_provider.h"

#include "aws/credential_parsing.h"

namespace ddb2pg::aws {

std::string ImdsCredentialsProvider::Name() const {
  return "instance metadata (" + imds_.endpoint() + (role_.empty() ? "" : ", role " + role_) + ")";
}

core::Result<Credentials> ImdsCredentialsProvider::Fetch() {
  constexpr const char* kPath = "/latest/meta-data/iam/security-credentials/";
  if (disabled_) return core::Status::NotFound("instance metadata disabled (AWS_EC2_METADATA_DISABLED)");
  if (role_.empty()) {
    auto roles = imds_.Get(kPath);
    if (!roles.ok()) {
      if (roles.status().code() == core::StatusCode::kNotFound) {
        return core::Status::Unavailable("instance metadata at " + imds_.endpoint() + ": no IAM role attached to the instance");
      }
      // Unreachable: not on EC2 (or blocked); the chain lists this and moves on.
      if (!imds_.reached()) {
        return core::Status::NotFound(roles.status().message());
      }
      return roles.status();
    }
    std::string role = *roles;
    role = role.substr(0, role.find('\n'));
    while (!role.empty() && (role.back() == '\r' || role.back() == ' ')) role.pop_back();
    if (role.empty()) return core::Status::Unavailable("instance metadata at " + imds_.endpoint() + ": no IAM role attached to the instance");
    role_ = role;
  }
  auto body = imds_.Get(kPath + role_);
  if (!body.ok()) return body.status();
  auto credentials = ParseCredentialJson(*body, Name(), false);
  if (!credentials.ok()) return credentials.status();
  credentials->source = Name();
  return credentials;
}

}  // namespace ddb2pg::aws
