// MappingCompiler: compiles the mapping of every pipeline that parsed cleanly (through the
// injected model::MappingChecker) and reports each bad expression at its own column's line, not
// only the first. Runs last; thread-safety: none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/section_parser.h"
#include "model/pipeline_spec.h"

namespace ddb2pg::config {

class MappingCompiler : public SectionParser {
 public:
  explicit MappingCompiler(ParseState& state) : SectionParser(state) {}

  // Compiles each sound pipeline. On failure, compiles each column (and the filter) on its own
  // so that every bad expression is reported at its own line, not only the first.
  void CompileMappings(Config& config);

 private:
  // MappingPlan names the pipeline and column itself; the file position and path already do.
  static std::string WithoutPrefix(const std::string& message, const std::string& prefix);

  // A one-column pipeline for locating a compile error.
  static model::PipelineSpec Alone(const model::PipelineSpec& spec, const model::ColumnSpec& column,
                            const std::string& filter);
};

}  // namespace ddb2pg::config
