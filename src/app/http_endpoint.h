// HttpEndpoint: one HTTP listener on civetweb serving any of two route sets:
//  - the probes and Prometheus (SetMetrics): /metrics (Prometheus text format), /healthz (the
//    process is alive) and /readyz (the pipelines commit normally: 200, else 503);
//  - the live status page (SetStatusPage): / (HTML), /status.js and /api/status (JSON), which
//    shows dead-lettered item data. With a bearer token, /api/status answers 401 unless the
//    request has "Authorization: Bearer TOKEN" (compared in constant time); / and /status.js are
//    the same static code in every binary, hold no data, and pass the token on from the page's
//    URL fragment (#token=…, never sent to the server).
// Every other path, and the routes of a set not given, answer 404. RunPipelines decides which
// listener serves which set (config::MetricsConfig::StatusPageListen): one listener with both,
// or the probes on an open address and the status page on loopback.
//
// Binds to 127.0.0.1 unless told otherwise; "HOST:0" picks a free port (see port()).
// Thread-safety: Set*, Start and Stop from one thread, before/after serving; handlers run on
// civetweb's threads and only read what the setters left.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "pipeline/metrics.h"

struct mg_context;
struct mg_connection;

namespace ddb2pg::app {

class HttpEndpoint {
 public:
  HttpEndpoint() = default;
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // Serve /metrics from `metrics` (not owned; outlives the endpoint), /healthz, and /readyz from
  // `ready`. Before Start.
  void SetMetrics(pipeline::Metrics& metrics, std::function<bool()> ready);
  // Serve the status page with the JSON document behind /api/status (see StatusBoard); a
  // non-empty `bearer_token` guards /api/status. Before Start.
  void SetStatusPage(std::function<std::string()> provider, std::string bearer_token = "");

  // `listen` is "HOST:PORT" ("127.0.0.1:9187"); a bare port means 127.0.0.1:PORT.
  core::Status Start(const std::string& listen);
  void Stop();
  int port() const { return port_; }

 private:
  static int HandleMetrics(::mg_connection* conn, void* self);
  static int HandleHealth(::mg_connection* conn, void* self);
  static int HandleReady(::mg_connection* conn, void* self);
  static int HandlePage(::mg_connection* conn, void* self);
  static int HandleScript(::mg_connection* conn, void* self);
  static int HandleStatus(::mg_connection* conn, void* self);
  int NotFound(::mg_connection* conn) const;

  pipeline::Metrics* metrics_ = nullptr;
  std::function<bool()> ready_;
  std::function<std::string()> status_;
  std::string bearer_token_;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

// Whether `authorization` (an Authorization header's value, or "") is "Bearer " followed by
// `token`. Its time depends on the lengths only, never on where the texts differ.
bool BearerTokenMatches(std::string_view authorization, std::string_view token);

}  // namespace ddb2pg::app
