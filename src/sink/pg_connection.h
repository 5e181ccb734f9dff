// PgConnection: one libpq connection (RAII: PQfinish on destruction) with the few operations the
// sink needs — plain statements, parameterized statements, COPY FROM STDIN, prepared statements
// and a pipeline (libpq pipeline mode) that sends many statements in one round trip.
//
// The conninfo goes to libpq unchanged (key=value or URI; PG* environment variables, sslmode,
// sslrootcert … all apply). TCP keepalives and tcp_user_timeout are added unless the conninfo
// sets them (DefaultConnectionParameters), so a peer that vanished is noticed in about 30 s.
// Every failure comes back as a Status: connection problems and server shutdowns as
// kUnavailable (reconnect and retry), constraint and data errors as kDataError, other statement
// and schema errors (SQLSTATE class 42) as kFailedPrecondition, missing objects as kNotFound,
// privilege errors as kPermissionDenied. Error messages never contain the password.
//
// Deadline: every operation waits on the socket (non-blocking libpq, poll) and gives up at the
// deadline set with SetDeadline(): the server is sent a cancel request (PQcancel, on a detached
// thread, since it blocks while the server is frozen), the connection is abandoned (broken()
// turns true) and the call returns kUnavailable, so the owner reconnects. Without a deadline
// operations wait as long as libpq would.
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
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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

// The fields of the last error PostgreSQL reported (empty sqlstate: no server answer).
struct PgError {
  std::string sqlstate;
  std::string message;  // PG_DIAG_MESSAGE_PRIMARY (password scrubbed)
  std::string detail;   // PG_DIAG_MESSAGE_DETAIL, "" when none (may quote row values)
};

class PgConnection {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Connects; the message of a failure names host, port, database and user (never the password).
  // Uses the installed password supplier, if any. The session's transactions run at READ
  // COMMITTED whatever the server's default (the snapshot fence needs a snapshot per statement).
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

  // True once libpq has seen the connection break or a deadline abandoned it; the owner must
  // reconnect.
  bool broken() const;
  // Every later operation must finish by `deadline` (nullopt: no limit).
  void SetDeadline(std::optional<TimePoint> deadline) { deadline_ = deadline; }
  // The error behind the last failed call's Status.
  const PgError& last_error() const { return last_error_; }
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
  PgConnection(PGconn* conn, std::vector<std::string> secrets);
  std::string Redact(std::string text) const;

  // Non-blocking building blocks; each honours the deadline.
  core::Status WaitSocket(short events, std::string_view context);
  core::Status Flush(std::string_view context);
  // The next result (nullptr: this command's results are done).
  core::Result<PgResult> NextResult(std::string_view context);
  // Reads results until nullptr; the first failure wins. `first` receives the first result.
  core::Status DrainResults(std::string_view context, PgResult* first = nullptr);
  core::Status Abandon(std::string_view context);

  PGconn* conn_;
  std::vector<std::string> secrets_;  // only to scrub them from messages
  std::string description_;
  std::optional<TimePoint> deadline_;
  bool abandoned_ = false;
  mutable PgError last_error_;
};

// Connection parameters added in front of every conninfo (which overrides them): TCP
// keepalives and tcp_user_timeout, and connect_timeout unless PGCONNECT_TIMEOUT is set.
std::vector<std::pair<std::string, std::string>> DefaultConnectionParameters();

// What a SQLSTATE says (see the class comment). Exposed for tests.
core::StatusCode StatusCodeForSqlState(std::string_view sqlstate);
// True for errors one row can cause (data exceptions, integrity violations, a row affected
// twice, an index row too large, an exception raised by a trigger): the sink isolates the row.
bool IsRowError(std::string_view sqlstate);

// Scrubs `password` and every password-bearing fragment from a libpq message or conninfo:
// password= / sslpassword= values (bare or single-quoted, with \' escapes), URI user:secret@
// (also percent-encoded), and ?password= / &sslpassword= URI parameters.
std::string RedactPassword(std::string text, const std::string& password);
std::string RedactSecrets(std::string text, const std::vector<std::string>& secrets);
// Every spelling of the secrets in a conninfo: password and sslpassword as libpq decodes them,
// and a URI's password as written (percent-encoded), found without libpq so that a conninfo
// libpq refuses (and may echo back) is covered too.
std::vector<std::string> ConninfoSecrets(const std::string& conninfo);

}  // namespace ddb2pg::sink
