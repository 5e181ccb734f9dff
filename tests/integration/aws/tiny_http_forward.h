// ForwardTinyRequest: what the test proxies in front of DynamoDB Local do with a request once
// they have looked at it — send it on, unchanged but for the hop-by-hop headers, and answer
// with the upstream's status and body (502 when the upstream cannot be reached).
#pragma once

#include <string>

#include "aws/curl_transport.h"
#include "tiny_http_server.h"

namespace ddb2pg::testing {

inline TinyResponse ForwardTinyRequest(const std::string& upstream, const TinyRequest& request) {
  aws::HttpRequest forwarded;
  forwarded.url = upstream + request.target;
  forwarded.body = request.body;
  for (const auto& [name, value] : request.headers) {
    if (name == "host" || name == "content-length" || name == "connection" || name == "expect") continue;
    forwarded.headers.emplace_back(name, value);
  }
  aws::CurlTransport http;
  auto response = http.Send(forwarded);
  if (!response.ok()) return {502, "text/plain", response.status().ToString(), {}};
  return {static_cast<int>(response->status), "application/x-amz-json-1.0", response->body, {}};
}

}  // namespace ddb2pg::testing
