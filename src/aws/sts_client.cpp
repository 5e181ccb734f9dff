#include "aws/sts_client.h"

#include <array>

#include "aws/aws_error.h"
#include "aws/credential_parsing.h"
#include "aws/env_text.h"
#include "aws/sigv4_signer.h"

namespace ddb2pg::aws {

core::Result<std::string> StsClient::ConfiguredEndpoint(const CredentialContext& context,
                                                        const std::string& service_id) {
  std::string ignore = Env(context.env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").value_or("");
  for (char& c : ignore) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ignore == "true" || context.ignore_configured_endpoints) return std::string();
  std::string variable_suffix = service_id;
  for (char& c : variable_suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::optional<std::pair<std::string, std::string>> found;
  for (const std::string& variable : {"AWS_ENDPOINT_URL_" + variable_suffix, std::string("AWS_ENDPOINT_URL")}) {
    if (auto value = Env(context.env, variable)) {
      found = std::pair{*value, variable};
      break;
    }
  }
  if (!found && context.configured_endpoint) {
    if (auto value = context.configured_endpoint(service_id)) found = std::pair{*value, "the shared config file"};
  }
  if (!found) return std::string();
  std::string endpoint = found->first;
  if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
    return core::Status::InvalidArgument("endpoint '" + endpoint + "' from " + found->second +
                                         " must be a URL like https://host or http://host:port");
  }
  while (endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

core::Result<std::string> StsClient::ResolveEndpoint(const CredentialContext& context, const std::string& region) {
  DDB2PG_ASSIGN_OR_RETURN(std::string configured, ConfiguredEndpoint(context, "sts"));
  if (!configured.empty()) return configured;
  const std::string effective = region.empty() ? "us-east-1" : region;
  const std::string domain = effective.rfind("cn-", 0) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
  return "https://sts." + effective + "." + domain;
}

std::string DefaultRoleSessionName(const core::Clock& clock) {
  return "ddb2pg-" + std::to_string(core::ToEpochMillis(clock.Now()));
}

StsClient::StsClient(const CredentialContext& context)
    : context_(context), signing_region_(context.region.empty() ? "us-east-1" : context.region) {
  auto endpoint = ResolveEndpoint(context, context.region);
  if (endpoint.ok()) {
    endpoint_ = *endpoint;
  } else {
    endpoint_status_ = endpoint.status();
  }
  CurlTransportOptions options;
  options.connect_timeout = kStsConnectTimeout;
  options.request_timeout = kStsRequestTimeout;
  options.ca_file = context.ca_bundle;
  transport_ = context.http(options);
}

core::Result<Credentials> StsClient::AssumeRoleWithWebIdentity(const std::string& role_arn,
                                                               const std::string& session_name,
                                                               const std::string& web_identity_token) {
  std::string body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + UrlEncode(role_arn) +
                     "&RoleSessionName=" + UrlEncode(session_name) +
                     "&WebIdentityToken=" + UrlEncode(web_identity_token);
  return Send("AssumeRoleWithWebIdentity", role_arn, std::move(body), nullptr, web_identity_token);
}

core::Result<Credentials> StsClient::AssumeRole(const Credentials& source, const std::string& role_arn,
                                                const std::string& session_name, const std::string& external_id,
                                                int duration_seconds) {
  std::string body = "Action=AssumeRole&Version=2011-06-15&RoleArn=" + UrlEncode(role_arn) +
                     "&RoleSessionName=" + UrlEncode(session_name);
  if (!external_id.empty()) body += "&ExternalId=" + UrlEncode(external_id);
  if (duration_seconds > 0) body += "&DurationSeconds=" + std::to_string(duration_seconds);
  return Send("AssumeRole", role_arn, std::move(body), &source, source.secret_access_key);
}

core::Result<Credentials> StsClient::Send(const std::string& action, const std::string& role_arn, std::string body,
                                          const Credentials* signer, const std::string& secret_in_request) {
  const std::string context = "STS " + action + " " + role_arn;
  if (!endpoint_status_.ok()) return endpoint_status_.WithContext(context);
  if (transport_ == nullptr) return core::Status::Internal(context + ": no HTTP transport");
  HttpRequest request;
  request.method = "POST";
  request.url = endpoint_ + "/";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  request.body = std::move(body);
  if (signer != nullptr) {
    SigV4Signer(*signer, signing_region_, "sts", *context_.clock).Sign(request);
  }
  const std::array<std::string, 2> secrets = {secret_in_request, signer != nullptr ? signer->session_token : ""};
  core::Result<HttpResponse> response = transport_->Send(request);
  if (!response.ok()) {
    return core::Status(response.status().code(),
                        RedactSecrets(context + ": " + response.status().message(), secrets));
  }
  if (response->status != 200) {
    const std::string code = XmlElementText(response->body, "Code").value_or("HTTP " + std::to_string(response->status));
    const std::string message = XmlElementText(response->body, "Message").value_or("");
    const core::StatusCode status_code = response->status >= 500 || code == "Throttling"
                                             ? core::StatusCode::kUnavailable
                                             : core::StatusCode::kPermissionDenied;
    return core::Status(status_code, RedactSecrets(context + ": " + code + (message.empty() ? "" : ": " + message) +
                                                       " (" + endpoint_ + ")",
                                                   secrets));
  }
  Credentials credentials;
  credentials.access_key_id = XmlElementText(response->body, "AccessKeyId").value_or("");
  credentials.secret_access_key = XmlElementText(response->body, "SecretAccessKey").value_or("");
  credentials.session_token = XmlElementText(response->body, "SessionToken").value_or("");
  const std::string expiration = XmlElementText(response->body, "Expiration").value_or("");
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty() ||
      credentials.session_token.empty()) {
    return core::Status::Internal(context + ": the response has no Credentials (AccessKeyId, SecretAccessKey, "
                                            "SessionToken) (" + endpoint_ + ")");
  }
  credentials.expiration = ParseIso8601(expiration);
  if (!credentials.expiration) {
    return core::Status::Internal(context + ": the response's Expiration '" + expiration +
                                  "' is not an ISO-8601 time (" + endpoint_ + ")");
  }
  // The account is the 5th field of the role ARN: arn:aws:iam::123456789012:role/name.
  size_t at = 0;
  for (int field = 0; field < 4 && at != std::string::npos; ++field) at = role_arn.find(':', at == 0 ? 0 : at + 1);
  if (at != std::string::npos) {
    const size_t end = role_arn.find(':', at + 1);
    if (end != std::string::npos) credentials.account_id = role_arn.substr(at + 1, end - at - 1);
  }
  return credentials;
}

}  // namespace ddb2pg::aws
