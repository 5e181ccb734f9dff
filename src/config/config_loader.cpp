// LoadConfigFile / LoadConfigText: YAML → Config, strict, reporting every problem at once.
//
// Parsing and validation run in one pass that keeps going after a problem (so `validate` lists
// them all); cross-references are checked once every section is read, and mappings are compiled
// last, only for pipelines that are otherwise sound (a compile error on top of a bad type would
// only repeat it).
//
// Each section is read in a file of its own (config_sections.h lists them), sharing a ParseState;
// the name and value rules they share are in config_rules.h.
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/config_sections.h"
#include "config/parse_state.h"
#include "core/text.h"
#include "model/mapping_checker.h"

namespace ddb2pg::config {
namespace {

using core::Trim;

const std::vector<std::string_view> kTopKeys = {"version", "sources", "postgres", "metrics",
                                                "runtime", "pipelines"};
const std::vector<std::string_view> kRuntimeKeys = {"lanes", "lease_ttl_ms", "heartbeat_ms", "stall_ms",
                                                    "fetch_slots", "max_get_records_per_second", "max_scan_threads"};

// Runs the sections in order over one file.
class ConfigParser {
 public:
  ConfigParser(const std::string& name, const model::MappingChecker& mappings, const EnvLookup& env)
      : state_(name, mappings, env), diagnostics_(state_.diagnostics), reader_(state_.reader) {}

  core::Result<Config> Load(const std::string& text, const std::string& path) {
    Config config;
    config.path = path;
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::ParserException& error) {
      diagnostics_.Error(error.mark, "YAML syntax error: " + error.msg);
      return Fail();
    } catch (const YAML::Exception& error) {
      diagnostics_.Error(error.mark, "YAML error: " + error.msg);
      return Fail();
    }
    if (!root || root.IsNull()) {
      diagnostics_.ErrorAt(0, 0, "the file is empty: expected version: 1, sources, pipelines");
      return Fail();
    }
    try {
      ParseRoot(root, config);
    } catch (const YAML::Exception& error) {
      // The readers check node kinds before access; this is a safety net, not a code path.
      diagnostics_.Error(error.mark, "YAML error: " + error.msg);
    }
    if (!diagnostics_.empty()) return Fail();
    return config;
  }

 private:
  core::Status Fail() const { return core::Status::InvalidArgument(diagnostics_.Format()); }
  void Error(const YAML::Mark& mark, std::string message) {
    diagnostics_.Error(mark, std::move(message));
  }

  // root[key], or nullopt with "missing required key" reported when it is absent or null.
  std::optional<YAML::Node> Required(const YAML::Node& root, const char* key, const char* what) {
    YAML::Node node = root[key];
    if (node && !node.IsNull()) return node;
    diagnostics_.Error(root.Mark(), std::string("missing required key '") + key + "' (" + what + ")");
    return std::nullopt;
  }

  void ParseRoot(const YAML::Node& root, Config& config) {
    if (!reader_.CheckMap(root, "", kTopKeys)) return;

    const YAML::Node version = root["version"];
    if (!version || version.IsNull()) {
      Error(root.Mark(), "missing required key 'version' (this ddb2pg reads version: 1)");
    } else if (std::optional<std::string> text = reader_.Text(version, "version")) {
      if (Trim(*text) != "1") {
        Error(version.Mark(), "version: unsupported version '" + *text +
                                  "' (this ddb2pg reads version: 1)");
      }
    }

    if (const std::optional<YAML::Node> sources = Required(root, "sources", "the DynamoDB tables to read")) {
      ParseSources(state_, *sources, config);
    }

    const YAML::Node postgres = root["postgres"];
    if (postgres && !postgres.IsNull()) ParsePostgres(state_, postgres, config.postgres);

    const YAML::Node metrics = root["metrics"];
    if (metrics && !metrics.IsNull()) ParseMetrics(state_, metrics, config.metrics);

    const YAML::Node runtime = root["runtime"];
    if (runtime && !runtime.IsNull() && reader_.CheckMap(runtime, "runtime", kRuntimeKeys)) {
      reader_.Int(runtime, "lanes", "runtime", &config.runtime.lanes, 0, 1024);
      reader_.Int(runtime, "lease_ttl_ms", "runtime", &config.runtime.lease_ttl_ms, 1000, 3600000);
      reader_.Int(runtime, "heartbeat_ms", "runtime", &config.runtime.heartbeat_ms, 50, 600000);
      reader_.Int(runtime, "stall_ms", "runtime", &config.runtime.stall_ms, 100, 86400000);
      reader_.Int(runtime, "fetch_slots", "runtime", &config.runtime.fetch_slots, 1, 1024);
      reader_.Int(runtime, "max_scan_threads", "runtime", &config.runtime.max_scan_threads, 1, 1024);
      reader_.Double(runtime, "max_get_records_per_second", "runtime", &config.runtime.max_get_records_per_second, 0, 1e6);
      if (config.runtime.heartbeat_ms * 3 > config.runtime.lease_ttl_ms) {
        Error(runtime.Mark(), "runtime: heartbeat_ms must be at most a third of lease_ttl_ms (a lease is renewed "
                              "several times before it can expire)");
      }
    }

    if (const std::optional<YAML::Node> pipelines = Required(root, "pipelines", "what to write where")) {
      ParsePipelines(state_, *pipelines, config);
    }

    for (model::PipelineSpec& pipeline : config.pipelines) {
      if (pipeline.table.schema.empty()) pipeline.table.schema = config.postgres.default_schema;
    }
    CrossCheck(state_, config);
    CompileMappings(state_, config);
  }

  ParseState state_;
  Diagnostics& diagnostics_;
  NodeReader& reader_;
};


}  // namespace

core::Result<Config> LoadConfigText(const std::string& text, const std::string& name,
                                    const model::MappingChecker& mappings, const EnvLookup& env) {
  ConfigParser parser(name, mappings, env);
  return parser.Load(text, name);
}

core::Result<Config> LoadConfigText(const std::string& text, const std::string& name,
                                    const model::MappingChecker& mappings) {
  return LoadConfigText(text, name, mappings, ProcessEnvironment());
}

core::Result<Config> LoadConfigFile(const std::string& path, const model::MappingChecker& mappings,
                                    const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::Status::InvalidArgument(path + ": cannot read the configuration file");
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return core::Status::InvalidArgument(path + ": cannot read the configuration file");
  }
  return LoadConfigText(text.str(), path, mappings, env);
}

core::Result<Config> LoadConfigFile(const std::string& path, const model::MappingChecker& mappings) {
  return LoadConfigFile(path, mappings, ProcessEnvironment());
}

}  // namespace ddb2pg::config
