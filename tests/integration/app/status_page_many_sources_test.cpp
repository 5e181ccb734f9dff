// The status page of a runner of 50 sources, in headless Chromium (Debian's chromium): the
// page groups them (one table row per source, partitions collapsed, no card each), a source
// chosen by its fragment (#source=NAME) gets its card, and values stay text. The data is a
// StatusBoard fed 50 sources directly, served by the real HttpEndpoint (no database needed:
// the board reads runners and partitions only while its reader thread runs, not started here).
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "app/http_endpoint.h"
#include "app/status_board.h"
#include "support/test_env.h"

namespace ddb2pg::app {
namespace {

std::string RunCapture(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  char buffer[4096];
  while (pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  if (pipe != nullptr) pclose(pipe);
  return output;
}

int Count(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  return static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

TEST(StatusPageManySources, FiftySourcesAreGroupedAndOneCanBeChosen) {
  std::vector<std::string> pipelines, checkpoints;
  std::vector<SourceStatus> sources;
  for (int i = 1; i <= 50; ++i) {
    SourceStatus s;
    s.name = "users_" + std::to_string(i);
    s.table = i == 3 ? "<b>bold</b>" : "users_" + std::to_string(i);  // shown as text, never markup
    s.checkpoint = s.name + ":" + s.table;
    s.phase = "streaming";
    s.snapshot_complete = true;
    s.shards_active = 4;
    sources.push_back(s);
    pipelines.push_back("t_" + std::to_string(i));
    checkpoints.push_back(s.checkpoint);
  }
  StatusBoard board("", pipelines, checkpoints);
  board.Update(sources);
  HttpEndpoint endpoint;
  endpoint.SetStatusPage([&board] { return board.Json(); });
  ASSERT_TRUE(endpoint.Start("127.0.0.1:0").ok());
  const std::string profile = "/tmp/" + ddb2pg::testing::UniqueName("many-chromium");
  auto dom = [&](const std::string& fragment) {
    return RunCapture("chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
                      "--user-data-dir=" + profile + " --virtual-time-budget=3500 --dump-dom 'http://127.0.0.1:" +
                      std::to_string(endpoint.port()) + "/" + fragment + "'");
  };

  const std::string grouped = dom("");
  ASSERT_NE(grouped.find("id=\"sources\""), std::string::npos) << "chromium did not render the page:\n" << grouped;
  EXPECT_NE(grouped.find("data-grouped=\"yes\""), std::string::npos) << grouped;
  EXPECT_EQ(Count(grouped, "href=\"#source=users_[0-9]+\""), 50) << grouped;
  EXPECT_EQ(Count(grouped, "<article"), 1) << "one table of sources, no card each:\n" << grouped;
  EXPECT_NE(grouped.find("&lt;b&gt;bold&lt;/b&gt;"), std::string::npos) << grouped;
  EXPECT_EQ(grouped.find("<b>bold</b>"), std::string::npos) << grouped;

  const std::string chosen = dom("#source=users_7");
  EXPECT_EQ(Count(chosen, "<article"), 2) << "the chosen source's card and the table:\n" << chosen;
  EXPECT_NE(chosen.find("<span>users_7</span>"), std::string::npos) << chosen;
  endpoint.Stop();
  std::error_code ignored;
  std::filesystem::remove_all(profile, ignored);
}

}  // namespace
}  // namespace ddb2pg::app
