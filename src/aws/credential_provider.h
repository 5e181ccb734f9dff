// CredentialProvider: one link of the AWS SDKs' default credential chain (environment, web
// identity, a profile, container, instance metadata), and CredentialContext, what every link
// needs from outside: the environment, a clock, a way to make HTTP transports, the region.
//
// Fetch() contract:
// - ok: credentials with `source` set to the provider's description and `expiration` set for
//   temporary credentials;
// - NotFound: this provider is not configured here (no variable, no profile): the chain moves on
//   and adds the message to its "looked at" list;
// - anything else: it is configured but failed (endpoint unreachable, token refused, bad JSON);
//   the chain stops with that error, which starts with the provider's name.
// Messages never contain a secret key, session token or web-identity / bearer token.
//
// Thread-safety: Fetch() may be called from the refresh thread and from a caller forcing a
// refresh; RefreshingCredentials serializes those calls, so providers need no locking.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aws/credentials.h"
#include "aws/http_transport.h"
#include "core/clock.h"
#include "core/status.h"

namespace ddb2pg::aws {

struct CredentialContext {
  EnvLookup env;
  const core::Clock* clock = nullptr;
  HttpTransportMaker http;
  std::string region;     // the resolved region, may be empty (STS then uses us-east-1)
  std::string ca_bundle;  // AWS_CA_BUNDLE: CA file for HTTPS calls to STS and the SSO portal
  // The shared config file's endpoint for a service id ("sts", "sso"): its [services] section,
  // then the profile's endpoint_url; nullopt when none (or when the file cannot be read). Null:
  // no config-file endpoints.
  std::function<std::optional<std::string>(const std::string& service_id)> configured_endpoint;
  // ignore_configured_endpoint_urls in the profile (the variable is read from `env`).
  bool ignore_configured_endpoints = false;
};

class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;
  virtual core::Result<Credentials> Fetch() = 0;
  // Short, for messages and `ddb2pg validate`: "environment", "web identity (AWS_ROLE_ARN ...)".
  virtual std::string Name() const = 0;
};

}  // namespace ddb2pg::aws
