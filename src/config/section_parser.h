// SectionParser: the base of the configuration loader's parts (one class in each file that
// config_sections.h lists): the shared ParseState and the reporting helpers each of them uses. It owns nothing: the state belongs to the load.
// Thread-safety: none; one load at a time.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "config/parse_state.h"

namespace ddb2pg::config {

class SectionParser {
 public:
  explicit SectionParser(ParseState& state)
      : state_(state), diagnostics_(state.diagnostics), reader_(state.reader), env_(state.env),
        mappings_(state.mappings) {}

 protected:
  void Error(const YAML::Mark& mark, std::string message) { diagnostics_.Error(mark, std::move(message)); }
  // Reports a problem that makes the pipeline not worth compiling.
  void PipelineError(PipelinePlace& place, const YAML::Mark& mark, std::string message);
  // True when `name` is a plain name (config_rules.h); reports "<what> name '…' is not allowed" otherwise.
  bool CheckName(const std::string& name, const YAML::Mark& mark, std::string_view what);
  // Walks a section written either as a mapping from name to settings (`by_name` gets the name's
  // node and the settings) or as a list (`by_index` gets each entry). An empty one is reported as
  // "SECTION: at least one WHAT is required"; anything else as "SECTION: expected `shapes`".
  void ForEachEntry(const YAML::Node& node, std::string_view section, std::string_view what,
                    std::string_view shapes,
                    const std::function<void(const YAML::Node& name, const YAML::Node& settings)>& by_name,
                    const std::function<void(size_t index, const YAML::Node& entry)>& by_index);

  ParseState& state_;
  Diagnostics& diagnostics_;
  NodeReader& reader_;
  const EnvLookup& env_;
  const model::MappingChecker& mappings_;
};

}  // namespace ddb2pg::config
