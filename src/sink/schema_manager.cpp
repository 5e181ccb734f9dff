#include "sink/schema_manager.h"

#include <algorithm>
#include <map>

#include "sink/pg_connection.h"
#include "sink/schema_diff.h"
#include "sink/sql_text.h"
#include "sink/system/system_tables.h"

namespace ddb2pg::sink {
namespace {

constexpr const char* kTableSql =
    "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')";
constexpr const char* kColumnsSql =
    "SELECT a.attname, t.typname, a.atttypmod, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
    "a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '' "
    "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
    "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";
// Indexes ON CONFLICT (cols) can use: unique, valid, immediate, no predicate, no expressions.
constexpr const char* kUniqueKeysSql =
    "SELECT i.indexrelid, a.attname FROM pg_index i "
    "CROSS JOIN LATERAL unnest(i.indkey::int2[]) AS k(attnum) "
    "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
    "WHERE i.indrelid = $1::oid AND i.indisunique AND i.indisvalid AND i.indimmediate "
    "AND i.indpred IS NULL AND i.indexprs IS NULL";
constexpr const char* kPrimaryKeySql = "SELECT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = $1::oid AND indisprimary)";

core::Result<CatalogTable> ReadCatalog(PgConnection& connection, const model::TableSpec& table) {
  const std::string context = "reading the catalog for " + DisplayName(table);
  CatalogTable catalog;
  DDB2PG_ASSIGN_OR_RETURN(PgResult found, connection.Query(kTableSql, {table.schema, table.name}, context));
  if (PQntuples(found.get()) == 0) return catalog;
  catalog.exists = true;
  const std::string oid = PQgetvalue(found.get(), 0, 0);

  DDB2PG_ASSIGN_OR_RETURN(PgResult columns, connection.Query(kColumnsSql, {oid}, context));
  for (int r = 0; r < PQntuples(columns.get()); ++r) {
    catalog.columns.push_back({PQgetvalue(columns.get(), r, 0), PQgetvalue(columns.get(), r, 1),
                               std::stoi(PQgetvalue(columns.get(), r, 2)), PQgetvalue(columns.get(), r, 3),
                               std::string_view(PQgetvalue(columns.get(), r, 4)) == "t",
                               std::string_view(PQgetvalue(columns.get(), r, 5)) == "t"});
  }
  DDB2PG_ASSIGN_OR_RETURN(PgResult keys, connection.Query(kUniqueKeysSql, {oid}, context));
  std::map<std::string, std::vector<std::string>> by_index;
  for (int r = 0; r < PQntuples(keys.get()); ++r) {
    by_index[PQgetvalue(keys.get(), r, 0)].push_back(PQgetvalue(keys.get(), r, 1));
  }
  for (auto& [index, names] : by_index) catalog.unique_keys.push_back(std::move(names));
  DDB2PG_ASSIGN_OR_RETURN(PgResult primary, connection.Query(kPrimaryKeySql, {oid}, context));
  catalog.has_primary_key = std::string_view(PQgetvalue(primary.get(), 0, 0)) == "t";
  return catalog;
}

}  // namespace

SchemaManager::SchemaManager(std::string conninfo) : conninfo_(std::move(conninfo)) {}

namespace {

// The target tables' statements, each once, leaving out those in `skip`.
std::vector<std::string> TableStatements(const std::vector<const model::TableSpec*>& tables,
                                         std::vector<std::string> skip) {
  std::vector<std::string> statements;
  for (const auto* table : tables) {
    for (auto& statement : SchemaDiff::CreateTable(*table)) {
      if (std::find(skip.begin(), skip.end(), statement) != skip.end()) continue;
      skip.push_back(statement);
      statements.push_back(std::move(statement));
    }
  }
  return statements;
}

}  // namespace

std::vector<std::string> SchemaManager::CreateStatements(const std::vector<const model::TableSpec*>& tables) {
  std::vector<std::string> statements = SystemTables::CreateStatements();
  for (auto& statement : TableStatements(tables, statements)) statements.push_back(std::move(statement));
  return statements;
}

core::Status SchemaManager::InitSchema(const std::vector<const model::TableSpec*>& tables) {
  DDB2PG_ASSIGN_OR_RETURN(auto connection, PgConnection::Connect(conninfo_, "ddb2pg init-schema"));
  // ddb2pg's own schema first: upgraded to this release's version, or refused when newer.
  DDB2PG_RETURN_IF_ERROR(SystemTables::Ensure(*connection));
  const std::string context = "init-schema";
  DDB2PG_RETURN_IF_ERROR(connection->Exec("BEGIN", context));
  // Runners starting together (a Deployment's replicas) would otherwise race on CREATE … IF NOT
  // EXISTS; the lock is the one SystemTables::Ensure takes.
  core::Status status = connection->Exec("SELECT pg_advisory_xact_lock(4242004242)", context);
  for (const auto& statement : TableStatements(tables, SystemTables::CreateStatements())) {
    if (!status.ok()) break;
    status = connection->Exec(statement, context);
  }
  if (status.ok()) status = connection->Exec("COMMIT", context);
  if (!status.ok() && !connection->broken()) (void)connection->Exec("ROLLBACK", context);
  return status;
}

core::Result<std::vector<SchemaProblem>> SchemaManager::Check(const std::vector<const model::TableSpec*>& tables,
                                                              std::vector<SchemaProblem>* warnings) {
  DDB2PG_ASSIGN_OR_RETURN(auto connection, PgConnection::Connect(conninfo_, "ddb2pg check"));
  std::vector<SchemaProblem> problems;
  for (const auto* table : tables) {
    DDB2PG_ASSIGN_OR_RETURN(CatalogTable catalog, ReadCatalog(*connection, *table));
    for (auto& problem : SchemaDiff::Compare(*table, catalog)) {
      if (problem.blocking) {
        problems.push_back(std::move(problem));
      } else if (warnings != nullptr) {
        warnings->push_back(std::move(problem));
      }
    }
  }
  return problems;
}

}  // namespace ddb2pg::sink
