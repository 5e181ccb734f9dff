// StatusSummary: what `ddb2pg status` says about many sources at once: one line per source with
// its partitions collapsed into counts, so a file of 50 tables reads as 50 lines, not 400
// partition rows. `ddb2pg status --source NAME` shows one source in full instead.
//
// Plain values and a pure formatter; thread-safe (no state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ddb2pg::app {

struct SourceSummary {
  std::string name;
  std::string table;
  bool started = false;  // has partitions
  int segments = 0, segments_done = 0;
  int shards = 0, shards_done = 0;
  int held = 0;          // partitions under a live lease
  int runners = 0;
  struct Pipeline {
    std::string name;
    std::string phase;   // "streaming", "backfilling 3/4 segments", …
    std::string rows;    // "?" when unknown
    std::string dead_letters;
  };
  std::vector<Pipeline> pipelines;
};

class StatusSummary {
 public:
  // Above this many sources, `status` groups: one line per source (unless --source names one).
  static constexpr size_t kDetailedSourcesMax = 4;

  // One line per source, then one indented line per pipeline; ends with how to see one source's
  // partitions. Every value is printed as given: names come from the configuration file.
  static std::string Format(const std::vector<SourceSummary>& sources);
};

}  // namespace ddb2pg::app
