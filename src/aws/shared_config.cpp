#include "aws/shared_config.h"

#include <filesystem>
#include <fstream>

#include "aws/env_text.h"

namespace ddb2pg::aws {
namespace {

std::string Trim(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const size_t last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}


// "value   # comment" → "value". Key ids, secrets, tokens, ARNs, URLs and regions contain no
// whitespace, so whitespace followed by # or ; can only start a comment.
std::string StripInlineComment(std::string value) {
  for (size_t i = 1; i < value.size(); ++i) {
    if ((value[i] == '#' || value[i] == ';') && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
      value.resize(i);
      break;
    }
  }
  return Trim(value);
}

enum class FileKind { kCredentials, kConfig };

// "sso-session  x" → "sso-session x": one space between a section's kind and its name.
std::string NormalizeHeader(const std::string& header) {
  const size_t space = header.find_first_of(" \t");
  if (space == std::string::npos) return header;
  return header.substr(0, space) + " " + Trim(std::string_view(header).substr(space));
}

std::optional<std::string> ProfileOfSection(const std::string& header, FileKind kind) {
  if (kind == FileKind::kCredentials) return header;
  if (header == "default") return header;
  if (header.rfind("profile", 0) == 0 && header.size() > 7 && (header[7] == ' ' || header[7] == '\t')) {
    return Trim(std::string_view(header).substr(7));
  }
  return std::nullopt;
}

core::Result<SharedConfig::File> ReadFile(std::string path, std::string unlocated_reason, FileKind kind) {
  SharedConfig::File file;
  file.path = std::move(path);
  file.unlocated_reason = std::move(unlocated_reason);
  if (file.path.empty()) return file;
  std::error_code error;
  if (!std::filesystem::exists(file.path, error)) return file;
  file.exists = true;
  std::ifstream in(file.path);
  if (!in) return core::Status::InvalidArgument("cannot read " + file.path);

  SharedConfig::Properties* section = nullptr;
  bool in_any_section = false;
  bool previous_value_empty = false;  // "s3 =" followed by indented sub-keys
  std::string parent_key;             // the key those sub-keys belong to
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
        section = &file.other_sections[NormalizeHeader(header)];
      }
      continue;
    }
    const size_t equals = text.find('=');
    if (indented && previous_value_empty) {
      // A sub-key under "dynamodb =" (a [services] section, or "s3 =" in a profile): kept as
      // "dynamodb.endpoint_url".
      if (equals != std::string::npos && section != nullptr) {
        const std::string sub_key = ToLower(Trim(std::string_view(text).substr(0, equals)));
        (*section)[parent_key + "." + sub_key] = StripInlineComment(text.substr(equals + 1));
      }
      continue;
    }
    if (equals == std::string::npos) {
      return core::Status::InvalidArgument(where + ": expected 'key = value' or a [section] header");
    }
    if (!in_any_section) {
      return core::Status::InvalidArgument(where + ": 'key = value' before any [section] header");
    }
    const std::string key = ToLower(Trim(std::string_view(text).substr(0, equals)));
    std::string value = StripInlineComment(text.substr(equals + 1));
    previous_value_empty = value.empty();
    parent_key = key;
    if (key.empty()) return core::Status::InvalidArgument(where + ": a line has '=' but no key before it");
    if (section != nullptr) (*section)[key] = std::move(value);
  }
  if (in.bad()) return core::Status::InvalidArgument("cannot read " + file.path);
  return file;
}

std::pair<std::string, std::string> Locate(const EnvLookup& env, const std::string& override_variable,
                                           const std::string& file_name) {
  const std::optional<std::string> home = Env(env, "HOME");
  std::string path = Env(env, override_variable).value_or("~/.aws/" + file_name);
  if (path == "~" || path.rfind("~/", 0) == 0) {
    if (!home) return {"", "HOME is not set, so " + path + " could not be read"};
    path = *home + path.substr(1);
  }
  return {path, ""};
}

const SharedConfig::Properties* Find(const SharedConfig::File& file, const std::string& profile) {
  auto it = file.profiles.find(profile);
  return it == file.profiles.end() ? nullptr : &it->second;
}

}  // namespace

core::Result<SharedConfig> SharedConfig::Load(const EnvLookup& env) {
  SharedConfig config;
  auto [credentials_path, credentials_reason] = Locate(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  DDB2PG_ASSIGN_OR_RETURN(config.credentials_file_,
                          ReadFile(credentials_path, credentials_reason, FileKind::kCredentials));
  auto [config_path, config_reason] = Locate(env, "AWS_CONFIG_FILE", "config");
  DDB2PG_ASSIGN_OR_RETURN(config.config_file_, ReadFile(config_path, config_reason, FileKind::kConfig));
  return config;
}

bool SharedConfig::HasProfile(const std::string& profile) const {
  return Find(credentials_file_, profile) != nullptr || Find(config_file_, profile) != nullptr;
}

std::optional<std::pair<std::string, std::string>> SharedConfig::Get(const std::string& profile,
                                                                     const std::string& key) const {
  for (const File* file : {&credentials_file_, &config_file_}) {
    const Properties* properties = Find(*file, profile);
    if (properties == nullptr) continue;
    auto it = properties->find(key);
    if (it != properties->end() && !it->second.empty()) return std::pair{it->second, file->path};
  }
  return std::nullopt;
}

const SharedConfig::Properties* SharedConfig::SsoSession(const std::string& name) const {
  auto it = config_file_.other_sections.find("sso-session " + name);
  return it == config_file_.other_sections.end() ? nullptr : &it->second;
}

std::optional<std::pair<std::string, std::string>> SharedConfig::ConfiguredEndpoint(
    const std::string& profile, const std::vector<std::string>& service_ids) const {
  if (auto services = Get(profile, "services")) {
    auto it = config_file_.other_sections.find("services " + services->first);
    if (it != config_file_.other_sections.end()) {
      for (const std::string& service_id : service_ids) {
        auto url = it->second.find(service_id + ".endpoint_url");
        if (url != it->second.end() && !url->second.empty()) {
          return std::pair{url->second, config_file_.path + " [services " + services->first + "] " + service_id};
        }
      }
    }
  }
  if (auto global = Get(profile, "endpoint_url")) {
    return std::pair{global->first, "profile '" + profile + "' endpoint_url in " + global->second};
  }
  return std::nullopt;
}

bool SharedConfig::IgnoresConfiguredEndpoints(const std::string& profile) const {
  auto value = Get(profile, "ignore_configured_endpoint_urls");
  return value && ToLower(value->first) == "true";
}

std::string SharedConfig::DescribeForSearch(const File& file) {
  if (file.path.empty()) return "(" + file.unlocated_reason + ")";
  if (!file.exists) return file.path + " (file not found)";
  return file.path;
}

std::string SharedConfig::ProfileNotFound(const std::string& profile) const {
  std::string message = "no profile '" + profile + "' in " + DescribeForSearch(credentials_file_) + " or " +
                        DescribeForSearch(config_file_);
  if (config_file_.other_sections.count(profile) > 0) {
    message += " (" + config_file_.path + " has a [" + profile + "] section; in the config file it must be [profile " +
               profile + "])";
  }
  return message;
}

std::string SharedConfig::FilesWithProfile(const std::string& profile) const {
  std::string where;
  if (Find(credentials_file_, profile) != nullptr) where = credentials_file_.path;
  if (Find(config_file_, profile) != nullptr) where += (where.empty() ? "" : " or ") + config_file_.path;
  return where;
}

}  // namespace ddb2pg::aws
