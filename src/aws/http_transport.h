// HttpTransport: the narrow edge between the AWS clients and the network.
//
// The clients build a signed request and hand it here; tests replace the transport with a fake
// that scripts responses (throttling, 5xx, malformed bodies) without any server.
//
// Thread-safety: an implementation is used by one thread at a time unless it says otherwise;
// create one per thread (CurlTransport keeps one connection-reusing handle).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace ddb2pg::aws {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "POST";
  std::string url;      // e.g. "https://dynamodb.us-east-1.amazonaws.com/"
  HttpHeaders headers;  // sent as given (the signer adds its own)
  std::string body;
};

struct HttpResponse {
  long status = 0;
  HttpHeaders headers;  // names lower-cased
  std::string body;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Any HTTP status is a successful Send; only transport failures (DNS, connect, TLS, timeout,
  // reset) are errors, as StatusCode::kUnavailable.
  virtual core::Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

struct CurlTransportOptions {
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds request_timeout{30000};
  bool verify_tls = true;       // peer and host verification, with the system CA bundle
  std::string ca_file;          // optional CA bundle path (libcurl CURLOPT_CAINFO)
  std::string ca_path;          // optional CA directory (CURLOPT_CAPATH)
  // false: never through a proxy (link-local metadata endpoints); true: libcurl's own handling of
  // http_proxy / HTTPS_PROXY / NO_PROXY from the environment.
  bool use_proxy = true;
};

}  // namespace ddb2pg::aws
