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
// Passwords that change per connection (postgres.auth: iam, an RDS IAM token valid 15 minutes)
// come from a PgPasswordSupplier: asked once for every new connection — never cached, so a
// reconnect long after the first connect gets a fresh token — with the endpoint libpq will use,
// and sent only over TLS (the resolved sslmode must be require, verify-ca or verify-full; the
// supplier is not asked otherwise). The app installs one process-wide supplier at start-up
// (InstallPasswordSupplier), which every Connect(conninfo, application_name) uses, so the rest of
// the sink keeps passing plain conninfo strings.
//
// TLS failures come back as one line that names the setting to fix: a certificate not signed by
// the CA in sslrootcert, a certificate whose names do not match the host, a missing root
// certificate file, a server without TLS, or a server that accepts only TLS from this address.
//
// Thread-safety: a PgConnection is used by one thread at a time. Connect, ResolveEndpoint and
// InstallPasswordSupplier are safe from any thread.
#pragma once

#include <libpq-fe.h>

#include <functional>
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

// Where a new connection goes, as libpq resolves it: the conninfo, then the PG* environment
// variables, then libpq's defaults (port 5432, the operating-system user, sslmode prefer).
struct PgEndpoint {
  std::string host;     // as given: a name, an address, a socket directory, or "a,b" for several
  std::string hostaddr;
  std::string port;
  std::string user;
  std::string dbname;
  std::string sslmode;
  std::string sslrootcert;
};

// The password for one new connection to `endpoint` (e.g. a fresh RDS IAM token). A failure
// stops the connect with its Status.
using PgPasswordSupplier = std::function<core::Result<std::string>(const PgEndpoint& endpoint)>;

class PgConnection {
 public:
  // Connects; the message of a failure names host, port, database and user (never the password).
  // Uses the installed password supplier, if any.
  static core::Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo,
                                                             const std::string& application_name);
  // The same with an explicit supplier (empty: the conninfo, PGPASSWORD or ~/.pgpass decide).
  static core::Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo,
                                                             const std::string& application_name,
                                                             const PgPasswordSupplier& password);

  // Sets (or, with an empty function, clears) the supplier every Connect(conninfo,
  // application_name) uses from now on. Called by the app's wiring before any connection.
  static void InstallPasswordSupplier(PgPasswordSupplier supplier);

  // The endpoint a conninfo leads to. InvalidArgument when libpq cannot parse it.
  static core::Result<PgEndpoint> ResolveEndpoint(const std::string& conninfo);
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
