// AWS credentials, region and endpoints, resolved in the AWS SDKs' order.
//
// Profile: explicit `profile` setting → AWS_PROFILE → "default".
// Credentials: explicit settings → AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
// → the shared files (~/.aws/credentials, then ~/.aws/config) for the profile; paths overridable
// by AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, "~" is $HOME. An explicit `profile` setting
// skips the environment step (like the AWS CLI's --profile), AWS_PROFILE does not.
// Region: explicit → AWS_REGION → AWS_DEFAULT_REGION → the profile's `region`.
// Endpoint: explicit → AWS_ENDPOINT_URL_DYNAMODB (Streams: AWS_ENDPOINT_URL_DYNAMODB_STREAMS,
// then AWS_ENDPOINT_URL_DYNAMODB) → AWS_ENDPOINT_URL → https://dynamodb.<region>.amazonaws.com
// (Streams: https://streams.dynamodb.<region>.amazonaws.com; cn-* regions end in
// amazonaws.com.cn). For Streams, "explicit" is streams_endpoint, then endpoint.
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true skips the environment endpoints.
//
// Shared files, as the AWS CLI reads them: the credentials file has `[NAME]` sections, the config
// file `[profile NAME]` sections except `[default]`; keys aws_access_key_id,
// aws_secret_access_key, aws_session_token, region. For one profile both files are merged key by
// key, the credentials file winning. Full-line comments start with # or ;, and so does an inline
// comment after whitespace. Empty environment variables count as unset.
// Not supported (an error says so): role_arn, credential_process, SSO and web-identity profiles,
// container and instance-metadata credentials.
//
// Secrets never appear in logs or error messages: use Credentials::Describe() for those.
// Thread-safety: ResolveAws reads files and the environment and keeps no state; safe to call from
// any thread if `env` is.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/status.h"

namespace ddb2pg::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
  std::string source;         // where they came from: "config", "environment", "profile work (/root/.aws/credentials)"

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

struct ResolvedAws {
  Credentials credentials;
  std::string region;
  std::string dynamodb_endpoint;  // e.g. "https://dynamodb.eu-west-1.amazonaws.com" or "http://127.0.0.1:8000" (no trailing '/')
  std::string streams_endpoint;
};

// Errors (InvalidArgument) name what is missing and every place that was looked at, e.g.
// "no AWS credentials: not in the configuration (access_key_id/secret_access_key), not in
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, no profile 'default' in /root/.aws/credentials
// (file not found) or /root/.aws/config (file not found)". They never contain a secret key or
// session token, also when the files are malformed.
core::Result<ResolvedAws> ResolveAws(const AwsSettings& settings, const EnvLookup& env = ProcessEnvironment());

}  // namespace ddb2pg::aws
