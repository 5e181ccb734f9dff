// HttpEndpoint: the loopback HTTP server for /metrics (Prometheus text format), /healthz
// (the process is alive) and /readyz (the pipelines run: 200, else 503), on civetweb; with a
// status provider also the live status page: / (HTML), /status.js and /api/status (JSON).
//
// Binds to 127.0.0.1 unless told otherwise; "HOST:0" picks a free port (see port()).
// Thread-safety: Start/Stop from one thread; handlers run on civetweb's threads.
#pragma once

#include <functional>
#include <string>

#include "core/status.h"
#include "pipeline/metrics.h"

struct mg_context;
struct mg_connection;

namespace ddb2pg::app {

class HttpEndpoint {
 public:
  HttpEndpoint(pipeline::Metrics& metrics, std::function<bool()> ready);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // The JSON document behind /api/status (see StatusBoard); set before Start. Without one, /,
  // /status.js and /api/status answer 404.
  void SetStatusProvider(std::function<std::string()> provider) { status_ = std::move(provider); }

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

  pipeline::Metrics& metrics_;
  std::function<bool()> ready_;
  std::function<std::string()> status_;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

}  // namespace ddb2pg::app
