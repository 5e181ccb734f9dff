#include "app/status_summary.h"

#include <fmt/format.h>

namespace ddb2pg::app {

std::string StatusSummary::Format(const std::vector<SourceSummary>& sources) {
  std::string out = fmt::format("{} sources (partitions collapsed; `ddb2pg status -c FILE --source NAME` lists one "
                                "source's partitions, runners and pipelines in full)\n",
                                sources.size());
  for (const auto& s : sources) {
    if (!s.started) {
      out += fmt::format("source {} (table {}): not started: no partitions yet\n", s.name, s.table);
      continue;
    }
    out += fmt::format("source {} (table {}): Scan segments {}/{} done, shards {} known {} done, {} held, {} runner{}\n",
                       s.name, s.table, s.segments_done, s.segments, s.shards, s.shards_done, s.held, s.runners,
                       s.runners == 1 ? "" : "s");
    for (const auto& p : s.pipelines) {
      out += fmt::format("  pipeline {}: {}; {} rows, {} dead letters\n", p.name, p.phase, p.rows, p.dead_letters);
    }
  }
  return out;
}

}  // namespace ddb2pg::app
