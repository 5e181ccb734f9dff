// Issue 26: the probes and Prometheus can be opened to the network while the status page (which
// shows dead-lettered item data) stays on loopback; `ddb2pg run` as a subprocess on the real
// servers, every listener on 127.0.0.1 (tests open nothing to the network).
//  - split: /metrics, /healthz, /readyz on metrics.listen, and there / and /api/status answer
//    404; the status page on its own listener (metrics.status_listen), /api/status behind a
//    bearer token from an environment variable: 401 without it or with a wrong one, 200 with it,
//    and the page in headless Chromium passes the token on from its URL fragment;
//  - status_listen off: no status page anywhere, the probes still answer;
//  - shared (the default for a loopback listen), token from a file: / is served, /api/status
//    needs the token.
// The rule that a non-loopback metrics.listen never carries the status page unless
// metrics.status_exposed is set is config::MetricsConfig::StatusPageListen, unit-tested in
// tests/unit/config (a test cannot connect from another host).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "aws/curl_transport.h"
#include "../pipeline/pipeline_fixture.h"

namespace ddb2pg::testing {
namespace {

constexpr const char* kToken = "s3cr3t-Token_for-the-status-page";

class Listeners : public PipelineFixture {
 protected:
  // Starts `ddb2pg run` with `metrics_yaml` as its metrics section and waits for the log line
  // that names the listeners; `pattern` captures their ports.
  void Start(const std::string& metrics_yaml, const std::string& pattern, std::vector<std::string> env = {}) {
    BulkLoad(20, 26);
    config_path_ = ScratchDir() + "/" + key_ + ".yaml";
    std::ofstream(config_path_) << ConfigText() << "\nmetrics:\n" << metrics_yaml;
    log_path_ = ScratchDir() + "/" + key_ + "-run.log";
    for (const auto& assignment : ChildEnvironment()) env.push_back(assignment);
    run_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{DDB2PG_BINARY, "run", "-c", config_path_, "--progress", "off", "--init-schema"}, env,
        log_path_);
    for (int i = 0; i < 300 && ports_.empty(); ++i) {
      std::smatch match;
      const std::string log = ReadFile(log_path_);
      if (std::regex_search(log, match, std::regex(pattern))) {
        for (size_t group = 1; group < match.size(); ++group) ports_.push_back(match[group]);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_FALSE(ports_.empty()) << ReadFile(log_path_);
  }

  void TearDown() override {
    if (run_ != nullptr) {
      run_->Signal(SIGTERM);
      EXPECT_EQ(run_->Wait(std::chrono::seconds(30)), 0) << ReadFile(log_path_);
    }
    std::error_code ignored;
    std::filesystem::remove(config_path_, ignored);
    std::filesystem::remove(token_path_, ignored);
  }

  aws::HttpResponse Get(const std::string& port, const std::string& path, const std::string& authorization = "") {
    aws::HttpRequest request;
    request.method = "GET";
    request.url = "http://127.0.0.1:" + port + path;
    if (!authorization.empty()) request.headers.emplace_back("Authorization", authorization);
    auto response = http_.Send(request);
    return response.ok() ? *response : aws::HttpResponse{};
  }

  // /readyz turns 200 once the lanes are connected and committing.
  void ExpectReady(const std::string& port) {
    long status = 0;
    for (int i = 0; i < 240 && status != 200; ++i) {
      status = Get(port, "/readyz").status;
      if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    EXPECT_EQ(status, 200) << ReadFile(log_path_);
  }

  void ExpectProbesAndMetrics(const std::string& port) {
    EXPECT_EQ(Get(port, "/healthz").status, 200);
    ExpectReady(port);
    const auto metrics = Get(port, "/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("ddb2pg_ready"), std::string::npos);
  }

  void ExpectNoStatusPage(const std::string& port) {
    for (const char* path : {"/", "/index.html", "/status.js", "/api/status"}) {
      const auto response = Get(port, path, std::string("Bearer ") + kToken);
      EXPECT_EQ(response.status, 404) << path;
      EXPECT_EQ(response.body.find("rows_committed"), std::string::npos) << path;
      EXPECT_EQ(response.body.find("<html"), std::string::npos) << path;
    }
  }

  // /api/status behind the token: 401 (with a challenge) without it or with a wrong one, 200 with it.
  void ExpectGuardedStatus(const std::string& port) {
    for (const std::string& authorization :
         {std::string(), std::string("Bearer wrong"), std::string("Bearer ") + kToken + "x",
          std::string("Bearer ") + std::string(kToken).substr(1), std::string("Basic ") + kToken, std::string(kToken)}) {
      const auto denied = Get(port, "/api/status", authorization);
      EXPECT_EQ(denied.status, 401) << "Authorization: " << authorization;
      EXPECT_EQ(denied.body.find("rows_committed"), std::string::npos);
      bool challenge = false;
      for (const auto& [name, value] : denied.headers) challenge = challenge || (name == "www-authenticate" && value.starts_with("Bearer"));
      EXPECT_TRUE(challenge) << "no WWW-Authenticate: Bearer on the 401";
    }
    const auto allowed = Get(port, "/api/status", std::string("Bearer ") + kToken);
    EXPECT_EQ(allowed.status, 200);
    EXPECT_NE(allowed.body.find("\"pipelines\""), std::string::npos) << allowed.body;
    // The page and its script are the same static code in every binary and hold no data.
    EXPECT_EQ(Get(port, "/").status, 200);
    EXPECT_EQ(Get(port, "/status.js").status, 200);
    // The token never reaches the log.
    EXPECT_EQ(ReadFile(log_path_).find(kToken), std::string::npos);
  }

  // The page's DOM in headless Chromium once its script has fetched /api/status (`fragment`
  // after the URL: #token=…).
  std::string Dom(const std::string& port, const std::string& fragment) {
    const std::string profile = "/tmp/" + key_ + "-chromium";
    std::string dom;
    FILE* pipe = popen(("chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
                        "--user-data-dir=" + profile + " --virtual-time-budget=3500 --dump-dom 'http://127.0.0.1:" +
                        port + "/" + fragment + "' 2>/dev/null")
                           .c_str(),
                       "r");
    char buffer[4096];
    while (pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr) dom += buffer;
    if (pipe != nullptr) pclose(pipe);
    std::error_code ignored;
    std::filesystem::remove_all(profile, ignored);
    return dom;
  }

  aws::CurlTransport http_;
  std::string config_path_, log_path_, token_path_;
  std::vector<std::string> ports_;
  std::unique_ptr<ChildProcess> run_;
};

TEST_F(Listeners, ProbesAndMetricsOnOneListenerStatusPageOnItsOwnBehindATokenFromTheEnvironment) {
  Start("  listen: 127.0.0.1:0\n  status_listen: 127.0.0.1:0\n  status_token_env: DDB2PG_TEST_STATUS_TOKEN\n",
        "metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics, status page on http://127\\.0\\.0\\.1:([0-9]+)/ "
        "\\(bearer token\\)",
        {std::string("DDB2PG_TEST_STATUS_TOKEN=") + kToken});
  if (HasFatalFailure()) return;
  ASSERT_EQ(ports_.size(), 2u);
  ASSERT_NE(ports_[0], ports_[1]);
  const std::string& metrics_port = ports_[0];
  const std::string& status_port = ports_[1];
  ExpectProbesAndMetrics(metrics_port);
  ExpectNoStatusPage(metrics_port);
  for (const char* path : {"/metrics", "/healthz", "/readyz"}) EXPECT_EQ(Get(status_port, path).status, 404) << path;
  ExpectGuardedStatus(status_port);

  // In a browser: the page sends the token from its URL fragment; without one it says so.
  const std::string with_token = Dom(status_port, std::string("#token=") + kToken);
  std::smatch rows;
  ASSERT_TRUE(std::regex_search(with_token, rows, std::regex("id=\"rows-total\"[^>]*>([^<]*)<"))) << with_token;
  EXPECT_NE(rows[1], "–") << "the page did not read /api/status with the token";
  EXPECT_NE(Dom(status_port, "").find("HTTP 401: open this page as /#token="), std::string::npos);
}

// The documented Deployment: the listener on every address (the pod's too, which the kubelet's
// probes and Prometheus reach), no status_listen. Probes and metrics answer there; the status page
// and /api/status do not, since the address is not loopback and status_exposed is off. (Reached
// over loopback here: a listener on 0.0.0.0 serves every address alike.)
TEST_F(Listeners, OnEveryAddressTheProbesAndMetricsAnswerAndTheStatusPageDoesNot) {
  Start("  listen: 0.0.0.0:0\n",
        "metrics on http://0\\.0\\.0\\.0:([0-9]+)/metrics, no status page \\(not on a non-loopback address");
  if (HasFatalFailure()) return;
  ASSERT_EQ(ports_.size(), 1u);
  ExpectProbesAndMetrics(ports_[0]);
  ExpectNoStatusPage(ports_[0]);
}

TEST_F(Listeners, StatusListenOffServesNoStatusPageButTheProbes) {
  Start("  listen: 127.0.0.1:0\n  status_listen: \"off\"\n",
        "metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics, no status page");
  if (HasFatalFailure()) return;
  ExpectProbesAndMetrics(ports_[0]);
  ExpectNoStatusPage(ports_[0]);
}

TEST_F(Listeners, LoopbackListenerSharesTheStatusPageWithATokenFromAFile) {
  token_path_ = ScratchDir() + "/" + key_ + "-token";
  std::ofstream(token_path_) << kToken << "\n";  // as `echo` and Kubernetes Secrets leave it
  Start("  listen: 127.0.0.1:0\n  status_token_file: " + token_path_ + "\n",
        "metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics, status page on http://127\\.0\\.0\\.1:([0-9]+)/ "
        "\\(bearer token\\)");
  if (HasFatalFailure()) return;
  ASSERT_EQ(ports_.size(), 2u);
  EXPECT_EQ(ports_[0], ports_[1]) << "one listener serves both";
  ExpectProbesAndMetrics(ports_[0]);
  ExpectGuardedStatus(ports_[0]);
}

TEST_F(Listeners, AnUnreadableTokenStopsTheRunBeforeItStarts) {
  config_path_ = ScratchDir() + "/" + key_ + ".yaml";
  std::ofstream(config_path_) << ConfigText()
                              << "\nmetrics:\n  listen: 127.0.0.1:0\n  status_token_env: DDB2PG_TEST_NO_SUCH_TOKEN\n";
  log_path_ = ScratchDir() + "/" + key_ + "-run.log";
  ChildProcess run({DDB2PG_BINARY, "run", "-c", config_path_, "--progress", "off"}, ChildEnvironment(), log_path_);
  EXPECT_NE(run.Wait(std::chrono::seconds(60)), 0);
  EXPECT_NE(ReadFile(log_path_).find("DDB2PG_TEST_NO_SUCH_TOKEN holds no token"), std::string::npos)
      << ReadFile(log_path_);
}

}  // namespace
}  // namespace ddb2pg::testing
