// The versioned ddb2pg schema (SystemTables): an unversioned database written by the release
// before versioning (b404e64) is upgraded in place with every row kept; a schema newer than the
// binary is refused naming both versions; runners starting together migrate once. Each test has
// a database of its own, since the ddb2pg schema is shared by every other test of the cluster.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sink/pg_connection.h"
#include "sink/system/pg_lease_store.h"
#include "sink/postgres_sink.h"
#include "sink/system/system_tables.h"
#include "support/test_env.h"

namespace ddb2pg::sink::testing {
namespace {

using ddb2pg::testing::PgTestConnection;

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(DDB2PG_SOURCE_DIR) + "/tests/integration/fixtures/" + name);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << name;
  return text.str();
}

class SchemaUpgradeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = std::make_unique<PgTestConnection>(ddb2pg::testing::PostgresConninfo());
    database_ = ddb2pg::testing::UniqueName("upgrade");
    admin_->Exec("CREATE DATABASE " + database_);
    conninfo_ = ddb2pg::testing::PostgresConninfo() + " dbname=" + database_;
    db_ = std::make_unique<PgTestConnection>(conninfo_);
  }
  void TearDown() override {
    db_.reset();
    admin_->Exec("DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
  }

  core::Status Ensure() {
    auto connection = PgConnection::Connect(conninfo_, "schema-upgrade-test");
    if (!connection.ok()) return connection.status();
    return SystemTables::Ensure(**connection);
  }

  // Every row of every ddb2pg table but schema_migrations, as text, in a stable order.
  std::string Rows() {
    std::string out;
    for (const char* table : {"checkpoints", "dead_letters", "partitions", "runners", "lease_events", "snapshot_fence",
                              "snapshot_seen", "pipelines"}) {
      out += std::string(table) + ":\n";
      // checkpoints: its columns of b404e64, in their order; partitions: without change_ms
      // (later migrations add columns).
      const std::string text = std::string(table) == "checkpoints"
                                   ? "ROW(id, position, fence, records, rows_written, dead_letters, commits, "
                                     "last_change_time, created_at, updated_at, stream_arn, segments)::text"
                               : std::string(table) == "partitions" ? "(to_jsonb(t) - 'change_ms')::text"
                                                                    : "t::text";
      for (const auto& row :
           db_->Query("SELECT " + text + " FROM ddb2pg." + table + " t ORDER BY " + text)) {
        out += "  " + row[0].value_or("NULL") + "\n";
      }
    }
    return out;
  }



  std::unique_ptr<PgTestConnection> admin_;
  std::unique_ptr<PgTestConnection> db_;
  std::string database_;
  std::string conninfo_;
};

TEST_F(SchemaUpgradeTest, AnUnversionedDatabaseOfTheEarlierReleaseIsUpgradedInPlaceWithEveryRowKept) {
  // A database as b404e64 left it: its DDL, then a source whose snapshot is done and whose
  // pipelines stream, with a shard position and dead letters (rows shaped as it writes them).
  db_->Exec(ReadFixture("ddb2pg-schema-b404e64.sql"));
  db_->Exec(ReadFixture("ddb2pg-rows-b404e64.sql"));
  const std::string before = Rows();
  ASSERT_NE(before.find("streaming"), std::string::npos);
  ASSERT_EQ(db_->Scalar("SELECT count(*) FROM ddb2pg.dead_letters"), "2");
  auto connection = PgConnection::Connect(conninfo_, "schema-upgrade-test");
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  auto stored = SystemTables::StoredVersion(**connection);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, 0) << "unversioned";

  // The first start of this release: the runner's own opening of the lease store upgrades.
  PgLeaseStoreOptions options;
  options.conninfo = conninfo_;
  PgLeaseStore store(options);
  ASSERT_TRUE(store.Open().ok());
  EXPECT_EQ(db_->Scalar("SELECT max(version) FROM ddb2pg.schema_migrations"),
            std::to_string(SystemTables::kSchemaVersion));
  EXPECT_EQ(Rows(), before) << "no row changed by the upgrade: positions, phases and dead letters kept";

  // The upgraded schema is the one a fresh database gets.
  const std::string fresh_database = database_ + "_fresh";
  admin_->Exec("CREATE DATABASE " + fresh_database);
  {
    auto fresh = PgConnection::Connect(ddb2pg::testing::PostgresConninfo() + " dbname=" + fresh_database, "fresh");
    ASSERT_TRUE(fresh.ok());
    ASSERT_TRUE(SystemTables::Ensure(**fresh).ok());
    PgTestConnection fresh_db(ddb2pg::testing::PostgresConninfo() + " dbname=" + fresh_database);
    EXPECT_EQ(SystemSchemaColumns(fresh_db), SystemSchemaColumns(*db_));
  }
  admin_->Exec("DROP DATABASE " + fresh_database + " WITH (FORCE)");

  // Starting again runs no DDL: the recorded migration keeps its time.
  const std::string applied = db_->Scalar("SELECT applied_at::text FROM ddb2pg.schema_migrations WHERE version = 1");
  ASSERT_TRUE(Ensure().ok());
  EXPECT_EQ(db_->Scalar("SELECT applied_at::text FROM ddb2pg.schema_migrations WHERE version = 1"), applied);
}

TEST_F(SchemaUpgradeTest, ANewerSchemaThanTheBinaryKnowsIsRefusedNamingBothVersions) {
  ASSERT_TRUE(Ensure().ok());
  const int newer = SystemTables::kSchemaVersion + 1;
  db_->Exec("INSERT INTO ddb2pg.schema_migrations (version, description) VALUES (" + std::to_string(newer) +
            ", 'a later release')");
  core::Status refused = Ensure();
  ASSERT_EQ(refused.code(), core::StatusCode::kFailedPrecondition) << refused.ToString();
  EXPECT_NE(refused.message().find("version " + std::to_string(newer)), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("version " + std::to_string(SystemTables::kSchemaVersion)), std::string::npos)
      << refused.message();
  EXPECT_EQ(refused.message().find('\n'), std::string::npos) << "one line";

  // The sink and the lease store refuse to start on it, before writing anything.
  PostgresSinkOptions sink_options;
  sink_options.conninfo = conninfo_;
  sink_options.checkpoint_id = "users:users";
  sink_options.runner_id = "runner-a";
  PostgresSink sink(sink_options);
  EXPECT_EQ(sink.Open().code(), core::StatusCode::kFailedPrecondition);
  PgLeaseStoreOptions store_options;
  store_options.conninfo = conninfo_;
  PgLeaseStore store(store_options);
  EXPECT_EQ(store.Open().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM ddb2pg.checkpoints"), "0");
}

TEST_F(SchemaUpgradeTest, RunnersStartingTogetherMigrateOnce) {
  // An unversioned database of the earlier release, and eight runners opening it at once.
  db_->Exec(ReadFixture("ddb2pg-schema-b404e64.sql"));
  std::vector<std::thread> runners;
  std::vector<core::Status> results(8, core::Status::Ok());
  for (size_t i = 0; i < results.size(); ++i) {
    runners.emplace_back([&, i] { results[i] = Ensure(); });
  }
  for (auto& runner : runners) runner.join();
  for (const auto& result : results) EXPECT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM ddb2pg.schema_migrations"),
            std::to_string(SystemTables::Migrations().size()));
  EXPECT_EQ(db_->Scalar("SELECT count(DISTINCT applied_at) FROM ddb2pg.schema_migrations"), "1")
      << "one transaction applied every migration";
}

TEST_F(SchemaUpgradeTest, MigrationsAreNumberedInOrderAndTheLastIsTheBinarysVersion) {
  const auto& migrations = SystemTables::Migrations();
  ASSERT_FALSE(migrations.empty());
  for (size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].version, static_cast<int>(i) + 1);
    EXPECT_FALSE(migrations[i].description.empty());
    EXPECT_FALSE(migrations[i].statements.empty());
  }
  EXPECT_EQ(migrations.back().version, SystemTables::kSchemaVersion);
  // The printed DDL (init-schema, `ddb2pg schema`) leaves a versioned schema behind.
  std::string all;
  for (const auto& statement : SystemTables::CreateStatements()) all += statement + "\n";
  db_->Exec(all);
  auto connection = PgConnection::Connect(conninfo_, "schema-upgrade-test");
  ASSERT_TRUE(connection.ok());
  auto stored = SystemTables::StoredVersion(**connection);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, SystemTables::kSchemaVersion);
}

}  // namespace
}  // namespace ddb2pg::sink::testing
