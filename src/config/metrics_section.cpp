// MetricsSection: reads `metrics` (the metrics and status listeners, exposure and the status
// page's token) into Config::metrics; a status page off loopback must be asked for. Part of the
// loader (config_loader.cpp); thread-safety: none.
#include "config/config_sections.h"

#include <cctype>

namespace ddb2pg::config {

using model::PipelineSpec;

namespace {

const std::vector<std::string_view> kMetricsKeys = {"listen", "status_listen", "status_exposed", "status_token_file",
                                                    "status_token_env"};

class MetricsSection : public SectionParser {
 public:
  using SectionParser::SectionParser;

  void ParseMetrics(const YAML::Node& node, MetricsConfig& metrics) {
    if (!reader_.CheckMap(node, "metrics", kMetricsKeys)) return;
    if (reader_.String(node, "listen", "metrics", &metrics.listen) && !metrics.listen.empty() &&
        !IsHostPort(metrics.listen)) {
      Error(node["listen"].Mark(),
            "metrics.listen: expected HOST:PORT (e.g. 127.0.0.1:9187, 0.0.0.0:9187), or \"\" to "
            "turn the endpoint off");
    }
    reader_.Bool(node, "status_exposed", "metrics", &metrics.status_exposed);
    if (reader_.String(node, "status_listen", "metrics", &metrics.status_listen) && !metrics.status_listen.empty() &&
        metrics.status_listen != "off") {
      if (!IsHostPort(metrics.status_listen)) {
        Error(node["status_listen"].Mark(),
              "metrics.status_listen: expected HOST:PORT (e.g. 127.0.0.1:9188), \"off\", or \"\" to serve the "
              "status page on metrics.listen while that is a loopback address");
      } else if (!IsLoopbackListen(metrics.status_listen) && !metrics.status_exposed) {
        Error(node["status_listen"].Mark(),
              "metrics.status_listen: " + metrics.status_listen +
                  " is not a loopback address, and the status page shows dead-lettered item data: set "
                  "metrics.status_exposed: true to serve it there (with metrics.status_token_file or "
                  "status_token_env for a bearer token), or use 127.0.0.1");
      }
    }
    reader_.String(node, "status_token_file", "metrics", &metrics.status_token_file);
    if (reader_.String(node, "status_token_env", "metrics", &metrics.status_token_env) &&
        !metrics.status_token_env.empty() && !IsEnvName(metrics.status_token_env)) {
      Error(node["status_token_env"].Mark(),
            "metrics.status_token_env: expected the name of an environment variable (letters, digits, '_')");
    }
    if (!metrics.status_token_file.empty() && !metrics.status_token_env.empty()) {
      Error(node["status_token_env"].Mark(),
            "metrics: give either status_token_file or status_token_env, not both");
    }
  }

  // "HOST:PORT" or "[V6]:PORT" with a port from 0 to 65535 (0: any free port).
  static bool IsHostPort(const std::string& listen) {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) return false;
    const std::optional<int64_t> port = NodeReader::ParseInt(listen.substr(colon + 1));
    return port && *port >= 0 && *port <= 65535;
  }

  static bool IsEnvName(const std::string& name) {
    if (std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    for (const char c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    }
    return true;
  }
};

}  // namespace

void ParseMetrics(ParseState& state, const YAML::Node& node, MetricsConfig& metrics) {
  MetricsSection(state).ParseMetrics(node, metrics);
}

}  // namespace ddb2pg::config
