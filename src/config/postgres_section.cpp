// PostgresSection: reads `postgres` (connection, TLS, IAM authentication, batching, COPY format)
// into Config::postgres, and refuses an IAM token over a connection that may not use TLS. Part of
// the loader (config_loader.cpp); thread-safety: none.
#include "config/config_sections.h"

#include "config/config_rules.h"
#include "core/text.h"

namespace ddb2pg::config {

using core::Lower;
using model::PipelineSpec;

namespace {

const std::vector<std::string_view> kPostgresKeys = {"url",    "conninfo", "sslmode",     "sslrootcert",   "auth",
                                                     "region", "batch",    "auto_create", "default_schema",
                                                     "commit_timeout_ms", "copy_format"};
const std::vector<std::string_view> kBatchKeys = {"max_rows", "max_bytes", "max_delay_ms"};

class PostgresSection : public SectionParser {
 public:
  using SectionParser::SectionParser;

  void ParsePostgres(const YAML::Node& node, PostgresConfig& postgres) {
    const std::string path = "postgres";
    if (!reader_.CheckMap(node, path, kPostgresKeys)) return;
    const YAML::Node url = node["url"];
    const YAML::Node conninfo = node["conninfo"];
    if (url && conninfo) {
      Error(conninfo.Mark(),
            "postgres: give either url or conninfo, not both (they are the same setting)");
    }
    reader_.String(node, url ? "url" : "conninfo", path, &postgres.conninfo);
    reader_.Choice(node, "sslmode", path, &postgres.sslmode,
                   {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"});
    reader_.String(node, "sslrootcert", path, &postgres.sslrootcert);
    reader_.Choice(node, "auth", path, &postgres.auth, {"password", "iam"});
    reader_.String(node, "region", path, &postgres.region);
    if (postgres.auth == "iam") CheckIamTls(node, postgres);
    reader_.Bool(node, "auto_create", path, &postgres.auto_create);
    reader_.Int(node, "commit_timeout_ms", path, &postgres.commit_timeout_ms, 100, 3600000);
    reader_.Choice(node, "copy_format", path, &postgres.copy_format, {"binary", "text"});
    if (reader_.String(node, "default_schema", path, &postgres.default_schema)) {
      const std::string problem = IdentifierProblem(postgres.default_schema);
      if (!problem.empty()) {
        Error(node["default_schema"].Mark(), "postgres.default_schema: the name " + problem);
        postgres.default_schema = "public";
      }
    }
    const YAML::Node batch = node["batch"];
    if (batch && !batch.IsNull()) {
      const std::string batch_path = "postgres.batch";
      if (reader_.CheckMap(batch, batch_path, kBatchKeys)) {
        reader_.Int(batch, "max_rows", batch_path, &postgres.batch_max_rows, 1, 10000000);
        reader_.Bytes(batch, "max_bytes", batch_path, &postgres.batch_max_bytes, 1024,
                      1024 * 1024 * 1024);
        reader_.Int(batch, "max_delay_ms", batch_path, &postgres.batch_max_delay_ms, 0, 600000);
      }
    }
  }

  // An IAM token is a bearer credential: it may only travel over TLS. The sslmode in effect is
  // postgres.sslmode, else the one in the URL / conninfo, else PGSSLMODE, else libpq's prefer
  // (which falls back to clear text).
  void CheckIamTls(const YAML::Node& node, const PostgresConfig& postgres) {
    std::string sslmode = postgres.sslmode;
    std::string where = "postgres.sslmode";
    if (sslmode.empty()) {
      sslmode = SslmodeIn(postgres.conninfo);
      where = "sslmode in the url/conninfo";
    }
    if (sslmode.empty()) {
      sslmode = Lower(env_("PGSSLMODE").value_or(""));
      where = "PGSSLMODE";
    }
    if (sslmode.empty()) {
      sslmode = "prefer";
      where = "libpq's default";
    }
    if (sslmode == "require" || sslmode == "verify-ca" || sslmode == "verify-full") return;
    Error(node["auth"].Mark(), "postgres.auth: iam sends a token as the password and needs TLS, but sslmode is " +
                                   sslmode + " (" + where + "): set postgres.sslmode to verify-full (with "
                                   "postgres.sslrootcert) or at least require");
  }

  // The sslmode a libpq conninfo ("… sslmode=require …") or URI ("…?sslmode=require") sets; "" when none.
  static std::string SslmodeIn(const std::string& conninfo) {
    const size_t at = conninfo.rfind("sslmode");
    if (at == std::string::npos) return "";
    size_t pos = at + 7;
    while (pos < conninfo.size() && (conninfo[pos] == ' ' || conninfo[pos] == '=' || conninfo[pos] == '\'')) ++pos;
    std::string value;
    while (pos < conninfo.size() && (std::isalpha(static_cast<unsigned char>(conninfo[pos])) || conninfo[pos] == '-')) {
      value.push_back(conninfo[pos++]);
    }
    return Lower(value);
  }
};

}  // namespace

void ParsePostgres(ParseState& state, const YAML::Node& node, PostgresConfig& postgres) {
  PostgresSection(state).ParsePostgres(node, postgres);
}

}  // namespace ddb2pg::config
