// YAML config loader: any bytes as a configuration file, with a fixed environment for ${VAR}
// substitution. Loading must never throw or crash, and every error names the file.
#include <map>
#include <optional>
#include <string>

#include "processor/plan_checker.h"
#include "config/config.h"
#include "fuzz_check.h"
#include "fuzz_targets.h"

namespace ddb2pg::fuzz {

int FuzzConfigYaml(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  static const std::map<std::string, std::string> kEnvironment = {
      {"TABLE", "users"}, {"PGURL", "postgresql://localhost/db"}, {"EMPTY", ""}, {"BRACES", "${TABLE}"}};
  const config::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    auto found = kEnvironment.find(name);
    if (found == kEnvironment.end()) return std::nullopt;
    return found->second;
  };
  core::Result<config::Config> loaded = config::LoadConfigText(input, "fuzz.yaml", processor::PlanChecker(), env);
  if (!loaded.ok()) {
    FUZZ_CHECK(loaded.status().message().starts_with("fuzz.yaml"),
               "a config error that does not name the file: " + loaded.status().message());
    return 0;
  }
  return 0;
}

}  // namespace ddb2pg::fuzz
