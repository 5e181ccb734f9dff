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

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

}  // namespace ddb2pg::config
