// CredentialChain: the SDKs' default chain as one provider — tries its links in order and keeps
// the first that supplies credentials; later Fetch() calls (refreshes) ask only that one, as the
// SDKs do.
//
// A link answering NotFound adds its message to the "looked at" list; when every link did, the
// error (InvalidArgument) is "no AWS credentials: <first>, <second>, ...<suffix>". Any other error
// from a link stops the chain and is returned as is.
// Ownership: owns its links. Thread-safety: one Fetch() at a time (RefreshingCredentials
// serializes); Name() is safe while no Fetch() runs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aws/credential_provider.h"

namespace ddb2pg::aws {

class CredentialChain final : public CredentialProvider {
 public:
  // `looked_before`: places already checked by the caller (e.g. the configuration's keys);
  // `suffix`: appended to the final message (e.g. where the profile name came from).
  CredentialChain(std::vector<std::unique_ptr<CredentialProvider>> links, std::vector<std::string> looked_before,
                  std::string suffix);
  core::Result<Credentials> Fetch() override;
  std::string Name() const override;

 private:
  std::vector<std::unique_ptr<CredentialProvider>> links_;
  std::vector<std::string> looked_before_;
  std::string suffix_;
  CredentialProvider* chosen_ = nullptr;
};

}  // namespace ddb2pg::aws
