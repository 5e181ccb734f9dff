#include "aws/container_credentials_provider.h"

#include <array>
#include <fstream>
#include <sstream>

#include "aws/aws_error.h"
#include "aws/credential_parsing.h"
#include "aws/env_text.h"

namespace ddb2pg::aws {
namespace {

// The host of an http:// or https:// URL, brackets kept for IPv6.
std::string HostOf(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "";
  const size_t start = scheme_end + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (const size_t at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  if (!authority.empty() && authority[0] == '[') return authority.substr(0, authority.find(']') + 1);
  return authority.substr(0, authority.find(':'));
}

bool AllowedHttpHost(const std::string& host) {
  if (host == "localhost" || host == "[::1]" || host == "169.254.170.2" || host == "169.254.170.23" ||
      host == "[fd00:ec2::23]") {
    return true;
  }
  return host.rfind("127.", 0) == 0;
}

}  // namespace

bool ContainerCredentialsProvider::Configured(const EnvLookup& env) {
  return Env(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || Env(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
}

ContainerCredentialsProvider::ContainerCredentialsProvider(const CredentialContext& context) : context_(context) {
  if (auto relative = Env(context.env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url_ = "http://169.254.170.2" + (relative->front() == '/' ? *relative : "/" + *relative);
  } else if (auto full = Env(context.env, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    url_ = *full;
    if (url_.rfind("https://", 0) != 0) {
      if (url_.rfind("http://", 0) != 0) {
        url_status_ = core::Status::InvalidArgument("AWS_CONTAINER_CREDENTIALS_FULL_URI '" + url_ +
                                                    "' must be an http:// or https:// URL");
      } else if (!AllowedHttpHost(HostOf(url_))) {
        url_status_ = core::Status::InvalidArgument(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI '" + url_ +
            "': plain http is allowed only to a loopback address, 169.254.170.2 or 169.254.170.23; use https");
      }
    }
  }
  CurlTransportOptions options;
  options.connect_timeout = kContainerConnectTimeout;
  options.request_timeout = kContainerRequestTimeout;
  options.ca_file = context.ca_bundle;
  options.use_proxy = url_.rfind("https://", 0) == 0;  // the agent is link-local or loopback
  transport_ = context.http(options);
}

core::Result<Credentials> ContainerCredentialsProvider::Fetch() {
  if (url_.empty()) {
    return core::Status::NotFound("no AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/AWS_CONTAINER_CREDENTIALS_FULL_URI");
  }
  if (!url_status_.ok()) return url_status_;
  HttpRequest request;
  request.method = "GET";
  request.url = url_;
  std::string token;
  if (auto token_file = Env(context_.env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    std::ifstream in(*token_file);
    if (!in) return core::Status::Unavailable(Name() + ": cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + *token_file);
    std::stringstream buffer;
    buffer << in.rdbuf();
    token = buffer.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  } else if (auto token_value = Env(context_.env, "AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    token = *token_value;
  }
  if (!token.empty()) request.headers.emplace_back("Authorization", token);
  const std::array<std::string, 1> secrets = {token};
  if (transport_ == nullptr) return core::Status::Internal(Name() + ": no HTTP transport");
  auto response = transport_->Send(request);
  if (!response.ok()) {
    return core::Status(response.status().code(), RedactSecrets(Name() + ": " + response.status().message(), secrets));
  }
  if (response->status != 200) {
    const AwsErrorBody error = ParseAwsErrorBody(response->body);
    std::string what = "HTTP " + std::to_string(response->status);
    if (!error.type.empty()) what += " " + error.type;
    if (!error.message.empty()) what += ": " + error.message;
    const core::StatusCode code = response->status >= 500 ? core::StatusCode::kUnavailable : core::StatusCode::kPermissionDenied;
    return core::Status(code, RedactSecrets(Name() + ": " + what, secrets));
  }
  auto credentials = ParseCredentialJson(response->body, Name(), false);
  if (!credentials.ok()) return credentials.status();
  credentials->source = Name();
  return credentials;
}

}  // namespace ddb2pg::aws
