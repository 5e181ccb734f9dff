#include "processor/plan_checker.h"
#include "app/demo.h"

#include <libpq-fe.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <thread>

#include "app/embedded_config.h"
#include "app/generator.h"
#include "app/run_pipelines.h"
#include "app/wiring.h"
#include "config/config.h"
#include "sink/pg_connection.h"
#include "sink/system/system_status.h"
#include "sink/pg_result.h"

namespace ddb2pg::app {
namespace {

// Prints a query's result as an aligned table, like psql.
void PrintQuery(PGconn* conn, const std::string& sql) {
  sink::PgResult result(PQexec(conn, sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    std::printf("query failed: %s", PQerrorMessage(conn));
    return;
  }
  const int rows = PQntuples(result.get()), columns = PQnfields(result.get());
  std::vector<size_t> widths(columns);
  auto cell = [&](int r, int c) -> std::string {
    if (PQgetisnull(result.get(), r, c)) return "∅";
    std::string value = PQgetvalue(result.get(), r, c);
    return value.size() > 36 ? value.substr(0, 33) + "..." : value;
  };
  for (int c = 0; c < columns; ++c) {
    widths[c] = std::string(PQfname(result.get(), c)).size();
    for (int r = 0; r < rows; ++r) widths[c] = std::max(widths[c], cell(r, c).size());
  }
  std::string line;
  for (int c = 0; c < columns; ++c) line += fmt::format(" {:<{}} |", PQfname(result.get(), c), widths[c]);
  std::printf("%s\n", line.c_str());
  line.clear();
  for (int c = 0; c < columns; ++c) line += std::string(widths[c] + 2, '-') + "+";
  std::printf("%s\n", line.c_str());
  for (int r = 0; r < rows; ++r) {
    line.clear();
    for (int c = 0; c < columns; ++c) line += fmt::format(" {:<{}} |", cell(r, c), widths[c]);
    std::printf("%s\n", line.c_str());
  }
  std::printf("(%d row%s)\n", rows, rows == 1 ? "" : "s");
}

}  // namespace

core::Status RunDemo(const DemoOptions& options) {
  auto loaded = options.config_path.empty() ? config::LoadConfigText(kEmbeddedUsersConfig, "examples/users.yaml (embedded)", processor::PlanChecker())
                                            : config::LoadConfigFile(options.config_path, processor::PlanChecker());
  if (!loaded.ok()) return loaded.status();
  DDB2PG_ASSIGN_OR_RETURN(auto wiring, Wire(std::move(loaded).value(), true));
  if (wiring->sources.empty()) return core::Status::InvalidArgument("the demo configuration has no pipelines");
  auto& source = wiring->sources.front();
  aws::DynamoDbClient& client = *source.table;
  const std::string table = source.config->table;

  std::printf("ddb2pg demo: DynamoDB %s, table %s\n", source.aws.dynamodb_endpoint.c_str(), table.c_str());
  DDB2PG_RETURN_IF_ERROR(EnsureUsersTable(client, table).WithContext("creating table " + table));
  InstallStopSignals();

  if (options.initial_items > 0) {
    std::printf("loading %lld items with BatchWriteItem ...\n", static_cast<long long>(options.initial_items));
    GeneratorOptions bulk;
    bulk.table = table;
    bulk.bulk = true;
    bulk.count = options.initial_items;
    bulk.threads = 4;
    bulk.bad_ratio = 0.002;
    bulk.seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    DDB2PG_ASSIGN_OR_RETURN(auto loaded_report, RunGenerator(client, bulk));
    std::printf("loaded %lld items in %.1f s (%.0f items/s)\n", static_cast<long long>(loaded_report.inserts),
                loaded_report.seconds, loaded_report.operations_per_second());
  }

  // The generator writes while the pipeline streams.
  std::atomic<bool> stop_generator{false}, stop_pipeline{false}, generator_done{false};
  std::atomic<int64_t> committed{0};
  core::Status generator_status;
  GeneratorReport generator_report;
  std::thread generator([&] {
    GeneratorOptions steady;
    steady.table = table;
    steady.rate = options.rate;
    steady.update_ratio = 0.3;
    steady.delete_ratio = 0.05;
    steady.bad_ratio = 0.01;
    steady.count = 0;
    steady.duration = std::chrono::hours(24 * 365);
    steady.seed = 7;
    auto report = RunGenerator(client, steady, &stop_generator);
    generator_done = true;
    if (report.ok()) {
      generator_report = *report;
    } else {
      generator_status = report.status();
    }
  });
  std::thread controller([&] {
    const auto started = std::chrono::steady_clock::now();
    while (!StopSignalled()) {
      if (options.duration.count() > 0 && std::chrono::steady_clock::now() - started >= options.duration) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    stop_generator = true;
    while (!generator_done && !StopSignalled()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    // Let the pipeline apply everything the generator wrote before stopping it: wait until no
    // record was committed for 2 s (the stream is polled at least every 250 ms). Change times
    // cannot tell: DynamoDB Local rounds ApproximateCreationDateTime down (to the minute, seen
    // with 3.3.1).
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    int64_t last_seen = -1;
    auto quiet_since = std::chrono::steady_clock::now();
    spdlog::info("generator stopped; waiting for the pipeline to apply its last changes");
    while (!StopSignalled() && std::chrono::steady_clock::now() < give_up) {
      const int64_t now_committed = committed.load();
      if (now_committed != last_seen) {
        last_seen = now_committed;
        quiet_since = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - quiet_since >= std::chrono::seconds(2)) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    stop_pipeline = true;
  });

  pipeline::Metrics metrics;
  for (const auto& source : wiring->sources) metrics.AddRetryStats(source.retry_stats);
  RunOptions run;
  run.init_schema = true;
  run.external_stop = &stop_pipeline;
  run.records_committed = &committed;
  core::Status result = RunPipelines(*wiring, metrics, run);
  stop_generator = true;
  stop_pipeline = true;
  controller.join();
  generator.join();
  if (!result.ok()) return result;
  if (!generator_status.ok()) spdlog::warn("generator stopped early: {}", generator_status.ToString());
  std::printf("\ngenerator: %lld inserts, %lld updates, %lld deletes at %.0f operations/s\n",
              static_cast<long long>(generator_report.inserts), static_cast<long long>(generator_report.updates),
              static_cast<long long>(generator_report.deletes), generator_report.operations_per_second());

  DDB2PG_ASSIGN_OR_RETURN(auto connection, sink::PgConnection::Connect(wiring->conninfo, "ddb2pg demo"));
  PGconn* conn = connection->raw();
  std::printf("\nSELECT p.handle, p.name, p.location, p.rep_score, p.created_at, a.mode, a.colorway, a.theme\n"
              "  FROM profile p JOIN appearance_settings a ON p.id = a.profile_id\n"
              " WHERE NOT p.deleted ORDER BY p.created_at DESC LIMIT 10;\n\n");
  PrintQuery(conn,
             "SELECT p.handle, p.name, p.location, p.rep_score, p.created_at, a.mode, a.colorway, a.theme "
             "FROM profile p JOIN appearance_settings a ON p.id = a.profile_id "
             "WHERE NOT p.deleted ORDER BY p.created_at DESC LIMIT 10");
  std::printf("\n");
  PrintQuery(conn,
             "SELECT (SELECT count(*) FROM profile) AS profiles, "
             "(SELECT count(*) FROM profile WHERE deleted) AS soft_deleted, "
             "(SELECT count(*) FROM appearance_settings) AS appearance_rows, "
             "(SELECT count(*) FROM notification_settings) AS notification_rows");
  DDB2PG_ASSIGN_OR_RETURN(const int64_t dead_letters, sink::SystemStatus::DeadLetterCount(*connection, {}));
  std::printf("\ndead letters: %lld (the newest below; all of them in ddb2pg.dead_letters)\n",
              static_cast<long long>(dead_letters));
  std::vector<std::string> pipelines;
  for (const auto& source : wiring->sources) {
    for (const auto* plan : source.plans) pipelines.push_back(plan->spec().name);
  }
  DDB2PG_ASSIGN_OR_RETURN(const auto letters, sink::SystemStatus::LatestDeadLetters(*connection, pipelines, 5, 70));
  for (const auto& letter : letters) {
    std::printf("  %-24s %-9s %.70s\n", letter.pipeline.c_str(), letter.operation.c_str(), letter.reason.c_str());
  }
  return core::Status::Ok();
}

}  // namespace ddb2pg::app
