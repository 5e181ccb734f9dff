// Issue 23: a database written by the release before versioned schemas (b404e64) is upgraded in
// place by the first start of this one: no re-snapshot, no replay beyond the stored positions,
// dead letters kept. The database is made by running the pipelines to streaming with bad items
// among good ones, then taken back to exactly b404e64's schema (its DDL is the fixture
// tests/integration/fixtures/ddb2pg-schema-b404e64.sql; the test checks the catalog equals it).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "in_process_run.h"
#include "pipeline_fixture.h"
#include "sink/system/system_tables.h"

namespace ddb2pg::testing {
namespace {

class SchemaUpgrade : public PipelineFixture {
 protected:
  void WaitForSnapshotComplete() {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (run_.metrics().SnapshotComplete("users").Value() == 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(run_.metrics().SnapshotComplete("users").Value(), 1);
  }



  void TearDown() override { run_.Stop(); }

  InProcessRun run_;
};

TEST_F(SchemaUpgrade, TheEarlierReleasesDatabaseIsUpgradedOnFirstStartWithoutReSnapshotOrReplay) {
  BulkLoad(400, 61);
  app::SampleData data(62);
  for (app::BadKind kind : {app::BadKind::kIdNotUuid, app::BadKind::kRepScoreNotNumber}) {
    ASSERT_TRUE(ddb_->PutItem("users", data.MakeItem(data.NewId(), 1, kind)).ok());
  }
  run_.Start(LoadConfig(ConfigText()));
  WaitForSnapshotComplete();
  for (int i = 0; i < 50; ++i) RandomChange(data);
  auto differences = WaitUntilEqual(std::chrono::seconds(120), /*check_counts=*/false);
  ASSERT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();

  // Back to the earlier release's database: its schema had no version, and none of the tables
  // later migrations add (2: ddb2pg.configs; 3: the export_* columns of ddb2pg.checkpoints; 4:
  // ddb2pg.partitions.change_ms).
  pg_->Exec("DROP TABLE ddb2pg.schema_migrations");
  pg_->Exec("DROP TABLE ddb2pg.configs");
  pg_->Exec("ALTER TABLE ddb2pg.checkpoints DROP COLUMN export_time_ms, DROP COLUMN export_arn, DROP COLUMN "
            "export_status, DROP COLUMN export_manifest, DROP COLUMN export_items, DROP COLUMN export_bytes, DROP "
            "COLUMN export_polls, DROP COLUMN export_updated_at");
  pg_->Exec("ALTER TABLE ddb2pg.partitions DROP COLUMN change_ms");
  {
    const std::string scratch = key_ + "_b404e64";
    PgTestConnection admin(PostgresConninfo());
    admin.Exec("CREATE DATABASE " + scratch);
    {
      PgTestConnection old_db(PostgresConninfo() + " dbname=" + scratch);
      std::ifstream in(std::string(DDB2PG_SOURCE_DIR) + "/tests/integration/fixtures/ddb2pg-schema-b404e64.sql");
      std::stringstream ddl;
      ddl << in.rdbuf();
      old_db.Exec(ddl.str());
      ASSERT_EQ(SystemSchemaColumns(*pg_), SystemSchemaColumns(old_db)) << "the database should be exactly b404e64's schema";
    }
    admin.Exec("DROP DATABASE " + scratch + " WITH (FORCE)");
  }
  const std::string dead_letters = pg_->Scalar("SELECT count(*) FROM ddb2pg.dead_letters");
  ASSERT_GE(std::stoi(dead_letters), 2);
  const std::string segments = pg_->Scalar(
      "SELECT string_agg(partition_id || ' ' || state || ' ' || records, ', ' ORDER BY partition_id) FROM "
      "ddb2pg.partitions WHERE kind = 'segment'");
  ASSERT_EQ(pg_->Scalar("SELECT string_agg(DISTINCT phase, ',') FROM ddb2pg.pipelines"), "streaming");
  // Every write to the profile table from now on, counted by a trigger.
  pg_->Exec("CREATE TABLE " + schema_ + ".writes (op TEXT)");
  pg_->Exec("CREATE FUNCTION " + schema_ + ".count_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO " +
            schema_ + ".writes VALUES (TG_OP); RETURN NULL; END $$");
  pg_->Exec("CREATE TRIGGER count_write AFTER INSERT OR UPDATE OR DELETE ON " + schema_ +
            ".profile FOR EACH ROW EXECUTE FUNCTION " + schema_ + ".count_write()");

  // The first start of this release upgrades the schema, then resumes where the earlier one stopped.
  run_.Start(LoadConfig(ConfigText()));
  const int changes = 30;
  for (int i = 0; i < changes; ++i) RandomChange(data);
  differences = WaitUntilEqual(std::chrono::seconds(120), /*check_counts=*/false);
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  // Each change writes its profile row once; give a replay the time to show itself.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();

  EXPECT_EQ(pg_->Scalar("SELECT max(version) FROM ddb2pg.schema_migrations"),
            std::to_string(sink::SystemTables::kSchemaVersion));
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".writes"), std::to_string(changes))
      << "rows written again: a replay beyond the stored positions or a re-snapshot";
  EXPECT_EQ(run_.metrics().SnapshotItemsRead("users").Value(), 0) << "no re-snapshot";
  EXPECT_EQ(pg_->Scalar("SELECT string_agg(partition_id || ' ' || state || ' ' || records, ', ' ORDER BY "
                        "partition_id) FROM ddb2pg.partitions WHERE kind = 'segment'"),
            segments);
  EXPECT_EQ(pg_->Scalar("SELECT string_agg(DISTINCT phase, ',') FROM ddb2pg.pipelines"), "streaming");
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.dead_letters"), dead_letters) << "dead letters kept";
}

}  // namespace
}  // namespace ddb2pg::testing
