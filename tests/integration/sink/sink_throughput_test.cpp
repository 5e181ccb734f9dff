// Sink throughput next to a raw `psql \copy` of the same rows into the same kind of table, in the
// same run. Prints figures only (no timed assertions); it checks that every row arrived.
// Rows: DDB2PG_SINK_BENCH_ROWS (default 20000; the issue's figure uses 200000), batches of
// DDB2PG_SINK_BENCH_BATCH (default 10000).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "integration/sink/sink_fixture.h"
#include "sink/copy_text_encoder.h"

namespace ddb2pg::sink::testing {
namespace {

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value == nullptr || *value == '\0' ? fallback : std::atoi(value);
}

// A profile row of realistic size (~400 bytes of text), `version` varies the non-key cells.
Row BenchRow(int n, int version) {
  Row row;
  row.AppendCell(Uuid(n));
  row.AppendCell(Uuid(n));
  row.AppendCell("2024-09-05T17:16:20.382266Z");
  row.AppendCell("Name Surname " + std::to_string(n) + " v" + std::to_string(version));
  row.AppendCell("handle_" + std::to_string(n));
  row.AppendCell("https://cdn.example.com/images/profile/" + std::to_string(n) + "/avatar-large.png");
  row.AppendCell("Bio of user " + std::to_string(n) +
                 ": coffee, climbing, and writing about distributed systems.\tTabs and \\ too, version " +
                 std::to_string(version));
  row.AppendCell("Berlin, Germany");
  row.AppendCell(std::to_string(n % 1000) + ".5");
  row.AppendCell("https://example.com/~user" + std::to_string(n));
  row.AppendCell("1990-08-22");
  row.AppendCell("false");
  row.AppendNull();
  return row;
}

class SinkThroughput : public SinkTest {
 protected:
  void CreateTable(const std::string& name) {
    db_->Exec("CREATE TABLE " + schema_ + "." + name +
              " (id UUID PRIMARY KEY, user_id UUID, created_at TIMESTAMPTZ, name TEXT, handle TEXT, "
              "image_url TEXT, bio VARCHAR(210), location VARCHAR(48), rep_score REAL, website TEXT, "
              "birthdate TIMESTAMPTZ, deleted BOOLEAN DEFAULT FALSE, deleted_at TIMESTAMPTZ)");
  }

  double PsqlCopy(const std::string& table, const std::string& file, int rows) {
    CreateTable(table);
    const std::string command = "psql \"$DDB2PG_TEST_PG\" -X -q -v ON_ERROR_STOP=1 -c \"\\copy " + schema_ + "." +
                                table + " FROM '" + file + "'\"";
    const auto start = std::chrono::steady_clock::now();
    const int exit_code = std::system(command.c_str());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(exit_code, 0) << command;
    EXPECT_EQ(Scalar("SELECT count(*) FROM " + schema_ + "." + table), std::to_string(rows));
    return rows / seconds;
  }

  double SinkRun(LeasedSink& sink, const TableSpec& table, const std::vector<std::vector<Row>>& batches,
                 int* direct_batches) {
    int64_t rows = 0;
    *direct_batches = 0;
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < batches.size(); ++i) {
      PositionedBatch batch;
      batch.tables.push_back({&table, batches[i]});
      batch.position = "bench@" + std::to_string(i);
      batch.records = static_cast<int64_t>(batches[i].size());
      pipeline::CommitResult result;
      auto status = sink.Commit(batch, &result);
      EXPECT_TRUE(status.ok()) << status.ToString();
      if (status.ok() && result.tables.at(0).copied_directly) ++*direct_batches;
      rows += static_cast<int64_t>(batches[i].size());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return static_cast<double>(rows) / seconds;
  }
};

TEST_F(SinkThroughput, CommitVersusPsqlCopyOfProfileRows) {
  const int total = EnvInt("DDB2PG_SINK_BENCH_ROWS", 20000);
  const int batch_rows = EnvInt("DDB2PG_SINK_BENCH_BATCH", 10000);
  std::vector<std::vector<Row>> inserts;
  std::vector<std::vector<Row>> updates;
  std::string copy_text;
  for (int n = 0; n < total; ++n) {
    if (n % batch_rows == 0) {
      inserts.emplace_back();
      updates.emplace_back();
    }
    inserts.back().push_back(BenchRow(n, 1));
    updates.back().push_back(BenchRow(n, 2));
    CopyTextEncoder::AppendRow(copy_text, inserts.back().back());
  }
  const std::string file = ddb2pg::testing::ScratchDir() + "/" + schema_ + ".copy";
  std::ofstream(file, std::ios::binary) << copy_text;

  const double copy_first = PsqlCopy("raw1", file, total);

  TableSpec direct = ProfileSpec(schema_);
  direct.name = "sink_direct";
  CreateTable(direct.name);
  LeasedSink sink(Options("direct"));
  ASSERT_TRUE(sink.Open({&direct}).ok());
  int direct_batches = 0;
  const double sink_insert = SinkRun(sink, direct, inserts, &direct_batches);
  int update_direct = 0;
  const double sink_update = SinkRun(sink, direct, updates, &update_direct);
  EXPECT_EQ(Scalar("SELECT count(*) FROM " + schema_ + ".sink_direct WHERE name LIKE '% v2'"), std::to_string(total));

  TableSpec staged = ProfileSpec(schema_);
  staged.name = "sink_staged";
  CreateTable(staged.name);
  auto options = Options("staged");
  options.direct_copy = false;
  LeasedSink staging_sink(options);
  ASSERT_TRUE(staging_sink.Open({&staged}).ok());
  int unused = 0;
  const double staged_insert = SinkRun(staging_sink, staged, inserts, &unused);
  EXPECT_EQ(Scalar("SELECT count(*) FROM " + schema_ + ".sink_staged"), std::to_string(total));

  const double copy_second = PsqlCopy("raw2", file, total);
  std::remove(file.c_str());
  const double copy_rate = (copy_first + copy_second) / 2;

  std::printf(
      "\nsink throughput, %d profile rows (13 columns), batches of %d:\n"
      "  psql \\copy into an empty table          %8.0f rows/s (runs: %.0f, %.0f)\n"
      "  Commit, new keys (direct COPY, %d/%zu)   %8.0f rows/s  ratio %.2f\n"
      "  Commit, new keys, staging only          %8.0f rows/s  ratio %.2f\n"
      "  Commit, all keys exist (upsert)         %8.0f rows/s  ratio %.2f\n",
      total, batch_rows, copy_rate, copy_first, copy_second, direct_batches, inserts.size(), sink_insert,
      sink_insert / copy_rate, staged_insert, staged_insert / copy_rate, sink_update, sink_update / copy_rate);
}

// What isolating rejected rows costs: one batch of DDB2PG_SINK_BENCH_BATCH rows with 1, 10 and
// 100 rows a CHECK constraint refuses, next to the same batch without any. Prints figures only.
TEST_F(SinkThroughput, IsolatingRejectedRowsInOneBatch) {
  const int batch_rows = EnvInt("DDB2PG_SINK_BENCH_BATCH", 10000);
  TableSpec table = ProfileSpec(schema_);
  table.name = "isolate";
  CreateTable(table.name);
  db_->Exec("ALTER TABLE " + schema_ + ".isolate ADD CHECK (location <> 'bad')");
  LeasedSink sink(Options());
  ASSERT_TRUE(sink.Open({&table}).ok());
  std::printf("\nisolating rejected rows, batches of %d new keys:\n", batch_rows);
  int base = 0;
  for (int bad : {0, 1, 10, 100}) {
    PositionedBatch batch;
    batch.tables.push_back({&table, {}});
    batch.tables[0].on_error = model::ErrorPolicy::kDeadLetter;
    for (int i = 0; i < batch_rows; ++i) {
      Row row = BenchRow(base + i, 1);
      if (bad > 0 && i % (batch_rows / bad) == batch_rows / bad / 2) row.SetCell(7, "bad");
      batch.tables[0].rows.push_back(std::move(row));
    }
    batch.records = batch_rows;
    batch.position = "p" + std::to_string(bad);
    pipeline::CommitResult report;
    const auto start = std::chrono::steady_clock::now();
    auto status = sink.Commit(batch, &report);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(report.tables[0].dead_lettered, bad);
    EXPECT_EQ(report.tables[0].rows_written, batch_rows - bad);
    std::printf("  %3d rejected: %7.3f s\n", bad, seconds);
    base += batch_rows;
  }
  EXPECT_EQ(Scalar("SELECT count(*) FROM " + schema_ + ".isolate"), std::to_string(4 * batch_rows - 111));
}

}  // namespace
}  // namespace ddb2pg::sink::testing
