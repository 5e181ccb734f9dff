// RdsAuthToken: the password for IAM database authentication on Amazon RDS and Aurora.
//
// The token is a SigV4-presigned GET of `https://HOST:PORT/?Action=connect&DBUser=USER` for the
// service `rds-db` in the database's region, valid X-Amz-Expires=900 seconds (15 minutes), with
// only the `host` header ("HOST:PORT") signed and the empty body's hash — written out without the
// scheme: "HOST:PORT/?Action=connect&DBUser=…&X-Amz-Algorithm=…&X-Amz-Credential=…&X-Amz-Date=…
// &X-Amz-Expires=900[&X-Amz-Security-Token=…]&X-Amz-Signature=…&X-Amz-SignedHeaders=host", the
// query in key order. This is byte for byte what AWS's SDKs build (`@aws-sdk/rds-signer`,
// `aws rds generate-db-auth-token`); tests/unit/aws/rds_auth_token_test.cpp compares with the
// JavaScript one. The server checks the signature and the time; the token only opens new
// connections, so a connection outlives it, but every new connection needs a fresh one.
//
// Credentials come from an injected supplier, asked once per token, so rotating credentials
// (profiles, temporary credentials) are picked up; time comes from the injected clock.
//
// Ownership: keeps a reference to `clock`, which must outlive it. The token and the credentials
// are secrets: nothing here logs them, and error messages never contain them.
// Thread-safety: Generate() is const and safe from many threads if the supplier is.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "aws/credentials.h"
#include "core/clock.h"
#include "core/status.h"

namespace ddb2pg::aws {

// Where the token lets one connect: the database endpoint and user it is signed for.
struct RdsAuthTarget {
  std::string host;    // as the client connects to it (the RDS endpoint name); signed as given
  int port = 5432;
  std::string user;    // the database user (DBUser), granted rds_iam
  std::string region;  // the database's AWS region, e.g. "eu-west-1"
};

// Supplies the AWS credentials to sign with; asked once per token.
using CredentialsSupplier = std::function<core::Result<Credentials>()>;

class RdsAuthToken {
 public:
  static constexpr int kExpiresSeconds = 900;  // the longest RDS accepts, and what the SDKs use

  RdsAuthToken(CredentialsSupplier credentials, const core::Clock& clock);

  // A fresh token for `target` at the clock's Now(). InvalidArgument names a missing host, user
  // or region; a credentials failure is returned as the supplier gave it, with context.
  core::Result<std::string> Generate(const RdsAuthTarget& target) const;

  // The token for `target` signed with `credentials` at `time` (whole seconds): no clock, no
  // supplier, for tests and for Generate().
  static std::string Build(const RdsAuthTarget& target, const Credentials& credentials,
                           std::chrono::system_clock::time_point time);

  // The region in an RDS endpoint name ("db.abc123.eu-west-1.rds.amazonaws.com" → "eu-west-1",
  // also ".rds.amazonaws.com.cn"); empty for any other host.
  static std::string RegionFromHost(const std::string& host);

 private:
  CredentialsSupplier credentials_;
  const core::Clock& clock_;
};

}  // namespace ddb2pg::aws
