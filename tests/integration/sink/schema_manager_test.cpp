// SchemaManager against a real PostgreSQL: init-schema creates SCENARIO.md's tables, and Check()
// names every problem of a user's own tables with the exact statement that fixes it.
#include "sink/schema_manager.h"

#include <gtest/gtest.h>

#include "integration/sink/sink_fixture.h"
#include "sink/postgres_sink.h"

namespace ddb2pg::sink::testing {
namespace {

TableSpec NotificationSpec(const std::string& schema) {
  TableSpec table;
  table.schema = schema;
  table.name = "notification_settings";
  table.columns.push_back(Column("id", ColumnKind::kUuid));
  for (const char* channel : {"push", "app"}) {
    for (const char* kind : {"follows", "comments", "quotes", "likes", "mentions", "app_wide", "tp_invites",
                             "tp_replies"}) {
      table.columns.push_back(Column(std::string(channel) + "_" + kind, ColumnKind::kBoolean));
    }
  }
  table.columns.push_back(Column("deleted", ColumnKind::kBoolean));
  table.columns.back().default_sql = "FALSE";
  table.columns.push_back(Column("deleted_at", ColumnKind::kTimestamptz));
  table.columns.back().default_sql = "NULL";
  table.columns.push_back(Column("profile_id", ColumnKind::kUuid));
  table.key_columns = {"profile_id"};
  return table;
}

// name:type:nullable:default for every column, in order.
std::string Describe(ddb2pg::testing::PgTestConnection& db, const std::string& schema, const std::string& table) {
  auto rows = db.Query(
      "SELECT string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod) || ':' || "
      "coalesce(pg_get_expr(d.adbin, d.adrelid), ''), ', ' ORDER BY a.attnum) FROM pg_attribute a "
      "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
      "WHERE a.attrelid = '" + schema + "." + table + "'::regclass AND a.attnum > 0 AND NOT a.attisdropped");
  return rows.at(0).at(0).value_or("");
}

std::string PrimaryKey(ddb2pg::testing::PgTestConnection& db, const std::string& schema, const std::string& table) {
  return db.Scalar("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'p' AND conrelid = '" + schema +
                   "." + table + "'::regclass");
}

TEST_F(SinkTest, InitSchemaCreatesTheScenarioTables) {
  TableSpec notifications = NotificationSpec(schema_);
  std::vector<const TableSpec*> tables = {&profile_, &appearance_, &notifications};
  SchemaManager manager(conninfo_);
  auto status = manager.InitSchema(tables);
  ASSERT_TRUE(status.ok()) << status.ToString();

  // SCENARIO.md's DDL, created by hand in a second schema, must describe identically.
  const std::string reference = schema_ + "ref";
  db_->Exec("CREATE SCHEMA " + reference);
  db_->Exec("CREATE TABLE " + reference +
            ".profile (id UUID PRIMARY KEY, user_id UUID, created_at TIMESTAMPTZ, name TEXT, handle TEXT, "
            "image_url TEXT, bio VARCHAR(210), location VARCHAR(48), rep_score REAL, website TEXT, "
            "birthdate TIMESTAMPTZ, deleted BOOLEAN DEFAULT FALSE, deleted_at TIMESTAMPTZ)");
  db_->Exec("CREATE TABLE " + reference +
            ".appearance_settings (id UUID, mode TEXT, colorway TEXT, theme TEXT, deleted BOOLEAN, "
            "deleted_at TIMESTAMPTZ, profile_id UUID PRIMARY KEY)");
  db_->Exec("CREATE TABLE " + reference +
            ".notification_settings (id UUID, push_follows BOOLEAN, push_comments BOOLEAN, push_quotes BOOLEAN, "
            "push_likes BOOLEAN, push_mentions BOOLEAN, push_app_wide BOOLEAN, push_tp_invites BOOLEAN, "
            "push_tp_replies BOOLEAN, app_follows BOOLEAN, app_comments BOOLEAN, app_quotes BOOLEAN, "
            "app_likes BOOLEAN, app_mentions BOOLEAN, app_app_wide BOOLEAN, app_tp_invites BOOLEAN, "
            "app_tp_replies BOOLEAN, deleted BOOLEAN DEFAULT FALSE, deleted_at TIMESTAMPTZ DEFAULT NULL, "
            "profile_id UUID PRIMARY KEY)");
  for (const char* table : {"profile", "appearance_settings", "notification_settings"}) {
    EXPECT_EQ(Describe(*db_, schema_, table), Describe(*db_, reference, table)) << table;
    EXPECT_EQ(PrimaryKey(*db_, schema_, table), PrimaryKey(*db_, reference, table)) << table;
  }
  db_->Exec("DROP SCHEMA " + reference + " CASCADE");
  EXPECT_EQ(Scalar("SELECT to_regclass('ddb2pg.checkpoints') IS NOT NULL AND "
                   "to_regclass('ddb2pg.dead_letters') IS NOT NULL"),
            "t");

  auto problems = manager.Check(tables);
  ASSERT_TRUE(problems.ok()) << problems.status().ToString();
  EXPECT_TRUE(problems->empty()) << problems->front().problem;
  // Running it again changes nothing and does not fail.
  ASSERT_TRUE(manager.InitSchema(tables).ok());
}

TEST_F(SinkTest, CreateStatementsQuoteEverythingAndCarryDefaults) {
  TableSpec odd = profile_;
  odd.schema = "My Schema";
  odd.name = "we\"ird";
  auto statements = SchemaManager::CreateStatements({&odd});
  ASSERT_GE(statements.size(), 3u);
  EXPECT_EQ(statements[0], "CREATE SCHEMA IF NOT EXISTS ddb2pg;");
  EXPECT_EQ(statements[statements.size() - 2], "CREATE SCHEMA IF NOT EXISTS \"My Schema\";");
  const std::string& create = statements.back();
  EXPECT_EQ(create.rfind("CREATE TABLE IF NOT EXISTS \"My Schema\".\"we\"\"ird\" (\n    \"id\" UUID,\n", 0), 0u)
      << create;
  EXPECT_NE(create.find("    \"bio\" VARCHAR(210),\n"), std::string::npos) << create;
  EXPECT_NE(create.find("    \"deleted\" BOOLEAN DEFAULT FALSE,\n"), std::string::npos) << create;
  EXPECT_NE(create.find("    PRIMARY KEY (\"id\")\n);"), std::string::npos) << create;
}

TEST_F(SinkTest, CheckNamesEachProblemWithTheExactFix) {
  // The original scenario DDL had no primary key on profile; this one also lacks `website`
  // and has user_id as INTEGER and location too short.
  db_->Exec("CREATE TABLE " + schema_ +
            ".profile (id UUID, user_id INTEGER, created_at TIMESTAMPTZ, name TEXT, handle TEXT, "
            "image_url TEXT, bio VARCHAR(210), location VARCHAR(20), rep_score DOUBLE PRECISION, "
            "birthdate TIMESTAMPTZ, deleted BOOLEAN DEFAULT FALSE, deleted_at TIMESTAMPTZ, extra_column TEXT)");
  SchemaManager manager(conninfo_);
  auto problems = manager.Check({&profile_, &appearance_});
  ASSERT_TRUE(problems.ok()) << problems.status().ToString();
  std::vector<std::string> fixes;
  for (const auto& problem : *problems) fixes.push_back(problem.table + " | " + problem.problem + " | " + problem.fix_sql);
  const std::string profile = "\"" + schema_ + "\".\"profile\"";
  const std::vector<std::string> expected = {
      schema_ + ".profile | column user_id is integer but the configuration writes UUID values to it | ALTER TABLE " +
          profile + " ALTER COLUMN \"user_id\" TYPE UUID USING \"user_id\"::text::UUID;",
      schema_ + ".profile | column location is character varying(20) but the configuration writes VARCHAR(48) "
                "values to it | ALTER TABLE " + profile +
          " ALTER COLUMN \"location\" TYPE VARCHAR(48) USING \"location\"::text::VARCHAR(48);",
      schema_ + ".profile | column website is missing | ALTER TABLE " + profile + " ADD COLUMN \"website\" TEXT;",
      schema_ + ".profile | no primary key or unique index on exactly (id): ddb2pg upserts by this key "
                "(INSERT … ON CONFLICT) and needs one | ALTER TABLE " + profile + " ADD PRIMARY KEY (\"id\");",
      schema_ + ".appearance_settings | table does not exist | CREATE SCHEMA IF NOT EXISTS \"" + schema_ +
          "\";\nCREATE TABLE IF NOT EXISTS \"" + schema_ +
          "\".\"appearance_settings\" (\n    \"id\" UUID,\n    \"mode\" TEXT,\n    \"colorway\" TEXT,\n    "
          "\"theme\" TEXT,\n    \"deleted\" BOOLEAN,\n    \"deleted_at\" TIMESTAMPTZ,\n    \"profile_id\" UUID,\n    "
          "PRIMARY KEY (\"profile_id\")\n);",
  };
  EXPECT_EQ(fixes, expected);

  // Applying the fixes makes the table usable: Check is clean and the sink writes to it.
  for (const auto& problem : *problems) db_->Exec(problem.fix_sql);
  problems = manager.Check({&profile_, &appearance_});
  ASSERT_TRUE(problems.ok());
  EXPECT_TRUE(problems->empty()) << problems->front().problem;
  LeasedSink sink(Options());
  ASSERT_TRUE(sink.Open({&profile_, &appearance_}).ok());
  ASSERT_TRUE(sink.Commit(MakeBatch({Profile(1, "fixed")}, "p1")).ok());
  EXPECT_EQ(Scalar("SELECT name FROM " + schema_ + ".profile"), "fixed");
}

TEST_F(SinkTest, CheckAcceptsAUniqueIndexAndSuggestsOneNextToAnotherPrimaryKey) {
  db_->Exec("CREATE TABLE " + schema_ +
            ".appearance_settings (id UUID, mode TEXT, colorway TEXT, theme TEXT, deleted BOOLEAN, "
            "deleted_at TIMESTAMPTZ, profile_id UUID)");
  db_->Exec("CREATE UNIQUE INDEX ON " + schema_ + ".appearance_settings (profile_id)");
  SchemaManager manager(conninfo_);
  auto problems = manager.Check({&appearance_});
  ASSERT_TRUE(problems.ok());
  EXPECT_TRUE(problems->empty());

  db_->Exec("CREATE TABLE " + schema_ +
            ".profile (serial_id BIGSERIAL PRIMARY KEY, id UUID, user_id UUID, created_at TIMESTAMPTZ, name TEXT, "
            "handle TEXT, image_url TEXT, bio TEXT, location TEXT, rep_score REAL, website TEXT, "
            "birthdate TIMESTAMPTZ, deleted BOOLEAN, deleted_at TIMESTAMPTZ)");
  db_->Exec("CREATE UNIQUE INDEX ON " + schema_ + ".profile (id) WHERE deleted");  // partial: unusable
  problems = manager.Check({&profile_});
  ASSERT_TRUE(problems.ok());
  ASSERT_EQ(problems->size(), 1u);
  EXPECT_EQ(problems->at(0).fix_sql, "CREATE UNIQUE INDEX ON \"" + schema_ + "\".\"profile\" (\"id\");");
}

}  // namespace
}  // namespace ddb2pg::sink::testing
