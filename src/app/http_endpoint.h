// HttpEndpoint: the loopback HTTP server for /metrics (Prometheus text format), /healthz
// (the process is alive) and /readyz (the pipelines run: 200, else 503), on civetweb.
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

  // `listen` is "HOST:PORT" ("127.0.0.1:9187"); a bare port means 127.0.0.1:PORT.
  core::Status Start(const std::string& listen);
  void Stop();
  int port() const { return port_; }

 private:
  static int HandleMetrics(::mg_connection* conn, void* self);
  static int HandleHealth(::mg_connection* conn, void* self);
  static int HandleReady(::mg_connection* conn, void* self);

  pipeline::Metrics& metrics_;
  std::function<bool()> ready_;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

}  // namespace ddb2pg::app
