#include "aws/imds_client.h"

#include <array>

#include "aws/aws_error.h"
#include "aws/env_text.h"

namespace ddb2pg::aws {
bool ImdsClient::Disabled(const EnvLookup& env) {
  return ToLower(Env(env, "AWS_EC2_METADATA_DISABLED").value_or("")) == "true";
}

ImdsClient::ImdsClient(const CredentialContext& context) {
  if (auto endpoint = Env(context.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
    endpoint_ = *endpoint;
  } else if (ToLower(Env(context.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE").value_or("")) == "ipv6") {
    endpoint_ = "http://[fd00:ec2::254]";
  } else {
    endpoint_ = "http://169.254.169.254";
  }
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
  CurlTransportOptions options;
  options.connect_timeout = kImdsConnectTimeout;
  options.request_timeout = kImdsRequestTimeout;
  options.use_proxy = false;
  transport_ = context.http(options);
}

core::Status ImdsClient::FetchToken() {
  HttpRequest request;
  request.method = "PUT";
  request.url = endpoint_ + "/latest/api/token";
  request.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", std::to_string(kImdsTokenTtlSeconds)}};
  auto response = transport_->Send(request);
  if (!response.ok()) return response.status().WithContext("instance metadata: IMDSv2 token");
  reached_ = true;
  if (response->status != 200 || response->body.empty()) {
    return core::Status::Unavailable("instance metadata at " + endpoint_ + ": IMDSv2 token request (PUT /latest/api/token) got HTTP " +
                                     std::to_string(response->status));
  }
  token_ = response->body;
  return core::Status::Ok();
}

core::Result<std::string> ImdsClient::Get(const std::string& path) {
  if (transport_ == nullptr) return core::Status::Internal("instance metadata: no HTTP transport");
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (token_.empty()) {
      if (core::Status status = FetchToken(); !status.ok()) return status;
    }
    HttpRequest request;
    request.method = "GET";
    request.url = endpoint_ + path;
    request.headers = {{"X-aws-ec2-metadata-token", token_}};
    auto response = transport_->Send(request);
    const std::array<std::string, 1> secrets = {token_};
    if (!response.ok()) {
      return core::Status(response.status().code(),
                          RedactSecrets("instance metadata " + path + ": " + response.status().message(), secrets));
    }
    reached_ = true;
    if (response->status == 401 && attempt == 0) {
      token_.clear();  // expired or refused: one fresh token
      continue;
    }
    if (response->status == 404) return core::Status::NotFound("instance metadata at " + endpoint_ + ": " + path + " not found");
    if (response->status != 200) {
      return core::Status::Unavailable("instance metadata at " + endpoint_ + ": " + path + " got HTTP " +
                                       std::to_string(response->status));
    }
    return std::move(response->body);
  }
  return core::Status::Unavailable("instance metadata at " + endpoint_ + ": " + path + " refused a fresh IMDSv2 token (HTTP 401)");
}

core::Result<std::string> ImdsClient::Region() {
  auto region = Get("/latest/meta-data/placement/region");
  if (!region.ok()) return region.status();
  std::string text = *region;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace ddb2pg::aws
