// The configuration loader: defaults, every key, and every class of error with its exact
// file:line:column.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include "processor/plan_checker.h"
#include "config/config.h"

namespace ddb2pg::config {
namespace {

using model::ColumnKind;
using model::DeletePolicy;
using model::ErrorPolicy;
using model::OverflowPolicy;

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto found = vars.find(name);
    if (found == vars.end()) return std::nullopt;
    return found->second;
  };
}

Config Load(const std::string& text, std::map<std::string, std::string> env = {}) {
  core::Result<Config> config = LoadConfigText(text, "test.yaml", processor::PlanChecker(), FakeEnv(std::move(env)));
  EXPECT_TRUE(config.ok()) << config.status().message();
  return config.ok() ? std::move(config).value() : Config{};
}

std::string ErrorOf(const std::string& text, std::map<std::string, std::string> env = {}) {
  core::Result<Config> config = LoadConfigText(text, "test.yaml", processor::PlanChecker(), FakeEnv(std::move(env)));
  EXPECT_FALSE(config.ok());
  if (config.ok()) return "<loaded>";
  EXPECT_EQ(config.status().code(), core::StatusCode::kInvalidArgument);
  return config.status().message();
}

// Lines 1-11; tests append to it or replace parts.
const std::string kMinimal = R"yaml(version: 1
sources:
  users:
    table: users
pipelines:
  - name: profile
    table: profile
    key: id
    columns:
      id: UUID <- id
      bio: VARCHAR(210) <- bio
)yaml";

TEST(ConfigLoader, MinimalFileGetsDefaults) {
  const Config config = Load(kMinimal);
  EXPECT_EQ(config.version, 1);
  EXPECT_EQ(config.path, "test.yaml");
  ASSERT_EQ(config.sources.size(), 1u);
  const SourceConfig& source = config.sources[0];
  EXPECT_EQ(source.name, "users");
  EXPECT_EQ(source.table, "users");
  EXPECT_EQ(source.line, 4);
  EXPECT_EQ(source.column, 5);
  EXPECT_TRUE(source.region.empty());
  EXPECT_TRUE(source.endpoint.empty());
  EXPECT_TRUE(source.snapshot.enabled);
  EXPECT_EQ(source.snapshot.segments, 4);
  EXPECT_EQ(source.snapshot.page_limit, 500);
  EXPECT_EQ(source.stream.start_at, "trim_horizon");
  EXPECT_EQ(source.stream.on_trimmed, "stop");
  EXPECT_FALSE(source.stream.enable_stream);

  EXPECT_TRUE(config.postgres.conninfo.empty());
  EXPECT_EQ(config.postgres.batch_max_rows, 10000);
  EXPECT_EQ(config.postgres.batch_max_bytes, 16 * 1024 * 1024);
  EXPECT_EQ(config.postgres.batch_max_delay_ms, 100);
  EXPECT_FALSE(config.postgres.auto_create);
  EXPECT_EQ(config.postgres.commit_timeout_ms, 30000);
  EXPECT_EQ(config.metrics.listen, "127.0.0.1:9187");
  EXPECT_EQ(config.runtime.lanes, 0) << "0: one lane per CPU";
  EXPECT_EQ(config.runtime.lease_ttl_ms, 10000);

  ASSERT_EQ(config.pipelines.size(), 1u);
  const model::PipelineSpec& pipeline = config.pipelines[0];
  EXPECT_EQ(pipeline.name, "profile");
  EXPECT_EQ(pipeline.source, "users");  // the only source
  EXPECT_EQ(pipeline.table.schema, "public");
  EXPECT_EQ(pipeline.table.name, "profile");
  EXPECT_EQ(pipeline.table.key_columns, std::vector<std::string>{"id"});
  EXPECT_EQ(pipeline.table.delete_policy, DeletePolicy::kHard);
  EXPECT_EQ(pipeline.on_error, ErrorPolicy::kDeadLetter);
  EXPECT_TRUE(pipeline.filter.empty());
  ASSERT_EQ(pipeline.table.columns.size(), 2u);
  const model::ColumnSpec& id = pipeline.table.columns[0];
  EXPECT_EQ(id.name, "id");
  EXPECT_EQ(id.type.kind, ColumnKind::kUuid);
  EXPECT_EQ(id.expression, "id");
  EXPECT_EQ(id.line, 10);
  EXPECT_EQ(id.column, 11);
  EXPECT_FALSE(id.default_sql.has_value());
  const model::ColumnSpec& bio = pipeline.table.columns[1];
  EXPECT_EQ(bio.name, "bio");
  EXPECT_EQ(bio.type.kind, ColumnKind::kVarchar);
  EXPECT_EQ(bio.type.length, 210);
  EXPECT_EQ(bio.expression, "bio");
  EXPECT_EQ(bio.overflow, OverflowPolicy::kReject);
  EXPECT_EQ(bio.line, 11);
  EXPECT_EQ(bio.column, 12);

  EXPECT_EQ(config.FindSource("users"), &config.sources[0]);
  EXPECT_EQ(config.FindSource("nope"), nullptr);
  EXPECT_EQ(config.PipelinesOf("users").size(), 1u);
}

TEST(ConfigLoader, MarksTheColumnsWhoseMappingCanBeNull) {
  const Config config = Load(kMinimal + "      mode: TEXT <- coalesce(mode, 'light')\n");
  const auto& columns = config.pipelines.at(0).table.columns;
  ASSERT_EQ(columns.size(), 3u);
  EXPECT_TRUE(columns[1].can_be_null);   // bio
  EXPECT_FALSE(columns[2].can_be_null);  // coalesce(…, 'light')
}

TEST(ConfigLoader, TheStreamRunsDuringTheSnapshotUnlessTurnedOff) {
  EXPECT_TRUE(Load(kMinimal).sources.at(0).stream.during_snapshot);
  std::string text = kMinimal;
  const std::string table_line = "    table: users\n";
  text.replace(text.find(table_line), table_line.size(), table_line + "    stream:\n      during_snapshot: false\n");
  EXPECT_FALSE(Load(text).sources.at(0).stream.during_snapshot);
}

// Issue 25: what quiet shards cost — the idle back-off's ceiling per source, the runner's ceiling
// on GetRecords calls — with defaults from core/option_defaults.h and their ranges checked.
TEST(ConfigLoader, TheIdlePollCeilingAndTheRunnersGetRecordsCeilingAreRead) {
  const Config defaults = Load(kMinimal);
  EXPECT_EQ(defaults.sources.at(0).stream.idle_poll_ceiling_ms, core::defaults::kIdlePollCeilingMs);
  EXPECT_DOUBLE_EQ(defaults.runtime.max_get_records_per_second, core::defaults::kMaxGetRecordsPerSecond);
  std::string text = kMinimal;
  const std::string table_line = "    table: users\n";
  text.replace(text.find(table_line), table_line.size(),
               table_line + "    stream:\n      idle_poll_ceiling_ms: 1300\n");
  const Config set = Load(text + "runtime:\n  max_get_records_per_second: 250.5\n");
  EXPECT_EQ(set.sources.at(0).stream.idle_poll_ceiling_ms, 1300);
  EXPECT_DOUBLE_EQ(set.runtime.max_get_records_per_second, 250.5);
  EXPECT_NE(ErrorOf(kMinimal + "runtime:\n  max_get_records_per_second: -1\n").find("max_get_records_per_second"),
            std::string::npos);
}

// Issue 25: a runner of many sources bounds its Scan reader threads over all of them.
TEST(ConfigLoader, TheRunnersScanThreadBoundIsReadAndChecked) {
  EXPECT_EQ(Load(kMinimal).runtime.max_scan_threads, core::defaults::kMaxScanThreads);
  EXPECT_EQ(Load(kMinimal + "runtime:\n  max_scan_threads: 8\n").runtime.max_scan_threads, 8);
  EXPECT_NE(ErrorOf(kMinimal + "runtime:\n  max_scan_threads: 0\n").find("max_scan_threads"), std::string::npos);
}

TEST(ConfigLoader, EveryKeyIsRead) {
  const Config config = Load(R"yaml(version: 1
sources:
  - name: main
    table: my-table.v2
    region: eu-west-1
    endpoint: http://127.0.0.1:8000
    streams_endpoint: https://streams.example
    profile: work
    access_key_id: AKIDEXAMPLE
    secret_access_key: ${SECRET}
    session_token: token
    snapshot:
      enabled: false
      segments: 16
      page_limit: 500
      max_items_per_second: 2500.5
      consistent_read: yes
    stream:
      start_at: LATEST
      poll_interval_ms: 1000
      max_concurrent_shards: 4
      on_trimmed: resnapshot
      enable_stream: true
  - table: other
postgres:
  conninfo: host=/tmp dbname=app
  sslmode: verify-full
  auto_create: true
  default_schema: app
  batch: {max_rows: 500, max_bytes: 4MiB,
          max_delay_ms: 0}
  commit_timeout_ms: 5000
  # (the flow style above keeps the line numbers below)
metrics:
  listen: 0.0.0.0:9000
runtime:
  lanes: 3
  lease_ttl_ms: 6000
  heartbeat_ms: 2000
pipelines:
  profile:
    source: main
    table: audit.profile_copy
    key: [tenant, id]
    filter: operation() != 'delete' or exists(id)
    on_delete: soft
    deleted_column: is_gone
    deleted_at_column: gone_at
    on_error: stop
    columns:
      tenant: TEXT <- 'acme'
      id: {type: uuid, value: id}
      bio: {type: "character varying(10)", value: bio, on_overflow: truncate, default: none}
      score: {type: "numeric(10,2)", value: "coalesce(score, 0)", default: -1.5}
      is_gone: {type: bool, value: deleted, default: FALSE}
      gone_at: {type: timestamp with time zone, value: deletedAt, default: null}
      seen: {type: timestamptz, value: change_time(), default: now()}
  other:
    source: other
    on_delete: ignore
    on_error: skip
    key: k
    columns:
      k: TEXT <- k
)yaml",
                             {{"SECRET", "s3cr3t"}});
  ASSERT_EQ(config.sources.size(), 2u);
  const SourceConfig& main = config.sources[0];
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(main.table, "my-table.v2");
  EXPECT_EQ(main.region, "eu-west-1");
  EXPECT_EQ(main.endpoint, "http://127.0.0.1:8000");
  EXPECT_EQ(main.streams_endpoint, "https://streams.example");
  EXPECT_EQ(main.profile, "work");
  EXPECT_EQ(main.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(main.secret_access_key, "s3cr3t");
  EXPECT_EQ(main.session_token, "token");
  EXPECT_FALSE(main.snapshot.enabled);
  EXPECT_EQ(main.snapshot.segments, 16);
  EXPECT_EQ(main.snapshot.page_limit, 500);
  EXPECT_DOUBLE_EQ(main.snapshot.max_items_per_second, 2500.5);
  EXPECT_TRUE(main.snapshot.consistent_read);
  EXPECT_EQ(main.stream.start_at, "latest");
  EXPECT_EQ(main.stream.poll_interval_ms, 1000);
  EXPECT_EQ(main.stream.max_concurrent_shards, 4);
  EXPECT_EQ(main.stream.on_trimmed, "resnapshot");
  EXPECT_TRUE(main.stream.enable_stream);
  EXPECT_EQ(config.sources[1].name, "other");  // a listed source without a name takes its table's
  EXPECT_EQ(config.sources[1].table, "other");

  EXPECT_EQ(config.postgres.conninfo, "host=/tmp dbname=app");
  EXPECT_EQ(config.postgres.sslmode, "verify-full");
  EXPECT_TRUE(config.postgres.auto_create);
  EXPECT_EQ(config.postgres.commit_timeout_ms, 5000);
  EXPECT_EQ(config.postgres.default_schema, "app");
  EXPECT_EQ(config.postgres.batch_max_rows, 500);
  EXPECT_EQ(config.postgres.batch_max_bytes, 4 * 1024 * 1024);
  EXPECT_EQ(config.postgres.batch_max_delay_ms, 0);
  EXPECT_EQ(config.metrics.listen, "0.0.0.0:9000");
  EXPECT_EQ(config.runtime.lanes, 3);
  EXPECT_EQ(config.runtime.lease_ttl_ms, 6000);
  EXPECT_EQ(config.runtime.heartbeat_ms, 2000);

  ASSERT_EQ(config.pipelines.size(), 2u);
  const model::PipelineSpec& profile = config.pipelines[0];
  EXPECT_EQ(profile.name, "profile");
  EXPECT_EQ(profile.source, "main");
  EXPECT_EQ(profile.table.schema, "audit");
  EXPECT_EQ(profile.table.name, "profile_copy");
  EXPECT_EQ(profile.table.key_columns, (std::vector<std::string>{"tenant", "id"}));
  EXPECT_EQ(profile.filter, "operation() != 'delete' or exists(id)");
  EXPECT_EQ(profile.filter_line, 45);
  EXPECT_EQ(profile.table.delete_policy, DeletePolicy::kSoft);
  EXPECT_EQ(profile.table.deleted_column, "is_gone");
  EXPECT_EQ(profile.table.deleted_at_column, "gone_at");
  EXPECT_EQ(profile.on_error, ErrorPolicy::kStop);
  const auto& columns = profile.table.columns;
  ASSERT_EQ(columns.size(), 7u);
  EXPECT_EQ(columns[0].expression, "'acme'");
  EXPECT_EQ(columns[0].type.kind, ColumnKind::kText);
  EXPECT_EQ(columns[1].type.kind, ColumnKind::kUuid);
  EXPECT_EQ(columns[1].line, 52);
  EXPECT_EQ(columns[1].column, 31);  // the value, not the mapping
  EXPECT_EQ(columns[2].type.length, 10);
  EXPECT_EQ(columns[2].overflow, OverflowPolicy::kTruncate);
  EXPECT_EQ(columns[2].default_sql, "'none'");
  EXPECT_EQ(columns[3].type.kind, ColumnKind::kNumeric);
  EXPECT_EQ(columns[3].type.precision, 10);
  EXPECT_EQ(columns[3].type.scale, 2);
  EXPECT_EQ(columns[3].expression, "coalesce(score, 0)");
  EXPECT_EQ(columns[3].default_sql, "-1.5");
  EXPECT_EQ(columns[4].default_sql, "FALSE");
  EXPECT_EQ(columns[5].type.kind, ColumnKind::kTimestamptz);
  EXPECT_EQ(columns[5].default_sql, "NULL");
  EXPECT_EQ(columns[6].default_sql, "now()");

  const model::PipelineSpec& other = config.pipelines[1];
  EXPECT_EQ(other.table.name, "other");  // the pipeline's name
  EXPECT_EQ(other.table.schema, "app");  // postgres.default_schema
  EXPECT_EQ(other.table.delete_policy, DeletePolicy::kIgnore);
  EXPECT_EQ(other.on_error, ErrorPolicy::kSkip);
  EXPECT_EQ(config.PipelinesOf("main").size(), 1u);
}

TEST(ConfigLoader, UnknownKeyNamesPathLineAndSuggestion) {
  EXPECT_EQ(ErrorOf(R"yaml(version: 1
sources:
  users:
    table: users
    snapshot:
      segmnts: 8
pipelines:
  - name: profile
    key: id
    columns:
      id: UUID <- id
)yaml"),
            "test.yaml:6:7: unknown key 'segmnts' in sources.users.snapshot (known: enabled, "
            "segments, page_limit, max_items_per_second, consistent_read, from, export); did you mean "
            "'segments'?");
  EXPECT_EQ(ErrorOf(kMinimal + "logging: debug\n"),
            "test.yaml:12:1: unknown key 'logging' in the top level (known: version, sources, "
            "postgres, metrics, runtime, pipelines)");
  EXPECT_EQ(ErrorOf(kMinimal + "    on_delte: soft\n"),
            "test.yaml:12:5: unknown key 'on_delte' in pipelines[0] (known: name, source, table, "
            "key, columns, filter, explode, on_delete, on_ttl_delete, deleted_column, deleted_at_column, "
            "on_error, on_change); did you mean 'on_delete'?");
  EXPECT_NE(ErrorOf(kMinimal + "    on_change: rebuild\n").find("on_change"), std::string::npos);
}

TEST(ConfigLoader, WrongTypesNameTheKey) {
  std::string text = kMinimal;
  text.replace(text.find("key: id"), 7, "key: {id: 1}");
  EXPECT_EQ(ErrorOf(text),
            "test.yaml:8:10: pipelines[0].key: expected a column name or a list of column names");

  text = kMinimal;
  text.replace(text.find("key: id"), 7, "key: [id, [bio]]");
  EXPECT_EQ(ErrorOf(text), "test.yaml:8:15: pipelines[0].key: expected a list of column names");

  EXPECT_EQ(ErrorOf(R"yaml(version: 1
sources:
  users:
    table: [users]
    snapshot:
      segments: many
      enabled: maybe
    stream:
      on_trimmed: resnapshott
pipelines: profile
)yaml"),
            "test.yaml:4:12: sources.users.table: expected a single value, not a list\n"
            "test.yaml:6:17: sources.users.snapshot.segments: expected an integer from 1 to "
            "1000000, got 'many'\n"
            "test.yaml:7:16: sources.users.snapshot.enabled: expected true or false, got "
            "'maybe'\n"
            "test.yaml:9:19: sources.users.stream.on_trimmed: expected one of stop, resnapshot, "
            "incremental_export, got 'resnapshott'; did you mean 'resnapshot'?\n"
            "test.yaml:10:12: pipelines: expected a list of pipelines, or a mapping from pipeline "
            "name to its settings");
}

TEST(ConfigLoader, ColumnFormsAndTheirErrors) {
  std::string text = kMinimal;
  text.replace(text.find("VARCHAR(210) <- bio"), 19, "bio");
  EXPECT_EQ(ErrorOf(text),
            "test.yaml:11:12: pipelines[0].columns.bio: expected 'TYPE <- expression' (e.g. "
            "'TEXT <- name') or a mapping {type, value}");

  text = kMinimal;
  text.replace(text.find("VARCHAR(210) <- bio"), 19, "VARCHA(210) <- bio");
  EXPECT_EQ(ErrorOf(text).rfind(
                "test.yaml:11:12: pipelines[0].columns.bio: unsupported column type \"VARCHA(210)\"",
                0),
            0u);

  text = kMinimal;
  text.replace(text.find("VARCHAR(210) <- bio"), 19, "{type: text, valu: bio}");
  EXPECT_EQ(ErrorOf(text),
            "test.yaml:11:12: pipelines[0].columns.bio: missing required key 'value'\n"
            "test.yaml:11:25: unknown key 'valu' in pipelines[0].columns.bio (known: type, value, "
            "on_overflow, default); did you mean 'value'?");

  text = kMinimal;
  text.replace(text.find("VARCHAR(210) <- bio"), 19, "{type: text, value: bio, on_overflow: truncate}");
  EXPECT_EQ(ErrorOf(text),
            "test.yaml:11:50: pipelines[0].columns.bio.on_overflow: applies only to VARCHAR(n) "
            "columns (this one is TEXT)");

  text = kMinimal;
  text.replace(text.find("VARCHAR(210) <- bio"), 19, "{type: boolean, value: bio, default: perhaps}");
  EXPECT_EQ(ErrorOf(text),
            "test.yaml:11:49: pipelines[0].columns.bio.default: expected true, false or null for "
            "a BOOLEAN column");

  text = kMinimal;
  text.replace(text.find("VARCHAR(210) <- bio"), 19, "TEXT <-  ");
  EXPECT_EQ(ErrorOf(text),
            "test.yaml:11:12: pipelines[0].columns.bio: the expression is empty (e.g. 'TEXT <- "
            "bio')");

  text = kMinimal;
  text.replace(text.find("VARCHAR(210) <- bio"), 19, "<- bio");
  EXPECT_EQ(ErrorOf(text),
            "test.yaml:11:12: pipelines[0].columns.bio: the column type is missing (e.g. 'TEXT <- "
            "bio')");

  EXPECT_EQ(ErrorOf(kMinimal + "      id: TEXT <- id\n"),
            "test.yaml:12:7: pipelines[0].columns: column 'id' is defined twice (first at line "
            "10)");
}

TEST(ConfigLoader, TextDefaultsAreQuotedLiterals) {
  std::string text = kMinimal;
  text.replace(text.find("VARCHAR(210) <- bio"), 19, "{type: text, value: bio, default: \"it's\"}");
  const Config config = Load(text);
  ASSERT_EQ(config.pipelines.size(), 1u);
  EXPECT_EQ(config.pipelines[0].table.columns[1].default_sql, "'it''s'");
}

TEST(ConfigLoader, ArrayColumnsAndTheirDefaults) {
  std::string text = kMinimal;
  text.replace(text.find("VARCHAR(210) <- bio"), 19, "{type: \"integer[]\", value: \"split(bio, ',')\", default: \"{1,2}\"}");
  const Config config = Load(text);
  ASSERT_EQ(config.pipelines.size(), 1u);
  EXPECT_EQ(config.pipelines[0].table.columns[1].type.ToSql(), "INTEGER[]");
  EXPECT_EQ(config.pipelines[0].table.columns[1].default_sql, "'{1,2}'");
}

TEST(ConfigLoader, SeveralProblemsOneLineEachInFileOrder) {
  const std::string message = ErrorOf(R"yaml(version: 2
sources:
  users:
    tabel: users
postgres:
  sslmode: sometimes
pipelines:
  - name: profile
    source: userz
    key: idd
    columns:
      id: UUID <- id
)yaml");
  EXPECT_EQ(message,
            "test.yaml:1:10: version: unsupported version '2' (this ddb2pg reads version: 1)\n"
            "test.yaml:4:5: unknown key 'tabel' in sources.users (known: table, region, endpoint, "
            "streams_endpoint, profile, access_key_id, secret_access_key, session_token, "
            "snapshot, stream); did you mean 'table'?\n"
            "test.yaml:4:5: sources.users: missing required key 'table'\n"
            "test.yaml:6:12: postgres.sslmode: expected one of disable, allow, prefer, require, "
            "verify-ca, verify-full, got 'sometimes'\n"
            "test.yaml:9:13: pipelines[0].source: no source named 'userz' (sources: users); did "
            "you mean 'users'?\n"
            "test.yaml:10:10: pipelines[0].key: 'idd' is not one of the columns (id)");
}

TEST(ConfigLoader, RequiredSections) {
  EXPECT_EQ(ErrorOf("version: 1\n"),
            "test.yaml:1:1: missing required key 'sources' (the DynamoDB tables to read)\n"
            "test.yaml:1:1: missing required key 'pipelines' (what to write where)");
  EXPECT_EQ(ErrorOf("sources: {}\npipelines: []\n"),
            "test.yaml:1:1: missing required key 'version' (this ddb2pg reads version: 1)\n"
            "test.yaml:1:10: sources: at least one source is required\n"
            "test.yaml:2:12: pipelines: at least one pipeline is required");
  EXPECT_EQ(ErrorOf(""), "test.yaml: the file is empty: expected version: 1, sources, pipelines");
  EXPECT_EQ(ErrorOf("- just\n- a list\n"),
            "test.yaml:1:1: the file: expected a mapping of version, sources, postgres, metrics, "
            "runtime, pipelines");
}

TEST(ConfigLoader, YamlSyntaxErrorHasItsPosition) {
  const std::string message = ErrorOf("version: 1\nsources:\n  users: {table: users\n");
  EXPECT_EQ(message.rfind("test.yaml:4:1: YAML syntax error: ", 0), 0u) << message;
}

TEST(ConfigLoader, EnvironmentSubstitution) {
  const std::string text = R"yaml(version: 1
sources:
  users:
    table: ${TABLE:-users}
    region: ${AWS_REGION:-}
    snapshot:
      segments: ${SEGMENTS}
postgres:
  url: ${DATABASE_URL:-}
pipelines:
  - name: profile
    key: id
    filter: "operation() != 'delete' and cost != '$$5'"
    columns:
      id: UUID <- id
)yaml";
  Config config = Load(text, {{"SEGMENTS", "12"}, {"DATABASE_URL", "postgresql://u@h/db"}});
  ASSERT_EQ(config.sources.size(), 1u);
  EXPECT_EQ(config.sources[0].table, "users");
  EXPECT_EQ(config.sources[0].region, "");
  EXPECT_EQ(config.sources[0].snapshot.segments, 12);
  EXPECT_EQ(config.postgres.conninfo, "postgresql://u@h/db");
  EXPECT_EQ(config.pipelines[0].filter, "operation() != 'delete' and cost != '$5'");

  config = Load(text, {{"SEGMENTS", "2"}, {"TABLE", "people"}, {"AWS_REGION", "us-east-1"}});
  EXPECT_EQ(config.sources[0].table, "people");
  EXPECT_EQ(config.sources[0].region, "us-east-1");
  EXPECT_EQ(config.postgres.conninfo, "");

  EXPECT_EQ(ErrorOf(text),
            "test.yaml:7:17: sources.users.snapshot.segments: environment variable SEGMENTS is "
            "not set (write ${SEGMENTS:-} to allow it to be unset, or ${SEGMENTS:-default} for a "
            "default)");
  // Substitution happens before conversion: a variable holding a bad number is a type error.
  EXPECT_EQ(ErrorOf(text, {{"SEGMENTS", "lots"}}),
            "test.yaml:7:17: sources.users.snapshot.segments: expected an integer from 1 to "
            "1000000, got 'lots'");
}

TEST(ConfigLoader, SecretsNeverAppearInErrors) {
  const std::string message = ErrorOf(R"yaml(version: 1
sources:
  users:
    table: users
    access_key_id: AKIAVERYSECRET
postgres:
  url: ${PGURL}
  conninfo: password=hunter2
pipelines:
  - name: profile
    key: id
    columns:
      id: UUID <- id
)yaml");
  EXPECT_EQ(message.find("AKIAVERYSECRET"), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  EXPECT_NE(message.find("test.yaml:5:20: sources.users.access_key_id: access_key_id and "
                         "secret_access_key go together"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("test.yaml:7:8: postgres.url: environment variable PGURL is not set"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("test.yaml:8:13: postgres: give either url or conninfo, not both"),
            std::string::npos)
      << message;
}

TEST(ConfigLoader, PipelineCrossChecks) {
  // Two sources: each pipeline must name one; names, tables and sources are checked.
  EXPECT_EQ(ErrorOf(R"yaml(version: 1
sources:
  users: {table: users}
  orders: {table: orders}
pipelines:
  - name: profile
    key: id
    columns: {id: UUID <- id}
  - name: profile
    source: users
    table: public.profile
    key: id
    columns: {id: UUID <- id}
  - name: orders
    source: orders
    table: profile
    key: id
    columns: {id: UUID <- id}
)yaml"),
            "test.yaml:6:5: pipelines[0]: missing required key 'source' (there are several: users, "
            "orders)\n"
            "test.yaml:9:11: pipeline name 'profile' is used twice (first at line 6)\n"
            "test.yaml:11:12: pipelines[1].table: table public.profile is already written by "
            "pipeline 'profile' (line 6); each table takes one pipeline\n"
            "test.yaml:16:12: pipelines[2].table: table public.profile is already written by "
            "pipeline 'profile' (line 6); each table takes one pipeline");

  EXPECT_EQ(ErrorOf(R"yaml(version: 1
sources:
  - name: users
    table: users
  - name: users
    table: people
pipelines:
  - name: p
    table: a.b.c
    key: [id, id]
    columns: {id: UUID <- id}
)yaml"),
            "test.yaml:5:11: source name 'users' is used twice (first at line 3)\n"
            "test.yaml:9:12: pipelines[0].table: expected TABLE or SCHEMA.TABLE, got 'a.b.c'\n"
            "test.yaml:10:15: pipelines[0].key: column 'id' is listed twice");
}

TEST(ConfigLoader, ListedSourceProblemsAreReportedOnce) {
  EXPECT_EQ(ErrorOf(R"yaml(version: 1
sources:
  - table: ${TABLE}
  - region: eu-west-1
pipelines:
  - name: p
    source: users
    key: id
    columns: {id: UUID <- id}
)yaml"),
            "test.yaml:3:12: sources[0].table: environment variable TABLE is not set (write "
            "${TABLE:-} to allow it to be unset, or ${TABLE:-default} for a default)\n"
            "test.yaml:4:5: sources[1]: missing required key 'table'");
}

TEST(ConfigLoader, SoftDeleteNeedsItsColumns) {
  EXPECT_EQ(ErrorOf(kMinimal + "    on_delete: soft\n"),
            "test.yaml:12:16: pipelines[0]: on_delete: soft needs a BOOLEAN column 'deleted' "
            "among the columns (add it, name another with deleted_column, or use on_delete: hard "
            "or ignore)\n"
            "test.yaml:12:16: pipelines[0]: on_delete: soft needs a TIMESTAMPTZ column "
            "'deleted_at' among the columns (add it, name another with deleted_at_column, or use "
            "on_delete: hard or ignore)");

  EXPECT_EQ(ErrorOf(kMinimal +
                    "      deleted: TEXT <- deleted\n"
                    "      deleted_at: DATE <- deletedAt\n"
                    "    on_delete: soft\n"),
            "test.yaml:12:16: pipelines[0].columns.deleted: the soft-delete column must be "
            "BOOLEAN, not TEXT\n"
            "test.yaml:13:19: pipelines[0].columns.deleted_at: the soft-delete column must be "
            "TIMESTAMPTZ, not DATE");

  EXPECT_EQ(ErrorOf(kMinimal + "    on_delete: soft\n    deleted_column: gone\n"),
            "test.yaml:12:16: pipelines[0]: on_delete: soft needs a TIMESTAMPTZ column "
            "'deleted_at' among the columns (add it, name another with deleted_at_column, or use "
            "on_delete: hard or ignore)\n"
            "test.yaml:13:21: pipelines[0]: on_delete: soft needs a BOOLEAN column 'gone' among "
            "the columns (add it, name another with deleted_column, or use on_delete: hard or "
            "ignore)");

  EXPECT_EQ(ErrorOf(kMinimal + "    on_delete: hard\n    deleted_column: gone\n"),
            "test.yaml:13:21: pipelines[0].deleted_column: applies only when on_delete or "
            "on_ttl_delete is soft (this pipeline has on_delete: hard, on_ttl_delete: hard)");

  const Config config = Load(kMinimal +
                             "      gone: BOOLEAN <- deleted\n"
                             "      gone_at: TIMESTAMPTZ <- deletedAt\n"
                             "    on_delete: soft\n"
                             "    deleted_column: gone\n"
                             "    deleted_at_column: gone_at\n");
  ASSERT_EQ(config.pipelines.size(), 1u);
  EXPECT_EQ(config.pipelines[0].table.delete_policy, DeletePolicy::kSoft);
  EXPECT_EQ(config.pipelines[0].table.deleted_column, "gone");
  EXPECT_EQ(config.pipelines[0].table.deleted_at_column, "gone_at");
}

TEST(ConfigLoader, OnTtlDeleteDefaultsToOnDelete) {
  for (const auto& [on_delete, policy] :
       {std::pair<std::string, DeletePolicy>{"hard", DeletePolicy::kHard}, {"ignore", DeletePolicy::kIgnore}}) {
    const Config config = Load(kMinimal + "    on_delete: " + on_delete + "\n");
    ASSERT_EQ(config.pipelines.size(), 1u);
    const model::TableSpec& table = config.pipelines[0].table;
    EXPECT_EQ(table.DeletePolicyFor(/*ttl_delete=*/true), policy) << on_delete;
    EXPECT_EQ(table.DeletePolicyFor(/*ttl_delete=*/false), policy) << on_delete;
    EXPECT_FALSE(table.SoftDeletes());
  }
  // Without on_delete either: both hard.
  const Config config = Load(kMinimal);
  EXPECT_EQ(config.pipelines[0].table.DeletePolicyFor(true), DeletePolicy::kHard);
}

TEST(ConfigLoader, OnTtlDeleteIsParsed) {
  const std::string columns =
      "      deleted: BOOLEAN <- null\n"
      "      deleted_at: TIMESTAMPTZ <- null\n"
      "      expired: BOOLEAN <- ttl_delete()\n"
      "      last_change: TEXT <- operation()\n";
  // Archive on expiry, delete on user action.
  Config config = Load(kMinimal + columns + "    on_delete: hard\n    on_ttl_delete: soft\n");
  ASSERT_EQ(config.pipelines.size(), 1u);
  const model::TableSpec* table = &config.pipelines[0].table;
  EXPECT_EQ(table->DeletePolicyFor(false), DeletePolicy::kHard);
  EXPECT_EQ(table->DeletePolicyFor(true), DeletePolicy::kSoft);
  EXPECT_TRUE(table->SoftDeletes());
  // The columns that tell the kind of change are marked for the sink's soft delete; ttl_delete()
  // is never NULL.
  EXPECT_FALSE(table->columns[table->ColumnIndex("bio")].reads_change_kind);
  EXPECT_TRUE(table->columns[table->ColumnIndex("expired")].reads_change_kind);
  EXPECT_FALSE(table->columns[table->ColumnIndex("expired")].can_be_null);
  EXPECT_TRUE(table->columns[table->ColumnIndex("last_change")].reads_change_kind);

  // The reverse: keep user deletes, drop expired rows; and ignore, case-insensitive.
  config = Load(kMinimal + columns + "    on_delete: soft\n    on_ttl_delete: hard\n");
  table = &config.pipelines[0].table;
  EXPECT_EQ(table->DeletePolicyFor(false), DeletePolicy::kSoft);
  EXPECT_EQ(table->DeletePolicyFor(true), DeletePolicy::kHard);
  config = Load(kMinimal + "    on_delete: hard\n    on_ttl_delete: Ignore\n");
  EXPECT_EQ(config.pipelines[0].table.DeletePolicyFor(true), DeletePolicy::kIgnore);

  // deleted_column is accepted when only TTL deletes are soft.
  config = Load(kMinimal +
                "      gone: BOOLEAN <- null\n"
                "      gone_at: TIMESTAMPTZ <- null\n"
                "    on_ttl_delete: soft\n"
                "    deleted_column: gone\n"
                "    deleted_at_column: gone_at\n");
  EXPECT_EQ(config.pipelines[0].table.deleted_column, "gone");
  EXPECT_EQ(config.pipelines[0].table.deleted_at_column, "gone_at");
}

TEST(ConfigLoader, OnTtlDeleteErrorsNameTheKeyAndLine) {
  EXPECT_EQ(ErrorOf(kMinimal + "    on_delete: hard\n    on_ttl_delete: archive\n"),
            "test.yaml:13:20: pipelines[0].on_ttl_delete: expected one of soft, hard, ignore, got "
            "'archive'");
  EXPECT_EQ(ErrorOf(kMinimal + "    on_ttl_delete: sofft\n"),
            "test.yaml:12:20: pipelines[0].on_ttl_delete: expected one of soft, hard, ignore, got "
            "'sofft'; did you mean 'soft'?");
  // Soft TTL deletes need the soft-delete columns even when user deletes are hard; the error
  // points at on_ttl_delete.
  EXPECT_EQ(ErrorOf(kMinimal + "    on_delete: hard\n    on_ttl_delete: soft\n"),
            "test.yaml:13:20: pipelines[0]: on_ttl_delete: soft needs a BOOLEAN column 'deleted' "
            "among the columns (add it, name another with deleted_column, or use on_ttl_delete: "
            "hard or ignore)\n"
            "test.yaml:13:20: pipelines[0]: on_ttl_delete: soft needs a TIMESTAMPTZ column "
            "'deleted_at' among the columns (add it, name another with deleted_at_column, or use "
            "on_ttl_delete: hard or ignore)");
  EXPECT_EQ(ErrorOf(kMinimal + "      deleted: TEXT <- null\n      deleted_at: TIMESTAMPTZ <- null\n"
                               "    on_ttl_delete: soft\n"),
            "test.yaml:12:16: pipelines[0].columns.deleted: the soft-delete column must be "
            "BOOLEAN, not TEXT");
}

TEST(ConfigLoader, ExpressionErrorsPointAtTheColumnValue) {
  std::string text = kMinimal;
  text.replace(text.find("VARCHAR(210) <- bio"), 19, "TEXT <- coalesce(bio, name");
  const std::string message = ErrorOf(text);
  EXPECT_EQ(message.rfind("test.yaml:11:12: pipelines[0].columns.bio: ", 0), 0u) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;

  text = kMinimal + "    filter: nosuchfunction(id)\n";
  const std::string filter_message = ErrorOf(text);
  EXPECT_EQ(filter_message.rfind("test.yaml:12:13: pipelines[0].filter: ", 0), 0u)
      << filter_message;

  // Every bad expression is reported, each at its own line (and only those: `null` is fine).
  text = kMinimal + "      a: TEXT <- lower(\n      b: TEXT <- upper(a, b)\n      c: TEXT <- null\n";
  const std::string both = ErrorOf(text);
  EXPECT_EQ(both.rfind("test.yaml:12:10: pipelines[0].columns.a: ", 0), 0u) << both;
  EXPECT_NE(both.find("\ntest.yaml:13:10: pipelines[0].columns.b: "), std::string::npos) << both;
  EXPECT_EQ(both.find("columns.c"), std::string::npos) << both;
  EXPECT_EQ(std::count(both.begin(), both.end(), '\n'), 1) << both;
}

// A child table: `explode` and the columns that read `element` and `index`.
const std::string kExploded = R"yaml(version: 1
sources:
  users:
    table: users
pipelines:
  - name: pronouns
    table: profile_pronouns
    key: [profile_id, position]
    explode: pronouns
    columns:
      profile_id: UUID <- id
      position: INTEGER <- index
      pronoun: TEXT <- element.pronoun
)yaml";

TEST(ConfigLoader, ExplodeIsReadWithTheElementInTheColumns) {
  const Config config = Load(kExploded);
  ASSERT_EQ(config.pipelines.size(), 1u);
  EXPECT_EQ(config.pipelines[0].explode, "pronouns");
  EXPECT_EQ(config.pipelines[0].explode_line, 9);
  // Without explode a pipeline is one row per record, as before.
  EXPECT_EQ(Load(kMinimal).pipelines[0].explode, "");
}

TEST(ConfigLoader, ExplodeErrorsNameTheKeyAndLine) {
  // A bad expression: at the explode line.
  std::string text = kExploded;
  text.replace(text.find("explode: pronouns"), 17, "explode: pronouns[");
  std::string message = ErrorOf(text);
  EXPECT_EQ(message.rfind("test.yaml:9:14: pipelines[0].explode: \"pronouns[\": position", 0), 0u) << message;

  // A key that does not tell the elements apart: every element would write one row.
  text = kExploded;
  text.replace(text.find("key: [profile_id, position]"), 27, "key: profile_id");
  message = ErrorOf(text);
  EXPECT_EQ(message.rfind("test.yaml:9:14: pipelines[0].explode: the key (profile_id) must include a column that "
                          "reads `index` or `element`",
                          0),
            0u)
      << message;

  // `index` is a value, not a map; the error points at the column.
  text = kExploded;
  text.replace(text.find("INTEGER <- index"), 16, "INTEGER <- index.n");
  message = ErrorOf(text);
  EXPECT_EQ(message.rfind("test.yaml:12:17: pipelines[0].columns.position: ", 0), 0u) << message;
  EXPECT_NE(message.find("'index' is the element's position"), std::string::npos) << message;

  // Empty, and not a string.
  text = kExploded;
  text.replace(text.find("explode: pronouns"), 17, "explode: ''");
  message = ErrorOf(text);
  EXPECT_NE(message.find("pipelines[0].explode: expected an attribute"), std::string::npos) << message;
  text = kExploded;
  text.replace(text.find("explode: pronouns"), 17, "explode: [a, b]");
  message = ErrorOf(text);
  EXPECT_NE(message.find("pipelines[0].explode"), std::string::npos) << message;
}

TEST(ConfigLoader, RangesAndFormats) {
  EXPECT_EQ(ErrorOf(R"yaml(version: 1
sources:
  users:
    table: u
    endpoint: localhost:8000
postgres:
  batch: {max_rows: 0, max_bytes: 12 parsecs}
metrics:
  listen: everywhere
pipelines:
  - name: p
    key: id
    columns: {id: UUID <- id}
)yaml"),
            "test.yaml:4:12: sources.users.table: 'u' is not a DynamoDB table name (3 to 255 "
            "letters, digits, '_', '-', '.')\n"
            "test.yaml:5:15: sources.users.endpoint: expected a URL starting with http:// or "
            "https://\n"
            "test.yaml:7:21: postgres.batch.max_rows: expected an integer from 1 to 10000000, got "
            "'0'\n"
            "test.yaml:7:35: postgres.batch.max_bytes: expected a size in bytes from 1024 to "
            "1073741824 (units B, kB, KiB, MB, MiB, GB, GiB allowed), got '12 parsecs'\n"
            "test.yaml:9:11: metrics.listen: expected HOST:PORT (e.g. 127.0.0.1:9187, "
            "0.0.0.0:9187), or \"\" to turn the endpoint off");
}

TEST(ConfigLoader, OddShapesAreErrorsNotCrashes) {
  const std::vector<std::string> documents = {
      "version: {a: 1}\nsources: [1, 2]\npipelines: [3]\n",
      "version: 1\nsources: {users: [table]}\npipelines: {p: [1]}\n",
      "version: 1\nsources: {users: {table: users, snapshot: [1], stream: x}}\n"
      "pipelines: [{name: [p], key: id, columns: [id]}]\n",
      "version: 1\nsources: {users: {table: users}}\npipelines:\n  - name: p\n    key: id\n"
      "    columns: {id: [UUID], ? [a, b] : TEXT <- a, c: {type: [x], value: {y: 1}}}\n",
      "version: 1\nsources: {users: {table: users}}\npipelines:\n  - name: p\n    key: id\n"
      "    on_delete: [soft]\n    filter: {a: b}\n    columns: {id: UUID <- id}\n",
      "version: 1\nsources: {? [x] : {table: users}}\npipelines: {? {a: b} : {key: id}}\n",
      "version: 1\npostgres: [1]\nmetrics: 5\nsources: {users: {table: users}}\n"
      "pipelines: {p: {key: id, columns: {id: UUID <- id}}}\n",
      "&a version: 1\nsources: {users: {table: users}}\npipelines: {p: {key: *a, columns: {id: UUID <- id}}}\n",
  };
  for (const std::string& document : documents) {
    SCOPED_TRACE(document);
    core::Result<Config> config = LoadConfigText(document, "odd.yaml", processor::PlanChecker(), FakeEnv({}));
    ASSERT_FALSE(config.ok());
    const std::string& message = config.status().message();
    // One "odd.yaml:LINE:COL: ..." line per problem.
    size_t start = 0;
    while (start < message.size()) {
      const size_t end = std::min(message.find('\n', start), message.size());
      EXPECT_EQ(message.compare(start, 9, "odd.yaml:"), 0) << message.substr(start, end - start);
      start = end + 1;
    }
  }
}

TEST(ConfigLoader, MissingFileIsOneClearLine) {
  core::Result<Config> config = LoadConfigFile("/nonexistent/ddb2pg.yaml", processor::PlanChecker());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "/nonexistent/ddb2pg.yaml: cannot read the configuration file");
}

}  // namespace
}  // namespace ddb2pg::config

namespace ddb2pg::config {
namespace {

std::string WithSnapshot(const std::string& snapshot, const std::string& stream = "") {
  std::string text = kMinimal;
  text.replace(text.find("    table: users\n") + 17, 0, "    snapshot:\n" + snapshot + stream);
  return text;
}

TEST(ConfigLoader, SnapshotFromExport) {
  const Config config = Load(WithSnapshot(
      "      from: export\n      export:\n        manifest: s3://b/p/AWSDynamoDB/1-a/manifest-summary.json\n"));
  EXPECT_EQ(config.sources[0].snapshot.from, "export");
  EXPECT_EQ(config.sources[0].snapshot.export_manifest, "s3://b/p/AWSDynamoDB/1-a/manifest-summary.json");
  EXPECT_EQ(Load(kMinimal).sources[0].snapshot.from, "scan");

  EXPECT_EQ(ErrorOf(WithSnapshot("      from: export\n")),
            "test.yaml:6:13: sources.users.snapshot.from: export needs sources.users.snapshot.export.s3_bucket "
            "(ddb2pg requests an export into it) or sources.users.snapshot.export.manifest "
            "(s3://bucket/…/AWSDynamoDB/<export id>/manifest-summary.json)");
  const Config requested = Load(WithSnapshot("      from: export\n      export:\n        s3_bucket: my-exports\n"
                                             "        s3_prefix: ddb2pg/users/\n"));
  EXPECT_EQ(requested.sources[0].snapshot.export_bucket, "my-exports");
  EXPECT_EQ(requested.sources[0].snapshot.export_prefix, "ddb2pg/users/");
  EXPECT_EQ(ErrorOf(WithSnapshot("      from: export\n      export:\n        s3_bucket: s3://my-exports/x\n")),
            "test.yaml:8:20: sources.users.snapshot.export.s3_bucket: expected a bucket name (no s3://, no slash; "
            "the key prefix is s3_prefix)");
  EXPECT_NE(ErrorOf(WithSnapshot("      from: export\n      export:\n        s3_bucket: b\n        manifest: "
                                 "s3://b/m.json\n"))
                .find("not both"),
            std::string::npos);
  EXPECT_EQ(ErrorOf(WithSnapshot("      from: export\n      export:\n        manifest: b/manifest-summary.json\n")),
            "test.yaml:8:19: sources.users.snapshot.export.manifest: expected "
            "s3://bucket/…/AWSDynamoDB/<export id>/manifest-summary.json");
  EXPECT_EQ(ErrorOf(WithSnapshot("      from: export\n      export:\n        manifest: s3://b/m.json\n",
                                 "    stream:\n      on_trimmed: resnapshot\n")),
            "test.yaml:10:19: sources.users.stream.on_trimmed: resnapshot would read the same export again, older "
            "than the changes lost; with snapshot.from: export use on_trimmed: stop");
  EXPECT_NE(ErrorOf(WithSnapshot("      from: dump\n")).find("from"), std::string::npos);
  // on_trimmed: incremental_export names the bucket setting it needs; with it, it is accepted
  // beside a Scan snapshot or an export one.
  EXPECT_EQ(ErrorOf(WithSnapshot("      segments: 2\n", "    stream:\n      on_trimmed: incremental_export\n")),
            "test.yaml:8:19: sources.users.stream.on_trimmed: incremental_export needs "
            "sources.users.snapshot.export.s3_bucket (the bucket DynamoDB writes the incremental exports to)");
  const Config bridged = Load(WithSnapshot("      from: export\n      export:\n        s3_bucket: b\n",
                                           "    stream:\n      on_trimmed: incremental_export\n"));
  EXPECT_EQ(bridged.sources[0].stream.on_trimmed, "incremental_export");
  const Config scanned = Load(WithSnapshot("      export:\n        s3_bucket: b\n        s3_prefix: gaps/\n",
                                           "    stream:\n      on_trimmed: incremental_export\n"));
  EXPECT_EQ(scanned.sources[0].snapshot.from, "scan");
  EXPECT_EQ(scanned.sources[0].snapshot.export_prefix, "gaps/");
}

}  // namespace
}  // namespace ddb2pg::config
