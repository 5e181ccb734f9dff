#include "processor/plan_checker.h"
#include "app/cli.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "app/demo.h"
#include "app/exit_codes.h"
#include "app/export_request.h"
#include "app/generator.h"
#include "app/logging.h"
#include "app/preview_command.h"
#include "app/progress_commands.h"
#include "app/run_pipelines.h"
#include "app/status_summary.h"
#include "aws/credential_parsing.h"
#include "app/version.h"
#include "app/wiring.h"
#include "config/config.h"
#include "sink/pg_connection.h"
#include "sink/pg_result.h"
#include "sink/system/export_request_sql.h"
#include "sink/system/pipeline_registry.h"
#include "sink/system/system_status.h"
#include "sink/schema_manager.h"
#include "sink/sql_text.h"

namespace ddb2pg::app {
namespace {

// One clear line on stderr (the first line of the message; --verbose prints all of it).
int Fail(const core::Status& status, bool verbose, const std::string& what) {
  std::string message = status.message();
  if (!verbose && what.empty()) {
    // Multi-line messages (schema problems, several config errors) are printed whole: each line
    // is one problem.
  }
  std::fprintf(stderr, "ddb2pg: %s%s%s\n", what.c_str(), what.empty() ? "" : ": ", message.c_str());
  if (verbose) std::fprintf(stderr, "  (status %s)\n", std::string(core::StatusCodeName(status.code())).c_str());
  return static_cast<int>(ExitCodeFor(status));
}

core::Result<std::unique_ptr<Wiring>> LoadAndWire(const std::string& path, bool with_clients) {
  auto loaded = config::LoadConfigFile(path, processor::PlanChecker());
  if (!loaded.ok()) return loaded.status();
  return Wire(std::move(loaded).value(), with_clients);
}

int CmdValidate(const std::string& path, bool offline, bool verbose) {
  auto wiring = LoadAndWire(path, !offline);
  if (!wiring.ok()) return Fail(wiring.status(), verbose, "");
  auto& w = **wiring;
  std::printf("%s: configuration ok (%zu source%s, %zu pipeline%s)\n", path.c_str(), w.config.sources.size(),
              w.config.sources.size() == 1 ? "" : "s", w.plans.size(), w.plans.size() == 1 ? "" : "s");
  for (const auto& warning : PostgresWarnings(w.conninfo)) std::printf("  warning: %s\n", warning.c_str());
  if (offline) return 0;
  int problems = 0;
  for (auto& source : w.sources) {
    // Which provider supplied the credentials and until when; never the secret or the token.
    const aws::Credentials& credentials = source.aws.credentials;
    std::string expiry = "do not expire";
    if (credentials.expiration) {
      const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(*credentials.expiration -
                                                                            std::chrono::system_clock::now());
      expiry = "expire " + aws::FormatIso8601(*credentials.expiration) + " (in " + std::to_string(minutes.count()) +
               " min; refreshed ahead in the background)";
    }
    std::printf("  source %s: AWS credentials %s, %s; region %s\n", source.config->name.c_str(),
                credentials.Describe().c_str(), expiry.c_str(), source.aws.region.c_str());
    auto described = source.table->DescribeTable(source.config->table);
    if (!described.ok()) {
      std::printf("  source %s: table %s: %s\n", source.config->name.c_str(), source.config->table.c_str(),
                  described.status().ToString().c_str());
      ++problems;
      continue;
    }
    if (!described->stream_enabled || described->stream_view_type != "NEW_AND_OLD_IMAGES") {
      std::printf("  source %s: table %s has %s; ddb2pg needs NEW_AND_OLD_IMAGES (fix: aws dynamodb update-table "
                  "--table-name %s --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES, "
                  "or set stream.enable_stream: true)\n",
                  source.config->name.c_str(), source.config->table.c_str(),
                  described->stream_enabled ? ("stream view " + described->stream_view_type).c_str() : "no stream",
                  source.config->table.c_str());
      ++problems;
    } else {
      std::printf("  source %s: table %s ok (~%lld items, stream %s)\n", source.config->name.c_str(),
                  source.config->table.c_str(), static_cast<long long>(described->item_count),
                  described->latest_stream_arn.c_str());
    }
  }
  sink::SchemaManager schema(w.conninfo);
  std::vector<sink::SchemaProblem> warnings;
  auto checked = schema.Check(w.tables(), &warnings);
  if (!checked.ok()) {
    std::printf("  postgres: %s\n", checked.status().ToString().c_str());
    return static_cast<int>(ExitCodeFor(checked.status()));
  }
  for (const auto& warning : warnings) {
    std::printf("  postgres: %s: warning: %s\n    fix: %s\n", warning.table.c_str(), warning.problem.c_str(),
                warning.fix_sql.c_str());
  }
  for (const auto& problem : *checked) {
    std::printf("  postgres: %s: %s\n    fix: %s\n", problem.table.c_str(), problem.problem.c_str(),
                problem.fix_sql.c_str());
    ++problems;
  }
  if (checked->empty()) std::printf("  postgres: %zu target table%s ok\n", w.plans.size(), w.plans.size() == 1 ? "" : "s");
  return problems == 0 ? 0 : static_cast<int>(ExitCode::kCheckFailed);
}

int CmdInitSchema(const std::string& path, bool dry_run, bool verbose) {
  auto wiring = LoadAndWire(path, false);
  if (!wiring.ok()) return Fail(wiring.status(), verbose, "");
  auto tables = (*wiring)->tables();
  if (dry_run) {
    for (const auto& statement : sink::SchemaManager::CreateStatements(tables)) std::printf("%s\n", statement.c_str());
    return 0;
  }
  sink::SchemaManager schema((*wiring)->conninfo);
  core::Status status = schema.InitSchema(tables);
  if (!status.ok()) return Fail(status, verbose, "init-schema");
  std::vector<sink::SchemaProblem> warnings;
  auto checked = schema.Check(tables, &warnings);
  if (!checked.ok()) return Fail(checked.status(), verbose, "init-schema");
  for (const auto& warning : warnings) {
    std::printf("%s: warning: %s\n  fix: %s\n", warning.table.c_str(), warning.problem.c_str(),
                warning.fix_sql.c_str());
  }
  for (const auto& problem : *checked) {
    std::printf("%s: %s\n  fix: %s\n", problem.table.c_str(), problem.problem.c_str(), problem.fix_sql.c_str());
  }
  if (!checked->empty()) return static_cast<int>(ExitCode::kCheckFailed);
  std::printf("schema ready: ddb2pg.checkpoints, ddb2pg.dead_letters and %zu target table%s\n", tables.size(),
              tables.size() == 1 ? "" : "s");
  return 0;
}

int CmdStatus(const std::string& path, const std::string& only_source, bool verbose) {
  auto wiring = LoadAndWire(path, false);
  if (!wiring.ok()) return Fail(wiring.status(), verbose, "");
  auto& w = **wiring;
  std::string names;
  bool found = only_source.empty();
  for (const auto& source : w.sources) {
    names += (names.empty() ? "" : ", ") + source.config->name;
    found = found || source.config->name == only_source;
  }
  if (!found) {
    return Fail(core::Status::NotFound("no source " + only_source + " in " + path + " (its sources: " + names + ")"),
                verbose, "status");
  }
  auto connected = sink::PgConnection::Connect(w.conninfo, "ddb2pg status");
  if (!connected.ok()) return Fail(connected.status(), verbose, "status");
  sink::PgConnection& db = **connected;
  int exit_code = 0;
  auto cell = [](const sink::PgResult& result, int row, int column) -> std::string {
    return PQgetisnull(result.get(), row, column) ? "-" : PQgetvalue(result.get(), row, column);
  };
  // Many sources: one line each, partitions collapsed (app/status_summary.h).
  const bool grouped = only_source.empty() && w.sources.size() > StatusSummary::kDetailedSourcesMax;
  std::vector<SourceSummary> summaries;
  for (const auto& source : w.sources) {
    if (!only_source.empty() && source.config->name != only_source) continue;
    SourceSummary summary;
    summary.name = source.config->name;
    summary.table = source.config->table;
    if (!grouped) {
      std::printf("source %s (table %s) — checkpoint %s\n", source.config->name.c_str(), source.config->table.c_str(),
                  source.checkpoint_id.c_str());
    }
    auto partitions = sink::SystemStatus::Partitions(db, {source.checkpoint_id},
                                                     sink::SystemStatus::PartitionOrder::kByKind, 100000);
    if (!partitions.ok()) {
      std::printf("%sno partition table yet (%s)\n", grouped ? ("source " + summary.name + ": ").c_str() : "  ",
                  partitions.status().message().c_str());
      exit_code = static_cast<int>(ExitCode::kCheckFailed);
      continue;
    }
    auto runners = sink::SystemStatus::Runners(db, {source.checkpoint_id}, 1000);
    if (auto exports = sink::ExportRequestSql::OfCheckpoints(db, {source.checkpoint_id});
        exports.ok() && !exports->empty()) {
      const sink::StoredExport& e = exports->front();
      std::printf("  export: %s (last poll %s s ago)\n",
                  ExportProgressLine(e.status, e.export_arn, e.export_time_ms, e.items, e.bytes, e.polls).c_str(),
                  e.updated_age_s.c_str());
      if (!e.manifest.empty()) std::printf("    manifest %s; its data files are the Scan segments below\n", e.manifest.c_str());
    }
    if (partitions->empty()) {
      if (grouped) {
        summaries.push_back(std::move(summary));
      } else {
        std::printf("  not started: no partitions yet\n");
      }
      continue;
    }
    int segments = 0, segments_done = 0, shards = 0, shards_done = 0;
    for (const auto& p : *partitions) {
      const bool done = p.state == "done";
      if (p.kind == "segment") {
        ++segments;
        segments_done += done ? 1 : 0;
      } else {
        ++shards;
        shards_done += done ? 1 : 0;
      }
      summary.held += p.lease == "held" ? 1 : 0;
    }
    summary.started = true;
    summary.segments = segments;
    summary.segments_done = segments_done;
    summary.shards = shards;
    summary.shards_done = shards_done;
    summary.runners = runners.ok() ? static_cast<int>(runners->size()) : 0;
    if (grouped) {
      auto stored = sink::PipelineRegistry::Read(db, source.checkpoint_id);
      for (const auto* plan : source.plans) {
        const std::string name = plan->spec().name;
        std::string phase = "not started";
        if (stored.ok()) {
          for (const auto& p : *stored) {
            if (p.pipeline != name) continue;
            phase = p.phase == "streaming" ? "streaming"
                                           : fmt::format("{} {}/{} segments", p.reconcile ? "re-snapshot" : "backfilling",
                                                         p.segments_done, p.segments);
          }
        }
        auto dead = sink::SystemStatus::DeadLetterCount(db, {name});
        auto rows = db.Query("SELECT count(*) FROM " + sink::QualifiedName(plan->spec().table), {}, "rows");
        summary.pipelines.push_back({name, phase, rows.ok() ? cell(*rows, 0, 0) : "?",
                                     dead.ok() ? std::to_string(*dead) : "?"});
      }
      summaries.push_back(std::move(summary));
      continue;
    }
    std::printf("  Scan segments: %d/%d done (of every snapshot, backfill and re-snapshot stored)\n", segments_done,
                segments);
    std::printf("  shards: %d known, %d done\n", shards, shards_done);
    if (runners.ok()) {
      std::printf("  runners: %zu\n", runners->size());
      for (const auto& r : *runners) {
        std::printf("    %s (host %s, pid %s, %s lanes), last heartbeat %s s ago%s\n", r.runner.c_str(), r.host.c_str(),
                    r.pid.c_str(), r.lanes.c_str(), r.heartbeat_age_s.c_str(),
                    r.standby ? "; standing by: its configuration is superseded" : "");
      }
    }
    std::printf("  partitions:\n    %-34s %-8s %-8s %-8s %6s %10s %9s  %s\n", "id", "kind", "state", "lease", "epoch",
                "records", "age (s)", "owner / lane");
    for (const auto& p : *partitions) {
      std::printf("    %-34s %-8s %-8s %-8s %6s %10s %9s  %s%s\n", p.id.c_str(), p.kind.c_str(), p.state.c_str(),
                  p.lease.c_str(), p.epoch.c_str(), p.records.c_str(), p.age_s.c_str(), p.owner.c_str(),
                  p.lane.empty() ? "" : (" / lane " + p.lane).c_str());
    }
    auto stored = sink::PipelineRegistry::Read(db, source.checkpoint_id);
    auto phase_of = [&](const std::string& name) -> std::string {
      if (!stored.ok()) return "?";
      for (const auto& p : *stored) {
        if (p.pipeline != name) continue;
        if (p.phase == "streaming") {
          return p.swept >= 0 ? fmt::format("streaming (its last snapshot ended {} and swept {} row(s) of gone items)",
                                            p.snapshot_ended_at, p.swept)
                              : "streaming";
        }
        // A snapshot that reconciles re-reads a table with rows; one that does not fills it.
        return fmt::format("{} {}/{} segments{}", p.reconcile ? "re-snapshot" : "backfilling", p.segments_done,
                           p.segments, p.reconcile ? ", reconciles at the end" : "");
      }
      return "not started";
    };
    for (const auto* plan : source.plans) {
      const std::string name = plan->spec().name;
      const auto& table = plan->spec().table;
      auto dead = sink::SystemStatus::DeadLetterCount(db, {name});
      auto rows = db.Query("SELECT count(*) FROM " + sink::QualifiedName(table), {}, "rows");
      std::printf("  pipeline %s → %s.%s: %s; %s rows, %s dead letters\n", name.c_str(), table.schema.c_str(),
                  table.name.c_str(), phase_of(name).c_str(), rows.ok() ? cell(*rows, 0, 0).c_str() : "?",
                  dead.ok() ? std::to_string(*dead).c_str() : "?");
    }
    if (stored.ok()) {
      for (const auto& p : *stored) {
        bool configured = false;
        for (const auto* plan : source.plans) configured = configured || plan->spec().name == p.pipeline;
        if (!configured) {
          std::printf("  pipeline %s → %s: stored but no longer in the file (`ddb2pg reset -c FILE --pipeline %s "
                      "--yes` forgets it)\n",
                      p.pipeline.c_str(), p.target.c_str(), p.pipeline.c_str());
        }
      }
    }
  }
  if (grouped) std::fputs(StatusSummary::Format(summaries).c_str(), stdout);
  return exit_code;
}

ItemShape ParseShape(const std::string& shape) { return shape == "list" ? ItemShape::kList : ItemShape::kNested; }

int CmdGenerate(GeneratorOptions options, const std::string& shape, const std::string& endpoint,
                const std::string& region, bool verbose) {
  options.shape = ParseShape(shape);
  config::SourceConfig source;
  source.name = "generate";
  source.endpoint = endpoint;
  source.region = region;
  auto resolved = ResolveSourceAws(source);
  if (!resolved.ok()) return Fail(resolved.status(), verbose, "generate");
  aws::DynamoDbClient client(*resolved, aws::RetryPolicy(), core::SystemClock::Instance());
  InstallStopSignals();
  std::atomic<bool> stop{false};
  std::thread watcher([&] {
    while (!stop.load()) {
      if (StopSignalled()) stop = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  auto report = RunGenerator(client, options, &stop);
  stop = true;
  watcher.join();
  if (!report.ok()) return Fail(report.status(), verbose, "generate");
  std::printf("wrote %lld inserts, %lld updates, %lld deletes (%lld bad items) to %s in %.1f s: %.0f operations/s%s\n",
              static_cast<long long>(report->inserts), static_cast<long long>(report->updates),
              static_cast<long long>(report->deletes), static_cast<long long>(report->bad), options.table.c_str(),
              report->seconds, report->operations_per_second(),
              options.bulk || options.rate <= 0 ? "" : fmt::format(" (asked for {:.0f}/s)", options.rate).c_str());
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{fmt::format("ddb2pg {} — stream a DynamoDB table into PostgreSQL: a parallel snapshot, then every "
                           "change from DynamoDB Streams, exactly once, in order per item.",
                           kVersion),
               "ddb2pg"};
  app.footer(R"(Examples:
  ddb2pg validate -c examples/users.yaml          check the file, the table's stream and the target tables
  ddb2pg init-schema -c examples/users.yaml       create the target, checkpoint and dead-letter tables
  ddb2pg run -c examples/users.yaml               snapshot, then stream changes until Ctrl-C
  ddb2pg status -c examples/users.yaml            each pipeline's phase, rows and dead letters; shards, runners
  ddb2pg resnapshot -c examples/users.yaml --pipeline profile
                                                  read the table again into profile, then remove rows of gone items
  ddb2pg reset -c examples/users.yaml --pipeline profile --yes
                                                  forget profile's progress (the next run backfills it)
  ddb2pg preview -c examples/users.yaml           rows and dead-letter reasons of live items, nothing written
  ddb2pg generate --create-table --rate 200 --duration 60
  ddb2pg demo --duration 60                       everything on local servers (see scripts/demo)

Exit codes: 0 ok (also after Ctrl-C/SIGTERM), 1 failed while running (also a record or row
refused under on_error: stop), 2 bad command line or configuration, 3 checks found problems, 4 DynamoDB or PostgreSQL unreachable or credentials
refused, 5 fenced: another runner took the checkpoint over, or a runner of an earlier release
still runs it.)");
  app.require_subcommand(1);
  app.fallthrough();  // --log-format, --log-level and -v also work after the subcommand
  app.set_version_flag("--version", fmt::format("ddb2pg {}", kVersion));
  std::string log_format = "text", log_level = "info";
  bool verbose = false;
  app.add_option("--log-format", log_format, "text or json")->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")->capture_default_str();
  app.add_flag("-v,--verbose", verbose, "more detail in errors and logs");

  std::string config_path;
  auto* run = app.add_subcommand("run", "Snapshot the table(s), then stream every change into PostgreSQL");
  run->footer("Example: ddb2pg run -c examples/users.yaml --metrics-listen 127.0.0.1:9187 --progress plain");
  RunOptions run_options;
  int run_duration = 0;
  std::string progress = "auto";
  run->add_option("-c,--config", config_path, "configuration file (YAML)")->required();
  run->add_option("--metrics-listen", run_options.metrics_listen, "HOST:PORT for /metrics, /healthz, /readyz (and the status page / while it is loopback, see metrics.status_listen); off disables");
  run->add_option("--duration", run_duration, "stop cleanly after this many seconds (0: run until Ctrl-C)");
  run->add_option("--progress", progress, "auto, bar, plain or off")->capture_default_str();
  run->add_flag("--init-schema", run_options.init_schema, "create missing tables before starting");
  run->add_option("--lanes", run_options.lanes,
                  "parallel lanes per source (default: runtime.lanes, else the number of CPUs)");

  auto* validate = app.add_subcommand("validate", "Check the configuration file, then the table, stream and target tables");
  validate->footer("Example: ddb2pg validate -c examples/users.yaml --offline");
  bool offline = false;
  validate->add_option("-c,--config", config_path, "configuration file (YAML)")->required();
  validate->add_flag("--offline", offline, "check the file only (no DynamoDB or PostgreSQL)");

  auto* init = app.add_subcommand("init-schema", "Create the target tables, checkpoint and dead-letter tables");
  init->footer("Example: ddb2pg init-schema -c examples/users.yaml --dry-run");
  bool dry_run = false;
  init->add_option("-c,--config", config_path, "configuration file (YAML)")->required();
  init->add_flag("--dry-run", dry_run, "print the statements instead of running them");

  auto* status = app.add_subcommand("status", "Show each pipeline's position, shards, rows and dead letters");
  status->footer("Example: ddb2pg status -c examples/users.yaml");
  status->add_option("-c,--config", config_path, "configuration file (YAML)")->required();
  std::string status_source;
  status->add_option("--source", status_source,
                     "only this source, in full (with more than " +
                         std::to_string(StatusSummary::kDetailedSourcesMax) +
                         " sources, `status` shows one line per source, partitions collapsed)");

  std::string only_pipeline;
  auto* resnapshot = app.add_subcommand(
      "resnapshot", "Read the table again into the pipelines' tables beside the stream, then remove rows of gone items");
  resnapshot->footer(R"(Example: ddb2pg resnapshot -c examples/users.yaml --pipeline profile
Schedules a Scan whose rows go only to the named pipeline (default: all), written beside the stream
without overwriting newer changes. When it ends, rows whose items no longer exist are removed
(on_delete: hard) or marked deleted (soft); no row of an existing item is missing meanwhile. A
running `ddb2pg run` picks it up; otherwise the next one does.)");
  resnapshot->add_option("-c,--config", config_path, "configuration file (YAML)")->required();
  resnapshot->add_option("--pipeline", only_pipeline, "only this pipeline (default: all)");

  bool reset_yes = false;
  auto* reset = app.add_subcommand("reset", "Forget the stored progress of a pipeline or of every pipeline");
  reset->footer(R"(Example: ddb2pg reset -c examples/users.yaml --pipeline profile --yes
The target rows stay; the next `ddb2pg run` reads the table again into the pipeline's table and
reconciles it. No runner may be running.)");
  reset->add_option("-c,--config", config_path, "configuration file (YAML)")->required();
  reset->add_option("--pipeline", only_pipeline, "only this pipeline (also one no longer in the file)");
  reset->add_flag("--yes", reset_yes, "really forget it");

  auto* preview = app.add_subcommand("preview", "Print the rows and dead-letter reasons live items would give; writes nothing");
  preview->footer(R"(Examples:
  ddb2pg preview -c examples/users.yaml --limit 5
  ddb2pg preview -c examples/users.yaml --pipeline profile --from stream --format json
Reads one Scan page (or the stream's newest records) and maps it with every pipeline. Needs no
PostgreSQL and no init-schema.)");
  PreviewOptions preview_options;
  std::string preview_from = "scan", preview_format = "table";
  preview->add_option("-c,--config", config_path, "configuration file (YAML)")->required();
  preview->add_option("--pipeline", preview_options.pipeline, "only this pipeline (default: all)");
  preview->add_option("--limit", preview_options.limit, "items (scan) or records (stream) per source, 1-1000")
      ->capture_default_str();
  preview->add_option("--from", preview_from, "scan (one Scan page) or stream (the newest records)")
      ->check(CLI::IsMember({"scan", "stream"}))
      ->capture_default_str();
  preview->add_option("--format", preview_format, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  auto* generate = app.add_subcommand("generate", "Write reference-scenario sample items to DynamoDB");
  generate->footer(R"(Examples:
  ddb2pg generate --create-table --rate 500 --duration 60 --update-ratio 0.3 --delete-ratio 0.05
  ddb2pg generate --bulk --count 1000000 --threads 8 --shape list --bad-ratio 0.01
The endpoint, region and credentials come from the standard AWS_* variables unless given.)");
  GeneratorOptions gen;
  std::string shape = "nested", endpoint, region;
  int gen_duration = 0;
  generate->add_option("--table", gen.table, "table name")->capture_default_str();
  generate->add_flag("--create-table", gen.create_table, "create the table with a NEW_AND_OLD_IMAGES stream if missing");
  generate->add_option("--shape", shape, "nested (notifications map) or list (enabled names)")
      ->check(CLI::IsMember({"nested", "list"}))
      ->capture_default_str();
  generate->add_option("--rate", gen.rate, "operations per second (steady mode)")->capture_default_str();
  generate->add_option("--duration", gen_duration, "seconds to run (steady mode)");
  generate->add_option("--count", gen.count, "operations (bulk: items) to write");
  generate->add_option("--update-ratio", gen.update_ratio, "share of updates of known items")->capture_default_str();
  generate->add_option("--delete-ratio", gen.delete_ratio, "share of deletes of known items")->capture_default_str();
  generate->add_option("--bad-ratio", gen.bad_ratio, "share of bad items (non-UUID id, bad number, …)")->capture_default_str();
  generate->add_flag("--bulk", gen.bulk, "BatchWriteItem from several threads, as fast as possible");
  generate->add_option("--threads", gen.threads, "bulk-mode threads")->capture_default_str();
  generate->add_option("--seed", gen.seed, "random seed")->capture_default_str();
  generate->add_option("--endpoint", endpoint, "DynamoDB endpoint (default: AWS_ENDPOINT_URL_DYNAMODB, then AWS)");
  generate->add_option("--region", region, "region (default: AWS_REGION)");

  auto* demo = app.add_subcommand("demo", "The whole job on local servers: load, generate, stream, show the rows");
  demo->footer("Example: scripts/demo --duration 60   (starts DynamoDB Local and PostgreSQL, then runs this)");
  DemoOptions demo_options;
  int demo_duration = 0;
  std::string demo_shape = "nested";
  demo->add_option("--duration", demo_duration, "seconds to stream before printing the rows (0: until Ctrl-C)");
  demo->add_option("--items", demo_options.initial_items, "items bulk-loaded before the pipeline starts")->capture_default_str();
  demo->add_option("--rate", demo_options.rate, "generator writes per second while streaming")->capture_default_str();
  demo->add_option("-c,--config", demo_options.config_path, "configuration (default: the embedded examples/users.yaml)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  if (verbose) log_level = "debug";
  if (core::Status logging = SetUpLogging(log_format, log_level); !logging.ok()) return Fail(logging, verbose, "");

  if (*run) {
    run_options.duration = std::chrono::seconds(run_duration);
    run_options.progress = progress == "bar" ? ProgressMode::kBar
                           : progress == "plain" ? ProgressMode::kPlain
                           : progress == "off"   ? ProgressMode::kOff
                                                 : ProgressMode::kAuto;
    auto wiring = LoadAndWire(config_path, true);
    if (!wiring.ok()) return Fail(wiring.status(), verbose, "");
    InstallStopSignals();
    pipeline::Metrics metrics;
    for (const auto& source : (*wiring)->sources) metrics.AddRetryStats(source.retry_stats);
    core::Status result = RunPipelines(**wiring, metrics, run_options);
    if (!result.ok()) return Fail(result, verbose, "run");
    return 0;
  }
  if (*validate) return CmdValidate(config_path, offline, verbose);
  if (*init) return CmdInitSchema(config_path, dry_run, verbose);
  if (*status) return CmdStatus(config_path, status_source, verbose);
  if (*resnapshot || *reset) {
    const bool is_resnapshot = resnapshot->parsed();
    auto wiring = LoadAndWire(config_path, is_resnapshot);
    if (!wiring.ok()) return Fail(wiring.status(), verbose, "");
    const std::optional<std::string> pipeline =
        only_pipeline.empty() ? std::nullopt : std::optional<std::string>(only_pipeline);
    core::Status result =
        is_resnapshot ? Resnapshot(**wiring, pipeline, stdout) : Reset(**wiring, pipeline, reset_yes, stdout);
    if (!result.ok()) return Fail(result, verbose, is_resnapshot ? "resnapshot" : "reset");
    return 0;
  }
  if (*preview) {
    preview_options.from = preview_from == "stream" ? PreviewFrom::kStream : PreviewFrom::kScan;
    preview_options.format = preview_format == "json" ? PreviewFormat::kJson : PreviewFormat::kTable;
    auto wiring = LoadAndWire(config_path, true);
    if (!wiring.ok()) return Fail(wiring.status(), verbose, "");
    core::Status result = RunPreview(**wiring, preview_options, stdout);
    if (!result.ok()) return Fail(result, verbose, "preview");
    return 0;
  }
  if (*generate) {
    gen.duration = std::chrono::seconds(gen_duration);
    return CmdGenerate(gen, shape, endpoint, region, verbose);
  }
  if (*demo) {
    demo_options.duration = std::chrono::seconds(demo_duration);
    core::Status result = RunDemo(demo_options);
    if (!result.ok()) return Fail(result, verbose, "demo");
    return 0;
  }
  return static_cast<int>(ExitCode::kUsage);
}

}  // namespace ddb2pg::app
