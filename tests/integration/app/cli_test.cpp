// Issue 7 acceptance: the CLI as a user meets it — help with examples, `generate` + `run` as
// subprocesses, and /metrics counters that match the rows in PostgreSQL.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "aws/curl_transport.h"
#include "../pipeline/pipeline_fixture.h"

namespace ddb2pg::testing {
namespace {

std::string RunCapture(const std::string& command, int* exit_code = nullptr) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  char buffer[4096];
  while (pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pipe != nullptr ? pclose(pipe) : -1;
  if (exit_code != nullptr) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

TEST(CliHelp, TopLevelAndEverySubcommandShowExamples) {
  int code = -1;
  const std::string help = RunCapture(std::string(DDB2PG_BINARY) + " --help", &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(help.find("Examples:"), std::string::npos) << help;
  EXPECT_NE(help.find("Exit codes"), std::string::npos) << help;
  for (const char* command : {"run", "validate", "init-schema", "status", "preview", "generate", "demo"}) {
    const std::string sub = RunCapture(std::string(DDB2PG_BINARY) + " " + command + " --help", &code);
    EXPECT_EQ(code, 0) << command;
    EXPECT_NE(sub.find("Example"), std::string::npos) << command << ":\n" << sub;
    EXPECT_NE(sub.find("ddb2pg " + std::string(command)), std::string::npos) << command << ":\n" << sub;
  }
  EXPECT_NE(RunCapture(std::string(DDB2PG_BINARY) + " --version", &code).find("ddb2pg 0."), std::string::npos);
}

TEST(CliValidate, AcceptsBothExamplesOfflineAndRejectsABrokenCopyNamingTheLine) {
  int code = -1;
  for (const char* example : {"examples/users.yaml", "examples/users-notification-list.yaml"}) {
    const std::string out = RunCapture(std::string(DDB2PG_BINARY) + " validate --offline -c " + DDB2PG_SOURCE_DIR + "/" +
                                           example, &code);
    EXPECT_EQ(code, 0) << example << ": " << out;
  }
  std::string text = ReadFile(std::string(DDB2PG_SOURCE_DIR) + "/examples/users.yaml");
  ReplaceAll(text, "    on_delete: soft", "    on_delete: sfot");
  const std::string broken = ScratchDir() + "/" + UniqueName("broken") + ".yaml";
  std::ofstream(broken) << text;
  const std::string out = RunCapture(std::string(DDB2PG_BINARY) + " validate --offline -c " + broken, &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(broken + ":[0-9]+:[0-9]+:.*on_delete"))) << out;
}

class CliEndToEnd : public PipelineFixture {};

TEST_F(CliEndToEnd, GenerateThenRunAndMetricsMatchTheRows) {
  const std::string bin = DDB2PG_BINARY;
  std::string env;
  for (const auto& assignment : ChildEnvironment()) env += assignment.substr(0, assignment.find('=') + 1) + "'" +
                                                              assignment.substr(assignment.find('=') + 1) + "' ";
  int code = -1;
  const std::string generated = RunCapture(env + bin + " generate --count 400 --rate 0 --update-ratio 0.25 "
                                                 "--delete-ratio 0.05 --bad-ratio 0 --seed 5", &code);
  ASSERT_EQ(code, 0) << generated;
  EXPECT_NE(generated.find("operations/s"), std::string::npos) << generated;

  const std::string config_path = ScratchDir() + "/" + key_ + ".yaml";
  std::ofstream(config_path) << ConfigText();
  const std::string log_path = ScratchDir() + "/" + key_ + "-run.log";
  ChildProcess run({bin, "run", "-c", config_path, "--progress", "plain", "--metrics-listen", "127.0.0.1:0",
                    "--init-schema"},
                   ChildEnvironment(), log_path);
  // The bound port is logged: "metrics on http://127.0.0.1:PORT/metrics".
  std::string port;
  for (int i = 0; i < 100 && port.empty(); ++i) {
    std::smatch match;
    const std::string log = ReadFile(log_path);
    if (std::regex_search(log, match, std::regex("metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics"))) port = match[1];
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(port.empty()) << ReadFile(log_path);

  // Wait until every generated change is committed: profile rows stop changing.
  aws::CurlTransport http;
  auto scrape = [&](const std::string& path) {
    aws::HttpRequest request;
    request.method = "GET";
    request.url = "http://127.0.0.1:" + port + path;
    auto response = http.Send(request);
    return response.ok() ? *response : aws::HttpResponse{};
  };
  auto counter = [](const std::string& text, const std::string& series) {
    std::smatch match;
    if (!std::regex_search(text, match, std::regex(series + " ([0-9.e+]+)"))) return -1.0;
    return std::stod(match[1]);
  };
  std::string metrics;
  double profile_rows = -1;
  for (int i = 0; i < 120; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    metrics = scrape("/metrics").body;
    const double read = counter(metrics, "ddb2pg_records_read_total\\{operation=\"update\",source=\"users\"\\}");
    profile_rows = counter(metrics, "ddb2pg_rows_written_total\\{pipeline=\"profile\"\\}");
    if (read > 0 && scrape("/readyz").status == 200 && profile_rows > 0 &&
        counter(metrics, "ddb2pg_rows_written_total\\{pipeline=\"profile\"\\}") ==
            counter(metrics, "ddb2pg_rows_written_total\\{pipeline=\"appearance_settings\"\\}") &&
        std::stoll(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".profile")) > 0 &&
        profile_rows >= 400) {
      break;
    }
  }
  EXPECT_EQ(scrape("/healthz").status, 200);
  EXPECT_EQ(scrape("/readyz").status, 200);
  run.Signal(SIGTERM);
  EXPECT_EQ(run.Wait(std::chrono::seconds(5)), 0) << ReadFile(log_path);

  // Counters match PostgreSQL: rows written ≥ distinct rows (updates rewrite rows), dead letters equal.
  const double live_profiles = std::stod(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".profile"));
  EXPECT_GE(profile_rows, live_profiles) << metrics;
  EXPECT_GT(live_profiles, 0);
  const double dead = counter(metrics, "ddb2pg_dead_letters_total\\{pipeline=\"profile\"\\}");
  EXPECT_EQ(dead < 0 ? 0 : dead, std::stod(pg_->Scalar("SELECT count(*) FROM ddb2pg.dead_letters WHERE pipeline = 'profile'")));
  EXPECT_NE(metrics.find("ddb2pg_commit_latency_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics.find("ddb2pg_end_to_end_lag_seconds_count"), std::string::npos);
  // The snapshot's rows went into the empty tables by the direct COPY (every key new), and each
  // path's commits are counted.
  EXPECT_GT(counter(metrics, "ddb2pg_table_writes_total\\{path=\"direct_copy\",pipeline=\"profile\"\\}"), 0) << metrics;
  EXPECT_GE(counter(metrics, "ddb2pg_table_writes_total\\{path=\"staged\",pipeline=\"profile\"\\}"), 0) << metrics;

  const std::string status = RunCapture(env + bin + " status -c " + config_path, &code);
  EXPECT_EQ(code, 0) << status;
  EXPECT_NE(status.find(": streaming;"), std::string::npos) << status;
  EXPECT_NE(status.find("pipeline profile"), std::string::npos) << status;

  // Issue 16's commands: a re-snapshot of one pipeline is scheduled and shown; reset asks for
  // --yes, then forgets it; an unknown pipeline is named.
  const std::string scheduled = RunCapture(env + bin + " resnapshot -c " + config_path + " --pipeline profile", &code);
  EXPECT_EQ(code, 0) << scheduled;
  EXPECT_NE(scheduled.find("re-snapshot of profile scheduled"), std::string::npos) << scheduled;
  const std::string pending = RunCapture(env + bin + " status -c " + config_path, &code);
  EXPECT_NE(pending.find("pipeline profile → " + schema_ + ".profile: re-snapshot 0/4 segments, reconciles at the end"),
            std::string::npos)
      << pending;
  EXPECT_NE(pending.find("pipeline appearance_settings → " + schema_ + ".appearance_settings: streaming"),
            std::string::npos)
      << pending;
  const std::string refused = RunCapture(env + bin + " reset -c " + config_path + " --pipeline profile", &code);
  EXPECT_EQ(code, 2) << refused;
  EXPECT_NE(refused.find("Add --yes"), std::string::npos) << refused;
  const std::string forgot = RunCapture(env + bin + " reset -c " + config_path + " --pipeline profile --yes", &code);
  EXPECT_EQ(code, 0) << forgot;
  const std::string after = RunCapture(env + bin + " status -c " + config_path, &code);
  EXPECT_NE(after.find("pipeline profile → " + schema_ + ".profile: not started"), std::string::npos) << after;
  const std::string unknown = RunCapture(env + bin + " resnapshot -c " + config_path + " --pipeline nope", &code);
  EXPECT_NE(code, 0) << unknown;
  EXPECT_NE(unknown.find("no pipeline nope"), std::string::npos) << unknown;

  // A changed mapping stops the start (exit 3) with the lines that differ and the choices.
  std::string changed_text = ConfigText();
  ReplaceAll(changed_text, "theme:      TEXT <- appearance.theme", "theme:      TEXT <- appearance.colorway");
  const std::string changed_path = ScratchDir() + "/" + key_ + "-changed.yaml";
  std::ofstream(changed_path) << changed_text;
  const std::string refused_start =
      RunCapture(env + bin + " run -c " + changed_path + " --duration 20 --progress off --metrics-listen off", &code);
  EXPECT_EQ(code, 3) << refused_start;
  EXPECT_NE(refused_start.find("pipeline appearance_settings"), std::string::npos) << refused_start;
  EXPECT_NE(refused_start.find("now: column theme TEXT <- appearance.colorway"), std::string::npos) << refused_start;
  EXPECT_NE(refused_start.find("on_change: keep"), std::string::npos) << refused_start;
}

}  // namespace
}  // namespace ddb2pg::testing
