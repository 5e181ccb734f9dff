// The ddb2pg configuration file (YAML, `version: 1`), loaded and validated.
//
// See docs/config.md for every key. Loading substitutes ${ENV} and ${ENV:-default}, rejects
// unknown keys and wrong types with the file, line and column, and checks cross references
// (a pipeline's source exists, key columns are columns, names are unique, soft-delete columns
// exist with the right types) and compiles every pipeline's mapping once to report bad
// expressions at their line.
//
// A failed load is one kInvalidArgument Status whose message holds every problem found, one per
// line, in file order: "FILE:LINE:COLUMN: message" (1-based). Messages name keys, never echo
// secret values (credentials, connection strings).
//
// Thread-safety: the functions are reentrant; the Config is a plain value.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/option_defaults.h"
#include "core/status.h"
#include "model/mapping_checker.h"
#include "model/pipeline_spec.h"

namespace ddb2pg::config {

struct SnapshotSettings {
  bool enabled = true;          // false: start from the stream only (TRIM_HORIZON or LATEST)
  int segments = core::defaults::kScanSegments;  // parallel Scan segments (1 … 1,000,000)
  int page_limit = core::defaults::kScanPageLimit;  // Scan Limit (items per page, ≥ 1)
  double max_items_per_second = core::defaults::kMaxItemsPerSecond;  // 0: unlimited
  bool consistent_read = core::defaults::kScanConsistentRead;
  std::string from = "scan";     // scan | export: the snapshot is a completed DynamoDB export in S3
  std::string export_manifest;   // from: export: s3://bucket/…/AWSDynamoDB/<id>/manifest-summary.json
  std::string export_bucket;     // from: export: ddb2pg requests an export into this bucket (not with export_manifest)
  std::string export_prefix;     // … under this key prefix
};

struct StreamSettings {
  std::string start_at = "trim_horizon";  // without snapshot: trim_horizon | latest
  int poll_interval_ms = core::defaults::kPollIntervalMs;  // at a shard's tip: wait this long between GetRecords calls
  int idle_poll_ceiling_ms = core::defaults::kIdlePollCeilingMs;  // empty pages in a row back off up to this
  bool during_snapshot = true;             // read the stream beside the snapshot (false: after it)
  int max_concurrent_shards = 16;          // accepted for compatibility; the runner's shard readers are a pool
  std::string on_trimmed = "stop";        // stop | resnapshot: TrimmedDataAccessException or a new stream ARN
  bool enable_stream = false;              // opt-in: enable NEW_AND_OLD_IMAGES on the table if off
};

struct SourceConfig {
  std::string name;  // referenced by pipelines
  std::string table;
  // AWS settings; empty falls through to the SDK chain (see aws/credentials.h).
  std::string region;
  std::string endpoint;
  std::string streams_endpoint;
  std::string profile;
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  SnapshotSettings snapshot;
  StreamSettings stream;
  int line = 0;    // where the source is defined (1-based; 0 when built in code)
  int column = 0;
};

struct PostgresConfig {
  std::string conninfo;    // libpq conninfo or URI; empty: libpq's PG* variables decide
  std::string sslmode;     // optional, passed to libpq (disable … verify-full)
  std::string sslrootcert; // optional CA bundle file, passed to libpq (verify-ca / verify-full check against it)
  std::string auth = "password";  // password (libpq: conninfo, PGPASSWORD, ~/.pgpass) | iam (RDS IAM token per connection)
  std::string region;      // auth iam: the database's AWS region; empty: from an RDS host name, then the AWS chain
  int batch_max_rows = core::defaults::kBatchMaxRows;
  int batch_max_bytes = core::defaults::kBatchMaxBytes;
  int batch_max_delay_ms = core::defaults::kBatchMaxDelayMs;  // a quiet stream still commits within this
  bool auto_create = false;       // create missing target tables on start
  // The longest a commit may wait on PostgreSQL before it is cancelled and the connection re-made.
  int commit_timeout_ms = core::defaults::kCommitTimeoutMs;
  // binary: COPY in the binary format where every column's type allows (else text); text: always text.
  std::string copy_format = core::defaults::kBinaryCopy ? "binary" : "text";
  // Schema for pipeline tables named without one. Already applied to every
  // PipelineSpec::table.schema by the loader; kept here for display.
  std::string default_schema = "public";
};

// The HTTP listeners (docs/config.md#metrics). `listen` serves /metrics, /healthz and /readyz, for
// Prometheus and probes. The status page (/, /status.js, /api/status) shows dead-lettered item
// data, so it stays on a loopback address unless `status_exposed` says otherwise.
struct MetricsConfig {
  std::string listen = core::defaults::kMetricsListen;  // HOST:PORT; "" disables the endpoint
  // The status page's own listener, HOST:PORT; "": on `listen` while that is a loopback address
  // (else nowhere); "off": nowhere.
  std::string status_listen = core::defaults::kStatusListen;
  bool status_exposed = core::defaults::kStatusExposed;  // allow the status page on a non-loopback address
  // A bearer token for /api/status, read at start from this file or this environment variable (at
  // most one of the two; the token itself is never in the config).
  std::string status_token_file;
  std::string status_token_env;

  // Where the status page is served when the metrics listener is `metrics_listen` (the config's
  // `listen`, or --metrics-listen; "" or "off": no metrics listener): "" nowhere; otherwise the
  // address of its listener: `metrics_listen` itself, shared, when `status_listen` is "", else
  // `status_listen`, a listener of its own.
  std::string StatusPageListen(const std::string& metrics_listen) const;
};

// Whether a HOST:PORT (or a bare port, meaning 127.0.0.1) names a loopback address: 127.0.0.0/8,
// ::1 ("[::1]:PORT") or localhost. 0.0.0.0, [::] and every other host are not.
bool IsLoopbackListen(std::string_view listen);

// How a runner runs its sources (docs/config.md, docs/consistency.md).
struct RuntimeConfig {
  int lanes = core::defaults::kLanes;  // parallel lanes per source; 0: the number of CPUs (CLI --lanes overrides)
  int lease_ttl_ms = core::defaults::kLeaseTtlMs;  // a partition lease not renewed this long may be taken by another runner
  int heartbeat_ms = core::defaults::kHeartbeatMs;  // renew, claim and balance this often (at most lease_ttl_ms / 3)
  int stall_ms = core::defaults::kStallMs;  // records waiting uncommitted this long: /readyz answers 503
  int max_scan_threads = core::defaults::kMaxScanThreads;  // Scan reader threads at once, over every source
  int fetch_slots = core::defaults::kFetchSlots;  // source pages a lane's readers hold at once (bounds memory per lane)
  double max_get_records_per_second = core::defaults::kMaxGetRecordsPerSecond;  // over every shard the runner reads; 0: none
};

struct Config {
  int version = 1;
  std::string path;  // the file it was loaded from
  std::vector<SourceConfig> sources;
  PostgresConfig postgres;
  std::vector<model::PipelineSpec> pipelines;
  MetricsConfig metrics;
  RuntimeConfig runtime;

  // The source named `name`, or nullptr.
  const SourceConfig* FindSource(const std::string& name) const;
  // The pipelines reading source `name`, in file order (the runtime reads the source once and
  // fans its records out to them).
  std::vector<const model::PipelineSpec*> PipelinesOf(const std::string& source_name) const;
};

// Looks up an environment variable for ${NAME} substitution; tests inject a map.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// The real process environment (getenv).
EnvLookup ProcessEnvironment();

// Loads and validates a file. Errors are kInvalidArgument with "FILE:LINE:COLUMN: message",
// one line per problem, in file order. `mappings` compiles each pipeline's expressions (pass a
// processor::PlanChecker); it also marks which columns can be NULL.
core::Result<Config> LoadConfigFile(const std::string& path, const model::MappingChecker& mappings);
core::Result<Config> LoadConfigFile(const std::string& path, const model::MappingChecker& mappings,
                                    const EnvLookup& env);
// The same from text (`name` stands in for the file name in errors).
core::Result<Config> LoadConfigText(const std::string& text, const std::string& name,
                                    const model::MappingChecker& mappings);
core::Result<Config> LoadConfigText(const std::string& text, const std::string& name,
                                    const model::MappingChecker& mappings, const EnvLookup& env);

}  // namespace ddb2pg::config
