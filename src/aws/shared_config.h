// SharedConfig: the AWS shared files (~/.aws/credentials and ~/.aws/config), read as the AWS CLI
// reads them.
//
// The credentials file has `[NAME]` sections, the config file `[profile NAME]` sections except
// `[default]`, plus `[sso-session NAME]` sections. For one profile both files are merged key by
// key, the credentials file winning. Paths: AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, else
// ~/.aws/<name>; "~" is $HOME. Full-line comments start with # or ;, and so does an inline comment
// after whitespace; indented sub-keys under an empty value ("dynamodb =" in a [services NAME]
// section) are kept as "dynamodb.endpoint_url".
//
// Errors name the file and line, never a value (which may be a secret).
// Thread-safety: immutable after Load(); const methods are safe from any thread.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "core/status.h"

namespace ddb2pg::aws {

class SharedConfig {
 public:
  using Properties = std::map<std::string, std::string>;

  struct File {
    std::string path;              // empty when it could not be located (no HOME)
    std::string unlocated_reason;  // why `path` is empty
    bool exists = false;
    std::map<std::string, Properties> profiles;
    std::map<std::string, Properties> other_sections;  // config file: "sso-session x", "services x", a bare "work"
  };

  // Reads both files (a missing file is empty, not an error).
  static core::Result<SharedConfig> Load(const EnvLookup& env);

  bool HasProfile(const std::string& profile) const;
  // The value of `key` in `profile` (credentials file first) and the path of the file it is in.
  std::optional<std::pair<std::string, std::string>> Get(const std::string& profile, const std::string& key) const;
  // The [sso-session NAME] section of the config file, or nullptr.
  const Properties* SsoSession(const std::string& name) const;

  // The endpoint the config file sets for a service in `profile`, and where it came from: the
  // first of `service_ids` ("dynamodb_streams", "dynamodb", "sts", "sso") with an endpoint_url in
  // the [services NAME] section the profile names, else the profile's own endpoint_url.
  std::optional<std::pair<std::string, std::string>> ConfiguredEndpoint(const std::string& profile,
                                                                        const std::vector<std::string>& service_ids) const;
  // ignore_configured_endpoint_urls = true in the profile.
  bool IgnoresConfiguredEndpoints(const std::string& profile) const;

  // "no profile 'x' in A or B", with a hint for a config-file [x] that lacks "profile ".
  std::string ProfileNotFound(const std::string& profile) const;
  // "A or B": the files a profile was found in.
  std::string FilesWithProfile(const std::string& profile) const;
  // "A (file not found)" / "(HOME is not set ...)" / "A".
  static std::string DescribeForSearch(const File& file);

  const File& credentials_file() const { return credentials_file_; }
  const File& config_file() const { return config_file_; }

 private:
  File credentials_file_;
  File config_file_;
};

}  // namespace ddb2pg::aws
