// deploy/kubernetes/ (issue 26), offline:
//  - every manifest is valid against the Kubernetes API schemas and the Prometheus Operator's
//    PodMonitor schema (tests/js/kubernetes-manifests/validate.mjs, kubernetes-models from npm,
//    installed by scripts/setup), and the validator does reject a broken one;
//  - the ConfigMap's config loads with ddb2pg's own loader, its metrics.listen is the pod address
//    on the port the probes and the PodMonitor use, the status page stays on loopback, and
//    runtime.lanes equals the container's CPU request;
//  - docs/deployment.md shows the Deployment exactly as deploy/kubernetes/deployment.yaml.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "processor/plan_checker.h"

namespace ddb2pg::app {
namespace {

const std::string kDeploy = std::string(DDB2PG_SOURCE_DIR) + "/deploy/kubernetes";

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string RunCapture(const std::string& command, int* exit_code) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  char buffer[4096];
  while (pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pipe != nullptr ? pclose(pipe) : -1;
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

class KubernetesManifests : public ::testing::Test {
 protected:
  void SkipOrRequireTheValidator() {
    if (std::system("command -v node >/dev/null 2>&1") != 0) GTEST_SKIP() << "node is not installed";
    ASSERT_TRUE(std::filesystem::exists(std::string(DDB2PG_SOURCE_DIR) +
                                        "/tests/js/kubernetes-manifests/node_modules/kubernetes-models"))
        << "kubernetes-models is not installed: run scripts/setup (npm ci in tests/js/kubernetes-manifests)";
  }

  std::string Validate(const std::string& files, int* code) {
    return RunCapture("node " + std::string(DDB2PG_SOURCE_DIR) + "/tests/js/kubernetes-manifests/validate.mjs " + files,
                      code);
  }

  YAML::Node Load(const std::string& file) { return YAML::LoadFile(kDeploy + "/" + file); }
};

TEST_F(KubernetesManifests, AreValidAgainstTheKubernetesSchemas) {
  SkipOrRequireTheValidator();
  if (IsSkipped() || HasFatalFailure()) return;
  std::string files;
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kDeploy)) {
    files += " " + entry.path().string();
    ++count;
  }
  ASSERT_GE(count, 5);
  int code = -1;
  const std::string out = Validate(files, &code);
  EXPECT_EQ(code, 0) << out;
  for (const char* object : {"Deployment ddb2pg-users", "ConfigMap ddb2pg-users", "ServiceAccount ddb2pg",
                             "PodDisruptionBudget ddb2pg-users", "PodMonitor ddb2pg-users"}) {
    EXPECT_NE(out.find(std::string(" ") + object + "\n"), std::string::npos) << object << " missing:\n" << out;
  }
}

TEST_F(KubernetesManifests, TheValidatorRejectsBrokenOnes) {
  SkipOrRequireTheValidator();
  if (IsSkipped() || HasFatalFailure()) return;
  const std::string deployment = ReadText(kDeploy + "/deployment.yaml");
  const std::vector<std::pair<std::string, std::string>> breakages = {
      {"replicas: 3", "replicas: three"},                               // a type
      {"cpu: \"2\"", "cpu: two CPUs"},                                  // a quantity's format
      {"readinessProbe:", "readynessProbe:"},                           // a misspelt field
      {"port: metrics}", "port: metric}"},                              // a port the container does not name
      {"serviceAccountName: ddb2pg ", "serviceAccountName: nobody "},  // a ServiceAccount not defined
  };
  // One validator run over all broken copies (beside the objects they refer to): each must be named
  // with a problem.
  std::string files = kDeploy + "/serviceaccount.yaml " + kDeploy + "/configmap.yaml";
  std::vector<std::string> paths;
  for (const auto& [from, to] : breakages) {
    std::string broken = deployment;
    const size_t at = broken.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    broken.replace(at, from.size(), to);
    paths.push_back("/tmp/ddb2pg-broken-deployment-" + std::to_string(::getpid()) + "-" + std::to_string(paths.size()) +
                    ".yaml");
    std::ofstream(paths.back()) << broken;
    files += " " + paths.back();
  }
  int code = -1;
  const std::string out = Validate(files, &code);
  EXPECT_EQ(code, 1) << out;
  for (size_t i = 0; i < paths.size(); ++i) {
    EXPECT_NE(out.find(paths[i] + ": Deployment ddb2pg-users: "), std::string::npos)
        << "accepted with " << breakages[i].second << ":\n" << out;
    EXPECT_EQ(out.find("ok: " + paths[i]), std::string::npos) << out;
    std::filesystem::remove(paths[i]);
  }
}

TEST_F(KubernetesManifests, TheConfigMapMatchesTheDeployment) {
  const YAML::Node configmap = Load("configmap.yaml");
  const YAML::Node deployment = Load("deployment.yaml");
  const std::string text = configmap["data"]["config.yaml"].as<std::string>();
  auto loaded = config::LoadConfigText(text, "configmap.yaml:data.config.yaml", processor::PlanChecker());
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const config::Config& config = *loaded;

  const YAML::Node pod = deployment["spec"]["template"]["spec"];
  const YAML::Node container = pod["containers"][0];
  // The probes reach metrics.listen on the pod address, on the port they name.
  EXPECT_FALSE(config::IsLoopbackListen(config.metrics.listen)) << config.metrics.listen;
  int metrics_port = 0;
  for (const auto& port : container["ports"]) {
    if (port["name"].as<std::string>() == "metrics") metrics_port = port["containerPort"].as<int>();
  }
  EXPECT_EQ(config.metrics.listen, "0.0.0.0:" + std::to_string(metrics_port));
  EXPECT_EQ(container["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/readyz");
  EXPECT_EQ(container["livenessProbe"]["httpGet"]["path"].as<std::string>(), "/healthz");
  // The status page is not on that listener; it is on loopback.
  const std::string status = config.metrics.StatusPageListen(config.metrics.listen);
  EXPECT_NE(status, config.metrics.listen);
  EXPECT_TRUE(status.empty() || config::IsLoopbackListen(status)) << status;
  EXPECT_FALSE(config.metrics.status_exposed);
  // One lane per requested CPU.
  EXPECT_GT(config.runtime.lanes, 0) << "set runtime.lanes: 0 would mean the node's CPUs";
  EXPECT_EQ(container["resources"]["requests"]["cpu"].as<std::string>(), std::to_string(config.runtime.lanes));
  // Runs as the image's non-root user.
  EXPECT_TRUE(pod["securityContext"]["runAsNonRoot"].as<bool>());
  EXPECT_EQ(pod["securityContext"]["runAsUser"].as<int>(), 65532);
  // -c names the ConfigMap's key where the volume is mounted.
  const YAML::Node args = container["args"];
  std::string config_path;
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i].as<std::string>() == "-c") config_path = args[i + 1].as<std::string>();
  }
  EXPECT_EQ(config_path, container["volumeMounts"][0]["mountPath"].as<std::string>() + "/config.yaml");
  EXPECT_EQ(pod["volumes"][0]["configMap"]["name"].as<std::string>(), configmap["metadata"]["name"].as<std::string>());
  // No password in the config: libpq's PGPASSWORD from a Secret.
  const std::string& url = config.postgres.conninfo;
  const size_t user = url.find("//") + 2;
  ASSERT_NE(url.find('@'), std::string::npos) << url;
  EXPECT_EQ(url.substr(user, url.find('@') - user).find(':'), std::string::npos) << "postgres.url holds a password";
  EXPECT_EQ(container["env"][0]["name"].as<std::string>(), "PGPASSWORD");
  EXPECT_TRUE(container["env"][0]["valueFrom"]["secretKeyRef"].IsDefined());
}

TEST_F(KubernetesManifests, TheDocsShowTheSameDeployment) {
  const std::string docs = ReadText(std::string(DDB2PG_SOURCE_DIR) + "/docs/deployment.md");
  std::string deployment = ReadText(kDeploy + "/deployment.yaml");
  // The file's leading comment stays in the file; the docs show the object.
  deployment = deployment.substr(deployment.find("apiVersion:"));
  EXPECT_NE(docs.find("```yaml\n" + deployment + "```"), std::string::npos)
      << "docs/deployment.md does not show deploy/kubernetes/deployment.yaml as it is";
  EXPECT_NE(docs.find("deploy/kubernetes/"), std::string::npos);
  // And the metrics section of the ConfigMap.
  EXPECT_NE(docs.find("listen: 0.0.0.0:9187"), std::string::npos);
  EXPECT_NE(docs.find("status_listen: 127.0.0.1:9188"), std::string::npos);
}

}  // namespace
}  // namespace ddb2pg::app
