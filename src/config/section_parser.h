// SectionParser: the base of the configuration loader's parts (SourceSection, PostgresSection,
// MetricsSection, PipelineSection, CrossChecker, MappingCompiler): the shared ParseState and the
// reporting helpers each of them uses. It owns nothing: the state belongs to the load.
// Thread-safety: none; one load at a time.
#pragma once

#include <string>
#include <string_view>

#include <yaml-cpp/mark.h>

#include "config/parse_state.h"

namespace ddb2pg::config {

class SectionParser {
 protected:
  explicit SectionParser(ParseState& state)
      : state_(state), diagnostics_(state.diagnostics), reader_(state.reader), env_(state.env),
        mappings_(state.mappings) {}

  void Error(const YAML::Mark& mark, std::string message) { diagnostics_.Error(mark, std::move(message)); }
  // Reports a problem that makes the pipeline not worth compiling.
  void PipelineError(PipelinePlace& place, const YAML::Mark& mark, std::string message);
  // True when `name` is a plain name (config_rules.h); reports "<what> name '…' is not allowed" otherwise.
  bool CheckName(const std::string& name, const YAML::Mark& mark, std::string_view what);

  ParseState& state_;
  Diagnostics& diagnostics_;
  NodeReader& reader_;
  const EnvLookup& env_;
  const model::MappingChecker& mappings_;
};

}  // namespace ddb2pg::config
