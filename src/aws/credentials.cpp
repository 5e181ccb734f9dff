#include "aws/credentials.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

#include "aws/container_credentials_provider.h"
#include "aws/credential_chain.h"
#include "aws/curl_transport.h"
#include "aws/env_text.h"
#include "aws/environment_credentials_provider.h"
#include "aws/imds_client.h"
#include "aws/imds_credentials_provider.h"
#include "aws/profile_credentials_provider.h"
#include "aws/refreshing_credentials.h"
#include "aws/shared_config.h"
#include "aws/static_credentials_provider.h"
#include "aws/web_identity_credentials_provider.h"

namespace ddb2pg::aws {
namespace {

// Every message built here goes into a Status that may be logged: it may name variables, files,
// line numbers, profiles, regions and endpoints, but never a value read from a key, secret or
// token field.


// Reads the shared files on first use only: explicit or environment settings need no files.
class SharedConfigCache {
 public:
  explicit SharedConfigCache(EnvLookup env) : env_(std::move(env)) {}
  core::Result<std::shared_ptr<const SharedConfig>> Get() {
    std::lock_guard lock(mutex_);
    if (!config_) {
      DDB2PG_ASSIGN_OR_RETURN(SharedConfig loaded, SharedConfig::Load(env_));
      config_ = std::make_shared<const SharedConfig>(std::move(loaded));
    }
    return config_;
  }

 private:
  EnvLookup env_;
  std::mutex mutex_;
  std::shared_ptr<const SharedConfig> config_;
};

struct ProfileName {
  std::string name;
  std::string origin;  // "the configuration", "AWS_PROFILE" or "" for the default
};

ProfileName ChooseProfile(const AwsSettings& settings, const EnvLookup& env) {
  if (!settings.profile.empty()) return {settings.profile, "the configuration"};
  if (auto from_env = Env(env, "AWS_PROFILE")) return {*from_env, "AWS_PROFILE"};
  return {"default", ""};
}

core::Result<std::shared_ptr<RefreshingCredentials>> ResolveCredentials(const AwsSettings& settings,
                                                                        const CredentialContext& context,
                                                                        const ProfileName& profile,
                                                                        const std::shared_ptr<SharedConfigCache>& files,
                                                                        const ResolveOptions& options) {
  const bool explicit_key = !settings.access_key_id.empty();
  const bool explicit_secret = !settings.secret_access_key.empty();
  if (explicit_key && explicit_secret) {
    return RefreshingCredentials::Static(
        Credentials{settings.access_key_id, settings.secret_access_key, settings.session_token, "config", {}, {}});
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

  std::vector<std::unique_ptr<CredentialProvider>> links;
  const bool whole_chain = settings.profile.empty();
  if (whole_chain) {
    links.push_back(std::make_unique<EnvironmentCredentialsProvider>(context.env));
    if (auto token_file = Env(context.env, "AWS_WEB_IDENTITY_TOKEN_FILE")) {
      auto role_arn = Env(context.env, "AWS_ROLE_ARN");
      if (!role_arn) {
        return core::Status::InvalidArgument("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
      }
      links.push_back(std::make_unique<WebIdentityCredentialsProvider>(
          context, *token_file, *role_arn, Env(context.env, "AWS_ROLE_SESSION_NAME").value_or(""),
          "AWS_WEB_IDENTITY_TOKEN_FILE"));
    }
  }
  links.push_back(std::make_unique<ProfileCredentialsProvider>(
      context, [files] { return files->Get(); }, profile.name));
  if (whole_chain) {
    links.push_back(std::make_unique<ContainerCredentialsProvider>(context));
    links.push_back(std::make_unique<ImdsCredentialsProvider>(context));
  }
  std::string suffix;
  if (!profile.origin.empty()) suffix = " (the profile name comes from " + profile.origin + ")";
  auto chain = std::make_unique<CredentialChain>(
      std::move(links), std::vector<std::string>{"not in the configuration (access_key_id/secret_access_key)"}, suffix);
  RefreshOptions refresh;
  refresh.background = options.background_refresh;
  return RefreshingCredentials::Start(std::move(chain), *context.clock, refresh);
}

bool IsRegionName(const std::string& region) {
  return !region.empty() && std::all_of(region.begin(), region.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

struct RegionChoice {
  std::string region;  // empty: not found yet
  std::string origin;
  std::string looked;  // where it was not found, for the error message
};

core::Result<RegionChoice> RegionWithoutMetadata(const AwsSettings& settings, const EnvLookup& env,
                                                 const ProfileName& profile, SharedConfigCache& files) {
  if (!settings.region.empty()) return RegionChoice{settings.region, "the configuration", ""};
  if (auto from_region = Env(env, "AWS_REGION")) return RegionChoice{*from_region, "AWS_REGION", ""};
  if (auto from_default = Env(env, "AWS_DEFAULT_REGION")) return RegionChoice{*from_default, "AWS_DEFAULT_REGION", ""};
  DDB2PG_ASSIGN_OR_RETURN(std::shared_ptr<const SharedConfig> config, files.Get());
  if (auto from_profile = config->Get(profile.name, "region")) {
    return RegionChoice{from_profile->first, "profile '" + profile.name + "' in " + from_profile->second, ""};
  }
  std::string looked = "not in the configuration (region), not in AWS_REGION or AWS_DEFAULT_REGION, ";
  if (config->HasProfile(profile.name)) {
    looked += "profile '" + profile.name + "' has no region in " + SharedConfig::DescribeForSearch(config->config_file()) +
              " or " + SharedConfig::DescribeForSearch(config->credentials_file());
  } else {
    looked += config->ProfileNotFound(profile.name);
  }
  return RegionChoice{"", "", looked};
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

// explicit → the environment variables → the shared config file's [services] section (first
// matching service id) → the profile's endpoint_url → `fallback`.
core::Result<std::string> ResolveEndpoint(const std::vector<std::pair<std::string, std::string>>& explicit_values,
                                          const std::vector<std::string>& variables,
                                          const std::vector<std::string>& service_ids, const EnvLookup& env,
                                          const SharedConfig* config, const std::string& profile,
                                          std::string fallback) {
  for (const auto& [value, origin] : explicit_values) {
    if (!value.empty()) return CheckEndpoint(value, origin);
  }
  const bool ignore = ToLower(Env(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").value_or("")) == "true" ||
                      (config != nullptr && config->IgnoresConfiguredEndpoints(profile));
  if (ignore) return fallback;
  for (const std::string& variable : variables) {
    if (auto value = Env(env, variable)) return CheckEndpoint(*value, variable);
  }
  if (config != nullptr) {
    if (auto configured = config->ConfiguredEndpoint(profile, service_ids)) {
      return CheckEndpoint(configured->first, configured->second);
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

HttpTransportMaker CurlTransportMaker() {
  return [](const CurlTransportOptions& options) -> std::unique_ptr<HttpTransport> {
    return std::make_unique<CurlTransport>(options);
  };
}

core::Result<ResolvedAws> ResolveAws(const AwsSettings& settings, const EnvLookup& env, const ResolveOptions& options) {
  auto files = std::make_shared<SharedConfigCache>(env);
  const ProfileName profile = ChooseProfile(settings, env);
  CredentialContext context;
  context.env = env;
  context.clock = options.clock != nullptr ? options.clock : &core::SystemClock::Instance();
  context.http = options.http ? options.http : CurlTransportMaker();
  context.ca_bundle = Env(env, "AWS_CA_BUNDLE").value_or("");
  // Endpoints from the shared config file ([services] sections, endpoint_url). A file that
  // cannot be read is reported where credentials or the region need it, not here.
  std::shared_ptr<const SharedConfig> endpoint_config;
  if (auto loaded = files->Get(); loaded.ok()) endpoint_config = *loaded;
  if (endpoint_config) {
    context.ignore_configured_endpoints = endpoint_config->IgnoresConfiguredEndpoints(profile.name);
    context.configured_endpoint = [endpoint_config, name = profile.name](const std::string& service_id) {
      auto found = endpoint_config->ConfiguredEndpoint(name, {service_id});
      return found ? std::optional<std::string>(found->first) : std::nullopt;
    };
  }

  ResolvedAws resolved;
  resolved.ca_bundle = context.ca_bundle;
  // The region first (STS needs it), but instance metadata only after the credentials: a
  // credentials error is the more useful one off EC2.
  core::Result<RegionChoice> region = RegionWithoutMetadata(settings, env, profile, *files);
  if (region.ok()) context.region = region->region;

  DDB2PG_ASSIGN_OR_RETURN(resolved.credential_source, ResolveCredentials(settings, context, profile, files, options));
  resolved.credentials = *resolved.credential_source->Current();
  if (!region.ok()) return region.status();

  if (region->region.empty()) {
    std::string message = "no AWS region: " + region->looked;
    if (ImdsClient::Disabled(env)) {
      return core::Status::InvalidArgument(message + ", instance metadata disabled (AWS_EC2_METADATA_DISABLED)");
    }
    ImdsClient imds(context);
    auto from_imds = imds.Region();
    if (!from_imds.ok()) return core::Status::InvalidArgument(message + ", " + from_imds.status().message());
    region->region = *from_imds;
    region->origin = "instance metadata at " + imds.endpoint();
  }
  if (!IsRegionName(region->region)) {
    return core::Status::InvalidArgument("AWS region '" + region->region + "' from " + region->origin +
                                         " is not a region name like eu-west-1");
  }
  resolved.region = region->region;
  const std::string domain = AwsDomain(resolved.region);
  DDB2PG_ASSIGN_OR_RETURN(
      resolved.dynamodb_endpoint,
      ResolveEndpoint({{settings.endpoint, "the configuration (endpoint)"}},
                      {"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"}, {"dynamodb"}, env, endpoint_config.get(),
                      profile.name, "https://dynamodb." + resolved.region + "." + domain));
  DDB2PG_ASSIGN_OR_RETURN(
      resolved.streams_endpoint,
      ResolveEndpoint({{settings.streams_endpoint, "the configuration (streams_endpoint)"},
                       {settings.endpoint, "the configuration (endpoint)"}},
                      {"AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"},
                      {"dynamodb_streams", "dynamodb"}, env, endpoint_config.get(), profile.name,
                      "https://streams.dynamodb." + resolved.region + "." + domain));
  return resolved;
}

}  // namespace ddb2pg::aws
