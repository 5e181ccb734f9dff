// PostgresSection: reads `postgres` (connection, TLS, IAM authentication, batching, COPY format)
// into Config::postgres, and refuses an IAM token over a connection that may not use TLS. Part of
// the loader (config_loader.cpp); thread-safety: none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/section_parser.h"

namespace ddb2pg::config {

class PostgresSection : public SectionParser {
 public:
  explicit PostgresSection(ParseState& state) : SectionParser(state) {}

  void ParsePostgres(const YAML::Node& node, PostgresConfig& postgres);

 private:
  // An IAM token is a bearer credential: it may only travel over TLS. The sslmode in effect is
  // postgres.sslmode, else the one in the URL / conninfo, else PGSSLMODE, else libpq's prefer
  // (which falls back to clear text).
  void CheckIamTls(const YAML::Node& node, const PostgresConfig& postgres);

  // The sslmode a libpq conninfo ("… sslmode=require …") or URI ("…?sslmode=require") sets; "" when none.
  static std::string SslmodeIn(const std::string& conninfo);
};

}  // namespace ddb2pg::config
