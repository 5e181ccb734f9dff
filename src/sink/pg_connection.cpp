#include "sink/pg_connection.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>

namespace ddb2pg::sink {
namespace {

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string Field(const PGresult* result, int field) {
  const char* value = result == nullptr ? nullptr : PQresultErrorField(result, field);
  return value == nullptr ? std::string() : std::string(value);
}

std::string Describe(PGconn* conn) {
  std::string text;
  PQconninfoOption* options = PQconninfo(conn);
  if (options == nullptr) return text;
  for (const char* wanted : {"host", "hostaddr", "port", "dbname", "user"}) {
    for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
      if (std::strcmp(option->keyword, wanted) == 0 && option->val != nullptr && *option->val != '\0') {
        if (!text.empty()) text.push_back(' ');
        text.append(wanted).append("=").append(option->val);
      }
    }
  }
  PQconninfoFree(options);
  return text;
}

}  // namespace

std::vector<std::string> ConninfoSecrets(const std::string& conninfo) {
  std::vector<std::string> secrets;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options != nullptr) {
    for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
      const bool secret = std::strcmp(option->keyword, "password") == 0 || std::strcmp(option->keyword, "sslpassword") == 0;
      if (secret && option->val != nullptr && *option->val != '\0') secrets.emplace_back(option->val);
    }
    PQconninfoFree(options);
  }
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (conninfo.rfind(scheme, 0) != 0) continue;
    const size_t begin = scheme.size();
    const size_t end = conninfo.find_first_of("/?", begin);
    const std::string authority = conninfo.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    const size_t at_sign = authority.rfind('@');
    if (at_sign == std::string::npos) break;
    const size_t colon = authority.find(':');
    if (colon < at_sign && colon + 1 < at_sign) secrets.push_back(authority.substr(colon + 1, at_sign - colon - 1));
    break;
  }
  return secrets;
}

namespace {

// Replaces the value after each `keyword=` (optional blanks around '='; bare, or single-quoted
// with \\' escapes) with ***.
void RedactKeywordValues(std::string& text, std::string_view keyword) {
  for (size_t at = text.find(keyword); at != std::string::npos; at = text.find(keyword, at + 1)) {
    size_t equals = at + keyword.size();
    while (equals < text.size() && text[equals] == ' ') ++equals;
    if (equals >= text.size() || text[equals] != '=') continue;
    size_t begin = equals + 1;
    while (begin < text.size() && text[begin] == ' ') ++begin;
    size_t end = begin;
    if (end < text.size() && text[end] == '\'') {
      ++end;
      while (end < text.size() && text[end] != '\'') end += text[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, text.size());
    } else {
      while (end < text.size() && text[end] != ' ' && text[end] != '&' && text[end] != '"' && text[end] != '\n') ++end;
    }
    text.replace(begin, end - begin, "***");
  }
}

// The process-wide supplier of Connect(conninfo, application_name); copied out under the lock
// so a slow supplier never blocks another thread installing one.
std::mutex g_supplier_mutex;
std::shared_ptr<const PgPasswordSupplier> g_supplier;

std::shared_ptr<const PgPasswordSupplier> InstalledSupplier() {
  std::lock_guard lock(g_supplier_mutex);
  return g_supplier;
}

bool SendsOnlyOverTls(const std::string& sslmode) {
  return sslmode == "require" || sslmode == "verify-ca" || sslmode == "verify-full";
}

// The line of a libpq message that holds `needle`, without libpq's "connection to server at …
// failed: " prefix (the description already says where).
std::string LineWith(const std::string& message, const std::string& needle) {
  const size_t at = message.find(needle);
  if (at == std::string::npos) return "";
  const size_t newline = message.rfind('\n', at);
  const size_t begin = newline == std::string::npos ? 0 : newline + 1;
  const size_t end = message.find('\n', at);
  std::string line = message.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  const size_t failed = line.find(" failed: ");
  if (failed != std::string::npos && begin + failed < at) line.erase(0, failed + 9);
  return line;
}

// One line naming the setting to fix for a TLS failure, or "" when the failure is not about TLS.
std::string TlsProblem(const std::string& message, const PgEndpoint& endpoint) {
  const std::string sslmode = endpoint.sslmode.empty() ? "prefer" : endpoint.sslmode;
  const std::string rootcert = endpoint.sslrootcert.empty() ? "~/.postgresql/root.crt" : endpoint.sslrootcert;
  if (std::string line = LineWith(message, "does not match host name"); !line.empty()) {
    return "the server's certificate does not name host \"" + endpoint.host +
           "\" — fix host (connect by a name the certificate lists, e.g. the RDS endpoint, not an address or "
           "alias) or postgres.sslmode (verify-ca checks the CA only) (" + line + ")";
  }
  if (std::string line = LineWith(message, "certificate verify failed"); !line.empty()) {
    return "the server's certificate is not signed by a CA in " + rootcert +
           " — fix postgres.sslrootcert (the CA bundle that signed the server's certificate; for RDS the bundle "
           "from https://truststore.pki.rds.amazonaws.com) (" + line + ")";
  }
  if (std::string line = LineWith(message, "root certificate file"); !line.empty()) {
    return "sslmode " + sslmode + " checks the server's certificate against a CA bundle, and " + rootcert +
           " cannot be read — fix postgres.sslrootcert (" + line + ")";
  }
  if (std::string line = LineWith(message, "server does not support SSL"); !line.empty()) {
    return "the server does not offer TLS but sslmode is " + sslmode +
           " — fix postgres.sslmode or turn ssl on at the server (" + line + ")";
  }
  if (std::string line = LineWith(message, "no pg_hba.conf entry"); !line.empty() &&
      line.find("no encryption") != std::string::npos) {
    return "the server accepts connections from here only over TLS and sslmode is " + sslmode +
           " — fix postgres.sslmode (verify-full with postgres.sslrootcert, or at least require) (" + line + ")";
  }
  return "";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> DefaultConnectionParameters() {
  std::vector<std::pair<std::string, std::string>> parameters;
  if (std::getenv("PGCONNECT_TIMEOUT") == nullptr) parameters.emplace_back("connect_timeout", "10");
  // A peer that vanished (host down, network cut, NAT entry dropped) is noticed after about
  // 10 + 3 × 5 s of silence, and unacknowledged data is given up on after 30 s, instead of the
  // kernel's defaults of two hours and ~15 minutes. Ignored for Unix-domain sockets.
  parameters.emplace_back("keepalives", "1");
  parameters.emplace_back("keepalives_idle", "10");
  parameters.emplace_back("keepalives_interval", "5");
  parameters.emplace_back("keepalives_count", "3");
  parameters.emplace_back("tcp_user_timeout", "30000");
  return parameters;
}

core::StatusCode StatusCodeForSqlState(std::string_view state) {
  if (state.empty()) return core::StatusCode::kUnavailable;  // no server answer: transport failure
  const std::string_view cls = state.substr(0, 2);
  if (cls == "08" || cls == "53" || cls == "57" || state == "40001" || state == "40P01" || state == "55P03") {
    return core::StatusCode::kUnavailable;
  }
  if (state == "42501" || cls == "28") return core::StatusCode::kPermissionDenied;
  if (state == "42P01" || state == "42703" || state == "3F000") return core::StatusCode::kNotFound;
  if (IsRowError(state)) return core::StatusCode::kDataError;
  if (cls == "42") return core::StatusCode::kFailedPrecondition;
  return core::StatusCode::kInternal;
}

bool IsRowError(std::string_view state) {
  if (state.size() != 5) return false;
  const std::string_view cls = state.substr(0, 2);
  return cls == "22" || cls == "23" || state == "21000" || state == "54000" || state == "P0001";
}

std::string RedactPassword(std::string text, const std::string& password) {
  return RedactSecrets(std::move(text), {password});
}

std::string RedactSecrets(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "***");
      at += 3;
    }
  }
  // A conninfo libpq could not parse may be echoed: drop whatever follows "password=" (which
  // also matches sslpassword=).
  RedactKeywordValues(text, "password");
  // URI form postgresql://user:secret@host.
  for (size_t scheme = text.find("://"); scheme != std::string::npos; scheme = text.find("://", scheme + 3)) {
    const size_t at_sign = text.find('@', scheme + 3);
    const size_t colon = text.find(':', scheme + 3);
    const size_t slash = text.find_first_of("/ \"'", scheme + 3);
    if (at_sign != std::string::npos && colon != std::string::npos && colon < at_sign &&
        (slash == std::string::npos || at_sign < slash)) {
      text.replace(colon + 1, at_sign - colon - 1, "***");
    }
  }
  return text;
}

PgConnection::PgConnection(PGconn* conn, std::vector<std::string> secrets)
    : conn_(conn), secrets_(std::move(secrets)), description_(Describe(conn)) {
  // Every operation below waits on the socket itself, with the deadline (PQexec, used only by
  // PQsetClientEncoding at connect, blocks regardless).
  PQsetnonblocking(conn_, 1);
}

PgConnection::~PgConnection() { PQfinish(conn_); }

void PgConnection::InstallPasswordSupplier(PgPasswordSupplier supplier) {
  auto installed = supplier ? std::make_shared<const PgPasswordSupplier>(std::move(supplier)) : nullptr;
  std::lock_guard lock(g_supplier_mutex);
  g_supplier = std::move(installed);
}

core::Result<PgEndpoint> PgConnection::ResolveEndpoint(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* given = PQconninfoParse(conninfo.c_str(), &error);
  if (given == nullptr) {
    std::string message = "the PostgreSQL connection string cannot be parsed";
    if (error != nullptr) {
      message.append(": ").append(RedactPassword(Trim(error), ""));
      PQfreemem(error);
    }
    return core::Status::InvalidArgument(message);
  }
  // libpq's own fallbacks: the PG* variables, then its compiled-in defaults.
  PQconninfoOption* defaults = PQconndefaults();
  auto value = [&](const char* keyword) {
    for (PQconninfoOption* options : {given, defaults}) {
      for (PQconninfoOption* option = options; option != nullptr && option->keyword != nullptr; ++option) {
        if (std::strcmp(option->keyword, keyword) == 0 && option->val != nullptr && *option->val != '\0') {
          return std::string(option->val);
        }
      }
    }
    return std::string();
  };
  PgEndpoint endpoint;
  endpoint.host = value("host");
  endpoint.hostaddr = value("hostaddr");
  endpoint.port = value("port");
  endpoint.user = value("user");
  endpoint.dbname = value("dbname");
  endpoint.sslmode = value("sslmode");
  endpoint.sslrootcert = value("sslrootcert");
  if (endpoint.port.empty()) endpoint.port = "5432";
  if (endpoint.sslmode.empty()) endpoint.sslmode = "prefer";
  PQconninfoFree(given);
  if (defaults != nullptr) PQconninfoFree(defaults);
  return endpoint;
}

core::Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo,
                                                                  const std::string& application_name) {
  const auto supplier = InstalledSupplier();
  return Connect(conninfo, application_name, supplier ? *supplier : PgPasswordSupplier());
}

core::Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo,
                                                                  const std::string& application_name,
                                                                  const PgPasswordSupplier& password_supplier) {
  auto resolved = ResolveEndpoint(conninfo);
  if (!resolved.ok()) return resolved.status();
  const PgEndpoint& endpoint = *resolved;
  std::string password;  // a supplied one (IAM token); the conninfo's own is among ConninfoSecrets
  bool supplied = false;
  if (password_supplier) {
    // The token is a bearer credential: it must never cross the network in clear text.
    if (!SendsOnlyOverTls(endpoint.sslmode)) {
      return core::Status::InvalidArgument(
          "postgres.auth: iam sends a token as the password and needs TLS, but sslmode is " + endpoint.sslmode +
          " — set postgres.sslmode to verify-full (with postgres.sslrootcert) or at least require");
    }
    if (endpoint.host.empty() || endpoint.host.front() == '/' || endpoint.host.front() == '@' ||
        endpoint.host.find(',') != std::string::npos) {
      return core::Status::InvalidArgument(
          "postgres.auth: iam needs one TCP host name (the database endpoint) in the URL/conninfo or PGHOST, not " +
          (endpoint.host.empty() ? std::string("a local socket") : "\"" + endpoint.host + "\""));
    }
    auto supplied_password = password_supplier(endpoint);
    if (!supplied_password.ok()) return supplied_password.status();
    password = std::move(supplied_password).value();
    supplied = true;
  }

  // Our settings come first so that anything in the conninfo (expanded from "dbname") overrides
  // them; the PG* environment variables fill in whatever neither sets. A supplied password comes
  // after the conninfo, so it wins over one written there.
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  const auto defaults = DefaultConnectionParameters();
  for (const auto& [keyword, value] : defaults) {
    keywords.push_back(keyword.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back("fallback_application_name");
  values.push_back(application_name.c_str());
  keywords.push_back("dbname");
  values.push_back(conninfo.c_str());
  if (supplied) {
    keywords.push_back("password");
    values.push_back(password.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keywords.data(), values.data(), 1);
  std::vector<std::string> secrets = ConninfoSecrets(conninfo);
  if (supplied && !password.empty()) secrets.push_back(password);  // an IAM token is a secret too
  if (conn == nullptr) return core::Status::Unavailable("cannot connect to PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = "cannot connect to PostgreSQL";
    const std::string where = Describe(conn);
    if (!where.empty()) message.append(" (").append(where).append(")");
    const std::string libpq_message = RedactSecrets(Trim(PQerrorMessage(conn)), secrets);
    PQfinish(conn);
    // A TLS problem will not go away by retrying: one line naming the setting, as a configuration error.
    if (const std::string tls = TlsProblem(libpq_message, endpoint); !tls.empty()) {
      return core::Status::InvalidArgument(message.append(": ").append(tls));
    }
    message.append(": ").append(libpq_message);
    const bool auth = message.find("authentication failed") != std::string::npos ||
                      message.find("permission denied") != std::string::npos;
    return core::Status(auth ? core::StatusCode::kPermissionDenied : core::StatusCode::kUnavailable, message);
  }
  std::unique_ptr<PgConnection> connection(new PgConnection(conn, secrets));
  // Server notices ("column … already exists, skipping") go to the log at debug, not to stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char* message) { spdlog::debug("PostgreSQL: {}", Trim(message)); }, nullptr);
  if (PQsetClientEncoding(conn, "UTF8") != 0) {
    return core::Status::Internal("PostgreSQL (" + connection->description() + ") refused client_encoding UTF8");
  }
  // Every transaction of ddb2pg's runs at READ COMMITTED, whatever the database, the role or the
  // conninfo's options make the default: the snapshot fence's statements read, after a lock, what
  // the transactions they waited for committed, and only a snapshot per statement sees that (under
  // REPEATABLE READ the ending of a snapshot missed a waited-for batch's claim and left its key
  // fenced; under SERIALIZABLE such commits fail). docs/consistency.md, "Isolation".
  connection->SetDeadline(std::chrono::steady_clock::now() + std::chrono::seconds(30));
  DDB2PG_RETURN_IF_ERROR(connection->Exec("SET default_transaction_isolation TO 'read committed'",
                                          "setting the transaction isolation"));
  connection->SetDeadline(std::nullopt);
  return connection;
}

bool PgConnection::broken() const { return abandoned_ || PQstatus(conn_) == CONNECTION_BAD; }

std::string PgConnection::Redact(std::string text) const { return RedactSecrets(std::move(text), secrets_); }

core::Status PgConnection::ErrorStatus(const PGresult* result, std::string_view context) const {
  std::string message(context);
  message.append(": ");
  const std::string state = Field(result, PG_DIAG_SQLSTATE);
  std::string primary = Field(result, PG_DIAG_MESSAGE_PRIMARY);
  if (primary.empty()) primary = Trim(result != nullptr ? PQresultErrorMessage(result) : "");
  if (primary.empty()) primary = Trim(PQerrorMessage(conn_));
  if (primary.empty()) primary = "unknown error";
  message.append(primary);
  const std::string detail = Field(result, PG_DIAG_MESSAGE_DETAIL);
  if (!detail.empty()) message.append("; ").append(detail);
  const std::string where = Field(result, PG_DIAG_CONTEXT);
  if (!where.empty()) message.append(" (").append(where).append(")");
  if (!state.empty()) message.append(" [SQLSTATE ").append(state).append("]");
  core::StatusCode code = StatusCodeForSqlState(state);
  if (broken()) {
    code = core::StatusCode::kUnavailable;
    message.append(" (connection to PostgreSQL lost)");
  }
  last_error_ = PgError{state, Redact(primary), Redact(detail)};
  return {code, Redact(std::move(message))};
}

core::Status PgConnection::Abandon(std::string_view context) {
  // PQcancel connects to the server and waits for it to answer, which a frozen server never
  // does: it runs on a thread of its own that owns the PGcancel, and nobody waits for it.
  if (PGcancel* cancel = PQgetCancel(conn_)) {
    std::thread([cancel] {
      char error[256];
      PQcancel(cancel, error, sizeof(error));
      PQfreeCancel(cancel);
    }).detach();
  }
  abandoned_ = true;
  // Nothing more goes out on this connection; PQfinish then cannot block on a full socket.
  if (PQsocket(conn_) >= 0) shutdown(PQsocket(conn_), SHUT_RDWR);
  std::string message(context);
  message.append(": PostgreSQL (").append(description_).append(
      ") did not answer before the deadline; the statement was cancelled and the connection dropped");
  last_error_ = PgError{};
  return core::Status::Unavailable(Redact(std::move(message)));
}

core::Status PgConnection::WaitSocket(short events, std::string_view context) {
  if (abandoned_) return core::Status::Unavailable(std::string(context) + ": the connection was abandoned");
  const int socket = PQsocket(conn_);
  if (socket < 0) return ErrorStatus(nullptr, context);
  while (true) {
    int timeout_ms = -1;
    if (deadline_) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline_ - std::chrono::steady_clock::now());
      if (left.count() <= 0) return Abandon(context);
      timeout_ms = static_cast<int>(std::min<int64_t>(left.count(), 60'000));
    }
    pollfd descriptor{socket, events, 0};
    const int ready = poll(&descriptor, 1, timeout_ms);
    if (ready > 0) return core::Status::Ok();
    if (ready < 0 && errno != EINTR) {
      return core::Status::Unavailable(std::string(context) + ": waiting for PostgreSQL: " + std::strerror(errno));
    }
  }
}

core::Status PgConnection::Flush(std::string_view context) {
  while (true) {
    const int flushed = PQflush(conn_);
    if (flushed == 0) return core::Status::Ok();
    if (flushed < 0) return ErrorStatus(nullptr, context);
    // Also read: the server may be blocked sending to us (notices, an early error).
    DDB2PG_RETURN_IF_ERROR(WaitSocket(POLLOUT | POLLIN, context));
    if (PQconsumeInput(conn_) != 1) return ErrorStatus(nullptr, context);
  }
}

core::Result<PgResult> PgConnection::NextResult(std::string_view context) {
  DDB2PG_RETURN_IF_ERROR(Flush(context));
  while (PQisBusy(conn_) == 1) {
    DDB2PG_RETURN_IF_ERROR(WaitSocket(POLLIN, context));
    if (PQconsumeInput(conn_) != 1) return ErrorStatus(nullptr, context);
  }
  return PgResult(PQgetResult(conn_));
}

core::Status PgConnection::DrainResults(std::string_view context, PgResult* first) {
  core::Status outcome;
  bool have_first = false;
  while (true) {
    auto next = NextResult(context);
    if (!next.ok()) return next.status();
    PgResult result = std::move(next).value();
    if (result == nullptr) break;
    const auto status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && outcome.ok()) {
      outcome = ErrorStatus(result.get(), context);
    }
    if (!have_first && first != nullptr) *first = std::move(result);
    have_first = true;
    if (broken()) break;
  }
  if (outcome.ok() && !have_first) return ErrorStatus(nullptr, context);
  return outcome;
}

core::Status PgConnection::Exec(const std::string& sql, std::string_view context) {
  if (abandoned_) return WaitSocket(0, context);
  if (PQsendQuery(conn_, sql.c_str()) != 1) return ErrorStatus(nullptr, context);
  return DrainResults(context);
}

core::Result<PgResult> PgConnection::Query(const std::string& sql,
                                           const std::vector<std::optional<std::string>>& params,
                                           std::string_view context) {
  if (abandoned_) return WaitSocket(0, context);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  if (PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                        nullptr, 0) != 1) {
    return ErrorStatus(nullptr, context);
  }
  PgResult result;
  DDB2PG_RETURN_IF_ERROR(DrainResults(context, &result));
  return result;
}

core::Status PgConnection::Prepare(const std::string& name, const std::string& sql, std::string_view context) {
  if (abandoned_) return WaitSocket(0, context);
  if (PQsendPrepare(conn_, name.c_str(), sql.c_str(), 0, nullptr) != 1) return ErrorStatus(nullptr, context);
  return DrainResults(context);
}

core::Status PgConnection::CopyBegin(const std::string& copy_sql, std::string_view context) {
  if (abandoned_) return WaitSocket(0, context);
  if (PQsendQuery(conn_, copy_sql.c_str()) != 1) return ErrorStatus(nullptr, context);
  DDB2PG_ASSIGN_OR_RETURN(PgResult result, NextResult(context));
  if (PQresultStatus(result.get()) == PGRES_COPY_IN) return core::Status::Ok();
  core::Status failed = ErrorStatus(result.get(), context);
  while (!broken()) {  // up to the NULL that ends the failed command
    auto rest = NextResult(context);
    if (!rest.ok() || *rest == nullptr) break;
  }
  return failed;
}

core::Status PgConnection::CopyPut(std::string_view data, std::string_view context) {
  if (data.empty()) return core::Status::Ok();
  while (true) {
    const int put = PQputCopyData(conn_, data.data(), static_cast<int>(data.size()));
    if (put == 1) return core::Status::Ok();
    if (put < 0) return ErrorStatus(nullptr, context);
    // 0: libpq's buffer is full (non-blocking mode); wait until the socket takes more.
    DDB2PG_RETURN_IF_ERROR(WaitSocket(POLLOUT | POLLIN, context));
    if (PQconsumeInput(conn_) != 1) return ErrorStatus(nullptr, context);
    if (PQflush(conn_) < 0) return ErrorStatus(nullptr, context);
  }
}

core::Status PgConnection::CopyEnd(std::string_view context, std::string* sqlstate) {
  if (sqlstate != nullptr) sqlstate->clear();
  while (true) {
    const int ended = PQputCopyEnd(conn_, nullptr);
    if (ended == 1) break;
    if (ended < 0) return ErrorStatus(nullptr, context);
    DDB2PG_RETURN_IF_ERROR(WaitSocket(POLLOUT | POLLIN, context));
    if (PQconsumeInput(conn_) != 1) return ErrorStatus(nullptr, context);
  }
  // Read every result so the connection is idle again, keeping the first error.
  core::Status outcome = DrainResults(context);
  if (!outcome.ok() && sqlstate != nullptr) *sqlstate = last_error_.sqlstate;
  return outcome;
}

core::Result<std::vector<PgResult>> PgConnection::RunPipeline(const std::vector<PgStatement>& statements) {
  if (abandoned_) return WaitSocket(0, "pipeline");
  if (PQenterPipelineMode(conn_) != 1) return ErrorStatus(nullptr, "entering pipeline mode");
  core::Status failure;
  size_t sent = 0;
  for (const auto& statement : statements) {
    std::vector<const char*> values;
    values.reserve(statement.params.size());
    for (const auto& param : statement.params) values.push_back(param ? param->c_str() : nullptr);
    const int count = static_cast<int>(values.size());
    const int ok = statement.prepared_name.empty()
                       ? PQsendQueryParams(conn_, statement.sql.c_str(), count, nullptr, values.data(), nullptr,
                                           nullptr, 0)
                       : PQsendQueryPrepared(conn_, statement.prepared_name.c_str(), count, values.data(), nullptr,
                                             nullptr, 0);
    if (ok != 1) {
      failure = ErrorStatus(nullptr, statement.context);
      break;
    }
    ++sent;
  }
  const bool synced = PQpipelineSync(conn_) == 1;
  if (!synced && failure.ok()) failure = ErrorStatus(nullptr, "pipeline sync");

  std::vector<PgResult> results;
  results.reserve(statements.size());
  // Each statement yields its result then a NULL; the Sync yields PGRES_PIPELINE_SYNC. A failed
  // wait (deadline, lost connection) ends the reading: the connection is unusable then.
  bool waited = true;
  for (size_t index = 0; index < sent && synced && !broken(); ++index) {
    auto next = NextResult(statements[index].context);
    if (!next.ok()) {
      failure = next.status();
      waited = false;
      break;
    }
    PgResult result = std::move(next).value();
    if (result == nullptr) {
      if (failure.ok()) failure = ErrorStatus(nullptr, statements[index].context);
      break;
    }
    const auto status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && failure.ok()) {
      // PGRES_PIPELINE_ABORTED follows an earlier error, which is already recorded.
      failure = ErrorStatus(result.get(), statements[index].context);
    }
    results.push_back(std::move(result));
    while (true) {
      auto rest = NextResult(statements[index].context);
      if (!rest.ok()) {
        failure = rest.status();
        waited = false;
        break;
      }
      if (*rest == nullptr) break;
    }
    if (!waited) break;
  }
  while (waited && synced && !broken()) {
    auto next = NextResult("pipeline sync");
    if (!next.ok()) {
      failure = next.status();
      break;
    }
    if (*next == nullptr || PQresultStatus(next->get()) == PGRES_PIPELINE_SYNC) break;
  }
  if (!broken() && PQexitPipelineMode(conn_) != 1 && failure.ok()) {
    failure = ErrorStatus(nullptr, "leaving pipeline mode");
  }
  if (!failure.ok()) return failure;
  return results;
}

}  // namespace ddb2pg::sink
