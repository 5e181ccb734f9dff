#include "app/http_endpoint.h"

#include <civetweb.h>

#include <mutex>

namespace ddb2pg::app {
namespace {
void Reply(struct mg_connection* conn, int status, const char* content_type, const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
            status == 200 ? "OK" : "Service Unavailable", content_type, body.size());
  mg_write(conn, body.data(), body.size());
}
}  // namespace

HttpEndpoint::HttpEndpoint(pipeline::Metrics& metrics, std::function<bool()> ready)
    : metrics_(metrics), ready_(std::move(ready)) {}

HttpEndpoint::~HttpEndpoint() { Stop(); }

core::Status HttpEndpoint::Start(const std::string& listen) {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(0); });
  std::string address = listen;
  if (address.find(':') == std::string::npos) address = "127.0.0.1:" + address;
  const char* options[] = {"listening_ports", address.c_str(), "num_threads", "2", nullptr};
  mg_callbacks callbacks{};
  context_ = mg_start(&callbacks, nullptr, options);
  if (context_ == nullptr) {
    return core::Status::InvalidArgument("cannot listen on " + address +
                                         " for /metrics (address in use or invalid); set metrics.listen");
  }
  mg_set_request_handler(context_, "/metrics", &HttpEndpoint::HandleMetrics, this);
  mg_set_request_handler(context_, "/healthz", &HttpEndpoint::HandleHealth, this);
  mg_set_request_handler(context_, "/readyz", &HttpEndpoint::HandleReady, this);
  mg_server_port ports[4];
  const int n = mg_get_server_ports(context_, 4, ports);
  port_ = n > 0 ? ports[0].port : 0;
  return core::Status::Ok();
}

void HttpEndpoint::Stop() {
  if (context_ != nullptr) {
    mg_stop(context_);
    context_ = nullptr;
  }
}

int HttpEndpoint::HandleMetrics(struct mg_connection* conn, void* self) {
  auto* endpoint = static_cast<HttpEndpoint*>(self);
  Reply(conn, 200, "text/plain; version=0.0.4", endpoint->metrics_.Serialize());
  return 200;
}

int HttpEndpoint::HandleHealth(struct mg_connection* conn, void*) {
  Reply(conn, 200, "text/plain", "ok\n");
  return 200;
}

int HttpEndpoint::HandleReady(struct mg_connection* conn, void* self) {
  auto* endpoint = static_cast<HttpEndpoint*>(self);
  const bool ready = endpoint->ready_ && endpoint->ready_();
  Reply(conn, ready ? 200 : 503, "text/plain", ready ? "ready\n" : "not ready\n");
  return ready ? 200 : 503;
}

}  // namespace ddb2pg::app
