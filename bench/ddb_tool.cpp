// ddb_tool: the DynamoDB side of bench/run, through ddb2pg's own client (same HTTP transport,
// signer and decoder as `ddb2pg run`), so the raw figures compare like with like.
//
//   ddb_tool create-table TABLE                  partition key id (S), no stream
//   ddb_tool enable-stream TABLE                 NEW_AND_OLD_IMAGES
//   ddb_tool scan TABLE SEGMENTS LIMIT           parallel Scan, nothing written anywhere;
//                                                prints "items=N seconds=S"
//   ddb_tool write TABLE RATE SECONDS THREADS    PutItem of reference items at RATE/s in total,
//                                                each stamped with writtenAt (N, epoch ms, taken
//                                                just before the request is sent); prints
//                                                "written=N seconds=S put_p50_ms=… put_p99_ms=…"
//   ddb_tool touch TABLE THREADS                 rewrites every item once with v + 1 and a new bio
//                                                (one MODIFY stream record each); prints
//                                                "touched=N seconds=S"
//   ddb_tool write-export TABLE BUCKET PREFIX FILES
//                                                Scans TABLE and writes its items to S3 as a
//                                                completed export at the current time, in AWS's
//                                                layout (as tests/integration/pipeline/
//                                                export_writer.h does for the tests); prints
//                                                "items=N manifest=s3://BUCKET/…/manifest-summary.json"
//
// Endpoint, region and credentials come from the standard AWS_* variables.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zlib.h>

#include <ctime>

#include "app/sample_data.h"
#include "aws/credentials.h"
#include "aws/dynamodb_client.h"
#include "aws/md5_digest.h"
#include "aws/s3_addressing.h"
#include "aws/s3_client.h"
#include "core/clock.h"
#include "core/value_json.h"

namespace {

using ddb2pg::aws::DynamoDbClient;
using SteadyClock = std::chrono::steady_clock;

int Fail(const std::string& what) {
  std::fprintf(stderr, "ddb_tool: %s\n", what.c_str());
  return 1;
}

double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

int CreateTable(DynamoDbClient& client, const std::string& table) {
  ddb2pg::aws::CreateTableRequest request;
  request.table_name = table;
  request.key_schema = {{"id", "HASH"}};
  request.attribute_definitions = {{"id", "S"}};
  auto created = client.CreateTable(request);
  if (!created.ok()) return Fail(created.status().ToString());
  auto active = client.WaitForTableActive(table);
  return active.ok() ? 0 : Fail(active.status().ToString());
}

int EnableStream(DynamoDbClient& client, const std::string& table) {
  auto updated = client.UpdateStream(table, true, "NEW_AND_OLD_IMAGES");
  if (!updated.ok()) return Fail(updated.status().ToString());
  auto active = client.WaitForTableActive(table);
  return active.ok() ? 0 : Fail(active.status().ToString());
}

int Scan(DynamoDbClient& client, const std::string& table, int segments, int limit) {
  std::atomic<int64_t> items{0};
  std::atomic<int64_t> bytes{0};
  std::mutex error_mutex;
  std::string error;
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int segment = 0; segment < segments; ++segment) {
    threads.emplace_back([&, segment] {
      ddb2pg::aws::ScanRequest request;
      request.table_name = table;
      request.segment = segment;
      request.total_segments = segments;
      request.limit = limit;
      while (true) {
        auto page = client.Scan(request);
        if (!page.ok()) {
          std::lock_guard lock(error_mutex);
          error = page.status().ToString();
          return;
        }
        items += static_cast<int64_t>(page->items.size());
        bytes += static_cast<int64_t>(page->response_bytes);
        if (!page->last_evaluated_key) return;
        request.exclusive_start_key = std::move(page->last_evaluated_key);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (!error.empty()) return Fail(error);
  std::printf("items=%lld seconds=%.3f response_mb=%.1f\n", static_cast<long long>(items.load()), Seconds(start),
              static_cast<double>(bytes.load()) / 1e6);
  return 0;
}

int Write(DynamoDbClient& client, const std::string& table, double rate, double seconds, int thread_count) {
  std::atomic<int64_t> written{0};
  std::mutex mutex;
  std::vector<double> put_ms;
  std::string error;
  const auto start = SteadyClock::now();
  const auto end = start + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(seconds));
  const auto period =
      std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(thread_count / rate));
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      ddb2pg::app::SampleData data(1000 + static_cast<uint64_t>(t));
      std::vector<double> local;
      // Threads are staggered so the writes are spread evenly over each period.
      auto next = start + period * t / thread_count;
      while (true) {
        std::this_thread::sleep_until(next);
        if (SteadyClock::now() >= end) break;
        auto item = data.MakeItem(data.NewId(), 1);
        const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
        item.Set("writtenAt", ddb2pg::core::Value::Number(std::to_string(wall_ms)));
        const auto sent = SteadyClock::now();
        auto status = client.PutItem(table, item);
        if (!status.ok()) {
          std::lock_guard lock(mutex);
          error = status.ToString();
          return;
        }
        local.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - sent).count());
        ++written;
        next += period;
        // Slower than the rate: do not burst to catch up (the report shows the achieved rate).
        if (SteadyClock::now() - next > std::chrono::seconds(1)) next = SteadyClock::now();
      }
      std::lock_guard lock(mutex);
      put_ms.insert(put_ms.end(), local.begin(), local.end());
    });
  }
  for (auto& thread : threads) thread.join();
  if (!error.empty()) return Fail(error);
  const double elapsed = Seconds(start);
  std::sort(put_ms.begin(), put_ms.end());
  auto pct = [&](double p) {
    return put_ms.empty() ? 0.0 : put_ms[std::min(put_ms.size() - 1, static_cast<size_t>(p * put_ms.size()))];
  };
  std::printf("written=%lld seconds=%.3f rate=%.1f put_p50_ms=%.2f put_p99_ms=%.2f\n",
              static_cast<long long>(written.load()), elapsed, static_cast<double>(written.load()) / elapsed,
              pct(0.50), pct(0.99));
  return 0;
}

// Every item once more, as an update: v + 1 (N) and bio "touched <v>", in batches of 25 from
// THREADS Scan segments.
int Touch(DynamoDbClient& client, const std::string& table, int thread_count) {
  std::atomic<int64_t> touched{0};
  std::mutex error_mutex;
  std::string error;
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int segment = 0; segment < thread_count; ++segment) {
    threads.emplace_back([&, segment] {
      ddb2pg::aws::ScanRequest request;
      request.table_name = table;
      request.segment = segment;
      request.total_segments = thread_count;
      request.limit = 1000;
      request.consistent_read = true;
      auto fail = [&](const ddb2pg::core::Status& status) {
        std::lock_guard lock(error_mutex);
        error = status.ToString();
      };
      while (true) {
        auto page = client.Scan(request);
        if (!page.ok()) return fail(page.status());
        std::vector<ddb2pg::aws::WriteRequest> writes;
        for (auto& item : page->items) {
          const ddb2pg::core::Value* v = item.Find("v");
          const long long version = v != nullptr && v->scalar_text() != nullptr ? std::stoll(*v->scalar_text()) : 1;
          item.Set("v", ddb2pg::core::Value::Number(std::to_string(version + 1)));
          item.Set("bio", ddb2pg::core::Value::String("touched " + std::to_string(version + 1)));
          writes.push_back({std::move(item), std::nullopt});
          if (writes.size() == 25) {
            if (auto written = client.BatchWriteItem(table, writes); !written.ok()) return fail(written);
            touched += static_cast<int64_t>(writes.size());
            writes.clear();
          }
        }
        if (!writes.empty()) {
          if (auto written = client.BatchWriteItem(table, writes); !written.ok()) return fail(written);
          touched += static_cast<int64_t>(writes.size());
        }
        if (!page->last_evaluated_key) return;
        request.exclusive_start_key = std::move(page->last_evaluated_key);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (!error.empty()) return Fail(error);
  std::printf("touched=%lld seconds=%.3f\n", static_cast<long long>(touched.load()), Seconds(start));
  return 0;
}

std::string Gzip(const std::string& text) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return "";
  std::string out(deflateBound(&z, text.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const bool done = deflate(&z, Z_FINISH) == Z_STREAM_END;
  out.resize(done ? z.total_out : 0);
  deflateEnd(&z);
  return out;
}

std::string IsoTime(int64_t epoch_ms) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[48];
  const size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buffer + length, sizeof buffer - length, ".%03dZ", static_cast<int>(epoch_ms % 1000));
  return buffer;
}

// The same layout as the tests' ExportWriter (manifest-summary.json, manifest-files.json as JSON
// lines, data/*.json.gz of {"Item":…} lines), without gtest.
int WriteExport(DynamoDbClient& client, ddb2pg::aws::S3Client& s3, const std::string& table,
                const std::string& bucket, const std::string& prefix, int files) {
  if (files < 1) return Fail("FILES must be at least 1");
  std::vector<std::string> lines(static_cast<size_t>(files));
  std::vector<int64_t> counts(static_cast<size_t>(files), 0);
  int64_t total = 0;
  const int64_t export_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
  ddb2pg::aws::ScanRequest request;
  request.table_name = table;
  while (true) {
    auto page = client.Scan(request);
    if (!page.ok()) return Fail(page.status().ToString());
    for (const auto& item : page->items) {
      const size_t file = static_cast<size_t>(total % files);
      lines[file] += "{\"Item\":" + ddb2pg::core::ItemToJson(item) + "}\n";
      ++counts[file];
      ++total;
    }
    if (!page->last_evaluated_key) break;
    request.exclusive_start_key = std::move(page->last_evaluated_key);
  }
  const std::string id = std::to_string(export_ms) + "-ddb2pgbe";
  const std::string dir = prefix + "AWSDynamoDB/" + id;
  auto put = [&](const std::string& key, std::string body) {
    auto status = s3.PutObject(bucket, key, std::move(body));
    if (!status.ok()) Fail("PutObject " + key + ": " + status.ToString());
    return status.ok();
  };
  std::string manifest_files;
  for (size_t f = 0; f < lines.size(); ++f) {
    const std::string gz = Gzip(lines[f]);
    if (gz.empty()) return Fail("gzip failed");
    const std::string key = dir + "/data/" + std::to_string(f) + "benchdat.json.gz";
    manifest_files += "{\"itemCount\":" + std::to_string(counts[f]) + ",\"md5Checksum\":\"" +
                      ddb2pg::aws::Md5Digest::Base64Of(gz) + "\",\"etag\":\"" + std::to_string(f) +
                      "-1\",\"dataFileS3Key\":\"" + key + "\"}\n";
    if (!put(key, gz)) return 1;
  }
  if (!put(dir + "/manifest-files.json", manifest_files)) return 1;
  const std::string time = IsoTime(export_ms);
  const std::string arn = "arn:aws:dynamodb:us-east-1:000000000000:table/" + table;
  const std::string summary =
      "{\"version\":\"2020-06-30\",\"exportArn\":\"" + arn + "/export/" + id + "\",\"startTime\":\"" + time +
      "\",\"endTime\":\"" + time + "\",\"tableArn\":\"" + arn + "\",\"tableId\":\"bench\",\"exportTime\":\"" +
      time + "\",\"s3Bucket\":\"" + bucket + "\",\"s3Prefix\":\"" + prefix +
      "\",\"s3SseAlgorithm\":\"AES256\",\"s3SseKmsKeyId\":null,\"manifestFilesS3Key\":\"" + dir +
      "/manifest-files.json\",\"billedSizeBytes\":0,\"itemCount\":" + std::to_string(total) +
      ",\"outputFormat\":\"DYNAMODB_JSON\",\"exportType\":\"FULL_EXPORT\"}";
  if (!put(dir + "/manifest-summary.json", summary)) return 1;
  std::printf("items=%lld manifest=s3://%s/%s/manifest-summary.json\n", static_cast<long long>(total), bucket.c_str(),
              dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 2) {
    return Fail("usage: ddb_tool create-table|enable-stream TABLE | scan TABLE SEGMENTS LIMIT | "
                "write TABLE RATE SECONDS THREADS | touch TABLE THREADS | write-export TABLE BUCKET PREFIX FILES");
  }
  auto resolved = ddb2pg::aws::ResolveAws({});
  if (!resolved.ok()) return Fail(resolved.status().ToString());
  DynamoDbClient client(*resolved, ddb2pg::aws::RetryPolicy(), ddb2pg::core::SystemClock::Instance());
  const std::string& command = args[0];
  const std::string& table = args[1];
  if (command == "create-table") return CreateTable(client, table);
  if (command == "enable-stream") return EnableStream(client, table);
  if (command == "scan" && args.size() == 4) return Scan(client, table, std::stoi(args[2]), std::stoi(args[3]));
  if (command == "write" && args.size() == 5) {
    return Write(client, table, std::stod(args[2]), std::stod(args[3]), std::stoi(args[4]));
  }
  if (command == "touch" && args.size() == 3) return Touch(client, table, std::stoi(args[2]));
  if (command == "write-export" && args.size() == 5) {
    ddb2pg::aws::S3Client s3(*resolved, ddb2pg::aws::ResolveS3Endpoint(ddb2pg::aws::ProcessEnvironment()),
                             ddb2pg::aws::RetryPolicy(), ddb2pg::core::SystemClock::Instance());
    return WriteExport(client, s3, table, args[2], args[3], std::stoi(args[4]));
  }
  return Fail("unknown command or wrong arguments: " + command);
}
