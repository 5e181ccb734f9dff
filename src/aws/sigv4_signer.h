// AWS Signature Version 4 for the DynamoDB and DynamoDB Streams JSON APIs.
//
// Signs with an injected clock so tests replay AWS's published vectors at their fixed time. The
// canonical request, string to sign and signature are exposed for those tests.
// Thread-safety: Sign() is const and safe from many threads.
#pragma once

#include <string>

#include "aws/credentials.h"
#include "aws/http_transport.h"
#include "core/clock.h"

namespace ddb2pg::aws {

struct SigningParts {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the full Authorization header value
};

class SigV4Signer {
 public:
  // `service` is "dynamodb" for both DynamoDB and DynamoDB Streams.
  SigV4Signer(Credentials credentials, std::string region, std::string service, const core::Clock& clock);

  // Adds X-Amz-Date, X-Amz-Security-Token (when there is a session token), Host (from the URL,
  // when absent) and Authorization to `request`. Signs every header present.
  void Sign(HttpRequest& request) const;

  // The signing steps for a request at `amz_date` ("20150830T123600Z"): headers as given
  // (the caller includes host and x-amz-date), path and query from the URL, the body's SHA-256.
  SigningParts Compute(const HttpRequest& request, const std::string& amz_date) const;

 private:
  Credentials credentials_;
  std::string region_;
  std::string service_;
  const core::Clock& clock_;
};

}  // namespace ddb2pg::aws
