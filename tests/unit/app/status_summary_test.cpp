// StatusSummary: `ddb2pg status` for a file of 50 sources reads as one line per source (each
// pipeline indented under it), partitions collapsed into counts, and says how to see one source.
#include "app/status_summary.h"

#include <gtest/gtest.h>

#include <sstream>

namespace ddb2pg::app {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(StatusSummary, FiftySourcesAreOneLineEachWithTheirPipelinesAndNoPartitionRows) {
  std::vector<SourceSummary> sources;
  for (int i = 1; i <= 50; ++i) {
    SourceSummary s;
    s.name = "users_" + std::to_string(i);
    s.table = "users_" + std::to_string(i);
    s.started = i != 50;  // the last has not started
    s.segments = 4;
    s.segments_done = 4;
    s.shards = 4;
    s.shards_done = 0;
    s.held = 4;
    s.runners = 1;
    s.pipelines.push_back({"t_" + std::to_string(i), "streaming", "4000", "0"});
    sources.push_back(std::move(s));
  }
  const auto lines = Lines(StatusSummary::Format(sources));
  ASSERT_EQ(lines.size(), 1u + 49 * 2 + 1);  // header, 49 × (source + pipeline), one not started
  EXPECT_NE(lines[0].find("50 sources"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("--source NAME"), std::string::npos) << lines[0];
  int source_lines = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].starts_with("source ")) {
      ++source_lines;
      EXPECT_EQ(lines[i].find("shardId"), std::string::npos) << "no partition rows: " << lines[i];
    } else {
      EXPECT_TRUE(lines[i].starts_with("  pipeline t_")) << lines[i];
    }
  }
  EXPECT_EQ(source_lines, 50);
  EXPECT_EQ(lines[1], "source users_1 (table users_1): Scan segments 4/4 done, shards 4 known 0 done, 4 held, 1 runner");
  EXPECT_EQ(lines[2], "  pipeline t_1: streaming; 4000 rows, 0 dead letters");
  EXPECT_EQ(lines.back(), "source users_50 (table users_50): not started: no partitions yet");
}

}  // namespace
}  // namespace ddb2pg::app
