// PgConnection: one libpq connection (RAII: PQfinish on destruction) with the few operations the
// sink needs — plain statements, parameterized statements, COPY FROM STDIN, prepared statements
// and a pipeline (libpq pipeline mode) that sends many statements in one round trip.
//
// The conninfo goes to libpq unchanged (key=value or URI; PG* environment variables, sslmode,
// sslrootcert … all apply). Every failure comes back as a Status: connection problems and
// server shutdowns as kUnavailable (reconnect and retry), constraint and data errors as
// kInvalidArgument, missing objects as kNotFound, privilege errors as kPermissionDenied. Error
// messages never contain the password.
//
// Thread-safety: one thread at a time.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sink/pg_result.h"

namespace ddb2pg::sink {

// One statement of a pipeline: a prepared statement (prepared_name set) or SQL with parameters.
struct PgStatement {
  std::string prepared_name;
  std::string sql;
  std::vector<std::optional<std::string>> params;  // text format; nullopt = NULL
  std::string context;                             // for error messages, e.g. "upsert public.profile"
};

class PgConnection {
 public:
  // Connects; the message of a failure names host, port, database and user (never the password).
  static core::Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo,
                                                             const std::string& application_name);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // True once libpq has seen the connection break; the owner must reconnect.
  bool broken() const;
  // "host=… port=… dbname=… user=…" of the live connection, for messages.
  const std::string& description() const { return description_; }
  PGconn* raw() { return conn_; }

  // A statement without parameters (DDL, BEGIN, SAVEPOINT …).
  core::Status Exec(const std::string& sql, std::string_view context);
  // A parameterized statement; returns the result (tuples or command status).
  core::Result<PgResult> Query(const std::string& sql, const std::vector<std::optional<std::string>>& params,
                               std::string_view context);
  core::Status Prepare(const std::string& name, const std::string& sql, std::string_view context);

  // COPY … FROM STDIN: Begin, Put any number of chunks, End (which returns the COPY's outcome).
  core::Status CopyBegin(const std::string& copy_sql, std::string_view context);
  core::Status CopyPut(std::string_view data, std::string_view context);
  // `sqlstate`, when given, receives the SQLSTATE of a failed COPY ("" on success).
  core::Status CopyEnd(std::string_view context, std::string* sqlstate = nullptr);

  // Sends every statement in pipeline mode followed by one Sync, then reads all results. On
  // success returns one result per statement. On failure returns the first error (statements
  // after it were skipped by the server); the connection is left idle, out of pipeline mode.
  core::Result<std::vector<PgResult>> RunPipeline(const std::vector<PgStatement>& statements);

  // The Status for a failed result (or, with result == nullptr, for PQerrorMessage).
  core::Status ErrorStatus(const PGresult* result, std::string_view context) const;

 private:
  PgConnection(PGconn* conn, std::string secret);
  std::string Redact(std::string text) const;

  PGconn* conn_;
  std::string password_;     // only to scrub it from messages
  std::string description_;
};

// Scrubs `password` and password=… / :…@ fragments from a libpq message.
std::string RedactPassword(std::string text, const std::string& password);

}  // namespace ddb2pg::sink
