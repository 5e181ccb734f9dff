// CurlTransport: HttpTransport on libcurl, HTTP/1.1 with keep-alive.
//
// Owns one easy handle, so consecutive requests to the same endpoint reuse the connection.
// Not thread-safe: one instance per thread.
#pragma once

#include <memory>

#include "aws/http_transport.h"

namespace ddb2pg::aws {

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(CurlTransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  core::Result<HttpResponse> Send(const HttpRequest& request) override;

 private:
  struct Handle;
  CurlTransportOptions options_;
  std::unique_ptr<Handle> handle_;
  size_t last_body_size_ = 0;  // the next body is reserved from it: pages of one kind are alike
};

}  // namespace ddb2pg::aws
