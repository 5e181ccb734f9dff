#include "aws/credential_chain.h"

namespace ddb2pg::aws {

CredentialChain::CredentialChain(std::vector<std::unique_ptr<CredentialProvider>> links,
                                 std::vector<std::string> looked_before, std::string suffix)
    : links_(std::move(links)), looked_before_(std::move(looked_before)), suffix_(std::move(suffix)) {}

std::string CredentialChain::Name() const { return chosen_ != nullptr ? chosen_->Name() : "default chain"; }

core::Result<Credentials> CredentialChain::Fetch() {
  if (chosen_ != nullptr) return chosen_->Fetch();
  std::vector<std::string> looked = looked_before_;
  for (const auto& link : links_) {
    core::Result<Credentials> credentials = link->Fetch();
    if (credentials.ok()) {
      chosen_ = link.get();
      return credentials;
    }
    if (credentials.status().code() != core::StatusCode::kNotFound) return credentials.status();
    if (!credentials.status().message().empty()) looked.push_back(credentials.status().message());
  }
  std::string message = "no AWS credentials: ";
  for (size_t i = 0; i < looked.size(); ++i) message += (i > 0 ? ", " : "") + looked[i];
  return core::Status::InvalidArgument(message + suffix_);
}

}  // namespace ddb2pg::aws
