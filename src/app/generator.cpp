#include "app/generator.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace ddb2pg::app {
namespace {
using Clock = std::chrono::steady_clock;

bool Stopped(const std::atomic<bool>* stop) { return stop != nullptr && stop->load(); }

core::Value KeyOf(const std::string& id) { return core::Value::MakeMap({{"id", core::Value::String(id)}}); }

core::Result<GeneratorReport> RunBulk(aws::DynamoDbClient& client, const GeneratorOptions& options,
                                      const std::atomic<bool>* stop) {
  const int threads = std::max(1, options.threads);
  const int64_t total = options.count > 0 ? options.count : 1000;
  std::atomic<int64_t> written{0}, bad{0};
  std::mutex error_mutex;
  core::Status first_error;
  const auto started = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      SampleData data(options.seed * 1000003 + t, options.shape);
      std::uniform_real_distribution<double> unit(0, 1);
      const int64_t mine = total / threads + (t < total % threads ? 1 : 0);
      constexpr int64_t kChunk = 250;  // ten BatchWriteItem calls of 25
      for (int64_t done = 0; done < mine && !Stopped(stop);) {
        std::vector<aws::WriteRequest> writes;
        const int64_t n = std::min(kChunk, mine - done);
        for (int64_t i = 0; i < n; ++i) {
          BadKind kind = BadKind::kNone;
          if (options.bad_ratio > 0 && unit(data.rng()) < options.bad_ratio) {
            kind = data.RandomBadKind();
            bad.fetch_add(1);
          }
          writes.push_back(aws::WriteRequest{data.MakeItem(data.NewId(), 1, kind), std::nullopt});
        }
        core::Status status = client.BatchWriteItem(options.table, writes);
        if (!status.ok()) {
          std::lock_guard lock(error_mutex);
          if (first_error.ok()) first_error = status;
          return;
        }
        done += n;
        written.fetch_add(n);
      }
    });
  }
  for (auto& worker : workers) worker.join();
  if (!first_error.ok()) return first_error;
  GeneratorReport report;
  report.inserts = written.load();
  report.bad = bad.load();
  report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return report;
}

core::Result<GeneratorReport> RunSteady(aws::DynamoDbClient& client, const GeneratorOptions& options,
                                        const std::atomic<bool>* stop) {
  SampleData data(options.seed, options.shape);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<std::string> known;                  // ids present in the table
  std::unordered_map<std::string, int64_t> versions;
  GeneratorReport report;
  const int64_t limit = options.count > 0 || options.duration.count() > 0 ? options.count : 1000;
  const auto started = Clock::now();
  const auto period = std::chrono::duration<double>(options.rate > 0 ? 1.0 / options.rate : 0);
  auto next = started;
  for (int64_t n = 0; !Stopped(stop); ++n) {
    if (limit > 0 && n >= limit) break;
    if (options.duration.count() > 0 && Clock::now() - started >= options.duration) break;
    const double pick = unit(data.rng());
    core::Status status;
    if (!known.empty() && pick < options.delete_ratio) {
      const size_t index = std::uniform_int_distribution<size_t>(0, known.size() - 1)(data.rng());
      status = client.DeleteItem(options.table, KeyOf(known[index]));
      versions.erase(known[index]);
      known[index] = known.back();
      known.pop_back();
      ++report.deletes;
    } else if (!known.empty() && pick < options.delete_ratio + options.update_ratio) {
      const std::string& id = known[std::uniform_int_distribution<size_t>(0, known.size() - 1)(data.rng())];
      status = client.PutItem(options.table, data.MakeItem(id, ++versions[id]));
      ++report.updates;
    } else {
      BadKind kind = BadKind::kNone;
      if (options.bad_ratio > 0 && unit(data.rng()) < options.bad_ratio) {
        kind = data.RandomBadKind();
        ++report.bad;
      }
      const std::string id = data.NewId();
      status = client.PutItem(options.table, data.MakeItem(id, 1, kind));
      // Bad items with a non-UUID id are stored under another key; never update them.
      if (kind == BadKind::kNone) {
        known.push_back(id);
        versions[id] = 1;
      }
      ++report.inserts;
    }
    if (!status.ok()) return status;
    if (options.rate > 0) {
      next += std::chrono::duration_cast<Clock::duration>(period);
      const auto now = Clock::now();
      if (next > now) {
        std::this_thread::sleep_until(next);
      } else if (now - next > std::chrono::seconds(1)) {
        next = now;  // the server is slower than the rate: do not burst to catch up
      }
    }
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return report;
}
}  // namespace

core::Status EnsureUsersTable(aws::DynamoDbClient& client, const std::string& table) {
  auto described = client.DescribeTable(table);
  if (described.ok()) return core::Status::Ok();
  if (described.status().code() != core::StatusCode::kNotFound) return described.status();
  aws::CreateTableRequest request;
  request.table_name = table;
  request.key_schema = {{"id", "HASH"}};
  request.attribute_definitions = {{"id", "S"}};
  request.stream_view_type = "NEW_AND_OLD_IMAGES";
  auto created = client.CreateTable(request);
  if (!created.ok()) return created.status();
  auto active = client.WaitForTableActive(table);
  return active.ok() ? core::Status::Ok() : active.status();
}

core::Result<GeneratorReport> RunGenerator(aws::DynamoDbClient& client, const GeneratorOptions& options,
                                           const std::atomic<bool>* stop) {
  if (options.create_table) DDB2PG_RETURN_IF_ERROR(EnsureUsersTable(client, options.table));
  if (options.update_ratio < 0 || options.delete_ratio < 0 || options.update_ratio + options.delete_ratio > 1) {
    return core::Status::InvalidArgument("--update-ratio and --delete-ratio must be ≥ 0 and sum to at most 1");
  }
  if (options.bad_ratio < 0 || options.bad_ratio > 1) {
    return core::Status::InvalidArgument("--bad-ratio must be between 0 and 1");
  }
  return options.bulk ? RunBulk(client, options, stop) : RunSteady(client, options, stop);
}

}  // namespace ddb2pg::app
