// CrossChecker: the checks that need every section read: pipeline names and target tables used
// once, each pipeline's source defined (with a suggestion when a name is close), key columns among
// the columns, soft-delete columns of the right type. Runs after the sections; thread-safety: none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/section_parser.h"
#include "model/pipeline_spec.h"

namespace ddb2pg::config {

class CrossChecker : public SectionParser {
 public:
  explicit CrossChecker(ParseState& state) : SectionParser(state) {}

  void CrossCheck(Config& config);

 private:
  static std::string ColumnNames(const model::PipelineSpec& spec);

  void CheckSource(const Config& config, model::PipelineSpec& spec, PipelinePlace& place);

  void CheckSoftDeleteColumn(const model::PipelineSpec& spec, PipelinePlace& place,
                             const std::string& column, std::string_view setting,
                             const YAML::Mark& setting_mark, model::ColumnKind kind,
                             std::string_view type_name);
};

}  // namespace ddb2pg::config
