// Helpers for the credential-chain tests: a temporary HOME with ~/.aws, an injected environment
// (a map), and ResolveAws over both.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "aws/credentials.h"

namespace ddb2pg::testing {

class CredentialTempHome {
 public:
  CredentialTempHome() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("ddb2pg-creds-it-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_ / ".aws");
  }
  ~CredentialTempHome() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  CredentialTempHome(const CredentialTempHome&) = delete;
  CredentialTempHome& operator=(const CredentialTempHome&) = delete;

  std::string path() const { return path_.string(); }
  std::string Write(const std::string& relative, const std::string& content) const {
    const std::filesystem::path file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

// The environment a test hands to ResolveAws (and to the JavaScript SDK): HOME, no proxy, IMDS
// off unless the test points AWS_EC2_METADATA_SERVICE_ENDPOINT somewhere.
class CredentialEnv {
 public:
  explicit CredentialEnv(const CredentialTempHome& home) {
    values_["HOME"] = home.path();
    values_["AWS_EC2_METADATA_DISABLED"] = "true";
  }
  CredentialEnv& Set(const std::string& name, const std::string& value) {
    values_[name] = value;
    return *this;
  }
  CredentialEnv& Unset(const std::string& name) {
    values_.erase(name);
    return *this;
  }
  const std::map<std::string, std::string>& values() const { return values_; }
  aws::EnvLookup lookup() const {
    auto copy = values_;
    return [copy](const std::string& name) -> std::optional<std::string> {
      auto it = copy.find(name);
      if (it == copy.end()) return std::nullopt;
      return it->second;
    };
  }

 private:
  std::map<std::string, std::string> values_;
};

inline core::Result<aws::ResolvedAws> Resolve(const CredentialEnv& env, aws::ResolveOptions options = {}) {
  return aws::ResolveAws(aws::AwsSettings{}, env.lookup(), options);
}

}  // namespace ddb2pg::testing
