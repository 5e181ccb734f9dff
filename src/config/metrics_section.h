// MetricsSection: reads `metrics` (the metrics and status listeners, exposure and the status
// page's token) into Config::metrics; a status page off loopback must be asked for. Part of the
// loader (config_loader.cpp); thread-safety: none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/section_parser.h"

namespace ddb2pg::config {

class MetricsSection : public SectionParser {
 public:
  explicit MetricsSection(ParseState& state) : SectionParser(state) {}

  void ParseMetrics(const YAML::Node& node, MetricsConfig& metrics);

 private:
  // "HOST:PORT" or "[V6]:PORT" with a port from 0 to 65535 (0: any free port).
  static bool IsHostPort(const std::string& listen);

  static bool IsEnvName(const std::string& name);
};

}  // namespace ddb2pg::config
