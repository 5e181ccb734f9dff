#include "aws/profile_credentials_provider.h"

#include "aws/assume_role_credentials_provider.h"
#include "aws/container_credentials_provider.h"
#include "aws/environment_credentials_provider.h"
#include "aws/imds_credentials_provider.h"
#include "aws/process_credentials_provider.h"
#include "aws/sso_credentials_provider.h"
#include "aws/static_credentials_provider.h"
#include "aws/web_identity_credentials_provider.h"

namespace ddb2pg::aws {
namespace {

std::string Quoted(const std::string& profile) { return "profile '" + profile + "'"; }

std::optional<std::string> Value(const SharedConfig& config, const std::string& profile, const std::string& key) {
  auto found = config.Get(profile, key);
  if (!found) return std::nullopt;
  return found->first;
}

// Static keys of a profile: the credentials, NotFound when it has neither key, InvalidArgument
// for half a pair.
core::Result<Credentials> StaticKeys(const SharedConfig& config, const std::string& profile) {
  const auto key_id = config.Get(profile, "aws_access_key_id");
  const auto secret = config.Get(profile, "aws_secret_access_key");
  if (key_id && secret) {
    Credentials credentials;
    credentials.access_key_id = key_id->first;
    credentials.secret_access_key = secret->first;
    if (auto token = Value(config, profile, "aws_session_token")) {
      credentials.session_token = *token;
    } else if (auto legacy = Value(config, profile, "aws_security_token")) {
      credentials.session_token = *legacy;
    }
    credentials.source = "profile " + profile + " (" + key_id->second + ")";
    return credentials;
  }
  if (key_id) {
    return core::Status::InvalidArgument(Quoted(profile) + " in " + key_id->second +
                                         " has aws_access_key_id but no aws_secret_access_key");
  }
  if (secret) {
    return core::Status::InvalidArgument(Quoted(profile) + " in " + secret->second +
                                         " has aws_secret_access_key but no aws_access_key_id");
  }
  return core::Status::NotFound("");
}

core::Result<std::unique_ptr<CredentialProvider>> AssumeRole(const CredentialContext& context,
                                                              const SharedConfig& config, const std::string& profile,
                                                              std::set<std::string>& visited) {
  const std::string role_arn = *Value(config, profile, "role_arn");
  std::unique_ptr<CredentialProvider> source;
  const auto source_profile = Value(config, profile, "source_profile");
  const auto credential_source = Value(config, profile, "credential_source");
  if (source_profile && credential_source) {
    return core::Status::InvalidArgument(Quoted(profile) + " has both source_profile and credential_source; keep one");
  }
  if (source_profile) {
    if (visited.count(*source_profile) > 0 && *source_profile != profile) {
      return core::Status::InvalidArgument(Quoted(profile) + ": source_profile '" + *source_profile +
                                           "' leads back to a profile already on the role_arn chain");
    }
    if (*source_profile == profile) {
      // A profile that is its own source uses its static keys (the CLI's rule).
      auto keys = StaticKeys(config, profile);
      if (!keys.ok()) {
        return core::Status::InvalidArgument(Quoted(profile) + " is its own source_profile but has no static keys");
      }
      source = std::make_unique<StaticCredentialsProvider>(std::move(keys).value());
    } else {
      if (!config.HasProfile(*source_profile)) {
        return core::Status::InvalidArgument(Quoted(profile) + ": source_profile: " + config.ProfileNotFound(*source_profile));
      }
      auto built = ProfileCredentialsProvider::Build(context, config, *source_profile, visited);
      if (!built.ok()) {
        if (built.status().code() == core::StatusCode::kNotFound) {
          return core::Status::InvalidArgument(Quoted(profile) + ": source_profile '" + *source_profile +
                                               "' has no credentials");
        }
        return built.status();
      }
      source = std::move(built).value();
    }
  } else if (*credential_source == "Environment") {
    source = std::make_unique<EnvironmentCredentialsProvider>(context.env);
  } else if (*credential_source == "Ec2InstanceMetadata") {
    source = std::make_unique<ImdsCredentialsProvider>(context);
  } else if (*credential_source == "EcsContainer") {
    source = std::make_unique<ContainerCredentialsProvider>(context);
  } else {
    return core::Status::InvalidArgument(Quoted(profile) + ": credential_source '" + *credential_source +
                                         "' is not one of Environment, Ec2InstanceMetadata, EcsContainer");
  }
  AssumeRoleSettings settings;
  settings.role_arn = role_arn;
  settings.session_name = Value(config, profile, "role_session_name").value_or("");
  settings.external_id = Value(config, profile, "external_id").value_or("");
  settings.profile = profile;
  if (auto duration = Value(config, profile, "duration_seconds")) {
    try {
      settings.duration_seconds = std::stoi(*duration);
    } catch (const std::exception&) {
      return core::Status::InvalidArgument(Quoted(profile) + ": duration_seconds '" + *duration + "' is not a number");
    }
  }
  return std::unique_ptr<CredentialProvider>(
      std::make_unique<AssumeRoleCredentialsProvider>(context, std::move(source), std::move(settings)));
}

core::Result<std::unique_ptr<CredentialProvider>> Sso(const CredentialContext& context, const SharedConfig& config,
                                                       const std::string& profile) {
  SsoSettings settings;
  settings.profile = profile;
  settings.account_id = Value(config, profile, "sso_account_id").value_or("");
  settings.role_name = Value(config, profile, "sso_role_name").value_or("");
  if (auto session = Value(config, profile, "sso_session")) {
    const SharedConfig::Properties* section = config.SsoSession(*session);
    if (section == nullptr) {
      return core::Status::InvalidArgument(Quoted(profile) + " names sso_session '" + *session + "' but " +
                                           config.config_file().path + " has no [sso-session " + *session + "] section");
    }
    settings.session_name = *session;
    auto get = [&](const char* key) {
      auto it = section->find(key);
      return it == section->end() ? std::string() : it->second;
    };
    settings.start_url = get("sso_start_url");
    settings.sso_region = get("sso_region");
  } else {
    settings.start_url = Value(config, profile, "sso_start_url").value_or("");
    settings.sso_region = Value(config, profile, "sso_region").value_or("");
  }
  std::string missing;
  for (const auto& [value, key] : {std::pair{&settings.start_url, "sso_start_url"}, std::pair{&settings.sso_region, "sso_region"},
                                   std::pair{&settings.account_id, "sso_account_id"},
                                   std::pair{&settings.role_name, "sso_role_name"}}) {
    if (value->empty()) missing += (missing.empty() ? "" : ", ") + std::string(key);
  }
  if (!missing.empty()) {
    return core::Status::InvalidArgument(Quoted(profile) + " is an SSO profile but has no " + missing);
  }
  return std::unique_ptr<CredentialProvider>(std::make_unique<SsoCredentialsProvider>(context, std::move(settings)));
}

}  // namespace

ProfileCredentialsProvider::ProfileCredentialsProvider(const CredentialContext& context, Loader load,
                                                       std::string profile)
    : context_(context), load_(std::move(load)), profile_(std::move(profile)) {}

std::string ProfileCredentialsProvider::Name() const { return inner_ ? inner_->Name() : "profile " + profile_; }

core::Result<Credentials> ProfileCredentialsProvider::Fetch() {
  if (!inner_) {
    DDB2PG_ASSIGN_OR_RETURN(std::shared_ptr<const SharedConfig> config, load_());
    std::set<std::string> visited;
    DDB2PG_ASSIGN_OR_RETURN(inner_, Build(context_, *config, profile_, visited));
  }
  return inner_->Fetch();
}

core::Result<std::unique_ptr<CredentialProvider>> ProfileCredentialsProvider::Build(const CredentialContext& context,
                                                                                  const SharedConfig& config,
                                                                                  const std::string& profile,
                                                                                  std::set<std::string>& visited) {
  if (!config.HasProfile(profile)) return core::Status::NotFound(config.ProfileNotFound(profile));
  const bool is_source = !visited.empty();
  visited.insert(profile);
  auto keys = StaticKeys(config, profile);
  if (!keys.ok() && keys.status().code() != core::StatusCode::kNotFound) return keys.status();
  auto static_provider = [&]() -> core::Result<std::unique_ptr<CredentialProvider>> {
    return std::unique_ptr<CredentialProvider>(std::make_unique<StaticCredentialsProvider>(std::move(keys).value()));
  };
  if (is_source && keys.ok()) return static_provider();
  const auto role_arn = Value(config, profile, "role_arn");
  if (role_arn && (Value(config, profile, "source_profile") || Value(config, profile, "credential_source"))) {
    return AssumeRole(context, config, profile, visited);
  }
  if (keys.ok()) return static_provider();
  if (auto token_file = Value(config, profile, "web_identity_token_file")) {
    if (!role_arn) {
      return core::Status::InvalidArgument(Quoted(profile) + " has web_identity_token_file but no role_arn");
    }
    return std::unique_ptr<CredentialProvider>(std::make_unique<WebIdentityCredentialsProvider>(
        context, *token_file, *role_arn, Value(config, profile, "role_session_name").value_or(""),
        "profile " + profile));
  }
  if (auto command = Value(config, profile, "credential_process")) {
    return std::unique_ptr<CredentialProvider>(std::make_unique<ProcessCredentialsProvider>(*command, profile));
  }
  if (Value(config, profile, "sso_session") || Value(config, profile, "sso_start_url")) {
    return Sso(context, config, profile);
  }
  if (role_arn) {
    return core::Status::InvalidArgument(Quoted(profile) + " has role_arn but neither source_profile nor credential_source");
  }
  return core::Status::NotFound(Quoted(profile) + " in " + config.FilesWithProfile(profile) +
                                " has no aws_access_key_id/aws_secret_access_key");
}

}  // namespace ddb2pg::aws
