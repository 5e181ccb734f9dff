// The configuration loader's sections, one file each (config_loader.cpp runs them in this order
// over one file, sharing a ParseState, and each reports every problem it finds at its line):
//   source_section.cpp    `sources`: tables, credentials, endpoints, `snapshot` and `stream`;
//   postgres_section.cpp  `postgres`: connection, TLS, IAM, batching, COPY format;
//   metrics_section.cpp   `metrics`: listeners, exposure, the status page's token;
//   pipeline_section.cpp  `pipelines`: table, key, columns, filter, explode, policies;
//   cross_checker.cpp     what needs every section read (names used once, sources defined, key
//                         and soft-delete columns among the columns);
//   mapping_compiler.cpp  compiling each sound pipeline's mapping, each bad expression at its line.
// Thread-safety: none; one load at a time.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/section_parser.h"

namespace ddb2pg::config {

void ParseSources(ParseState& state, const YAML::Node& node, Config& config);
void ParsePostgres(ParseState& state, const YAML::Node& node, PostgresConfig& postgres);
void ParseMetrics(ParseState& state, const YAML::Node& node, MetricsConfig& metrics);
void ParsePipelines(ParseState& state, const YAML::Node& node, Config& config);
void CrossCheck(ParseState& state, Config& config);
void CompileMappings(ParseState& state, Config& config);

}  // namespace ddb2pg::config
