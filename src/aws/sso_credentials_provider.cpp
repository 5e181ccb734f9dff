#include "aws/sso_credentials_provider.h"

#include <simdjson.h>

#include <array>
#include <fstream>
#include <sstream>

#include "aws/aws_error.h"
#include "aws/credential_parsing.h"
#include "aws/env_text.h"
#include "aws/sts_client.h"

namespace ddb2pg::aws {
namespace {

core::Result<std::string> PortalEndpoint(const CredentialContext& context, const std::string& region) {
  DDB2PG_ASSIGN_OR_RETURN(std::string configured, StsClient::ConfiguredEndpoint(context, "sso"));
  if (!configured.empty()) return configured;
  const std::string domain = region.rfind("cn-", 0) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
  return "https://portal.sso." + region + "." + domain;
}

}  // namespace

SsoCredentialsProvider::SsoCredentialsProvider(const CredentialContext& context, SsoSettings settings)
    : context_(context), settings_(std::move(settings)) {
  CurlTransportOptions options;
  options.connect_timeout = kStsConnectTimeout;
  options.request_timeout = kStsRequestTimeout;
  options.ca_file = context.ca_bundle;
  transport_ = context.http(options);
}

std::string SsoCredentialsProvider::CacheFile() const {
  const auto home = Env(context_.env, "HOME");
  if (!home) return "";
  const std::string key = settings_.session_name.empty() ? settings_.start_url : settings_.session_name;
  return *home + "/.aws/sso/cache/" + Sha1Hex(key) + ".json";
}

core::Result<Credentials> SsoCredentialsProvider::Fetch() {
  const std::string login = "run `aws sso login --profile " + settings_.profile + "`";
  const std::string cache_file = CacheFile();
  if (cache_file.empty()) return core::Status::Unavailable(Name() + ": HOME is not set, so the SSO token cache cannot be found");
  std::ifstream in(cache_file);
  if (!in) return core::Status::Unavailable(Name() + ": no cached SSO token in " + cache_file + " (" + login + ")");
  std::stringstream buffer;
  buffer << in.rdbuf();
  simdjson::dom::parser parser;
  simdjson::padded_string padded(buffer.str());
  simdjson::dom::object root;
  std::string_view access_token;
  std::string_view expires_at;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS || root["accessToken"].get(access_token) != simdjson::SUCCESS ||
      root["expiresAt"].get(expires_at) != simdjson::SUCCESS) {
    return core::Status::Unavailable(Name() + ": " + cache_file + " has no accessToken/expiresAt (" + login + ")");
  }
  const auto expiry = ParseIso8601(expires_at);
  if (!expiry || *expiry <= context_.clock->Now()) {
    return core::Status(core::StatusCode::kPermissionDenied, Name() + ": the cached SSO token in " + cache_file + " has expired (" + login + ")");
  }
  const std::string token(access_token);
  if (transport_ == nullptr) return core::Status::Internal(Name() + ": no HTTP transport");
  auto portal = PortalEndpoint(context_, settings_.sso_region);
  if (!portal.ok()) return portal.status().WithContext(Name());
  const std::string endpoint = *portal;
  HttpRequest request;
  request.method = "GET";
  request.url = endpoint + "/federation/credentials?account_id=" + UrlEncode(settings_.account_id) +
                "&role_name=" + UrlEncode(settings_.role_name);
  request.headers = {{"x-amz-sso_bearer_token", token}};
  const std::array<std::string, 1> secrets = {token};
  auto response = transport_->Send(request);
  if (!response.ok()) {
    return core::Status(response.status().code(), RedactSecrets(Name() + ": " + response.status().message(), secrets));
  }
  if (response->status != 200) {
    const AwsErrorBody error = ParseAwsErrorBody(response->body);
    std::string what = error.type.empty() ? "HTTP " + std::to_string(response->status) : error.type;
    if (!error.message.empty()) what += ": " + error.message;
    const core::StatusCode code = response->status >= 500 ? core::StatusCode::kUnavailable : core::StatusCode::kPermissionDenied;
    return core::Status(code, RedactSecrets(Name() + ": GetRoleCredentials at " + endpoint + ": " + what +
                                                (response->status == 401 ? " (" + login + ")" : ""),
                                            secrets));
  }
  simdjson::padded_string body(response->body);
  simdjson::dom::object role;
  std::string_view key_id, secret, session_token;
  int64_t expiration_ms = 0;
  if (parser.parse(body).get(root) != simdjson::SUCCESS || root["roleCredentials"].get(role) != simdjson::SUCCESS ||
      role["accessKeyId"].get(key_id) != simdjson::SUCCESS || role["secretAccessKey"].get(secret) != simdjson::SUCCESS ||
      role["sessionToken"].get(session_token) != simdjson::SUCCESS ||
      role["expiration"].get(expiration_ms) != simdjson::SUCCESS) {
    return core::Status::Internal(Name() + ": GetRoleCredentials at " + endpoint +
                                  " returned no roleCredentials {accessKeyId, secretAccessKey, sessionToken, expiration}");
  }
  Credentials credentials;
  credentials.access_key_id = std::string(key_id);
  credentials.secret_access_key = std::string(secret);
  credentials.session_token = std::string(session_token);
  credentials.expiration = std::chrono::system_clock::time_point(std::chrono::milliseconds(expiration_ms));
  credentials.account_id = settings_.account_id;
  credentials.source = Name();
  return credentials;
}

}  // namespace ddb2pg::aws
