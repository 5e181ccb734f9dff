// Issue 17 acceptance, on a running pipeline (`ddb2pg run` as a subprocess on the real servers):
//  - `promtool check metrics` (Debian's prometheus package) accepts the live /metrics, and every
//    series the Grafana dashboard (docs/grafana-dashboard.json) queries exists;
//  - headless Chromium (Debian's chromium) opens the status page at `/`, the rows counter on it
//    changes while items are written, a dead letter is shown with its reason, and an item value
//    holding `<script>` is shown as text; no card's content is drawn past its border at 1280×800
//    or at phone width (390×844), where it also takes screenshots.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "aws/curl_transport.h"
#include "../pipeline/pipeline_fixture.h"

namespace ddb2pg::testing {
namespace {

std::string RunCapture(const std::string& command, int* exit_code) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  char buffer[4096];
  while (pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pipe != nullptr ? pclose(pipe) : -1;
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

// An item the profile pipeline dead-letters (its id is not a UUID) whose text is markup.
constexpr const char* kHostileId = "<script>alert(1)</script>";

class Observability : public PipelineFixture {
 protected:
  // Loads items (one of them kHostileId), starts `ddb2pg run` and waits until it has committed
  // rows and the status page's data lists the hostile dead letter.
  void StartPipeline() {
    BulkLoad(200, 17);
    app::SampleData data(170);
    core::Value hostile = data.MakeItem(data.NewId(), 1);
    hostile.Set("id", core::Value::String(kHostileId));
    hostile.Set("name", core::Value::String("<b>bold</b> & <img src=x onerror=alert(2)>"));
    ASSERT_TRUE(ddb_->PutItem("users", hostile).ok());

    config_path_ = ScratchDir() + "/" + key_ + ".yaml";
    std::ofstream(config_path_) << ConfigText();
    log_path_ = ScratchDir() + "/" + key_ + "-run.log";
    run_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{DDB2PG_BINARY, "run", "-c", config_path_, "--progress", "off", "--metrics-listen",
                                 "127.0.0.1:0", "--init-schema"},
        ChildEnvironment(), log_path_);
    for (int i = 0; i < 200 && port_.empty(); ++i) {
      std::smatch match;
      const std::string log = ReadFile(log_path_);
      if (std::regex_search(log, match, std::regex("status page on http://127\\.0\\.0\\.1:([0-9]+)/"))) port_ = match[1];
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_FALSE(port_.empty()) << ReadFile(log_path_);
    std::string status;
    for (int i = 0; i < 240; ++i) {
      status = Get("/api/status").body;
      if (status.find("\"rows_committed\":0") == std::string::npos && status.find("is not a UUID") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    ASSERT_NE(status.find("is not a UUID"), std::string::npos) << status << ReadFile(log_path_);
  }

  void TearDown() override {
    if (run_ != nullptr) {
      run_->Signal(SIGTERM);
      EXPECT_EQ(run_->Wait(std::chrono::seconds(30)), 0) << ReadFile(log_path_);
    }
    std::error_code ignored;
    std::filesystem::remove_all("/tmp/" + key_ + "-chromium", ignored);
  }

  aws::HttpResponse Get(const std::string& path) {
    aws::HttpRequest request;
    request.method = "GET";
    request.url = "http://127.0.0.1:" + port_ + path;
    auto response = http_.Send(request);
    return response.ok() ? *response : aws::HttpResponse{};
  }

  // Chromium, headless, with its own profile folder; `args` before the URL.
  std::string Chromium(const std::string& args, int* code) {
    const std::string profile = "/tmp/" + key_ + "-chromium";
    return RunCapture("chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
                      "--hide-scrollbars --user-data-dir=" + profile + " " + args + " http://127.0.0.1:" + port_ + "/",
                      code);
  }

  // The page's DOM once its script has run (virtual time lets its 1.5 s refresh run twice).
  std::string Dom() {
    int code = -1;
    std::string dom = Chromium("--virtual-time-budget=3500 --dump-dom", &code);
    EXPECT_EQ(code, 0) << dom;
    return dom;
  }

  static std::string ElementText(const std::string& dom, const std::string& id) {
    std::smatch match;
    if (!std::regex_search(dom, match, std::regex("id=\"" + id + "\"[^>]*>([^<]*)<"))) return "";
    return match[1];
  }

  aws::CurlTransport http_;
  std::string config_path_, log_path_, port_;
  std::unique_ptr<ChildProcess> run_;
};

TEST_F(Observability, PromtoolAcceptsTheLiveMetricsAndTheDashboardQueriesOnlySeriesThatExist) {
  StartPipeline();
  if (HasFatalFailure()) return;
  const std::string metrics = Get("/metrics").body;
  ASSERT_NE(metrics.find("ddb2pg_rows_written_total"), std::string::npos) << metrics;
  const std::string metrics_path = ScratchDir() + "/" + key_ + "-metrics.txt";
  std::ofstream(metrics_path) << metrics;
  int code = -1;
  const std::string lint = RunCapture("promtool check metrics < " + metrics_path, &code);
  EXPECT_EQ(code, 0) << lint;
  EXPECT_EQ(lint, "") << "promtool check metrics:\n" << lint;

  // Every series the dashboard queries: declared in src/pipeline/metrics.cpp, and the core ones
  // (lag, rows, commit latency, dead letters, shards) present in the live /metrics.
  const std::string dashboard = ReadFile(std::string(DDB2PG_SOURCE_DIR) + "/docs/grafana-dashboard.json");
  const std::string declared = ReadFile(std::string(DDB2PG_SOURCE_DIR) + "/src/pipeline/metrics.cpp");
  std::set<std::string> queried;
  const std::regex series("ddb2pg_[a-z_]+");
  for (auto it = std::sregex_iterator(dashboard.begin(), dashboard.end(), series); it != std::sregex_iterator(); ++it) {
    std::string name = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (name.ends_with(suffix) && name.find("_seconds") != std::string::npos) name.resize(name.size() - std::strlen(suffix));
    }
    queried.insert(name);
  }
  ASSERT_GE(queried.size(), 12u);
  for (const auto& name : queried) {
    EXPECT_NE(declared.find("\"" + name + "\""), std::string::npos) << name << " is not a metric of src/pipeline/metrics.cpp";
  }
  for (const char* core : {"ddb2pg_end_to_end_lag_seconds", "ddb2pg_rows_written_total", "ddb2pg_commit_latency_seconds",
                           "ddb2pg_dead_letters_total", "ddb2pg_shards_active", "ddb2pg_shards_finished",
                           "ddb2pg_commits_total", "ddb2pg_last_commit_timestamp_seconds", "ddb2pg_snapshot_items_read"}) {
    EXPECT_EQ(queried.count(core), 1u) << "the dashboard does not show " << core;
    EXPECT_NE(metrics.find("# TYPE " + std::string(core) + " "), std::string::npos) << core << " missing from /metrics";
  }
}

TEST_F(Observability, StatusPageInChromiumCountsRowsShowsDeadLettersAsTextAndFitsBothWidths) {
  StartPipeline();
  if (HasFatalFailure()) return;
  // The page itself: embedded, no asset from elsewhere, a strict Content-Security-Policy.
  const auto page = Get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body.find("http://"), std::string::npos);
  EXPECT_EQ(page.body.find("https://"), std::string::npos);
  EXPECT_EQ(Get("/nothing-here").status, 404);

  std::string dom = Dom();
  const std::string first = ElementText(dom, "rows-total");
  ASSERT_FALSE(first.empty()) << dom;
  ASSERT_NE(first, "–") << dom;

  // More writes: the counter on the page moves.
  app::SampleData data(171);
  std::string now;
  for (int attempt = 0; attempt < 30; ++attempt) {
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(ddb_->PutItem("users", data.MakeItem(data.NewId(), 1)).ok());
    dom = Dom();
    now = ElementText(dom, "rows-total");
    if (!now.empty() && now != first) break;
  }
  EXPECT_NE(now, first) << "the rows counter did not change:\n" << dom;

  // The dead letter with its reason; the hostile values as text, never as markup.
  const size_t dead = dom.find("id=\"dead-letters\"");
  ASSERT_NE(dead, std::string::npos) << dom;
  const std::string letters = dom.substr(dead);
  EXPECT_NE(letters.find("column id (UUID): S \"&lt;script&gt;alert(1)&lt;/script&gt;\" is not a UUID"), std::string::npos)
      << letters;
  EXPECT_NE(letters.find("&lt;b&gt;bold&lt;/b&gt; &amp; &lt;img src=x onerror=alert(2)&gt;"), std::string::npos) << letters;
  EXPECT_EQ(dom.find("<script>alert"), std::string::npos) << dom;
  EXPECT_EQ(dom.find("<img src=x"), std::string::npos) << dom;
  EXPECT_EQ(dom.find("<b>bold"), std::string::npos) << dom;

  // Nothing is drawn past its card's border at 1280×800 (the Pipelines table once was) nor at
  // phone width: the page measures its cards after each render (scrollWidth against clientWidth)
  // and lists the overflowing ones in <main data-overflow>, those scrolling inside in
  // data-scrolled. The pipelines' table wraps to fit: it must not even need to scroll.
  for (const auto& [width, height] : std::vector<std::pair<int, int>>{{1280, 800}, {390, 844}}) {
    const std::string size = std::to_string(width) + "x" + std::to_string(height);
    int code = -1;
    const std::string measured =
        Chromium("--virtual-time-budget=3500 --window-size=" + std::to_string(width) + "," + std::to_string(height) +
                     " --dump-dom",
                 &code);
    ASSERT_EQ(code, 0) << measured;
    std::smatch overflow, scrolled;
    ASSERT_TRUE(std::regex_search(measured, overflow, std::regex("data-overflow=\"([^\"]*)\""))) << size << measured;
    ASSERT_TRUE(std::regex_search(measured, scrolled, std::regex("data-scrolled=\"([^\"]*)\""))) << size;
    EXPECT_EQ(overflow[1], "") << size << ": cards whose content is drawn past their border";
    if (width == 1280) {
      EXPECT_EQ(std::string(scrolled[1]).find("pipelines"), std::string::npos) << size << ": " << scrolled[1];
    }
    std::printf("%s: overflowing cards '%s', cards scrolling inside '%s'\n", size.c_str(), std::string(overflow[1]).c_str(),
                std::string(scrolled[1]).c_str());
    // The pipelines table is there to be measured.
    EXPECT_NE(measured.find("id=\"pipelines\""), std::string::npos);
    EXPECT_NE(measured.find("<td>profile</td>"), std::string::npos)
        << "the Pipelines table lists no pipeline: " << measured.substr(measured.find("id=\"pipelines\""), 800);
  }

  // Screenshots at desktop and phone width (PNG: width and height in the IHDR chunk).
  const std::string out_dir = std::getenv("DDB2PG_SCREENSHOT_DIR") != nullptr ? std::getenv("DDB2PG_SCREENSHOT_DIR") : "/tmp";
  for (const auto& [width, height] : std::vector<std::pair<int, int>>{{1280, 800}, {390, 844}}) {
    const std::string path = out_dir + "/ddb2pg-status-page-" + std::to_string(width) + "x" + std::to_string(height) + ".png";
    std::filesystem::remove(path);
    int code = -1;
    const std::string out = Chromium("--virtual-time-budget=3500 --window-size=" + std::to_string(width) + "," +
                                         std::to_string(height) + " --screenshot=" + path,
                                     &code);
    ASSERT_EQ(code, 0) << out;
    const std::string png = ReadFile(path);
    ASSERT_GE(png.size(), 24u) << path;
    auto be32 = [&](size_t at) {
      return (static_cast<uint32_t>(static_cast<unsigned char>(png[at])) << 24) |
             (static_cast<uint32_t>(static_cast<unsigned char>(png[at + 1])) << 16) |
             (static_cast<uint32_t>(static_cast<unsigned char>(png[at + 2])) << 8) |
             static_cast<uint32_t>(static_cast<unsigned char>(png[at + 3]));
    };
    EXPECT_EQ(png.substr(1, 3), "PNG");
    EXPECT_EQ(be32(16), static_cast<uint32_t>(width)) << path;
    EXPECT_EQ(be32(20), static_cast<uint32_t>(height)) << path;
    std::printf("screenshot: %s\n", path.c_str());
  }
}

}  // namespace
}  // namespace ddb2pg::testing
