// StsClient: the two AWS STS calls the credential chain needs, over the Query API (POST "/",
// application/x-www-form-urlencoded, Version=2011-06-15, XML responses):
// - AssumeRoleWithWebIdentity: unsigned; the web-identity token is the proof (EKS IRSA);
// - AssumeRole: signed with SigV4 (service "sts") by the source credentials.
//
// Endpoint: AWS_ENDPOINT_URL_STS → AWS_ENDPOINT_URL → the config file's [services] sts
// endpoint_url → the profile's endpoint_url (all skipped when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
// or ignore_configured_endpoint_urls is true) → the regional https://sts.REGION.amazonaws.com
// (amazonaws.com.cn for cn-*); without a region, us-east-1. HTTPS uses AWS_CA_BUNDLE when set;
// proxies follow libcurl's HTTPS_PROXY / NO_PROXY handling.
// Timeouts: 3 s to connect, 10 s per call (kStsConnectTimeout, kStsRequestTimeout).
//
// Errors: "STS AssumeRole arn:...: AccessDenied: <message> (https://sts...)"; STS's message is
// scrubbed of the token and the source secret. Nothing is retried here: the caller (the refresh
// loop) retries.
// Thread-safety: not thread-safe (one transport); RefreshingCredentials serializes its use.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "aws/credential_provider.h"

namespace ddb2pg::aws {

inline constexpr std::chrono::milliseconds kStsConnectTimeout{3000};
inline constexpr std::chrono::milliseconds kStsRequestTimeout{10000};

class StsClient {
 public:
  explicit StsClient(const CredentialContext& context);

  core::Result<Credentials> AssumeRoleWithWebIdentity(const std::string& role_arn, const std::string& session_name,
                                                      const std::string& web_identity_token);
  // `external_id` and `duration_seconds` (0: STS's default) are optional.
  core::Result<Credentials> AssumeRole(const Credentials& source, const std::string& role_arn,
                                       const std::string& session_name, const std::string& external_id,
                                       int duration_seconds);

  const std::string& endpoint() const { return endpoint_; }
  // The endpoint STS calls go to under `env` for `region`; InvalidArgument for a malformed override.
  static core::Result<std::string> ResolveEndpoint(const CredentialContext& context, const std::string& region);
  // The configured endpoint for `service_id` ("sts", "sso") under the rules above, or "" for the
  // service's default. Shared with the SSO portal.
  static core::Result<std::string> ConfiguredEndpoint(const CredentialContext& context, const std::string& service_id);

 private:
  core::Result<Credentials> Send(const std::string& action, const std::string& role_arn, std::string body,
                                 const Credentials* signer, const std::string& secret_in_request);

  CredentialContext context_;
  std::string endpoint_;  // no trailing '/'
  core::Status endpoint_status_;
  std::string signing_region_;
  std::unique_ptr<HttpTransport> transport_;
};

// "ddb2pg-<milliseconds since the epoch>": the session name when none is configured.
std::string DefaultRoleSessionName(const core::Clock& clock);

}  // namespace ddb2pg::aws
