// What integration tests need from their environment: the real servers that scripts/test
// started (DDB2PG_TEST_DYNAMODB_ENDPOINT, DDB2PG_TEST_PG), unique names so tests never disturb
// one another, and a small libpq helper for reading results back.
#pragma once

#include <libpq-fe.h>

#include <optional>
#include <string>
#include <vector>

namespace ddb2pg::testing {

// The DynamoDB Local endpoint, e.g. "http://127.0.0.1:34567". Throws std::runtime_error naming
// the variable when it is not set (run the tests through scripts/test).
std::string DynamoDbEndpoint();
// libpq conninfo of the throwaway PostgreSQL cluster.
std::string PostgresConninfo();
// The local S3 server (s3rver, tests/js/s3/server.mjs), e.g. "http://127.0.0.1:34568":
// path-style, any access key, bucket kTestBucket exists. It does not check SigV4 signatures.
std::string S3Endpoint();
inline constexpr char kTestBucket[] = "ddb2pg-test";

// A name unique to this process and call: prefix + pid + counter, letters and digits only (valid
// as a DynamoDB Local access key, a table name and a PostgreSQL schema).
std::string UniqueName(const std::string& prefix);

// Where a test writes its own files (configs, logs): a folder in scripts/test's run directory,
// which scripts/test removes at the end, or /tmp when the tests run by hand without one. Created
// on first use.
std::string ScratchDir();

using SqlRow = std::vector<std::optional<std::string>>;

// A libpq connection for tests; every failure throws std::runtime_error with the server's message.
class PgTestConnection {
 public:
  explicit PgTestConnection(const std::string& conninfo);
  ~PgTestConnection();
  PgTestConnection(const PgTestConnection&) = delete;
  PgTestConnection& operator=(const PgTestConnection&) = delete;

  void Exec(const std::string& sql);
  std::vector<SqlRow> Query(const std::string& sql);
  // The single value of a one-row, one-column query ("" for NULL).
  std::string Scalar(const std::string& sql);
  PGconn* raw() { return conn_; }

 private:
  PGconn* conn_;
};

// The columns of ddb2pg's own tables but schema_migrations, one line each (table.column type
// nullability default), sorted: two databases with equal text have the same system schema.
std::string SystemSchemaColumns(PgTestConnection& db);

}  // namespace ddb2pg::testing
