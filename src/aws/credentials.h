// AWS credentials, region and endpoints, resolved in the AWS SDKs' order.
//
// Profile: explicit `profile` setting → AWS_PROFILE → "default".
// Credentials: the configuration's explicit keys, else the SDKs' default chain (docs/aws.md):
//   environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN)
//   → web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME]; STS)
//   → the profile in the shared files (static keys, role_arn with source_profile or
//     credential_source, web_identity_token_file, credential_process, SSO; shared_config.h,
//     profile_credentials_provider.h)
//   → container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI; ECS, EKS Pod
//     Identity) → EC2 instance metadata (IMDSv2; off with AWS_EC2_METADATA_DISABLED=true).
//   An explicit `profile` setting is a choice of credentials: only that profile is asked (like the
//   AWS CLI's --profile). AWS_PROFILE keeps the whole chain.
//   Temporary credentials are kept fresh by RefreshingCredentials (refreshing_credentials.h).
// Region: explicit → AWS_REGION → AWS_DEFAULT_REGION → the profile's `region` → the instance
// metadata's placement/region (unless AWS_EC2_METADATA_DISABLED).
// Endpoint: explicit → AWS_ENDPOINT_URL_DYNAMODB (Streams: AWS_ENDPOINT_URL_DYNAMODB_STREAMS,
// then AWS_ENDPOINT_URL_DYNAMODB) → AWS_ENDPOINT_URL → https://dynamodb.<region>.amazonaws.com
// (Streams: https://streams.dynamodb.<region>.amazonaws.com; cn-* regions end in
// amazonaws.com.cn). For Streams, "explicit" is streams_endpoint, then endpoint.
// After the variables, the shared config file: the profile's `services = NAME` section
// ([services NAME] with `dynamodb =` / `dynamodb_streams =` sub-keys `endpoint_url = URL`), then
// the profile's `endpoint_url`. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or the profile's
// ignore_configured_endpoint_urls = true) skips the variables and the file. STS and the SSO portal
// follow the same rules with AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_SSO and `sts` / `sso`.
// AWS_CA_BUNDLE: a CA file for every HTTPS call (ResolvedAws::ca_bundle). Proxies: libcurl's own
// http_proxy / HTTPS_PROXY / NO_PROXY handling (never for the metadata endpoints).
// Empty environment variables count as unset.
//
// Secrets never appear in logs or error messages: use Credentials::Describe() for those.
// Thread-safety: ResolveAws keeps no state; safe to call from any thread if `env` is.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aws/http_transport.h"
#include "core/clock.h"
#include "core/status.h"

namespace ddb2pg::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
  std::string source;         // where they came from: "config", "environment", "profile work (/root/.aws/credentials)",
                              // "instance metadata (http://169.254.169.254, role r)", ...
  std::optional<std::chrono::system_clock::time_point> expiration;  // temporary credentials only
  std::string account_id;     // when the provider says (SSO, container, IMDS); may be empty

  // Safe for logs: the access key id's first 4 characters and the source, never the secret or
  // the token, e.g. "AKIA… from environment".
  std::string Describe() const;
};

// What the configuration file says explicitly; empty fields fall through to the chain.
struct AwsSettings {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string profile;
  std::string region;
  std::string endpoint;          // DynamoDB endpoint override (also used for Streams if no streams_endpoint)
  std::string streams_endpoint;  // DynamoDB Streams endpoint override
};

// Looks up an environment variable; tests inject a map instead of the real environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnvironment();

// Makes an HTTP transport with the given timeouts and CA bundle (credential providers).
using HttpTransportMaker = std::function<std::unique_ptr<HttpTransport>(const CurlTransportOptions& options)>;
HttpTransportMaker CurlTransportMaker();

class RefreshingCredentials;

struct ResolvedAws {
  Credentials credentials;
  std::string region;
  std::string dynamodb_endpoint;  // e.g. "https://dynamodb.eu-west-1.amazonaws.com" or "http://127.0.0.1:8000" (no trailing '/')
  std::string streams_endpoint;
  // The live credentials (`credentials` above is their first snapshot): clients sign with
  // credential_source->Current(). Null in hand-built values: clients then use `credentials`.
  std::shared_ptr<RefreshingCredentials> credential_source;
  std::string ca_bundle;  // AWS_CA_BUNDLE, for the clients' HTTPS transports; may be empty
};

struct ResolveOptions {
  HttpTransportMaker http;             // null: CurlTransport
  const core::Clock* clock = nullptr;  // null: the system clock; must outlive the credentials
  bool background_refresh = true;      // false: temporary credentials refresh lazily when due
};

// Errors (InvalidArgument) name what is missing and every place that was looked at, e.g.
// "no AWS credentials: not in the configuration (access_key_id/secret_access_key), not in
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, no profile 'default' in /root/.aws/credentials
// (file not found) or /root/.aws/config (file not found)". They never contain a secret key or
// session token, also when the files are malformed.
// Credential providers that need the network (STS, SSO, container, instance metadata) are asked
// here, so this can take as long as their timeouts. A provider that is configured but fails
// (IMDS answers wrongly, STS refuses the token) is an error starting with the provider's name.
core::Result<ResolvedAws> ResolveAws(const AwsSettings& settings, const EnvLookup& env = ProcessEnvironment(),
                                     const ResolveOptions& options = {});

}  // namespace ddb2pg::aws
