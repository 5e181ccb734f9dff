#include "app/run_pipelines.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/export_request.h"
#include "source/gap_exports.h"
#include "app/http_endpoint.h"
#include "app/status_board.h"
#include "core/thread_name.h"
#include "pipeline/source_runtime.h"
#include "sink/system/pg_lease_store.h"
#include "sink/postgres_sink.h"
#include "sink/schema_manager.h"
#include "source/dynamodb_record_source.h"

namespace ddb2pg::app {
namespace {
std::atomic<int> g_signals{0};

void OnStopSignal(int) {
  if (g_signals.fetch_add(1) >= 1) _exit(130);  // a second Ctrl-C: leave now
}

std::string Thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string ProgressLine(const std::string& name, const pipeline::RuntimeProgress& p, double records_per_second,
                         bool bar) {
  std::string line;
  if (!p.snapshot_complete && p.state != "starting") {
    const int64_t estimate = std::max(p.snapshot_items_estimate, p.snapshot_items_read);
    const double fraction = estimate > 0 ? static_cast<double>(p.snapshot_items_read) / estimate : 0;
    if (bar) {
      const int filled = static_cast<int>(fraction * 30);
      line += fmt::format("snapshot {} [{}{}] {:3.0f}% ", name, std::string(filled, '#'), std::string(30 - filled, '.'),
                          fraction * 100);
    } else {
      line += fmt::format("snapshot {} {:.0f}% ", name, fraction * 100);
    }
    line += fmt::format("{}/~{} items", Thousands(p.snapshot_items_read), Thousands(estimate));
  } else {
    line += fmt::format("{} {}", p.state, name);
    line += fmt::format(" | behind {:.1f} s", p.behind_ms / 1000.0);
    line += fmt::format(" | partitions {} held, {} pending | runners {} | lanes {}", p.partitions_held,
                        p.partitions_pending, p.live_runners, p.lanes);
  }
  line += fmt::format(" | {} rec/s | {} records, {} rows committed | dead letters {}", Thousands(static_cast<int64_t>(records_per_second)),
                      Thousands(p.records_committed), Thousands(p.rows_committed), Thousands(p.dead_letters));
  if (p.skipped > 0) line += fmt::format(" | skipped {}", Thousands(p.skipped));
  return line;
}

// The status page's view of one source: the only place that reads the runtime for it (the
// partitioned runtime re-points this one function).
SourceStatus SourceStatusOf(const SourceWiring& source, const pipeline::RuntimeProgress& p, pipeline::Metrics& metrics) {
  SourceStatus s;
  s.name = source.config->name;
  s.table = source.config->table;
  s.checkpoint = source.checkpoint_id;
  s.phase = p.state;
  s.snapshot_complete = p.snapshot_complete;
  s.snapshot_items_read = p.snapshot_items_read;
  s.snapshot_items_estimate = p.snapshot_items_estimate;
  s.snapshot_segments_done = static_cast<int>(metrics.SnapshotSegmentsDone(source.config->name).Value());
  // The seeded count (an export's data files, not snapshot.segments); the configured one until seeded.
  s.snapshot_segments = p.segments_total > 0 ? p.segments_total : source.config->snapshot.segments;
  s.shards_active = p.shards_active;
  s.shards_finished = p.shards_finished;
  s.lag_ms = p.behind_ms;  // how long the oldest record read has waited uncommitted (0: caught up)
  s.committed = p;  // the counters part of the runtime's progress
  const auto latency = metrics.CommitLatency(source.config->name).Collect().histogram;
  s.commit_seconds_total = latency.sample_sum;
  s.commit_count = latency.sample_count;
  return s;
}
}  // namespace

namespace {
std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

std::string RunnerId() {
  std::random_device random;
  return fmt::format("{}:{}:{:08x}", HostName(), getpid(), random());
}

// What runners sharing a checkpoint must agree on, one fact a line (the conflict message diffs it).
std::string ConfigText(const SourceWiring& source, const std::vector<pipeline::PipelineInfo>& pipelines) {
  const config::SourceConfig& config = *source.config;
  std::string text = fmt::format("source {} table {} segments {} snapshot {} stream during snapshot {}\n",
                                 config.name, config.table, config.snapshot.segments, config.snapshot.enabled,
                                 config.stream.during_snapshot);
  // Each pipeline's mapping (table, key, filter, columns: PipelinesOf), then its policies.
  for (size_t i = 0; i < pipelines.size() && i < source.plans.size(); ++i) {
    const auto& spec = source.plans[i]->spec();
    std::istringstream mapping(pipelines[i].mapping);
    for (std::string line; std::getline(mapping, line);) text += "pipeline " + spec.name + " " + line + "\n";
    text += fmt::format("pipeline {} on_error {} on_delete {} on_ttl_delete {}\n", spec.name,
                        static_cast<int>(spec.on_error), static_cast<int>(spec.table.delete_policy),
                        static_cast<int>(spec.table.DeletePolicyFor(true)));
  }
  return text;
}

// Runs `fn` until it succeeds, fails for good, or a stop signal arrives. A server that is down or
// restarting at start is a transient fault, waited out with backoff (and said in the log and in
// errors_total{kind="connection"}), not a reason to exit.
template <typename Fn>
auto WhileTransient(const char* what, pipeline::Metrics& metrics, Fn fn) -> decltype(fn()) {
  auto backoff = std::chrono::milliseconds(100);
  while (true) {
    auto result = fn();
    const core::Status& status = result.status();
    if (result.ok() || !status.transient() || StopSignalled()) return result;
    metrics.Errors("connection").Increment();
    spdlog::warn("{}: {}; retrying in {} ms", what, status.message(), backoff.count());
    core::SystemClock::Instance().SleepFor(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

}  // namespace

void InstallStopSignals() {
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
}

bool StopSignalled() { return g_signals.load() > 0; }

namespace {
// The status page's bearer token from metrics.status_token_file or status_token_env ("" when
// neither is set). Read once at start; a trailing newline (as `echo` and Secrets leave it) is
// not part of it. Errors name the file or variable, never the token.
core::Result<std::string> StatusToken(const config::MetricsConfig& metrics) {
  std::string token;
  std::string where;
  if (!metrics.status_token_file.empty()) {
    where = "metrics.status_token_file " + metrics.status_token_file;
    std::ifstream in(metrics.status_token_file, std::ios::binary);
    if (!in) return core::Status::InvalidArgument("cannot read " + where);
    std::ostringstream text;
    text << in.rdbuf();
    token = text.str();
  } else if (!metrics.status_token_env.empty()) {
    where = "metrics.status_token_env: the environment variable " + metrics.status_token_env;
    const char* value = std::getenv(metrics.status_token_env.c_str());
    if (value != nullptr) token = value;
  } else {
    return std::string();
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.empty()) return core::Status::InvalidArgument(where + " holds no token (empty or unset)");
  for (const char c : token) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return core::Status::InvalidArgument(where + ": the token may not hold spaces or control characters");
    }
  }
  return token;
}

std::string HostOf(const std::string& listen) {
  return listen.find(':') == std::string::npos ? "127.0.0.1" : listen.substr(0, listen.rfind(':'));
}
}  // namespace

core::Status RunPipelines(Wiring& wiring, pipeline::Metrics& metrics, const RunOptions& options) {
  // The listeners first: a token that cannot be read stops the run before it touches anything.
  std::string listen = options.metrics_listen.empty() ? wiring.config.metrics.listen : options.metrics_listen;
  if (listen == "off") listen.clear();
  const std::string status_listen = wiring.config.metrics.StatusPageListen(listen);
  auto status_token = StatusToken(wiring.config.metrics);
  if (!status_token.ok()) return status_token.status();
  const auto tables = wiring.tables();
  sink::SchemaManager schema(wiring.conninfo);
  if (options.init_schema || wiring.config.postgres.auto_create) {
    auto created = WhileTransient("init-schema", metrics, [&]() -> core::Result<bool> {
      DDB2PG_RETURN_IF_ERROR(schema.InitSchema(tables));
      return true;
    });
    if (!created.ok()) return created.status().WithContext("init-schema");
  }
  if (options.check_schema) {
    std::vector<sink::SchemaProblem> warnings;
    auto problems = WhileTransient("checking the target tables", metrics, [&] {
      warnings.clear();
      return schema.Check(tables, &warnings);
    });
    if (!problems.ok()) return problems.status().WithContext("checking the target tables");
    for (const auto& warning : warnings) {
      spdlog::warn("{}: {} (fix: {})", warning.table, warning.problem, warning.fix_sql);
    }
    if (!problems->empty()) {
      std::string message = "the target tables are not ready:";
      for (const auto& problem : *problems) {
        message += "\n  " + problem.table + ": " + problem.problem + "\n    fix: " + problem.fix_sql;
      }
      message += "\n(or run `ddb2pg init-schema -c FILE`, or set postgres.auto_create: true)";
      return core::Status(core::StatusCode::kNotFound, message);
    }
  }

  const config::Config& config = wiring.config;
  pipeline::RuntimeOptions runtime_options;
  runtime_options.lanes = options.lanes > 0 ? options.lanes : config.runtime.lanes;
  const int source_count = std::max<int>(1, static_cast<int>(wiring.sources.size()));
  if (runtime_options.lanes <= 0) {
    // One lane per CPU over all the runner's sources (each has at least one): 50 sources on 2
    // CPUs run 50 lanes, not 100 (each lane is a thread and a PostgreSQL connection).
    runtime_options.lanes =
        std::max(1, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) / source_count);
  }
  // The batch and queue budgets are the runner's, shared by every lane of every source: memory
  // stays the same whatever the lane and source counts (a lane commits smaller batches, in
  // parallel with the others). The floors keep a lane useful when there are very many.
  const int lanes = runtime_options.lanes * source_count;
  runtime_options.lane.batch_max_rows = std::max(100, config.postgres.batch_max_rows / lanes);
  runtime_options.lane.batch_max_bytes = std::max(256 << 10, config.postgres.batch_max_bytes / lanes);
  runtime_options.lane.queue_capacity = std::max<size_t>(32, runtime_options.lane.queue_capacity / lanes);
  runtime_options.lane.queue_max_bytes = std::max<size_t>(1 << 20, runtime_options.lane.queue_max_bytes / lanes);
  runtime_options.lane.batch_max_delay = std::chrono::milliseconds(config.postgres.batch_max_delay_ms);
  // Pages in flight too: fetch_slots per lane of one source on each CPU, divided over every lane
  // of every source, at least one each (50 sources on 2 CPUs: one page per lane, not two).
  const int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  runtime_options.lane.fetch_slots =
      std::min(config.runtime.fetch_slots,
               std::max(1, config.runtime.fetch_slots * std::max(cpus, runtime_options.lanes) / lanes));
  runtime_options.lease_ttl = std::chrono::milliseconds(config.runtime.lease_ttl_ms);
  runtime_options.stall_timeout = std::chrono::milliseconds(config.runtime.stall_ms);
  runtime_options.heartbeat = std::chrono::milliseconds(config.runtime.heartbeat_ms);

  // The runner's stream readers, shared by every source (declared before the sources and
  // runtimes: it outlives their readers and lanes).
  source::ShardPollerOptions poller_options;
  poller_options.max_get_records_per_second = config.runtime.max_get_records_per_second;
  source::ShardPoller shard_poller(poller_options);
  source::ReaderThreadSlots scan_threads(config.runtime.max_scan_threads);
  metrics.GetRecordsCeiling().Set(poller_options.max_get_records_per_second);
  // Concrete parts per source: the DynamoDB source, the lease store and one sink per lane.
  std::vector<std::unique_ptr<source::DynamoDbRecordSource>> sources;
  std::vector<std::unique_ptr<sink::PgLeaseStore>> stores;
  std::vector<std::unique_ptr<pipeline::SourceRuntime>> runtimes;
  const std::string runner_id = RunnerId();
  for (auto& source : wiring.sources) {
    auto record_source = std::make_unique<source::DynamoDbRecordSource>(
        ToSourceOptions(*source.config, source.plans), *source.table, *source.streams, core::SystemClock::Instance());
    record_source->SetShardPoller(&shard_poller);
    record_source->SetReaderThreadSlots(&scan_threads);
    aws::DynamoDbClient* client = source.table.get();
    record_source->SetStreamEnabler([client](const std::string& table) {
      auto updated = client->UpdateStream(table, true, "NEW_AND_OLD_IMAGES");
      return updated.ok() ? core::Status::Ok() : updated.status();
    });
    const bool from_export = source.config->snapshot.from == "export";
    if (from_export && source.s3 != nullptr && source.exports == nullptr) {  // a requested export is set once made
      record_source->SetExportSnapshot(
          std::make_shared<source::ExportSnapshot>(*source.s3, source.config->snapshot.export_manifest));
    }
    if (source.config->stream.on_trimmed == "incremental_export" && source.s3 != nullptr && source.exports != nullptr) {
      source::GapExportsOptions gap;
      gap.checkpoint_id = source.checkpoint_id;
      gap.table = source.config->table;
      gap.s3_bucket = source.config->snapshot.export_bucket;
      gap.s3_prefix = source.config->snapshot.export_prefix;
      gap.requester = options.export_polls;
      record_source->SetGapExports(std::make_shared<source::GapExports>(
          *source.exports, *source.s3, *source.table, core::SystemClock::Instance(), std::move(gap)));
    }
    stores.push_back(std::make_unique<sink::PgLeaseStore>(
        sink::PgLeaseStoreOptions{wiring.conninfo, source.checkpoint_id, runner_id, runtime_options.lease_ttl,
                                  source.config->stream.during_snapshot}));
    pipeline::SourceRuntimeParts parts;
    parts.source_name = source.config->name;
    parts.source = record_source.get();
    parts.store = stores.back().get();
    std::vector<const model::TableSpec*> tables_of_source;
    for (const auto* plan : source.plans) tables_of_source.push_back(&plan->spec().table);
    const std::string conninfo = wiring.conninfo;
    const std::string checkpoint_id = source.checkpoint_id;
    const int commit_timeout_ms = config.postgres.commit_timeout_ms;
    const bool binary_copy = config.postgres.copy_format == "binary";
    parts.make_sink = [=](int) {
      sink::PostgresSinkOptions sink_options;
      sink_options.commit_timeout = std::chrono::milliseconds(commit_timeout_ms);
      sink_options.binary_copy = binary_copy;
      sink_options.conninfo = conninfo;
      sink_options.checkpoint_id = checkpoint_id;
      sink_options.runner_id = runner_id;
      sink_options.tables = tables_of_source;
      return std::unique_ptr<pipeline::Sink>(std::make_unique<sink::PostgresSink>(std::move(sink_options)));
    };
    parts.identity.runner_id = runner_id;
    parts.identity.host = HostName();
    parts.identity.pid = static_cast<int>(getpid());
    parts.identity.lanes = runtime_options.lanes;
    parts.pipelines = PipelinesOf(source);
    parts.identity.config_text = ConfigText(source, parts.pipelines);
    pipeline::RuntimeOptions source_options = runtime_options;
    source_options.resnapshot_on_trimmed = source.config->stream.on_trimmed == "resnapshot";
    source_options.bridge_on_trimmed = source.config->stream.on_trimmed == "incremental_export";
    runtimes.push_back(std::make_unique<pipeline::SourceRuntime>(std::move(parts), source.plans, metrics,
                                                                 source_options));
    sources.push_back(std::move(record_source));
  }

  std::vector<std::string> pipeline_names;
  for (const auto& plan : wiring.plans) pipeline_names.push_back(plan->spec().name);
  std::vector<std::string> checkpoint_ids;
  for (const auto& source : wiring.sources) checkpoint_ids.push_back(source.checkpoint_id);
  StatusBoard board(wiring.conninfo, pipeline_names, checkpoint_ids);
  // Ready while every source commits normally: lanes connected, nothing waiting past the stall
  // timeout (a hung or restarting PostgreSQL turns /readyz to 503; /healthz stays for liveness).
  // A runner holding no partition (a standby beside others) is ready too: it takes work over at
  // its next heartbeat, and a rollout must not wait for partitions the old pods still hold.
  HttpEndpoint endpoint;
  endpoint.SetMetrics(metrics, [&runtimes, &metrics] {
    if (metrics.Ready().Value() <= 0) return false;
    for (const auto& runtime : runtimes) {
      if (!runtime->progress().ready) return false;
    }
    return true;
  });
  // The status page on the metrics listener, on its own (loopback) listener, or nowhere.
  HttpEndpoint status_endpoint;
  HttpEndpoint* status_page = status_listen.empty()                      ? nullptr
                              : wiring.config.metrics.status_listen.empty() ? &endpoint
                                                                            : &status_endpoint;
  if (status_page != nullptr) status_page->SetStatusPage([&board] { return board.Json(); }, *status_token);
  if (!listen.empty()) {
    DDB2PG_RETURN_IF_ERROR(endpoint.Start(listen));
    if (options.metrics_port != nullptr) *options.metrics_port = endpoint.port();
  }
  if (status_page == &status_endpoint) DDB2PG_RETURN_IF_ERROR(status_endpoint.Start(status_listen));
  if (status_page != nullptr) board.StartDeadLetterReader();
  const std::string page = status_page == nullptr
                               ? std::string(wiring.config.metrics.status_listen == "off"
                                                 ? "no status page (metrics.status_listen: off)"
                                                 : "no status page (not on a non-loopback address unless "
                                                   "metrics.status_exposed; see metrics.status_listen)")
                               : fmt::format("status page on http://{}:{}/{}", HostOf(status_listen), status_page->port(),
                                             status_token->empty() ? "" : " (bearer token)");
  if (!listen.empty()) {
    spdlog::info("metrics on http://{}:{}/metrics, {}", HostOf(listen), endpoint.port(), page);
  } else if (status_page != nullptr) {
    spdlog::info("no metrics listener, {}", page);
  }

  std::vector<core::Status> results(runtimes.size());
  std::vector<std::thread> threads;
  std::atomic<int> running{static_cast<int>(runtimes.size())};
  std::atomic<bool> export_stop{false};
  std::mutex export_progress_mutex;
  std::vector<std::string> export_progress(runtimes.size());  // guarded by export_progress_mutex
  for (size_t i = 0; i < runtimes.size(); ++i) {
    threads.emplace_back([&, i] {
      core::SetCurrentThreadName("leases-" + std::to_string(i));
      const SourceWiring& source = wiring.sources[i];
      if (source.exports != nullptr && source.config->snapshot.from == "export") {
        // The export this source's snapshot is taken from (snapshot.export.s3_bucket): made or
        // found before its runtime seeds it.
        auto manifest = RequestExport(
            source, wiring.conninfo,
            [&, i](const std::string& line) {
              spdlog::info("source {}: export {}", source.config->name, line);
              std::lock_guard lock(export_progress_mutex);
              export_progress[i] = line;
            },
            export_stop, options.export_polls);
        if (!manifest.ok()) {
          if (manifest.status().code() != core::StatusCode::kCancelled || !export_stop.load()) {
            results[i] = manifest.status();
            export_stop = true;
            for (auto& other : runtimes) other->RequestStop();
          }
          running.fetch_sub(1);
          return;
        }
        if (!manifest->empty()) {
          sources[i]->SetExportSnapshot(std::make_shared<source::ExportSnapshot>(*source.s3, *manifest));
        }
      }
      results[i] = runtimes[i]->Run();
      if (!results[i].ok()) {
        // One source failing stops the others: the operator sees one clear failure.
        export_stop = true;
        for (auto& other : runtimes) other->RequestStop();
      }
      running.fetch_sub(1);
    });
  }

  ProgressMode mode = options.progress;
  if (mode == ProgressMode::kAuto) mode = isatty(STDERR_FILENO) ? ProgressMode::kBar : ProgressMode::kPlain;
  const auto started = std::chrono::steady_clock::now();
  auto last_print = started;
  std::vector<int64_t> last_records(runtimes.size(), 0);
  bool stopping = false;
  int64_t get_records_counted = 0;
  while (running.load() > 0) {
    const int64_t get_records = shard_poller.get_records_calls();
    metrics.GetRecordsCalls().Increment(static_cast<double>(get_records - get_records_counted));
    get_records_counted = get_records;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto now = std::chrono::steady_clock::now();
    const bool timed_out = options.duration.count() > 0 && now - started >= options.duration;
    const bool external = options.external_stop != nullptr && options.external_stop->load();
    if (!stopping && (StopSignalled() || timed_out || external)) {
      stopping = true;
      spdlog::info("stopping: committing what was read");
      aws::StopAllRetries();  // an AWS call retrying through an outage gives up now,
      core::SystemClock::StopSleeping();  // and no backoff or poll sleeps on
      export_stop = true;
      for (auto& runtime : runtimes) runtime->RequestStop();
    }
    {
      std::vector<SourceStatus> statuses;
      for (size_t i = 0; i < runtimes.size(); ++i) {
        const pipeline::RuntimeProgress progress = runtimes[i]->progress();
        metrics.Behind(wiring.sources[i].config->name).Set(progress.behind_ms / 1000.0);
        statuses.push_back(SourceStatusOf(wiring.sources[i], progress, metrics));
        std::lock_guard lock(export_progress_mutex);
        statuses.back().export_progress = export_progress[i];
      }
      board.Update(std::move(statuses));
    }
    if (options.records_committed != nullptr) {
      int64_t committed = 0;
      for (const auto& runtime : runtimes) committed += runtime->progress().records_committed;
      *options.records_committed = committed;
    }
    const auto interval = mode == ProgressMode::kBar ? std::chrono::seconds(1) : std::chrono::seconds(10);
    if (mode != ProgressMode::kOff && now - last_print >= interval) {
      const double seconds = std::chrono::duration<double>(now - last_print).count();
      last_print = now;
      for (size_t i = 0; i < runtimes.size(); ++i) {
        const auto progress = runtimes[i]->progress();
        const double rate = (progress.records_committed - last_records[i]) / seconds;
        last_records[i] = progress.records_committed;
        const std::string line = ProgressLine(wiring.sources[i].config->name, progress, rate, mode == ProgressMode::kBar);
        if (mode == ProgressMode::kBar) {
          std::fprintf(stderr, "\r\033[K%s", line.c_str());
        } else {
          std::fprintf(stderr, "%s\n", line.c_str());
        }
      }
      std::fflush(stderr);
    }
  }
  for (auto& thread : threads) thread.join();
  if (mode == ProgressMode::kBar) std::fprintf(stderr, "\n");
  endpoint.Stop();
  status_endpoint.Stop();
  board.Stop();
  for (size_t i = 0; i < runtimes.size(); ++i) {
    const auto progress = runtimes[i]->progress();
    spdlog::info("source {}: {} records, {} rows committed in {} commits, {} dead letters",
                 wiring.sources[i].config->name, progress.records_committed, progress.rows_committed, progress.commits,
                 progress.dead_letters);
  }
  for (const auto& result : results) {
    // An AWS call whose retries the stop cut short (aws::StopAllRetries) ends kCancelled: what
    // was read is committed, so that is a clean stop (exit 0), not a failure.
    if (stopping && result.code() == core::StatusCode::kCancelled) continue;
    if (!result.ok()) return result;
  }
  return core::Status::Ok();
}

}  // namespace ddb2pg::app
