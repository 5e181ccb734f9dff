#include "config/config.h"

#include <cstdlib>

namespace ddb2pg::config {

const SourceConfig* Config::FindSource(const std::string& name) const {
  for (const SourceConfig& source : sources) {
    if (source.name == name) return &source;
  }
  return nullptr;
}

std::vector<const model::PipelineSpec*> Config::PipelinesOf(
    const std::string& source_name) const {
  std::vector<const model::PipelineSpec*> out;
  for (const model::PipelineSpec& pipeline : pipelines) {
    if (pipeline.source == source_name) out.push_back(&pipeline);
  }
  return out;
}

bool IsLoopbackListen(std::string_view listen) {
  std::string_view host;
  if (listen.starts_with('[')) {
    const size_t close = listen.find(']');
    if (close == std::string_view::npos) return false;
    host = listen.substr(1, close - 1);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos) return true;  // a bare port: HttpEndpoint binds 127.0.0.1
    host = listen.substr(0, colon);
  }
  if (host == "localhost" || host == "::1") return true;
  if (!host.starts_with("127.")) return false;
  // 127.x.y.z with numbers only: "127.evil.example" is a host name that resolves anywhere.
  int dots = 0;
  for (const char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

std::string MetricsConfig::StatusPageListen(const std::string& metrics_listen) const {
  if (status_listen == "off") return "";
  if (!status_listen.empty()) return status_listen;
  if (metrics_listen.empty() || metrics_listen == "off") return "";
  return IsLoopbackListen(metrics_listen) || status_exposed ? metrics_listen : "";
}

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

}  // namespace ddb2pg::config
