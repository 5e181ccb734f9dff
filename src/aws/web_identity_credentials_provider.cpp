#include "aws/web_identity_credentials_provider.h"

#include <fstream>
#include <sstream>

namespace ddb2pg::aws {

WebIdentityCredentialsProvider::WebIdentityCredentialsProvider(const CredentialContext& context, std::string token_file,
                                                               std::string role_arn, std::string session_name,
                                                               std::string origin)
    : sts_(context),
      token_file_(std::move(token_file)),
      role_arn_(std::move(role_arn)),
      session_name_(session_name.empty() ? DefaultRoleSessionName(*context.clock) : std::move(session_name)),
      origin_(std::move(origin)) {}

core::Result<Credentials> WebIdentityCredentialsProvider::Fetch() {
  std::ifstream in(token_file_);
  if (!in) {
    return core::Status::Unavailable(Name() + ": cannot read the web identity token file " + token_file_);
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string token = buffer.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) return core::Status::Unavailable(Name() + ": the web identity token file " + token_file_ + " is empty");
  auto credentials = sts_.AssumeRoleWithWebIdentity(role_arn_, session_name_, token);
  if (!credentials.ok()) return credentials.status().WithContext("web identity (" + origin_ + ")");
  credentials->source = Name();
  return credentials;
}

}  // namespace ddb2pg::aws
