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

}  // namespace ddb2pg::config
