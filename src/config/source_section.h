// SourceSection: reads `sources` (each DynamoDB table, its credentials, endpoints, `snapshot` and
// `stream` settings) into Config::sources, reporting every problem at its line. Records each
// source's line in ParseState::source_lines for the cross-checks. Part of the loader
// (config_loader.cpp); thread-safety: none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/section_parser.h"

namespace ddb2pg::config {

class SourceSection : public SectionParser {
 public:
  explicit SourceSection(ParseState& state) : SectionParser(state) {}

  void ParseSources(const YAML::Node& node, Config& config);

 private:
  // A scalar's substituted text, or "" when it is absent or bad (reported where it is read).
  std::string QuietText(const YAML::Node& node) const;

  bool IsDuplicateSource(const std::string& name, const YAML::Mark& mark);

  void ParseSource(const YAML::Node& node, const std::string& path,
                   const std::vector<std::string_view>& known, SourceConfig& source);

  // snapshot.export (docs/config.md, "Snapshots from an export").
  void ParseSnapshotExport(const YAML::Node& snapshot, const std::string& snapshot_path, const YAML::Node& source,
                           const std::string& source_path, SnapshotSettings& settings);

  void CheckEndpoint(const YAML::Node& node, std::string_view key, const std::string& path,
                     const std::string& value);
};

}  // namespace ddb2pg::config
