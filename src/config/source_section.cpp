// SourceSection: reads `sources` (each DynamoDB table, its credentials, endpoints, `snapshot` and
// `stream` settings) into Config::sources, reporting every problem at its line. Records each
// source's line in ParseState::source_lines for the cross-checks. Part of the loader
// (config_loader.cpp); thread-safety: none.
#include "config/config_sections.h"

#include "config/config_rules.h"
#include "config/env_substitution.h"
#include "core/text.h"

namespace ddb2pg::config {

using core::Trim;
using model::PipelineSpec;

namespace {

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

class SourceSection : public SectionParser {
 public:
  using SectionParser::SectionParser;

  void ParseSources(const YAML::Node& node, Config& config) {
    ForEachEntry(
        node, "sources", "source", "a mapping from source name to its settings, or a list of sources",
        [&](const YAML::Node& name, const YAML::Node& settings) {
          SourceConfig source;
          source.name = name.IsScalar() ? name.Scalar() : std::string();
          if (!CheckName(source.name, name.Mark(), "source")) return;
          if (IsDuplicateSource(source.name, name.Mark())) return;
          ParseSource(settings, NodeReader::Join("sources", source.name), kSourceKeys, source);
          config.sources.push_back(std::move(source));
        },
        [&](size_t i, const YAML::Node& item) {
          const std::string path = "sources[" + std::to_string(i) + "]";
          SourceConfig source;
          if (!item.IsMap()) {
            reader_.CheckMap(item, path, WithName(kSourceKeys));
            return;
          }
          const YAML::Node name_node = item["name"];
          if (name_node && !name_node.IsNull()) {
            if (!reader_.String(item, "name", path, &source.name)) return;
          } else {
            // The name defaults to the table's; problems with `table` are ParseSource's to report.
            source.name = QuietText(item["table"]);
            if (source.name.empty()) {
              ParseSource(item, path, WithName(kSourceKeys), source);
              return;
            }
          }
          const YAML::Mark name_mark = name_node ? name_node.Mark() : item["table"].Mark();
          if (!CheckName(source.name, name_mark, "source")) return;
          if (IsDuplicateSource(source.name, name_mark)) return;
          ParseSource(item, path, WithName(kSourceKeys), source);
          config.sources.push_back(std::move(source));
        });
  }

  // A scalar's substituted text, or "" when it is absent or bad (reported where it is read).
  std::string QuietText(const YAML::Node& node) const {
    if (!node || !node.IsScalar()) return {};
    core::Result<std::string> text = SubstituteEnv(node.Scalar(), env_);
    return text.ok() ? std::string(Trim(*text)) : std::string();
  }

  bool IsDuplicateSource(const std::string& name, const YAML::Mark& mark) {
    auto found = state_.source_lines.find(name);
    if (found == state_.source_lines.end()) {
      state_.source_lines.emplace(name, LineOf(mark));
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
                       {"stop", "resnapshot", "incremental_export"});
        CheckIncrementalExport(stream, path, source);
        reader_.Bool(stream, "enable_stream", stream_path, &settings.enable_stream);
        reader_.Bool(stream, "during_snapshot", stream_path, &settings.during_snapshot);
      }
    }
  }

  // on_trimmed: incremental_export needs the bucket its exports go to.
  void CheckIncrementalExport(const YAML::Node& stream, const std::string& source_path, const SourceConfig& source) {
    if (source.stream.on_trimmed != "incremental_export") return;
    const std::string key = NodeReader::Join(NodeReader::Join(source_path, "stream"), "on_trimmed");
    const std::string bucket_key =
        NodeReader::Join(NodeReader::Join(NodeReader::Join(source_path, "snapshot"), "export"), "s3_bucket");
    if (source.snapshot.export_bucket.empty()) {
      Error(stream["on_trimmed"].Mark(), key + ": incremental_export needs " + bucket_key +
                                             " (the bucket DynamoDB writes the incremental exports to)");
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
};

}  // namespace

void ParseSources(ParseState& state, const YAML::Node& node, Config& config) {
  SourceSection(state).ParseSources(node, config);
}

}  // namespace ddb2pg::config
