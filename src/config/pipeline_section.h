// PipelineSection: reads `pipelines` (target table, key, columns as 'TYPE <- expression', filter,
// explode, delete and error policies) into Config::pipelines, with a PipelinePlace for each in
// ParseState::places. References to sources and other pipelines are CrossChecker's; expressions
// are MappingCompiler's. Part of the loader (config_loader.cpp); thread-safety: none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/section_parser.h"
#include "model/pipeline_spec.h"

namespace ddb2pg::config {

class PipelineSection : public SectionParser {
 public:
  explicit PipelineSection(ParseState& state) : SectionParser(state) {}

  void ParsePipelines(const YAML::Node& node, Config& config);

 private:
  void ParsePipeline(const YAML::Node& node, const std::vector<std::string_view>& known,
                     model::PipelineSpec& spec, PipelinePlace& place);

  void ParseTableName(const std::string& table, model::PipelineSpec& spec, PipelinePlace& place);

  void ParseKey(const YAML::Node& node, model::PipelineSpec& spec, PipelinePlace& place);

  void ParseColumns(const YAML::Node& node, model::PipelineSpec& spec, PipelinePlace& place);

  // One column: "TYPE <- expression", or {type, value, on_overflow, default}.
  bool ParseColumn(const YAML::Node& node, const std::string& path, model::ColumnSpec& column,
                   YAML::Mark& type_mark);
};

}  // namespace ddb2pg::config
