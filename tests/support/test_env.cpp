#include "support/test_env.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace ddb2pg::testing {
namespace {
std::string RequireEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string(name) +
                             " is not set: integration tests need the real servers; run them through "
                             "scripts/test (or source the env file written by scripts/servers start)");
  }
  return value;
}

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;
}  // namespace

std::string DynamoDbEndpoint() { return RequireEnv("DDB2PG_TEST_DYNAMODB_ENDPOINT"); }

std::string PostgresConninfo() { return RequireEnv("DDB2PG_TEST_PG"); }

std::string S3Endpoint() { return RequireEnv("DDB2PG_TEST_S3_ENDPOINT"); }

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + std::to_string(getpid()) + "x" + std::to_string(counter.fetch_add(1));
}

std::string ScratchDir() {
  const char* run_dir = std::getenv("DDB2PG_TEST_RUN_DIR");
  if (run_dir == nullptr || *run_dir == '\0') return "/tmp";
  const std::string dir = std::string(run_dir) + "/scratch";
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  return dir;
}

PgTestConnection::PgTestConnection(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn_);
    PQfinish(conn_);
    throw std::runtime_error("cannot connect to PostgreSQL: " + message);
  }
}

PgTestConnection::~PgTestConnection() { PQfinish(conn_); }

void PgTestConnection::Exec(const std::string& sql) { Query(sql); }

std::vector<SqlRow> PgTestConnection::Query(const std::string& sql) {
  ResultPtr result(PQexec(conn_, sql.c_str()));
  const auto status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("SQL failed: " + std::string(PQerrorMessage(conn_)) + " in: " + sql);
  }
  std::vector<SqlRow> rows;
  for (int r = 0; r < PQntuples(result.get()); ++r) {
    SqlRow row;
    for (int c = 0; c < PQnfields(result.get()); ++c) {
      if (PQgetisnull(result.get(), r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(PQgetvalue(result.get(), r, c));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string PgTestConnection::Scalar(const std::string& sql) {
  auto rows = Query(sql);
  if (rows.size() != 1 || rows[0].size() != 1) {
    throw std::runtime_error("expected one value from: " + sql);
  }
  return rows[0][0].value_or("");
}

std::string SystemSchemaColumns(PgTestConnection& db) {
  std::string out;
  for (const auto& row : db.Query("SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || "
                                  "' ' || coalesce(column_default, '-') FROM information_schema.columns WHERE "
                                  "table_schema = 'ddb2pg' AND table_name <> 'schema_migrations' ORDER BY 1")) {
    out += row[0].value_or("NULL") + "\n";
  }
  return out;
}

}  // namespace ddb2pg::testing
