#include "app/run_pipelines.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/http_endpoint.h"
#include "app/status_board.h"
#include "core/thread_name.h"
#include "pipeline/source_runtime.h"
#include "sink/schema_manager.h"

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
    line += p.last_lag_ms >= 0 ? fmt::format(" | lag {:.1f} s", p.last_lag_ms / 1000.0) : " | lag -";
    line += fmt::format(" | shards {} active {} done", p.shards_active, p.shards_finished);
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
  s.phase = p.state;
  s.snapshot_complete = p.snapshot_complete;
  s.snapshot_items_read = p.snapshot_items_read;
  s.snapshot_items_estimate = p.snapshot_items_estimate;
  s.snapshot_segments_done = static_cast<int>(metrics.SnapshotSegmentsDone(source.config->name).Value());
  s.snapshot_segments = source.config->snapshot.segments;
  s.shards_active = p.shards_active;
  s.shards_finished = p.shards_finished;
  s.lag_ms = p.last_lag_ms;
  s.records_committed = p.records_committed;
  s.rows_committed = p.rows_committed;
  s.dead_letters = p.dead_letters;
  s.skipped = p.skipped;
  s.commits = p.commits;
  s.last_commit_unix_ms = p.last_commit_unix_ms;
  const auto latency = metrics.CommitLatency(source.config->name).Collect().histogram;
  s.commit_seconds_total = latency.sample_sum;
  s.commit_count = latency.sample_count;
  return s;
}
}  // namespace

void InstallStopSignals() {
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
}

bool StopSignalled() { return g_signals.load() > 0; }

core::Status RunPipelines(Wiring& wiring, pipeline::Metrics& metrics, const RunOptions& options) {
  const auto tables = wiring.tables();
  sink::SchemaManager schema(wiring.conninfo);
  if (options.init_schema || wiring.config.postgres.auto_create) {
    DDB2PG_RETURN_IF_ERROR(schema.InitSchema(tables).WithContext("init-schema"));
  }
  if (options.check_schema) {
    auto problems = schema.Check(tables);
    if (!problems.ok()) return problems.status().WithContext("checking the target tables");
    if (!problems->empty()) {
      std::string message = "the target tables are not ready:";
      for (const auto& problem : *problems) {
        message += "\n  " + problem.table + ": " + problem.problem + "\n    fix: " + problem.fix_sql;
      }
      message += "\n(or run `ddb2pg init-schema -c FILE`, or set postgres.auto_create: true)";
      return core::Status(core::StatusCode::kNotFound, message);
    }
  }

  pipeline::RuntimeOptions runtime_options;
  runtime_options.batch_max_rows = wiring.config.postgres.batch_max_rows;
  runtime_options.batch_max_bytes = wiring.config.postgres.batch_max_bytes;
  runtime_options.batch_max_delay = std::chrono::milliseconds(wiring.config.postgres.batch_max_delay_ms);

  std::vector<std::unique_ptr<pipeline::SourceRuntime>> runtimes;
  for (auto& source : wiring.sources) {
    auto runtime = std::make_unique<pipeline::SourceRuntime>(*source.config, source.plans, wiring.conninfo,
                                                             source.checkpoint_id, *source.table, *source.streams,
                                                             metrics, runtime_options);
    aws::DynamoDbClient* client = source.table.get();
    runtime->SetStreamEnabler([client](const std::string& table) {
      auto updated = client->UpdateStream(table, true, "NEW_AND_OLD_IMAGES");
      return updated.ok() ? core::Status::Ok() : updated.status();
    });
    runtimes.push_back(std::move(runtime));
  }

  std::string listen = options.metrics_listen.empty() ? wiring.config.metrics.listen : options.metrics_listen;
  std::vector<std::string> pipeline_names;
  for (const auto& plan : wiring.plans) pipeline_names.push_back(plan->spec().name);
  StatusBoard board(wiring.conninfo, pipeline_names);
  HttpEndpoint endpoint(metrics, [&metrics] { return metrics.Ready().Value() > 0; });
  endpoint.SetStatusProvider([&board] { return board.Json(); });
  if (!listen.empty() && listen != "off") {
    DDB2PG_RETURN_IF_ERROR(endpoint.Start(listen));
    board.StartDeadLetterReader();
    if (options.metrics_port != nullptr) *options.metrics_port = endpoint.port();
    const std::string host = listen.find(':') == std::string::npos ? "127.0.0.1" : listen.substr(0, listen.rfind(':'));
    spdlog::info("metrics on http://{}:{}/metrics, status page on http://{}:{}/", host, endpoint.port(), host,
                 endpoint.port());
  }

  std::vector<core::Status> results(runtimes.size());
  std::vector<std::thread> threads;
  std::atomic<int> running{static_cast<int>(runtimes.size())};
  for (size_t i = 0; i < runtimes.size(); ++i) {
    threads.emplace_back([&, i] {
      // Maps records into batches; its runtime's "pg-commit" thread writes them.
      core::SetCurrentThreadName("mapper-" + std::to_string(i));
      results[i] = runtimes[i]->Run();
      if (!results[i].ok()) {
        // One source failing stops the others: the operator sees one clear failure.
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
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto now = std::chrono::steady_clock::now();
    const bool timed_out = options.duration.count() > 0 && now - started >= options.duration;
    const bool external = options.external_stop != nullptr && options.external_stop->load();
    if (!stopping && (StopSignalled() || timed_out || external)) {
      stopping = true;
      spdlog::info("stopping: committing what was read");
      for (auto& runtime : runtimes) runtime->RequestStop();
    }
    {
      std::vector<SourceStatus> statuses;
      for (size_t i = 0; i < runtimes.size(); ++i) {
        statuses.push_back(SourceStatusOf(wiring.sources[i], runtimes[i]->progress(), metrics));
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
  board.Stop();
  for (size_t i = 0; i < runtimes.size(); ++i) {
    const auto progress = runtimes[i]->progress();
    spdlog::info("source {}: {} records, {} rows committed in {} commits, {} dead letters",
                 wiring.sources[i].config->name, progress.records_committed, progress.rows_committed, progress.commits,
                 progress.dead_letters);
  }
  for (const auto& result : results) {
    if (!result.ok()) return result;
  }
  return core::Status::Ok();
}

}  // namespace ddb2pg::app
