// LoadConfigFile / LoadConfigText: YAML → Config, strict, reporting every problem at once.
//
// Parsing and validation run in one pass that keeps going after a problem (so `validate` lists
// them all); cross-references are checked once every section is read, and mappings are compiled
// last, only for pipelines that are otherwise sound (a compile error on top of a bad type would
// only repeat it).
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/diagnostics.h"
#include "config/env_substitution.h"
#include "config/node_reader.h"
#include "core/text.h"
#include "model/mapping_checker.h"

namespace ddb2pg::config {
namespace {

using core::Lower;
using core::Trim;

using model::ColumnKind;
using model::ColumnSpec;
using model::ColumnType;
using model::DeletePolicy;
using model::ErrorPolicy;
using model::ChangePolicy;
using model::PipelineSpec;

const std::vector<std::string_view> kTopKeys = {"version", "sources", "postgres", "metrics",
                                                "runtime", "pipelines"};
const std::vector<std::string_view> kRuntimeKeys = {"lanes", "lease_ttl_ms", "heartbeat_ms", "stall_ms",
                                                    "fetch_slots", "max_get_records_per_second"};
const std::vector<std::string_view> kSourceKeys = {
    "table",         "region",        "endpoint",          "streams_endpoint",
    "profile",       "access_key_id", "secret_access_key", "session_token",
    "snapshot",      "stream"};
const std::vector<std::string_view> kSnapshotKeys = {"enabled", "segments", "page_limit",
                                                     "max_items_per_second", "consistent_read", "from", "export"};
const std::vector<std::string_view> kSnapshotExportKeys = {"manifest", "s3_bucket", "s3_prefix"};
const std::vector<std::string_view> kStreamKeys = {"start_at", "poll_interval_ms", "max_idle_poll_ms", "idle_poll_ceiling_ms", "during_snapshot",
                                                   "max_concurrent_shards", "on_trimmed",
                                                   "enable_stream"};
const std::vector<std::string_view> kPostgresKeys = {"url",    "conninfo", "sslmode",     "sslrootcert",   "auth",
                                                     "region", "batch",    "auto_create", "default_schema",
                                                     "commit_timeout_ms", "copy_format"};
const std::vector<std::string_view> kBatchKeys = {"max_rows", "max_bytes", "max_delay_ms"};
const std::vector<std::string_view> kMetricsKeys = {"listen", "status_listen", "status_exposed", "status_token_file",
                                                    "status_token_env"};
const std::vector<std::string_view> kPipelineKeys = {
    "source",    "table",         "key",            "columns",           "filter",   "explode",
    "on_delete", "on_ttl_delete", "deleted_column", "deleted_at_column", "on_error", "on_change"};
const std::vector<std::string_view> kColumnKeys = {"type", "value", "on_overflow", "default"};

// PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes; longer ones would silently collide.
constexpr size_t kMaxIdentifierBytes = 63;

// "soft", "hard" or "ignore", as NodeReader::Choice leaves it.
DeletePolicy ToDeletePolicy(std::string_view text) {
  return text == "soft" ? DeletePolicy::kSoft : text == "hard" ? DeletePolicy::kHard : DeletePolicy::kIgnore;
}

std::vector<std::string_view> WithName(const std::vector<std::string_view>& keys) {
  std::vector<std::string_view> out = {"name"};
  out.insert(out.end(), keys.begin(), keys.end());
  return out;
}

int LineOf(const YAML::Mark& mark) { return mark.is_null() ? 0 : mark.line + 1; }
int ColumnOf(const YAML::Mark& mark) { return mark.is_null() ? 0 : mark.column + 1; }

// Names of sources and pipelines appear in metrics, logs and checkpoint rows: keep them plain.
bool IsPlainName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

bool IsDynamoDbTableName(std::string_view name) {
  if (name.size() < 3 || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

// Empty when `name` can be a PostgreSQL identifier (it is always quoted when used).
std::string IdentifierProblem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxIdentifierBytes) {
    return "is longer than PostgreSQL's 63-byte identifier limit";
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20) return "contains a control character";
  }
  return {};
}

bool IsSqlNumber(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  size_t digits = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    size_t exponent_digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i, ++exponent_digits;
    }
    if (exponent_digits == 0) return false;
  }
  return i == text.size();
}

std::string SqlStringLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// The DEFAULT clause for a column from the value written in the file. The file holds a value of
// the column's type, not SQL: it is quoted as a literal, except NULL, booleans and numbers for
// their types, and the few functions a default commonly needs.
core::Result<std::string> DefaultSql(const ColumnType& type, std::string_view text) {
  const std::string lower = Lower(Trim(text));
  if (lower == "null") return std::string("NULL");
  if (type.array) return SqlStringLiteral(text);  // an array literal such as {a,b}
  switch (type.kind) {
    case ColumnKind::kBoolean: {
      const std::optional<bool> value = NodeReader::ParseBool(text);
      if (!value) return core::Status::InvalidArgument("expected true, false or null");
      return std::string(*value ? "TRUE" : "FALSE");
    }
    case ColumnKind::kSmallint:
    case ColumnKind::kInteger:
    case ColumnKind::kBigint:
    case ColumnKind::kReal:
    case ColumnKind::kDouble:
    case ColumnKind::kNumeric:
      if (!IsSqlNumber(Trim(text))) return core::Status::InvalidArgument("expected a number or null");
      return std::string(Trim(text));
    case ColumnKind::kTimestamptz:
    case ColumnKind::kTimestamp:
      if (lower == "now()" || lower == "current_timestamp") return std::string("now()");
      return SqlStringLiteral(text);
    case ColumnKind::kDate:
      if (lower == "current_date") return std::string("CURRENT_DATE");
      return SqlStringLiteral(text);
    case ColumnKind::kUuid:
      if (lower == "gen_random_uuid()") return std::string("gen_random_uuid()");
      return SqlStringLiteral(text);
    default:
      return SqlStringLiteral(text);
  }
}

// Where things stand in the file, for cross-reference errors after parsing.
struct PipelinePlace {
  std::string path;          // "pipelines[0]" or "pipelines.profile"
  // Null marks where the key is absent (yaml-cpp's default Mark is line 0, not "none").
  YAML::Mark mark = YAML::Mark::null_mark();  // the pipeline's mapping
  YAML::Mark name_mark = YAML::Mark::null_mark();
  YAML::Mark source_mark = YAML::Mark::null_mark();
  YAML::Mark table_mark = YAML::Mark::null_mark();
  YAML::Mark key_mark = YAML::Mark::null_mark();
  std::vector<YAML::Mark> key_marks;  // one per key column (same as key_mark for a single string)
  YAML::Mark on_delete_mark = YAML::Mark::null_mark();
  // The setting that asks for soft deletes, for the deleted / deleted_at column checks:
  // "on_delete" or "on_ttl_delete" and where it stands (on_delete wins when both are soft).
  std::string soft_delete_key = "on_delete";
  YAML::Mark soft_delete_mark = YAML::Mark::null_mark();
  YAML::Mark deleted_column_mark = YAML::Mark::null_mark();
  YAML::Mark deleted_at_column_mark = YAML::Mark::null_mark();
  YAML::Mark filter_mark = YAML::Mark::null_mark();
  YAML::Mark explode_mark = YAML::Mark::null_mark();
  std::vector<YAML::Mark> type_marks;  // one per column
  bool columns_complete = false;       // every column parsed: cross-checks against them are fair
  bool sound = true;                   // parsed without problems: worth compiling
};

class ConfigParser {
 public:
  ConfigParser(const std::string& name, const model::MappingChecker& mappings, const EnvLookup& env)
      : diagnostics_(name), reader_(diagnostics_, env), env_(env), mappings_(mappings) {}

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

    const YAML::Node sources = root["sources"];
    if (!sources || sources.IsNull()) {
      Error(root.Mark(), "missing required key 'sources' (the DynamoDB tables to read)");
    } else {
      ParseSources(sources, config);
    }

    const YAML::Node postgres = root["postgres"];
    if (postgres && !postgres.IsNull()) ParsePostgres(postgres, config.postgres);

    const YAML::Node metrics = root["metrics"];
    if (metrics && !metrics.IsNull()) ParseMetrics(metrics, config.metrics);

    const YAML::Node runtime = root["runtime"];
    if (runtime && !runtime.IsNull() && reader_.CheckMap(runtime, "runtime", kRuntimeKeys)) {
      reader_.Int(runtime, "lanes", "runtime", &config.runtime.lanes, 0, 1024);
      reader_.Int(runtime, "lease_ttl_ms", "runtime", &config.runtime.lease_ttl_ms, 1000, 3600000);
      reader_.Int(runtime, "heartbeat_ms", "runtime", &config.runtime.heartbeat_ms, 50, 600000);
      reader_.Int(runtime, "stall_ms", "runtime", &config.runtime.stall_ms, 100, 86400000);
      reader_.Int(runtime, "fetch_slots", "runtime", &config.runtime.fetch_slots, 1, 1024);
      reader_.Double(runtime, "max_get_records_per_second", "runtime", &config.runtime.max_get_records_per_second, 0, 1e6);
      if (config.runtime.heartbeat_ms * 3 > config.runtime.lease_ttl_ms) {
        Error(runtime.Mark(), "runtime: heartbeat_ms must be at most a third of lease_ttl_ms (a lease is renewed "
                              "several times before it can expire)");
      }
    }

    const YAML::Node pipelines = root["pipelines"];
    if (!pipelines || pipelines.IsNull()) {
      Error(root.Mark(), "missing required key 'pipelines' (what to write where)");
    } else {
      ParsePipelines(pipelines, config);
    }

    for (PipelineSpec& pipeline : config.pipelines) {
      if (pipeline.table.schema.empty()) pipeline.table.schema = config.postgres.default_schema;
    }
    CrossCheck(config);
    CompileMappings(config);
  }

  // ---- sources -------------------------------------------------------------------------------

  void ParseSources(const YAML::Node& node, Config& config) {
    if (node.IsMap()) {
      if (node.size() == 0) Error(node.Mark(), "sources: at least one source is required");
      for (auto it = node.begin(); it != node.end(); ++it) {
        SourceConfig source;
        source.name = it->first.IsScalar() ? it->first.Scalar() : std::string();
        const std::string path = NodeReader::Join("sources", source.name);
        if (!CheckName(source.name, it->first.Mark(), "source")) continue;
        if (IsDuplicateSource(source.name, it->first.Mark())) continue;
        ParseSource(it->second, path, kSourceKeys, source);
        config.sources.push_back(std::move(source));
      }
    } else if (node.IsSequence()) {
      if (node.size() == 0) Error(node.Mark(), "sources: at least one source is required");
      for (size_t i = 0; i < node.size(); ++i) {
        const YAML::Node item = node[i];
        const std::string path = "sources[" + std::to_string(i) + "]";
        SourceConfig source;
        if (!item.IsMap()) {
          reader_.CheckMap(item, path, WithName(kSourceKeys));
          continue;
        }
        const YAML::Node name_node = item["name"];
        if (name_node && !name_node.IsNull()) {
          if (!reader_.String(item, "name", path, &source.name)) continue;
        } else {
          // The name defaults to the table's; problems with `table` are ParseSource's to report.
          source.name = QuietText(item["table"]);
          if (source.name.empty()) {
            ParseSource(item, path, WithName(kSourceKeys), source);
            continue;
          }
        }
        const YAML::Mark name_mark = name_node ? name_node.Mark() : item["table"].Mark();
        if (!CheckName(source.name, name_mark, "source")) continue;
        if (IsDuplicateSource(source.name, name_mark)) continue;
        ParseSource(item, path, WithName(kSourceKeys), source);
        config.sources.push_back(std::move(source));
      }
    } else {
      Error(node.Mark(),
            "sources: expected a mapping from source name to its settings, or a list of sources");
    }
  }

  // A scalar's substituted text, or "" when it is absent or bad (reported where it is read).
  std::string QuietText(const YAML::Node& node) const {
    if (!node || !node.IsScalar()) return {};
    core::Result<std::string> text = SubstituteEnv(node.Scalar(), env_);
    return text.ok() ? std::string(Trim(*text)) : std::string();
  }

  bool CheckName(const std::string& name, const YAML::Mark& mark, std::string_view what) {
    if (IsPlainName(name)) return true;
    std::string message(what);
    message.append(name.empty() ? " name is empty" : " name '" + name + "' is not allowed");
    message.append(" (use letters, digits, '_', '-' and '.', at most 128)");
    Error(mark, std::move(message));
    return false;
  }

  bool IsDuplicateSource(const std::string& name, const YAML::Mark& mark) {
    auto found = source_lines_.find(name);
    if (found == source_lines_.end()) {
      source_lines_.emplace(name, LineOf(mark));
      return false;
    }
    Error(mark, "source name '" + name + "' is used twice (first at line " +
                    std::to_string(found->second) + ")");
    return true;
  }

  void ParseSource(const YAML::Node& node, const std::string& path,
                   const std::vector<std::string_view>& known, SourceConfig& source) {
    source.line = LineOf(node.Mark());
    source.column = ColumnOf(node.Mark());
    if (!reader_.CheckMap(node, path, known)) return;
    if (reader_.String(node, "table", path, &source.table, /*required=*/true) &&
        !IsDynamoDbTableName(source.table)) {
      Error(node["table"].Mark(),
            NodeReader::Join(path, "table") + ": '" + source.table +
                "' is not a DynamoDB table name (3 to 255 letters, digits, '_', '-', '.')");
    }
    reader_.String(node, "region", path, &source.region);
    reader_.String(node, "endpoint", path, &source.endpoint);
    reader_.String(node, "streams_endpoint", path, &source.streams_endpoint);
    reader_.String(node, "profile", path, &source.profile);
    reader_.String(node, "access_key_id", path, &source.access_key_id);
    reader_.String(node, "secret_access_key", path, &source.secret_access_key);
    reader_.String(node, "session_token", path, &source.session_token);
    CheckEndpoint(node, "endpoint", path, source.endpoint);
    CheckEndpoint(node, "streams_endpoint", path, source.streams_endpoint);
    if (source.access_key_id.empty() != source.secret_access_key.empty()) {
      const char* given = source.access_key_id.empty() ? "secret_access_key" : "access_key_id";
      Error(node[given].Mark(), NodeReader::Join(path, given) +
                                    ": access_key_id and secret_access_key go together (set "
                                    "both, or neither to use AWS_* variables or a profile)");
    }
    if (!source.session_token.empty() && source.access_key_id.empty()) {
      Error(node["session_token"].Mark(),
            NodeReader::Join(path, "session_token") +
                ": a session_token needs access_key_id and secret_access_key");
    }

    const YAML::Node snapshot = node["snapshot"];
    if (snapshot && !snapshot.IsNull()) {
      const std::string snapshot_path = NodeReader::Join(path, "snapshot");
      if (reader_.CheckMap(snapshot, snapshot_path, kSnapshotKeys)) {
        SnapshotSettings& settings = source.snapshot;
        reader_.Bool(snapshot, "enabled", snapshot_path, &settings.enabled);
        reader_.Int(snapshot, "segments", snapshot_path, &settings.segments, 1, 1000000);
        reader_.Int(snapshot, "page_limit", snapshot_path, &settings.page_limit, 1, 1000000);
        reader_.Double(snapshot, "max_items_per_second", snapshot_path,
                       &settings.max_items_per_second, 0, 1e9);
        reader_.Bool(snapshot, "consistent_read", snapshot_path, &settings.consistent_read);
        reader_.Choice(snapshot, "from", snapshot_path, &settings.from, {"scan", "export"});
        ParseSnapshotExport(snapshot, snapshot_path, node, path, settings);
      }
    }
    const YAML::Node stream = node["stream"];
    if (stream && !stream.IsNull()) {
      const std::string stream_path = NodeReader::Join(path, "stream");
      if (reader_.CheckMap(stream, stream_path, kStreamKeys)) {
        StreamSettings& settings = source.stream;
        reader_.Choice(stream, "start_at", stream_path, &settings.start_at,
                       {"trim_horizon", "latest"});
        // max_idle_poll_ms is the older name of the key; still read, but not together with it.
        if (stream["poll_interval_ms"] && stream["max_idle_poll_ms"]) {
          Error(stream["max_idle_poll_ms"].Mark(),
                NodeReader::Join(stream_path, "max_idle_poll_ms") +
                    ": the older name of poll_interval_ms; set only poll_interval_ms");
        }
        reader_.Int(stream, "poll_interval_ms", stream_path, &settings.poll_interval_ms, 1, 60000);
        reader_.Int(stream, "max_idle_poll_ms", stream_path, &settings.poll_interval_ms, 1, 60000);
        reader_.Int(stream, "idle_poll_ceiling_ms", stream_path, &settings.idle_poll_ceiling_ms, 1, 60000);
        reader_.Int(stream, "max_concurrent_shards", stream_path,
                    &settings.max_concurrent_shards, 1, 10000);
        reader_.Choice(stream, "on_trimmed", stream_path, &settings.on_trimmed,
                       {"stop", "resnapshot"});
        reader_.Bool(stream, "enable_stream", stream_path, &settings.enable_stream);
        reader_.Bool(stream, "during_snapshot", stream_path, &settings.during_snapshot);
      }
    }
  }

  // snapshot.export (docs/config.md, "Snapshots from an export").
  void ParseSnapshotExport(const YAML::Node& snapshot, const std::string& snapshot_path, const YAML::Node& source,
                           const std::string& source_path, SnapshotSettings& settings) {
    const std::string export_path = NodeReader::Join(snapshot_path, "export");
    const YAML::Node export_node = snapshot["export"];
    if (export_node && !export_node.IsNull() && reader_.CheckMap(export_node, export_path, kSnapshotExportKeys)) {
      reader_.String(export_node, "manifest", export_path, &settings.export_manifest);
      if (!settings.export_manifest.empty() && settings.export_manifest.rfind("s3://", 0) != 0) {
        Error(export_node["manifest"].Mark(), NodeReader::Join(export_path, "manifest") +
                                                  ": expected s3://bucket/…/AWSDynamoDB/<export id>/manifest-summary.json");
      }
      reader_.String(export_node, "s3_bucket", export_path, &settings.export_bucket);
      reader_.String(export_node, "s3_prefix", export_path, &settings.export_prefix);
      if (!settings.export_bucket.empty() && settings.export_bucket.find_first_of("/:") != std::string::npos) {
        Error(export_node["s3_bucket"].Mark(), NodeReader::Join(export_path, "s3_bucket") +
                                                   ": expected a bucket name (no s3://, no slash; the key prefix is "
                                                   "s3_prefix)");
      }
      if (!settings.export_manifest.empty() && !settings.export_bucket.empty()) {
        Error(export_node["s3_bucket"].Mark(),
              NodeReader::Join(export_path, "s3_bucket") + ": set either " +
                  NodeReader::Join(export_path, "manifest") + " (read an export someone made) or s3_bucket (ddb2pg "
                                                              "requests the export), not both");
      }
      if (export_node["s3_prefix"] && settings.export_bucket.empty()) {
        Error(export_node["s3_prefix"].Mark(),
              NodeReader::Join(export_path, "s3_prefix") + ": needs " + NodeReader::Join(export_path, "s3_bucket"));
      }
    }
    if (settings.from != "export") return;
    if (settings.export_manifest.empty() && settings.export_bucket.empty()) {
      Error(snapshot["from"].Mark(), NodeReader::Join(snapshot_path, "from") +
                                         ": export needs " + NodeReader::Join(export_path, "s3_bucket") +
                                         " (ddb2pg requests an export into it) or " +
                                         NodeReader::Join(export_path, "manifest") +
                                         " (s3://bucket/…/AWSDynamoDB/<export id>/manifest-summary.json)");
    }
    const YAML::Node stream = source["stream"];
    if (stream && stream.IsMap() && stream["on_trimmed"] && stream["on_trimmed"].as<std::string>("") == "resnapshot") {
      Error(stream["on_trimmed"].Mark(),
            NodeReader::Join(NodeReader::Join(source_path, "stream"), "on_trimmed") +
                ": resnapshot would read the same export again, older than the changes lost; with snapshot.from: "
                "export use on_trimmed: stop");
    }
  }

  void CheckEndpoint(const YAML::Node& node, std::string_view key, const std::string& path,
                     const std::string& value) {
    if (value.empty()) return;
    if (value.rfind("http://", 0) == 0 || value.rfind("https://", 0) == 0) return;
    Error(node[std::string(key)].Mark(),
          NodeReader::Join(path, key) + ": expected a URL starting with http:// or https://");
  }

  // ---- postgres, metrics ---------------------------------------------------------------------

  void ParsePostgres(const YAML::Node& node, PostgresConfig& postgres) {
    const std::string path = "postgres";
    if (!reader_.CheckMap(node, path, kPostgresKeys)) return;
    const YAML::Node url = node["url"];
    const YAML::Node conninfo = node["conninfo"];
    if (url && conninfo) {
      Error(conninfo.Mark(),
            "postgres: give either url or conninfo, not both (they are the same setting)");
    }
    reader_.String(node, url ? "url" : "conninfo", path, &postgres.conninfo);
    reader_.Choice(node, "sslmode", path, &postgres.sslmode,
                   {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"});
    reader_.String(node, "sslrootcert", path, &postgres.sslrootcert);
    reader_.Choice(node, "auth", path, &postgres.auth, {"password", "iam"});
    reader_.String(node, "region", path, &postgres.region);
    if (postgres.auth == "iam") CheckIamTls(node, postgres);
    reader_.Bool(node, "auto_create", path, &postgres.auto_create);
    reader_.Int(node, "commit_timeout_ms", path, &postgres.commit_timeout_ms, 100, 3600000);
    reader_.Choice(node, "copy_format", path, &postgres.copy_format, {"binary", "text"});
    if (reader_.String(node, "default_schema", path, &postgres.default_schema)) {
      const std::string problem = IdentifierProblem(postgres.default_schema);
      if (!problem.empty()) {
        Error(node["default_schema"].Mark(), "postgres.default_schema: the name " + problem);
        postgres.default_schema = "public";
      }
    }
    const YAML::Node batch = node["batch"];
    if (batch && !batch.IsNull()) {
      const std::string batch_path = "postgres.batch";
      if (reader_.CheckMap(batch, batch_path, kBatchKeys)) {
        reader_.Int(batch, "max_rows", batch_path, &postgres.batch_max_rows, 1, 10000000);
        reader_.Bytes(batch, "max_bytes", batch_path, &postgres.batch_max_bytes, 1024,
                      1024 * 1024 * 1024);
        reader_.Int(batch, "max_delay_ms", batch_path, &postgres.batch_max_delay_ms, 0, 600000);
      }
    }
  }

  // An IAM token is a bearer credential: it may only travel over TLS. The sslmode in effect is
  // postgres.sslmode, else the one in the URL / conninfo, else PGSSLMODE, else libpq's prefer
  // (which falls back to clear text).
  void CheckIamTls(const YAML::Node& node, const PostgresConfig& postgres) {
    std::string sslmode = postgres.sslmode;
    std::string where = "postgres.sslmode";
    if (sslmode.empty()) {
      sslmode = SslmodeIn(postgres.conninfo);
      where = "sslmode in the url/conninfo";
    }
    if (sslmode.empty()) {
      sslmode = Lower(env_("PGSSLMODE").value_or(""));
      where = "PGSSLMODE";
    }
    if (sslmode.empty()) {
      sslmode = "prefer";
      where = "libpq's default";
    }
    if (sslmode == "require" || sslmode == "verify-ca" || sslmode == "verify-full") return;
    Error(node["auth"].Mark(), "postgres.auth: iam sends a token as the password and needs TLS, but sslmode is " +
                                   sslmode + " (" + where + "): set postgres.sslmode to verify-full (with "
                                   "postgres.sslrootcert) or at least require");
  }

  // The sslmode a libpq conninfo ("… sslmode=require …") or URI ("…?sslmode=require") sets; "" when none.
  static std::string SslmodeIn(const std::string& conninfo) {
    const size_t at = conninfo.rfind("sslmode");
    if (at == std::string::npos) return "";
    size_t pos = at + 7;
    while (pos < conninfo.size() && (conninfo[pos] == ' ' || conninfo[pos] == '=' || conninfo[pos] == '\'')) ++pos;
    std::string value;
    while (pos < conninfo.size() && (std::isalpha(static_cast<unsigned char>(conninfo[pos])) || conninfo[pos] == '-')) {
      value.push_back(conninfo[pos++]);
    }
    return Lower(value);
  }

  void ParseMetrics(const YAML::Node& node, MetricsConfig& metrics) {
    if (!reader_.CheckMap(node, "metrics", kMetricsKeys)) return;
    if (reader_.String(node, "listen", "metrics", &metrics.listen) && !metrics.listen.empty() &&
        !IsHostPort(metrics.listen)) {
      Error(node["listen"].Mark(),
            "metrics.listen: expected HOST:PORT (e.g. 127.0.0.1:9187, 0.0.0.0:9187), or \"\" to "
            "turn the endpoint off");
    }
    reader_.Bool(node, "status_exposed", "metrics", &metrics.status_exposed);
    if (reader_.String(node, "status_listen", "metrics", &metrics.status_listen) && !metrics.status_listen.empty() &&
        metrics.status_listen != "off") {
      if (!IsHostPort(metrics.status_listen)) {
        Error(node["status_listen"].Mark(),
              "metrics.status_listen: expected HOST:PORT (e.g. 127.0.0.1:9188), \"off\", or \"\" to serve the "
              "status page on metrics.listen while that is a loopback address");
      } else if (!IsLoopbackListen(metrics.status_listen) && !metrics.status_exposed) {
        Error(node["status_listen"].Mark(),
              "metrics.status_listen: " + metrics.status_listen +
                  " is not a loopback address, and the status page shows dead-lettered item data: set "
                  "metrics.status_exposed: true to serve it there (with metrics.status_token_file or "
                  "status_token_env for a bearer token), or use 127.0.0.1");
      }
    }
    reader_.String(node, "status_token_file", "metrics", &metrics.status_token_file);
    if (reader_.String(node, "status_token_env", "metrics", &metrics.status_token_env) &&
        !metrics.status_token_env.empty() && !IsEnvName(metrics.status_token_env)) {
      Error(node["status_token_env"].Mark(),
            "metrics.status_token_env: expected the name of an environment variable (letters, digits, '_')");
    }
    if (!metrics.status_token_file.empty() && !metrics.status_token_env.empty()) {
      Error(node["status_token_env"].Mark(),
            "metrics: give either status_token_file or status_token_env, not both");
    }
  }

  // "HOST:PORT" or "[V6]:PORT" with a port from 0 to 65535 (0: any free port).
  static bool IsHostPort(const std::string& listen) {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) return false;
    const std::optional<int64_t> port = NodeReader::ParseInt(listen.substr(colon + 1));
    return port && *port >= 0 && *port <= 65535;
  }

  static bool IsEnvName(const std::string& name) {
    if (std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    for (const char c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    }
    return true;
  }

  // ---- pipelines -----------------------------------------------------------------------------

  void ParsePipelines(const YAML::Node& node, Config& config) {
    if (node.IsMap()) {
      if (node.size() == 0) Error(node.Mark(), "pipelines: at least one pipeline is required");
      for (auto it = node.begin(); it != node.end(); ++it) {
        PipelineSpec spec;
        PipelinePlace place;
        spec.name = it->first.IsScalar() ? it->first.Scalar() : std::string();
        place.path = NodeReader::Join("pipelines", spec.name);
        place.name_mark = it->first.Mark();
        if (!CheckName(spec.name, place.name_mark, "pipeline")) continue;
        ParsePipeline(it->second, kPipelineKeys, spec, place);
        config.pipelines.push_back(std::move(spec));
        places_.push_back(std::move(place));
      }
    } else if (node.IsSequence()) {
      if (node.size() == 0) Error(node.Mark(), "pipelines: at least one pipeline is required");
      for (size_t i = 0; i < node.size(); ++i) {
        const YAML::Node item = node[i];
        PipelineSpec spec;
        PipelinePlace place;
        place.path = "pipelines[" + std::to_string(i) + "]";
        if (item.IsMap()) {
          const YAML::Node name = item["name"];
          place.name_mark = name ? name.Mark() : item.Mark();
          if (!reader_.String(item, "name", place.path, &spec.name, /*required=*/true)) {
            place.sound = false;
          } else if (!CheckName(spec.name, place.name_mark, "pipeline")) {
            place.sound = false;
          }
        }
        ParsePipeline(item, WithName(kPipelineKeys), spec, place);
        config.pipelines.push_back(std::move(spec));
        places_.push_back(std::move(place));
      }
    } else {
      Error(node.Mark(),
            "pipelines: expected a list of pipelines, or a mapping from pipeline name to its "
            "settings");
    }
  }

  // Reports a problem that makes the pipeline not worth compiling.
  void PipelineError(PipelinePlace& place, const YAML::Mark& mark, std::string message) {
    place.sound = false;
    Error(mark, std::move(message));
  }

  void ParsePipeline(const YAML::Node& node, const std::vector<std::string_view>& known,
                     PipelineSpec& spec, PipelinePlace& place) {
    const std::string& path = place.path;
    place.mark = node.Mark();
    const size_t before = diagnostics_.size();
    if (!reader_.CheckMap(node, path, known)) {
      place.sound = false;
      return;
    }

    if (const YAML::Node source = node["source"]) place.source_mark = source.Mark();
    reader_.String(node, "source", path, &spec.source);

    // table: "name" or "schema.name"; defaults to the pipeline's name.
    std::string table = spec.name;
    if (const YAML::Node table_node = node["table"]) place.table_mark = table_node.Mark();
    else place.table_mark = place.name_mark;
    reader_.String(node, "table", path, &table);
    if (table.empty() && !node["table"]) {
      place.sound = false;  // the pipeline's name is bad, and already reported
    } else {
      ParseTableName(table, spec, place);
    }

    ParseKey(node, spec, place);
    ParseColumns(node, spec, place);

    if (const YAML::Node filter = node["filter"]) {
      place.filter_mark = filter.Mark();
      spec.filter_line = LineOf(filter.Mark());
    }
    reader_.String(node, "filter", path, &spec.filter);
    spec.filter = std::string(Trim(spec.filter));

    // explode: one row per element of a list, map or set (a child table).
    if (const YAML::Node explode = node["explode"]) {
      place.explode_mark = explode.Mark();
      spec.explode_line = LineOf(explode.Mark());
      spec.explode_column = explode.Mark().column + 1;
      reader_.String(node, "explode", path, &spec.explode, /*required=*/true);
      spec.explode = std::string(Trim(spec.explode));
      if (spec.explode.empty() && explode.IsScalar()) {
        PipelineError(place, explode.Mark(),
                      NodeReader::Join(path, "explode") + ": expected an attribute (a list, map or set), e.g. "
                                                          "explode: pronouns");
      }
    }

    std::string on_delete = "hard";
    if (const YAML::Node on_delete_node = node["on_delete"]) place.on_delete_mark = on_delete_node.Mark();
    else place.on_delete_mark = place.mark;
    reader_.Choice(node, "on_delete", path, &on_delete, {"soft", "hard", "ignore"});
    spec.table.delete_policy = ToDeletePolicy(on_delete);
    // on_ttl_delete: REMOVEs made by DynamoDB's Time to Live; the same as on_delete unless set.
    std::string on_ttl_delete = on_delete;
    YAML::Mark on_ttl_delete_mark = place.on_delete_mark;
    if (const YAML::Node on_ttl_delete_node = node["on_ttl_delete"]) on_ttl_delete_mark = on_ttl_delete_node.Mark();
    reader_.Choice(node, "on_ttl_delete", path, &on_ttl_delete, {"soft", "hard", "ignore"});
    spec.table.ttl_delete_policy = ToDeletePolicy(on_ttl_delete);
    if (spec.table.delete_policy != DeletePolicy::kSoft && on_ttl_delete == "soft") {
      place.soft_delete_key = "on_ttl_delete";
      place.soft_delete_mark = on_ttl_delete_mark;
    } else {
      place.soft_delete_mark = place.on_delete_mark;
    }
    for (const char* key : {"deleted_column", "deleted_at_column"}) {
      const YAML::Node column = node[key];
      if (!column) continue;
      const bool is_deleted = std::string_view(key) == "deleted_column";
      (is_deleted ? place.deleted_column_mark : place.deleted_at_column_mark) = column.Mark();
      if (!spec.table.SoftDeletes()) {
        Error(column.Mark(), NodeReader::Join(path, key) +
                                 ": applies only when on_delete or on_ttl_delete is soft (this pipeline has "
                                 "on_delete: " + on_delete + ", on_ttl_delete: " + on_ttl_delete + ")");
        continue;
      }
      reader_.String(node, key, path,
                     is_deleted ? &spec.table.deleted_column : &spec.table.deleted_at_column,
                     /*required=*/true);
    }

    std::string on_error = "dead_letter";
    reader_.Choice(node, "on_error", path, &on_error, {"dead_letter", "skip", "stop"});
    spec.on_error = on_error == "skip"   ? ErrorPolicy::kSkip
                    : on_error == "stop" ? ErrorPolicy::kStop
                                         : ErrorPolicy::kDeadLetter;

    // on_change: what a start does when the stored progress was made with another mapping.
    std::string on_change = "stop";
    reader_.Choice(node, "on_change", path, &on_change, {"stop", "keep", "backfill"});
    spec.on_change = on_change == "keep"       ? ChangePolicy::kKeep
                     : on_change == "backfill" ? ChangePolicy::kBackfill
                                               : ChangePolicy::kStop;

    if (diagnostics_.size() != before) place.sound = false;
  }

  void ParseTableName(const std::string& table, PipelineSpec& spec, PipelinePlace& place) {
    const std::string key_path = NodeReader::Join(place.path, "table");
    std::string schema;
    std::string name = table;
    const size_t dot = table.find('.');
    if (dot != std::string::npos) {
      schema = table.substr(0, dot);
      name = table.substr(dot + 1);
      if (name.find('.') != std::string::npos) {
        PipelineError(place, place.table_mark,
                      key_path + ": expected TABLE or SCHEMA.TABLE, got '" + table + "'");
        return;
      }
      const std::string problem = IdentifierProblem(schema);
      if (!problem.empty()) {
        PipelineError(place, place.table_mark, key_path + ": the schema name " + problem);
      }
    }
    const std::string problem = IdentifierProblem(name);
    if (!problem.empty()) {
      PipelineError(place, place.table_mark, key_path + ": the table name " + problem);
    }
    spec.table.schema = schema;  // empty: postgres.default_schema, filled in later
    spec.table.name = name;
  }

  void ParseKey(const YAML::Node& node, PipelineSpec& spec, PipelinePlace& place) {
    const std::string key_path = NodeReader::Join(place.path, "key");
    const YAML::Node key = node["key"];
    if (!key || key.IsNull()) {
      PipelineError(place, place.mark,
                    place.path + ": missing required key 'key' (the column or columns that "
                                 "identify a row, e.g. key: id)");
      return;
    }
    place.key_mark = key.Mark();
    if (key.IsScalar()) {
      std::optional<std::string> column = reader_.Text(key, key_path);
      if (!column) {
        place.sound = false;
        return;
      }
      spec.table.key_columns.push_back(std::string(Trim(*column)));
      place.key_marks.push_back(key.Mark());
    } else if (key.IsSequence()) {
      for (size_t i = 0; i < key.size(); ++i) {
        const YAML::Node item = key[i];
        if (!item.IsScalar()) {
          PipelineError(place, item.Mark(), key_path + ": expected a list of column names");
          continue;
        }
        std::optional<std::string> column = reader_.Text(item, key_path);
        if (!column) {
          place.sound = false;
          continue;
        }
        spec.table.key_columns.push_back(std::string(Trim(*column)));
        place.key_marks.push_back(item.Mark());
      }
    } else {
      PipelineError(place, key.Mark(),
                    key_path + ": expected a column name or a list of column names");
      return;
    }
    if (spec.table.key_columns.empty() && place.sound) {
      PipelineError(place, key.Mark(), key_path + ": expected at least one column name");
    }
    for (size_t i = 0; i < spec.table.key_columns.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (spec.table.key_columns[i] == spec.table.key_columns[j]) {
          PipelineError(place, place.key_marks[i],
                        key_path + ": column '" + spec.table.key_columns[i] + "' is listed twice");
        }
      }
    }
  }

  void ParseColumns(const YAML::Node& node, PipelineSpec& spec, PipelinePlace& place) {
    const std::string columns_path = NodeReader::Join(place.path, "columns");
    const YAML::Node columns = node["columns"];
    if (!columns || columns.IsNull()) {
      PipelineError(place, place.mark,
                    place.path + ": missing required key 'columns' (target column → "
                                 "'TYPE <- expression')");
      return;
    }
    if (!columns.IsMap()) {
      PipelineError(place, columns.Mark(),
                    columns_path + ": expected a mapping from column name to 'TYPE <- "
                                   "expression' or {type, value}");
      return;
    }
    if (columns.size() == 0) {
      PipelineError(place, columns.Mark(), columns_path + ": at least one column is required");
      return;
    }
    std::map<std::string, int, std::less<>> seen;
    bool complete = true;
    for (auto it = columns.begin(); it != columns.end(); ++it) {
      if (!it->first.IsScalar()) {
        PipelineError(place, it->first.Mark(), columns_path + ": column names must be plain names");
        complete = false;
        continue;
      }
      ColumnSpec column;
      column.name = it->first.Scalar();
      const std::string path = NodeReader::Join(columns_path, column.name);
      const std::string problem = IdentifierProblem(column.name);
      if (!problem.empty()) {
        PipelineError(place, it->first.Mark(), path + ": the column name " + problem);
        complete = false;
        continue;
      }
      auto [where, inserted] = seen.emplace(column.name, LineOf(it->first.Mark()));
      if (!inserted) {
        PipelineError(place, it->first.Mark(),
                      columns_path + ": column '" + column.name + "' is defined twice (first at line " +
                          std::to_string(where->second) + ")");
        continue;
      }
      YAML::Mark type_mark;
      if (ParseColumn(it->second, path, column, type_mark)) {
        spec.table.columns.push_back(std::move(column));
        place.type_marks.push_back(type_mark);
      } else {
        place.sound = false;
        complete = false;
      }
    }
    place.columns_complete = complete;
  }

  // One column: "TYPE <- expression", or {type, value, on_overflow, default}.
  bool ParseColumn(const YAML::Node& node, const std::string& path, ColumnSpec& column,
                   YAML::Mark& type_mark) {
    std::string type_text;
    YAML::Mark value_mark = node.Mark();
    type_mark = node.Mark();
    if (node.IsScalar() || node.IsNull()) {
      std::optional<std::string> text = reader_.Text(node, path);
      if (!text) return false;
      const size_t arrow = text->find("<-");
      if (arrow == std::string::npos) {
        Error(node.Mark(), path + ": expected 'TYPE <- expression' (e.g. 'TEXT <- name') or a "
                                  "mapping {type, value}");
        return false;
      }
      type_text = std::string(Trim(std::string_view(*text).substr(0, arrow)));
      column.expression = std::string(Trim(std::string_view(*text).substr(arrow + 2)));
    } else if (node.IsMap()) {
      if (!reader_.CheckMap(node, path, kColumnKeys)) return false;
      bool ok = reader_.String(node, "type", path, &type_text, /*required=*/true);
      ok = reader_.String(node, "value", path, &column.expression, /*required=*/true) && ok;
      if (const YAML::Node type = node["type"]) type_mark = type.Mark();
      if (const YAML::Node value = node["value"]) value_mark = value.Mark();
      column.expression = std::string(Trim(column.expression));
      std::string overflow = "reject";
      ok = reader_.Choice(node, "on_overflow", path, &overflow, {"reject", "truncate"}) && ok;
      column.overflow = overflow == "truncate" ? model::OverflowPolicy::kTruncate
                                               : model::OverflowPolicy::kReject;
      if (!ok) return false;
    } else {
      Error(node.Mark(), path + ": expected 'TYPE <- expression' or a mapping {type, value}");
      return false;
    }
    column.line = LineOf(value_mark);
    column.column = ColumnOf(value_mark);

    if (type_text.empty()) {
      Error(type_mark, path + ": the column type is missing (e.g. 'TEXT <- " +
                           (column.expression.empty() ? std::string("name") : column.expression) +
                           "')");
      return false;
    }
    core::Result<ColumnType> type = ColumnType::Parse(type_text);
    if (!type.ok()) {
      Error(type_mark, path + ": " + type.status().message());
      return false;
    }
    column.type = *type;
    if (column.expression.empty()) {
      Error(value_mark, path + ": the expression is empty (e.g. '" + column.type.ToSql() +
                            " <- " + column.name + "')");
      return false;
    }
    if (column.overflow == model::OverflowPolicy::kTruncate &&
        !(column.type.kind == ColumnKind::kVarchar && column.type.length > 0)) {
      Error(node["on_overflow"].Mark(),
            path + ".on_overflow: applies only to VARCHAR(n) columns (this one is " +
                column.type.ToSql() + ")");
      return false;
    }
    if (node.IsMap()) {
      const YAML::Node default_node = node["default"];
      if (default_node) {
        if (default_node.IsNull()) {
          column.default_sql = "NULL";
        } else {
          std::optional<std::string> text = reader_.Text(default_node, path + ".default");
          if (!text) return false;
          core::Result<std::string> sql = DefaultSql(column.type, *text);
          if (!sql.ok()) {
            Error(default_node.Mark(), path + ".default: " + sql.status().message() + " for a " +
                                           column.type.ToSql() + " column");
            return false;
          }
          column.default_sql = *sql;
        }
      }
    }
    return true;
  }

  // ---- cross references ----------------------------------------------------------------------

  void CrossCheck(Config& config) {
    std::map<std::string, size_t> pipeline_by_name;
    std::map<std::string, size_t> pipeline_by_table;
    for (size_t i = 0; i < config.pipelines.size(); ++i) {
      PipelineSpec& spec = config.pipelines[i];
      PipelinePlace& place = places_[i];

      if (!spec.name.empty()) {
        auto [where, inserted] = pipeline_by_name.emplace(spec.name, i);
        if (!inserted) {
          PipelineError(place, place.name_mark,
                        "pipeline name '" + spec.name + "' is used twice (first at line " +
                            std::to_string(LineOf(places_[where->second].name_mark)) + ")");
        }
      }

      CheckSource(config, spec, place);

      if (!spec.table.name.empty()) {
        const std::string qualified = spec.table.schema + "." + spec.table.name;
        auto [where, inserted] = pipeline_by_table.emplace(qualified, i);
        if (!inserted) {
          const PipelineSpec& first = config.pipelines[where->second];
          PipelineError(place, place.table_mark,
                        NodeReader::Join(place.path, "table") + ": table " + qualified +
                            " is already written by pipeline '" + first.name + "' (line " +
                            std::to_string(LineOf(places_[where->second].name_mark)) +
                            "); each table takes one pipeline");
        }
      }

      // Columns that failed to parse were left out: only check against a complete list.
      if (!place.columns_complete) continue;
      for (size_t k = 0; k < spec.table.key_columns.size(); ++k) {
        const std::string& key = spec.table.key_columns[k];
        if (key.empty() || spec.table.ColumnIndex(key) >= 0) continue;
        PipelineError(place, place.key_marks[k],
                      NodeReader::Join(place.path, "key") + ": '" + key +
                          "' is not one of the columns (" + ColumnNames(spec) + ")");
      }
      if (spec.table.SoftDeletes()) {
        CheckSoftDeleteColumn(spec, place, spec.table.deleted_column, "deleted_column",
                              place.deleted_column_mark, ColumnKind::kBoolean, "BOOLEAN");
        CheckSoftDeleteColumn(spec, place, spec.table.deleted_at_column, "deleted_at_column",
                              place.deleted_at_column_mark, ColumnKind::kTimestamptz,
                              "TIMESTAMPTZ");
      }
    }
  }

  static std::string ColumnNames(const PipelineSpec& spec) {
    std::string out;
    for (const ColumnSpec& column : spec.table.columns) {
      if (!out.empty()) out.append(", ");
      out.append(column.name);
    }
    return out;
  }

  void CheckSource(const Config& config, PipelineSpec& spec, PipelinePlace& place) {
    if (spec.source.empty()) {
      if (config.sources.size() == 1) {
        spec.source = config.sources.front().name;  // the only source needs no naming
        return;
      }
      if (config.sources.empty()) return;  // reported with the sources
      std::string names;
      for (const SourceConfig& source : config.sources) {
        if (!names.empty()) names.append(", ");
        names.append(source.name);
      }
      PipelineError(place, place.mark,
                    place.path + ": missing required key 'source' (there are several: " + names +
                        ")");
      return;
    }
    if (config.FindSource(spec.source) != nullptr) return;
    if (source_lines_.count(spec.source) != 0) return;  // defined, but with problems of its own
    if (config.sources.empty()) return;  // every source has problems, already reported
    std::vector<std::string_view> names;
    for (const SourceConfig& source : config.sources) names.push_back(source.name);
    std::string message = NodeReader::Join(place.path, "source") + ": no source named '" +
                          spec.source + "' (sources: " + JoinNames(names) + ")";
    const std::string suggestion = ClosestName(spec.source, names);
    if (!suggestion.empty()) message.append("; did you mean '" + suggestion + "'?");
    PipelineError(place, place.source_mark, std::move(message));
  }

  void CheckSoftDeleteColumn(const PipelineSpec& spec, PipelinePlace& place,
                             const std::string& column, std::string_view setting,
                             const YAML::Mark& setting_mark, ColumnKind kind,
                             std::string_view type_name) {
    const YAML::Mark mark = setting_mark.is_null() ? place.soft_delete_mark : setting_mark;
    const int index = spec.table.ColumnIndex(column);
    if (index < 0) {
      std::string message = place.path;
      message.append(": ");
      message.append(place.soft_delete_key);
      message.append(": soft needs a ");
      message.append(type_name);
      message.append(" column '");
      message.append(column);
      message.append("' among the columns (add it, name another with ");
      message.append(setting);
      message.append(", or use ");
      message.append(place.soft_delete_key);
      message.append(": hard or ignore)");
      PipelineError(place, mark, std::move(message));
      return;
    }
    const ColumnSpec& spec_column = spec.table.columns[static_cast<size_t>(index)];
    if (spec_column.type.kind != kind || spec_column.type.array) {
      std::string message = place.path;
      message.append(".columns.");
      message.append(column);
      message.append(": the soft-delete column must be ");
      message.append(type_name);
      message.append(", not ");
      message.append(spec_column.type.ToSql());
      PipelineError(place, place.type_marks[static_cast<size_t>(index)], std::move(message));
    }
  }

  // ---- mappings ------------------------------------------------------------------------------

  // Compiles each sound pipeline. On failure, compiles each column (and the filter) on its own
  // so that every bad expression is reported at its own line, not only the first.
  void CompileMappings(Config& config) {
    for (size_t i = 0; i < config.pipelines.size(); ++i) {
      PipelineSpec& spec = config.pipelines[i];
      const PipelinePlace& place = places_[i];
      if (!place.sound) continue;
      const core::Status plan = mappings_.Check(spec);
      if (plan.ok()) {
        for (ColumnSpec& column : spec.table.columns) {
          column.can_be_null = !column.expression.empty() && mappings_.CanBeNull(column.expression);
          column.reads_change_kind = !column.expression.empty() && mappings_.ReadsChangeKind(column.expression);
        }
        continue;
      }

      // The explode expression itself, or a key that does not tell elements apart.
      const std::string explode_prefix = "pipeline " + spec.name + ": explode";
      if (plan.message().rfind(explode_prefix, 0) == 0) {
        std::string rest = plan.message().substr(explode_prefix.size());
        if (rest.rfind(" (line ", 0) == 0) rest = rest.substr(rest.find(')') + 1);
        Error(place.explode_mark.is_null() ? place.mark : place.explode_mark,
              NodeReader::Join(place.path, "explode") + (rest.rfind(": ", 0) == 0 ? "" : ":") + rest);
        continue;
      }
      bool located = false;
      std::optional<size_t> good_column;
      for (size_t c = 0; c < spec.table.columns.size(); ++c) {
        const ColumnSpec& column = spec.table.columns[c];
        const core::Status one = mappings_.Check(Alone(spec, column, ""));
        if (one.ok()) {
          if (!good_column) good_column = c;
          continue;
        }
        located = true;
        diagnostics_.ErrorAt(column.line, column.column,
                             place.path + ".columns." + column.name + ": " +
                                 WithoutPrefix(one.message(),
                                               "pipeline " + spec.name + ", column " + column.name +
                                                   ": "));
      }
      if (!spec.filter.empty() && good_column) {
        const core::Status filter = mappings_.Check(Alone(spec, spec.table.columns[*good_column], spec.filter));
        if (!filter.ok()) {
          located = true;
          Error(place.filter_mark,
                NodeReader::Join(place.path, "filter") + ": " +
                    WithoutPrefix(filter.message(),
                                  "pipeline " + spec.name + ": filter "));
        }
      }
      if (!located) {
        Error(place.mark, place.path + ": " +
                              WithoutPrefix(plan.message(), "pipeline " + spec.name + ": "));
      }
    }
  }

  // MappingPlan names the pipeline and column itself; the file position and path already do.
  static std::string WithoutPrefix(const std::string& message, const std::string& prefix) {
    if (message.rfind(prefix, 0) == 0) return message.substr(prefix.size());
    return message;
  }

  // A one-column pipeline for locating a compile error.
  static PipelineSpec Alone(const PipelineSpec& spec, const ColumnSpec& column,
                            const std::string& filter) {
    PipelineSpec alone;
    alone.name = spec.name;
    alone.source = spec.source;
    alone.explode = spec.explode;  // so that `element` and `index` mean the same
    alone.table.schema = spec.table.schema;
    alone.table.name = spec.table.name;
    alone.table.columns = {column};
    alone.table.columns[0].line = 0;  // keeps the position out of the message: we add our own
    alone.table.columns[0].column = 0;
    // A stand-in key, so that the column itself need not qualify as one (`null` may not). Its
    // name holds a control character, which no configured column can.
    ColumnSpec key;
    key.name = "\x01key";
    key.expression = spec.explode.empty() ? "'key'" : "index";  // an exploded key must read the element
    alone.table.columns.push_back(key);
    alone.table.key_columns = {key.name};
    alone.table.delete_policy = DeletePolicy::kIgnore;
    alone.filter = filter;
    alone.on_error = spec.on_error;
    return alone;
  }

  Diagnostics diagnostics_;
  NodeReader reader_;
  EnvLookup env_;
  const model::MappingChecker& mappings_;
  std::map<std::string, int> source_lines_;  // source name → line where it is defined
  std::vector<PipelinePlace> places_;        // parallel to Config::pipelines
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
