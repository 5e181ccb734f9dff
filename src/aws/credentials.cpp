#include "aws/credentials.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <utility>
#include <vector>

namespace ddb2pg::aws {
namespace {

// Every message built here goes into a Status that may be logged: it may name variables, files,
// line numbers, profiles, regions and endpoints, but never a value read from a key, secret or
// token field. File lines are therefore never quoted back.

using Properties = std::map<std::string, std::string>;

std::string Trim(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const size_t last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::string ToLower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::optional<std::string> Env(const EnvLookup& env, const std::string& name) {
  std::optional<std::string> value = env(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

// "value   # comment" → "value". Key ids, secrets, tokens and regions contain no whitespace, so
// whitespace followed by # or ; can only start a comment.
std::string StripInlineComment(std::string value) {
  for (size_t i = 1; i < value.size(); ++i) {
    if ((value[i] == '#' || value[i] == ';') && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
      value.resize(i);
      break;
    }
  }
  return Trim(value);
}

enum class SharedFileKind { kCredentials, kConfig };

struct SharedFile {
  std::string path;                        // empty when it could not be located (no HOME)
  std::string unlocated_reason;            // why `path` is empty
  bool exists = false;
  std::map<std::string, Properties> profiles;
  std::set<std::string> non_profile_sections;  // config file: "[work]" where "[profile work]" was meant
};

// Profile name of a section header, or nullopt when the section is not a profile (config-file
// sections like [sso-session x] or [services x], or a bare [work] there).
std::optional<std::string> ProfileOfSection(const std::string& header, SharedFileKind kind) {
  if (kind == SharedFileKind::kCredentials) return header;
  if (header == "default") return header;
  if (header.rfind("profile", 0) == 0 && header.size() > 7 && (header[7] == ' ' || header[7] == '\t')) {
    return Trim(std::string_view(header).substr(7));
  }
  return std::nullopt;
}

core::Result<SharedFile> ReadSharedFile(std::string path, std::string unlocated_reason, SharedFileKind kind) {
  SharedFile file;
  file.path = std::move(path);
  file.unlocated_reason = std::move(unlocated_reason);
  if (file.path.empty()) return file;
  std::error_code error;
  if (!std::filesystem::exists(file.path, error)) return file;
  file.exists = true;
  std::ifstream in(file.path);
  if (!in) return core::Status::InvalidArgument("cannot read " + file.path);

  Properties* section = nullptr;  // nullptr: before any section, or in a non-profile section
  bool in_any_section = false;
  bool previous_value_empty = false;  // "s3 =" followed by indented sub-keys
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    const bool indented = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    const std::string text = Trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    const std::string where = file.path + ":" + std::to_string(line_number);
    if (text[0] == '[') {
      const size_t close = text.find(']');
      if (close == std::string::npos) {
        return core::Status::InvalidArgument(where + ": section header has no closing ']'");
      }
      const std::string header = Trim(std::string_view(text).substr(1, close - 1));
      in_any_section = true;
      previous_value_empty = false;
      if (std::optional<std::string> profile = ProfileOfSection(header, kind)) {
        section = &file.profiles[*profile];  // a repeated section adds to the first
      } else {
        section = nullptr;
        file.non_profile_sections.insert(header);
      }
      continue;
    }
    if (indented && previous_value_empty) continue;  // nested sub-keys, e.g. under "s3 ="
    const size_t equals = text.find('=');
    if (equals == std::string::npos) {
      return core::Status::InvalidArgument(where + ": expected 'key = value' or a [section] header");
    }
    if (!in_any_section) {
      return core::Status::InvalidArgument(where + ": 'key = value' before any [section] header");
    }
    const std::string key = ToLower(Trim(std::string_view(text).substr(0, equals)));
    std::string value = StripInlineComment(text.substr(equals + 1));
    previous_value_empty = value.empty();
    if (key.empty()) return core::Status::InvalidArgument(where + ": a line has '=' but no key before it");
    if (section != nullptr) (*section)[key] = std::move(value);
  }
  if (in.bad()) return core::Status::InvalidArgument("cannot read " + file.path);
  return file;
}

// One profile as both shared files describe it.
struct Profile {
  std::string name;
  std::string name_origin;  // "the configuration", "AWS_PROFILE" or "" for the default
  SharedFile credentials_file;
  SharedFile config_file;

  const Properties* InCredentials() const {
    auto it = credentials_file.profiles.find(name);
    return it == credentials_file.profiles.end() ? nullptr : &it->second;
  }
  const Properties* InConfig() const {
    auto it = config_file.profiles.find(name);
    return it == config_file.profiles.end() ? nullptr : &it->second;
  }
  bool Exists() const { return InCredentials() != nullptr || InConfig() != nullptr; }

  // The credentials file wins key by key; returns the value and the file it came from.
  std::optional<std::pair<std::string, std::string>> Get(const std::string& key) const {
    for (const auto& [properties, path] : {std::pair{InCredentials(), &credentials_file.path},
                                           std::pair{InConfig(), &config_file.path}}) {
      if (properties == nullptr) continue;
      auto it = properties->find(key);
      if (it != properties->end() && !it->second.empty()) return std::pair{it->second, *path};
    }
    return std::nullopt;
  }

  std::string Quoted() const { return "profile '" + name + "'"; }
};

std::string DescribeFileForSearch(const SharedFile& file) {
  if (file.path.empty()) return "(" + file.unlocated_reason + ")";
  if (!file.exists) return file.path + " (file not found)";
  return file.path;
}

// "no profile 'x' in A or B", with a hint for a config-file [x] that lacks "profile ".
std::string ProfileNotFound(const Profile& profile) {
  std::string message = "no " + profile.Quoted() + " in " + DescribeFileForSearch(profile.credentials_file) +
                        " or " + DescribeFileForSearch(profile.config_file);
  if (profile.config_file.non_profile_sections.count(profile.name) > 0) {
    message += " (" + profile.config_file.path + " has a [" + profile.name + "] section; in the config file it must be [profile " +
               profile.name + "])";
  }
  return message;
}

// Locates a shared file: the override variable (with "~" expanded) or $HOME/.aws/<name>.
std::pair<std::string, std::string> LocateSharedFile(const EnvLookup& env, const std::string& override_variable,
                                                     const std::string& file_name) {
  const std::optional<std::string> home = Env(env, "HOME");
  std::string path;
  if (std::optional<std::string> overridden = Env(env, override_variable)) {
    path = *overridden;
  } else {
    path = "~/.aws/" + file_name;
  }
  if (path == "~" || path.rfind("~/", 0) == 0) {
    if (!home) return {"", "HOME is not set, so " + path + " could not be read"};
    path = *home + path.substr(1);
  }
  return {path, ""};
}

core::Result<Profile> LoadProfile(const AwsSettings& settings, const EnvLookup& env) {
  Profile profile;
  if (!settings.profile.empty()) {
    profile.name = settings.profile;
    profile.name_origin = "the configuration";
  } else if (std::optional<std::string> from_env = Env(env, "AWS_PROFILE")) {
    profile.name = *from_env;
    profile.name_origin = "AWS_PROFILE";
  } else {
    profile.name = "default";
  }
  auto [credentials_path, credentials_reason] =
      LocateSharedFile(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  DDB2PG_ASSIGN_OR_RETURN(profile.credentials_file,
                          ReadSharedFile(credentials_path, credentials_reason, SharedFileKind::kCredentials));
  auto [config_path, config_reason] = LocateSharedFile(env, "AWS_CONFIG_FILE", "config");
  DDB2PG_ASSIGN_OR_RETURN(profile.config_file, ReadSharedFile(config_path, config_reason, SharedFileKind::kConfig));
  return profile;
}

// Keys that mark a profile whose credentials come from somewhere ddb2pg cannot fetch them.
constexpr std::pair<const char*, const char*> kUnsupportedProfileKinds[] = {
    {"role_arn", "role_arn (assume role)"},
    {"credential_process", "credential_process"},
    {"sso_session", "SSO (sso_session)"},
    {"sso_start_url", "SSO (sso_start_url)"},
    {"web_identity_token_file", "web_identity_token_file"},
};

core::Result<Credentials> CredentialsFromProfile(const Profile& profile, std::vector<std::string>& looked) {
  if (!profile.Exists()) {
    looked.push_back(ProfileNotFound(profile));
    return core::Status::NotFound("");
  }
  const auto key_id = profile.Get("aws_access_key_id");
  const auto secret = profile.Get("aws_secret_access_key");
  if (key_id && secret) {
    Credentials credentials;
    credentials.access_key_id = key_id->first;
    credentials.secret_access_key = secret->first;
    if (auto token = profile.Get("aws_session_token")) {
      credentials.session_token = token->first;
    } else if (auto legacy_token = profile.Get("aws_security_token")) {
      credentials.session_token = legacy_token->first;
    }
    credentials.source = "profile " + profile.name + " (" + key_id->second + ")";
    return credentials;
  }
  if (key_id) {
    return core::Status::InvalidArgument(profile.Quoted() + " in " + key_id->second +
                                         " has aws_access_key_id but no aws_secret_access_key");
  }
  if (secret) {
    return core::Status::InvalidArgument(profile.Quoted() + " in " + secret->second +
                                         " has aws_secret_access_key but no aws_access_key_id");
  }
  for (const auto& [key, kind] : kUnsupportedProfileKinds) {
    if (auto found = profile.Get(key)) {
      return core::Status::InvalidArgument(
          profile.Quoted() + " in " + found->second + " gets its credentials through " + kind +
          ", which ddb2pg does not support; give it aws_access_key_id and aws_secret_access_key, or export "
          "temporary credentials (e.g. `eval \"$(aws configure export-credentials --profile " +
          profile.name + " --format env)\"`)");
    }
  }
  std::string where;
  if (profile.InCredentials() != nullptr) where = profile.credentials_file.path;
  if (profile.InConfig() != nullptr) where += (where.empty() ? "" : " or ") + profile.config_file.path;
  looked.push_back(profile.Quoted() + " in " + where + " has no aws_access_key_id/aws_secret_access_key");
  return core::Status::NotFound("");
}

std::string JoinLooked(const std::vector<std::string>& looked) {
  std::string out;
  for (size_t i = 0; i < looked.size(); ++i) {
    if (i > 0) out += ", ";
    out += looked[i];
  }
  return out;
}

class ProfileCache {
 public:
  ProfileCache(const AwsSettings& settings, const EnvLookup& env) : settings_(settings), env_(env) {}
  // Reads the shared files on first use only: explicit or environment settings need no files.
  core::Result<const Profile*> Get() {
    if (!profile_) {
      DDB2PG_ASSIGN_OR_RETURN(Profile loaded, LoadProfile(settings_, env_));
      profile_ = std::move(loaded);
    }
    return &*profile_;
  }

 private:
  const AwsSettings& settings_;
  const EnvLookup& env_;
  std::optional<Profile> profile_;
};

core::Result<Credentials> ResolveCredentials(const AwsSettings& settings, const EnvLookup& env,
                                             ProfileCache& profiles) {
  const bool explicit_key = !settings.access_key_id.empty();
  const bool explicit_secret = !settings.secret_access_key.empty();
  if (explicit_key && explicit_secret) {
    return Credentials{settings.access_key_id, settings.secret_access_key, settings.session_token, "config"};
  }
  if (explicit_key) {
    return core::Status::InvalidArgument("the configuration sets access_key_id but not secret_access_key");
  }
  if (explicit_secret) {
    return core::Status::InvalidArgument("the configuration sets secret_access_key but not access_key_id");
  }
  if (!settings.session_token.empty()) {
    return core::Status::InvalidArgument(
        "the configuration sets session_token without access_key_id and secret_access_key");
  }

  std::vector<std::string> looked = {"not in the configuration (access_key_id/secret_access_key)"};
  // An explicit profile is a choice of credentials, so it outranks the environment.
  if (settings.profile.empty()) {
    const auto key_id = Env(env, "AWS_ACCESS_KEY_ID");
    const auto secret = Env(env, "AWS_SECRET_ACCESS_KEY");
    if (key_id && secret) {
      return Credentials{*key_id, *secret, Env(env, "AWS_SESSION_TOKEN").value_or(""), "environment"};
    }
    if (key_id) return core::Status::InvalidArgument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    if (secret) return core::Status::InvalidArgument("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    looked.push_back("not in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");
  }

  DDB2PG_ASSIGN_OR_RETURN(const Profile* profile, profiles.Get());
  core::Result<Credentials> from_profile = CredentialsFromProfile(*profile, looked);
  if (from_profile.ok() || from_profile.status().code() != core::StatusCode::kNotFound) return from_profile;
  std::string message = "no AWS credentials: " + JoinLooked(looked);
  if (!profile->name_origin.empty()) message += " (the profile name comes from " + profile->name_origin + ")";
  return core::Status::InvalidArgument(message);
}

bool IsRegionName(const std::string& region) {
  return !region.empty() && std::all_of(region.begin(), region.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

core::Result<std::string> ResolveRegion(const AwsSettings& settings, const EnvLookup& env, ProfileCache& profiles) {
  std::string region;
  std::string origin;
  if (!settings.region.empty()) {
    region = settings.region;
    origin = "the configuration";
  } else if (auto from_region = Env(env, "AWS_REGION")) {
    region = *from_region;
    origin = "AWS_REGION";
  } else if (auto from_default = Env(env, "AWS_DEFAULT_REGION")) {
    region = *from_default;
    origin = "AWS_DEFAULT_REGION";
  } else {
    DDB2PG_ASSIGN_OR_RETURN(const Profile* profile, profiles.Get());
    if (auto from_profile = profile->Get("region")) {
      region = from_profile->first;
      origin = profile->Quoted() + " in " + from_profile->second;
    } else {
      std::string message = "no AWS region: not in the configuration (region), not in AWS_REGION or AWS_DEFAULT_REGION, ";
      if (profile->Exists()) {
        message += profile->Quoted() + " has no region in " + DescribeFileForSearch(profile->config_file) + " or " +
                   DescribeFileForSearch(profile->credentials_file);
      } else {
        message += ProfileNotFound(*profile);
      }
      return core::Status::InvalidArgument(message);
    }
  }
  if (!IsRegionName(region)) {
    return core::Status::InvalidArgument("AWS region '" + region + "' from " + origin +
                                         " is not a region name like eu-west-1");
  }
  return region;
}

core::Result<std::string> CheckEndpoint(std::string endpoint, const std::string& origin) {
  const std::string lower = ToLower(endpoint);
  const size_t host_start = lower.rfind("https://", 0) == 0 ? 8 : lower.rfind("http://", 0) == 0 ? 7 : 0;
  if (host_start == 0 || endpoint.size() <= host_start || endpoint[host_start] == '/') {
    return core::Status::InvalidArgument("endpoint '" + endpoint + "' from " + origin +
                                         " must be a URL like https://host or http://host:port");
  }
  while (endpoint.size() > host_start + 1 && endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

core::Result<std::string> ResolveEndpoint(const std::vector<std::pair<std::string, std::string>>& explicit_values,
                                          const std::vector<std::string>& variables, const EnvLookup& env,
                                          std::string fallback) {
  for (const auto& [value, origin] : explicit_values) {
    if (!value.empty()) return CheckEndpoint(value, origin);
  }
  const bool ignore_env = ToLower(Env(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").value_or("")) == "true";
  if (!ignore_env) {
    for (const std::string& variable : variables) {
      if (auto value = Env(env, variable)) return CheckEndpoint(*value, variable);
    }
  }
  return fallback;
}

std::string AwsDomain(const std::string& region) {
  return region.rfind("cn-", 0) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
}

}  // namespace

std::string Credentials::Describe() const {
  std::string out = access_key_id.empty() ? std::string("no access key") : access_key_id.substr(0, 4) + "…";
  out += " from ";
  out += source.empty() ? std::string("unknown source") : source;
  if (!session_token.empty()) out += " (temporary)";
  return out;
}

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

core::Result<ResolvedAws> ResolveAws(const AwsSettings& settings, const EnvLookup& env) {
  ProfileCache profiles(settings, env);
  ResolvedAws resolved;
  DDB2PG_ASSIGN_OR_RETURN(resolved.credentials, ResolveCredentials(settings, env, profiles));
  DDB2PG_ASSIGN_OR_RETURN(resolved.region, ResolveRegion(settings, env, profiles));
  const std::string domain = AwsDomain(resolved.region);
  DDB2PG_ASSIGN_OR_RETURN(
      resolved.dynamodb_endpoint,
      ResolveEndpoint({{settings.endpoint, "the configuration (endpoint)"}},
                      {"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"}, env,
                      "https://dynamodb." + resolved.region + "." + domain));
  DDB2PG_ASSIGN_OR_RETURN(
      resolved.streams_endpoint,
      ResolveEndpoint({{settings.streams_endpoint, "the configuration (streams_endpoint)"},
                       {settings.endpoint, "the configuration (endpoint)"}},
                      {"AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"}, env,
                      "https://streams.dynamodb." + resolved.region + "." + domain));
  return resolved;
}

}  // namespace ddb2pg::aws
