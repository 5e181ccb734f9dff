#include "app/http_endpoint.h"

#include <civetweb.h>

#include <cctype>
#include <cstring>
#include <mutex>

#include "app/status_page.h"

namespace ddb2pg::app {
namespace {
const char* ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    default: return "Service Unavailable";
  }
}

// `extra_headers`: complete header lines, each ending in \r\n.
void Reply(struct mg_connection* conn, int status, const char* content_type, std::string_view body,
           const char* extra_headers = "") {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n", status,
            ReasonPhrase(status), content_type, body.size(), extra_headers);
  mg_write(conn, body.data(), body.size());
}

// The status page loads only its own script and JSON; nothing inline runs, nothing from elsewhere.
constexpr const char* kPageHeaders =
    "Content-Security-Policy: default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n";
}  // namespace

bool BearerTokenMatches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "Bearer ";
  if (token.empty() || authorization.size() < kScheme.size()) return false;
  // The scheme is case-insensitive (RFC 7235); it is no secret.
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return false;
    }
  }
  const std::string_view offered = authorization.substr(kScheme.size());
  // Every byte of the token is compared whatever differs first, so the time tells nothing about
  // how much of a guess was right; only the lengths (the guess's own, and equal or not) show.
  volatile unsigned char difference = offered.size() == token.size() ? 0 : 1;
  for (size_t i = 0; i < token.size(); ++i) {
    const unsigned char offered_byte = i < offered.size() ? static_cast<unsigned char>(offered[i]) : 0;
    difference = difference | (offered_byte ^ static_cast<unsigned char>(token[i]));
  }
  return difference == 0;
}

void HttpEndpoint::SetMetrics(pipeline::Metrics& metrics, std::function<bool()> ready) {
  metrics_ = &metrics;
  ready_ = std::move(ready);
}

void HttpEndpoint::SetStatusPage(std::function<std::string()> provider, std::string bearer_token) {
  status_ = std::move(provider);
  bearer_token_ = std::move(bearer_token);
}

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
    return core::Status::InvalidArgument("cannot listen on " + address + " for " +
                                         (metrics_ != nullptr ? "/metrics (address in use or invalid); set metrics.listen"
                                                              : "the status page (address in use or invalid); set "
                                                                "metrics.status_listen"));
  }
  mg_set_request_handler(context_, "/metrics", &HttpEndpoint::HandleMetrics, this);
  mg_set_request_handler(context_, "/healthz", &HttpEndpoint::HandleHealth, this);
  mg_set_request_handler(context_, "/readyz", &HttpEndpoint::HandleReady, this);
  mg_set_request_handler(context_, "/api/status", &HttpEndpoint::HandleStatus, this);
  mg_set_request_handler(context_, "/status.js", &HttpEndpoint::HandleScript, this);
  mg_set_request_handler(context_, "/", &HttpEndpoint::HandlePage, this);  // after the others: any other path
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

int HttpEndpoint::NotFound(struct mg_connection* conn) const {
  std::string hint = "not found: this listener serves";
  if (metrics_ != nullptr) hint += " /metrics, /healthz, /readyz";
  if (status_) hint += std::string(metrics_ != nullptr ? "," : "") + " / and /api/status";
  if (metrics_ != nullptr && !status_) {
    hint += " (the status page is served on loopback only unless metrics.status_exposed is set: see "
            "metrics.status_listen)";
  }
  hint += "\n";
  Reply(conn, 404, "text/plain", hint);
  return 404;
}

int HttpEndpoint::HandleMetrics(struct mg_connection* conn, void* self) {
  auto* endpoint = static_cast<HttpEndpoint*>(self);
  if (endpoint->metrics_ == nullptr) return endpoint->NotFound(conn);
  Reply(conn, 200, "text/plain; version=0.0.4", endpoint->metrics_->Serialize());
  return 200;
}

int HttpEndpoint::HandleHealth(struct mg_connection* conn, void* self) {
  auto* endpoint = static_cast<HttpEndpoint*>(self);
  if (endpoint->metrics_ == nullptr) return endpoint->NotFound(conn);
  Reply(conn, 200, "text/plain", "ok\n");
  return 200;
}

int HttpEndpoint::HandleReady(struct mg_connection* conn, void* self) {
  auto* endpoint = static_cast<HttpEndpoint*>(self);
  if (endpoint->metrics_ == nullptr) return endpoint->NotFound(conn);
  const bool ready = endpoint->ready_ && endpoint->ready_();
  Reply(conn, ready ? 200 : 503, "text/plain", ready ? "ready\n" : "not ready\n");
  return ready ? 200 : 503;
}

int HttpEndpoint::HandlePage(struct mg_connection* conn, void* self) {
  auto* endpoint = static_cast<HttpEndpoint*>(self);
  const mg_request_info* request = mg_get_request_info(conn);
  const bool index = request != nullptr && request->local_uri != nullptr &&
                     (std::strcmp(request->local_uri, "/") == 0 || std::strcmp(request->local_uri, "/index.html") == 0);
  if (!index || !endpoint->status_) return endpoint->NotFound(conn);
  Reply(conn, 200, "text/html; charset=utf-8", StatusPageHtml(), kPageHeaders);
  return 200;
}

int HttpEndpoint::HandleScript(struct mg_connection* conn, void* self) {
  auto* endpoint = static_cast<HttpEndpoint*>(self);
  if (!endpoint->status_) return endpoint->NotFound(conn);
  Reply(conn, 200, "text/javascript; charset=utf-8", StatusPageScript(), kPageHeaders);
  return 200;
}

int HttpEndpoint::HandleStatus(struct mg_connection* conn, void* self) {
  auto* endpoint = static_cast<HttpEndpoint*>(self);
  if (!endpoint->status_) return endpoint->NotFound(conn);
  if (!endpoint->bearer_token_.empty()) {
    const char* authorization = mg_get_header(conn, "Authorization");
    if (!BearerTokenMatches(authorization != nullptr ? authorization : "", endpoint->bearer_token_)) {
      Reply(conn, 401, "text/plain", "this status needs its bearer token (metrics.status_token_file or status_token_env)\n",
            "WWW-Authenticate: Bearer realm=\"ddb2pg\"\r\nCache-Control: no-store\r\n");
      return 401;
    }
  }
  Reply(conn, 200, "application/json", endpoint->status_(), kPageHeaders);
  return 200;
}

}  // namespace ddb2pg::app
