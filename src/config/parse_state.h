// ParseState: what the loading of one configuration file accumulates across its sections: the
// problems found so far, the YAML reader, the environment for ${VAR} substitution, the mapping
// checker, and where the sources and pipelines stand (for the cross-checks that run once every
// section is read). Owned by LoadConfigText for one load; the sections hold it by reference.
// Thread-safety: none; one load at a time.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/diagnostics.h"
#include "config/node_reader.h"
#include "config/pipeline_place.h"
#include "model/mapping_checker.h"

namespace ddb2pg::config {

struct ParseState {
  ParseState(const std::string& name, const model::MappingChecker& mapping_checker, const EnvLookup& lookup)
      : diagnostics(name), reader(diagnostics, lookup), env(lookup), mappings(mapping_checker) {}
  ParseState(const ParseState&) = delete;
  ParseState& operator=(const ParseState&) = delete;

  Diagnostics diagnostics;  // before reader, which reports into it
  NodeReader reader;
  EnvLookup env;
  const model::MappingChecker& mappings;
  std::map<std::string, int> source_lines;  // source name → line where it is defined
  std::vector<PipelinePlace> places;        // parallel to Config::pipelines
};

}  // namespace ddb2pg::config
