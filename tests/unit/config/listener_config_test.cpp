// The listener keys of `metrics` (issue 26): defaults, where the status page is served for each
// combination (config::MetricsConfig::StatusPageListen), which addresses count as loopback, and
// the errors that keep the status page off the network unless asked for.
#include <gtest/gtest.h>

#include "config/config.h"
#include "processor/plan_checker.h"

namespace ddb2pg::config {
namespace {

const std::string kPipelines = R"yaml(version: 1
sources:
  users:
    table: users
pipelines:
  - name: profile
    key: id
    columns:
      id: UUID <- id
)yaml";

core::Result<Config> Load(const std::string& metrics_yaml) {
  return LoadConfigText(kPipelines + "metrics:\n" + metrics_yaml, "test.yaml", processor::PlanChecker(),
                        [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
}

TEST(ListenerConfig, DefaultsKeepEverythingOnLoopback) {
  auto loaded = LoadConfigText(kPipelines, "test.yaml", processor::PlanChecker());
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const MetricsConfig& metrics = loaded->metrics;
  EXPECT_EQ(metrics.listen, "127.0.0.1:9187");
  EXPECT_EQ(metrics.status_listen, "");
  EXPECT_FALSE(metrics.status_exposed);
  EXPECT_EQ(metrics.status_token_file, "");
  EXPECT_EQ(metrics.status_token_env, "");
  EXPECT_EQ(metrics.StatusPageListen(metrics.listen), "127.0.0.1:9187") << "shared, as before";
}

TEST(ListenerConfig, EveryKeyIsRead) {
  auto loaded = Load("  listen: 0.0.0.0:9187\n  status_listen: 10.0.0.5:9188\n  status_exposed: true\n"
                     "  status_token_env: STATUS_TOKEN\n");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->metrics.listen, "0.0.0.0:9187");
  EXPECT_EQ(loaded->metrics.status_listen, "10.0.0.5:9188");
  EXPECT_TRUE(loaded->metrics.status_exposed);
  EXPECT_EQ(loaded->metrics.status_token_env, "STATUS_TOKEN");
  auto file = Load("  status_token_file: /var/run/secrets/ddb2pg/status-token\n");
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ(file->metrics.status_token_file, "/var/run/secrets/ddb2pg/status-token");
}

TEST(ListenerConfig, WhereTheStatusPageIsServed) {
  struct Case {
    std::string status_listen;
    bool exposed;
    std::string metrics_listen;  // the effective one (config or --metrics-listen)
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"", false, "127.0.0.1:9187", "127.0.0.1:9187"},  // loopback: shared
      {"", false, "9187", "9187"},                      // a bare port is 127.0.0.1
      {"", false, "localhost:9187", "localhost:9187"},
      {"", false, "[::1]:9187", "[::1]:9187"},
      {"", false, "0.0.0.0:9187", ""},                  // opened for probes: no status page there
      {"", false, "[::]:9187", ""},
      {"", false, "10.1.2.3:9187", ""},
      {"", true, "0.0.0.0:9187", "0.0.0.0:9187"},        // unless asked for
      {"", false, "", ""},                              // no metrics listener
      {"", false, "off", ""},
      {"127.0.0.1:9188", false, "0.0.0.0:9187", "127.0.0.1:9188"},  // its own loopback listener
      {"127.0.0.1:9188", false, "", "127.0.0.1:9188"},
      {"off", false, "127.0.0.1:9187", ""},
      {"off", true, "0.0.0.0:9187", ""},
  };
  for (const Case& c : cases) {
    MetricsConfig metrics;
    metrics.status_listen = c.status_listen;
    metrics.status_exposed = c.exposed;
    EXPECT_EQ(metrics.StatusPageListen(c.metrics_listen), c.expected)
        << "status_listen '" << c.status_listen << "', exposed " << c.exposed << ", listen '" << c.metrics_listen << "'";
  }
}

TEST(ListenerConfig, LoopbackAddresses) {
  for (const char* yes : {"127.0.0.1:9187", "127.1.2.3:0", "localhost:9187", "[::1]:9187", "9187"}) {
    EXPECT_TRUE(IsLoopbackListen(yes)) << yes;
  }
  for (const char* no : {"0.0.0.0:9187", "[::]:9187", "10.0.0.1:9187", ":9187", "127.example.com:9187",
                         "127.0.0.1.nip.io:9187", "[::1:9187", "host:9187"}) {
    EXPECT_FALSE(IsLoopbackListen(no)) << no;
  }
}

TEST(ListenerConfig, TheStatusPageStaysOffTheNetworkUnlessExposed) {
  auto loaded = Load("  listen: 0.0.0.0:9187\n  status_listen: 0.0.0.0:9188\n");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().message(),
            "test.yaml:12:18: metrics.status_listen: 0.0.0.0:9188 is not a loopback address, and the status page shows "
            "dead-lettered item data: set metrics.status_exposed: true to serve it there (with "
            "metrics.status_token_file or status_token_env for a bearer token), or use 127.0.0.1");
  EXPECT_TRUE(Load("  status_listen: 0.0.0.0:9188\n  status_exposed: true\n").ok());
  EXPECT_TRUE(Load("  status_listen: \"off\"\n").ok());
}

TEST(ListenerConfig, ErrorsNameTheKeyAndLine) {
  EXPECT_EQ(Load("  status_listen: everywhere\n").status().message(),
            "test.yaml:11:18: metrics.status_listen: expected HOST:PORT (e.g. 127.0.0.1:9188), \"off\", or \"\" to "
            "serve the status page on metrics.listen while that is a loopback address");
  EXPECT_EQ(Load("  status_token_env: 1NOT-A-NAME\n").status().message(),
            "test.yaml:11:21: metrics.status_token_env: expected the name of an environment variable (letters, "
            "digits, '_')");
  EXPECT_EQ(Load("  status_token_file: /t\n  status_token_env: T\n").status().message(),
            "test.yaml:12:21: metrics: give either status_token_file or status_token_env, not both");
  EXPECT_EQ(Load("  status_exposed: perhaps\n").ok(), false);
  EXPECT_NE(Load("  status_page: on\n").status().message().find("status_page"), std::string::npos);
}

}  // namespace
}  // namespace ddb2pg::config
