#include "config/section_parser.h"

#include "config/config_rules.h"

namespace ddb2pg::config {

void SectionParser::PipelineError(PipelinePlace& place, const YAML::Mark& mark, std::string message) {
  place.sound = false;
  Error(mark, std::move(message));
}

bool SectionParser::CheckName(const std::string& name, const YAML::Mark& mark, std::string_view what) {
  if (IsPlainName(name)) return true;
  std::string message(what);
  message.append(name.empty() ? " name is empty" : " name '" + name + "' is not allowed");
  message.append(" (use letters, digits, '_', '-' and '.', at most 128)");
  Error(mark, std::move(message));
  return false;
}

void SectionParser::ForEachEntry(
    const YAML::Node& node, std::string_view section, std::string_view what, std::string_view shapes,
    const std::function<void(const YAML::Node& name, const YAML::Node& settings)>& by_name,
    const std::function<void(size_t index, const YAML::Node& entry)>& by_index) {
  if (!node.IsMap() && !node.IsSequence()) {
    Error(node.Mark(), std::string(section) + ": expected " + std::string(shapes));
    return;
  }
  if (node.size() == 0) {
    Error(node.Mark(), std::string(section) + ": at least one " + std::string(what) + " is required");
  }
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) by_name(it->first, it->second);
  } else {
    for (size_t i = 0; i < node.size(); ++i) by_index(i, node[i]);
  }
}

}  // namespace ddb2pg::config
