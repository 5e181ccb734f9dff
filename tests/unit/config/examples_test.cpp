// The shipped examples parse into exactly the reference scenario's tables (SCENARIO.md), and a
// broken copy is rejected naming the broken line.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "processor/plan_checker.h"
#include "config/config.h"

namespace ddb2pg::config {
namespace {

using model::DeletePolicy;
using model::ErrorPolicy;
using model::PipelineSpec;

const std::string kUsers = std::string(DDB2PG_SOURCE_DIR) + "/examples/users.yaml";
const std::string kUsersList =
    std::string(DDB2PG_SOURCE_DIR) + "/examples/users-notification-list.yaml";

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto found = vars.find(name);
    if (found == vars.end()) return std::nullopt;
    return found->second;
  };
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// 1-based line of the first occurrence of `needle` in `text`.
int LineOf(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

struct ExpectedColumn {
  std::string name;
  std::string sql_type;
  std::optional<std::string> default_sql;
};

// SCENARIO.md's DDL, column by column in its order.
const std::vector<ExpectedColumn> kProfile = {
    {"id", "UUID", {}},          {"user_id", "UUID", {}},        {"created_at", "TIMESTAMPTZ", {}},
    {"name", "TEXT", {}},        {"handle", "TEXT", {}},         {"image_url", "TEXT", {}},
    {"bio", "VARCHAR(210)", {}}, {"location", "VARCHAR(48)", {}}, {"rep_score", "REAL", {}},
    {"website", "TEXT", {}},     {"birthdate", "TIMESTAMPTZ", {}}, {"deleted", "BOOLEAN", "FALSE"},
    {"deleted_at", "TIMESTAMPTZ", {}}};
const std::vector<ExpectedColumn> kAppearance = {
    {"id", "UUID", {}},       {"mode", "TEXT", {}},    {"colorway", "TEXT", {}},
    {"theme", "TEXT", {}},    {"deleted", "BOOLEAN", {}}, {"deleted_at", "TIMESTAMPTZ", {}},
    {"profile_id", "UUID", {}}};
std::vector<ExpectedColumn> NotificationColumns() {
  std::vector<ExpectedColumn> columns = {{"id", "UUID", {}}};
  for (const char* channel : {"push", "app"}) {
    for (const char* kind : {"follows", "comments", "quotes", "likes", "mentions", "app_wide",
                             "tp_invites", "tp_replies"}) {
      columns.push_back({std::string(channel) + "_" + kind, "BOOLEAN", {}});
    }
  }
  columns.push_back({"deleted", "BOOLEAN", "FALSE"});
  columns.push_back({"deleted_at", "TIMESTAMPTZ", "NULL"});
  columns.push_back({"profile_id", "UUID", {}});
  return columns;
}

void ExpectTable(const PipelineSpec& pipeline, const std::string& name, const std::string& key,
                 const std::vector<ExpectedColumn>& expected) {
  SCOPED_TRACE(name);
  EXPECT_EQ(pipeline.name, name);
  EXPECT_EQ(pipeline.source, "users");
  EXPECT_EQ(pipeline.table.schema, "public");
  EXPECT_EQ(pipeline.table.name, name);
  EXPECT_EQ(pipeline.table.key_columns, std::vector<std::string>{key});
  EXPECT_EQ(pipeline.table.delete_policy, DeletePolicy::kSoft);
  EXPECT_EQ(pipeline.table.deleted_column, "deleted");
  EXPECT_EQ(pipeline.table.deleted_at_column, "deleted_at");
  EXPECT_EQ(pipeline.on_error, ErrorPolicy::kDeadLetter);
  EXPECT_TRUE(pipeline.filter.empty());
  ASSERT_EQ(pipeline.table.columns.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const model::ColumnSpec& column = pipeline.table.columns[i];
    EXPECT_EQ(column.name, expected[i].name);
    EXPECT_EQ(column.type.ToSql(), expected[i].sql_type) << column.name;
    EXPECT_EQ(column.default_sql, expected[i].default_sql) << column.name;
    EXPECT_EQ(column.overflow, model::OverflowPolicy::kReject) << column.name;
    EXPECT_GT(column.line, 0) << column.name;
    EXPECT_GT(column.column, 0) << column.name;
  }
}

void ExpectReferenceScenario(const Config& config) {
  ASSERT_EQ(config.sources.size(), 1u);
  const SourceConfig& source = config.sources[0];
  EXPECT_EQ(source.name, "users");
  EXPECT_EQ(source.table, "users");
  // Nothing hard-coded: the AWS chain and libpq decide.
  EXPECT_TRUE(source.region.empty());
  EXPECT_TRUE(source.endpoint.empty());
  EXPECT_TRUE(source.streams_endpoint.empty());
  EXPECT_TRUE(source.access_key_id.empty());
  EXPECT_TRUE(source.secret_access_key.empty());
  EXPECT_TRUE(source.profile.empty());
  EXPECT_TRUE(source.snapshot.enabled);
  ASSERT_EQ(config.pipelines.size(), 3u);
  ExpectTable(config.pipelines[0], "profile", "id", kProfile);
  ExpectTable(config.pipelines[1], "appearance_settings", "profile_id", kAppearance);
  ExpectTable(config.pipelines[2], "notification_settings", "profile_id", NotificationColumns());
  EXPECT_EQ(config.PipelinesOf("users").size(), 3u);  // one reader, three pipelines
}

TEST(Examples, UsersYamlIsTheReferenceScenario) {
  core::Result<Config> config = LoadConfigFile(kUsers, processor::PlanChecker(), FakeEnv({}));
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->path, kUsers);
  EXPECT_TRUE(config->postgres.conninfo.empty());  // libpq's PG* variables
  ExpectReferenceScenario(*config);

  const auto& profile = config->pipelines[0].table.columns;
  EXPECT_EQ(profile[2].expression, "createdAt");
  EXPECT_EQ(profile[5].expression, "imageUrl");
  EXPECT_EQ(profile[8].expression, "repScore");
  EXPECT_EQ(profile[12].expression, "deletedAt");
  const auto& appearance = config->pipelines[1].table.columns;
  EXPECT_EQ(appearance[1].expression, "appearance.mode");
  EXPECT_EQ(appearance[5].expression, "appearance.deletedAt");
  EXPECT_EQ(appearance[6].expression, "id");
  const auto& notifications = config->pipelines[2].table.columns;
  EXPECT_EQ(notifications[1].expression, "notifications.push_follows");
  EXPECT_EQ(notifications[16].expression, "notifications.app_tp_replies");
  EXPECT_EQ(notifications[17].expression, "notifications.deleted");

  const std::string text = ReadFile(kUsers);
  EXPECT_EQ(profile[6].line, LineOf(text, "bio:        VARCHAR(210) <- bio"));
  EXPECT_EQ(profile[6].column, 19);
}

TEST(Examples, UsersYamlTakesDatabaseUrlFromTheEnvironment) {
  core::Result<Config> config =
      LoadConfigFile(kUsers, processor::PlanChecker(), FakeEnv({{"DATABASE_URL", "postgresql://app@db.internal/app"}}));
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->postgres.conninfo, "postgresql://app@db.internal/app");
}

TEST(Examples, NotificationListYamlIsTheReferenceScenario) {
  core::Result<Config> config = LoadConfigFile(kUsersList, processor::PlanChecker(), FakeEnv({}));
  ASSERT_TRUE(config.ok()) << config.status().message();
  ExpectReferenceScenario(*config);
  const auto& notifications = config->pipelines[2].table.columns;
  EXPECT_EQ(notifications[1].expression, "contains(notifications, 'Follows', true)");
  EXPECT_EQ(notifications[9].expression, "contains(notifications, 'Follows', true)");
  EXPECT_EQ(notifications[7].expression, "contains(notifications, 'TeaPartyInvites', true)");
  EXPECT_EQ(notifications[16].expression, "contains(notifications, 'TeaPartyReply', true)");
  EXPECT_EQ(notifications[17].expression, "deleted");
  EXPECT_EQ(notifications[18].expression, "deletedAt");
}

// Writes `text` to a temporary file and loads it.
core::Result<Config> LoadCopy(const std::string& text, std::string* path) {
  char name[] = "/tmp/ddb2pg-config-test-XXXXXX";
  const int fd = mkstemp(name);
  EXPECT_GE(fd, 0);
  if (fd >= 0) close(fd);
  *path = name;
  std::ofstream(*path) << text;
  core::Result<Config> config = LoadConfigFile(*path, processor::PlanChecker(), FakeEnv({}));
  std::remove(name);
  return config;
}

TEST(Examples, BrokenCopyOfUsersYamlNamesTheLine) {
  const std::string original = ReadFile(kUsers);
  ASSERT_FALSE(original.empty());

  std::string text = original;
  const int snapshot_line = LineOf(text, "segments: 4");
  text.replace(text.find("segments: 4"), 8, "segmnts");
  std::string path;
  core::Result<Config> config = LoadCopy(text, &path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            path + ":" + std::to_string(snapshot_line) +
                ":7: unknown key 'segmnts' in sources.users.snapshot (known: enabled, segments, "
                "page_limit, max_items_per_second, consistent_read, from, export); did you mean 'segments'?");

  text = original;
  const int key_line = LineOf(text, "key: profile_id");
  text.replace(text.find("key: profile_id"), 15, "key: profileid");
  config = LoadCopy(text, &path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            path + ":" + std::to_string(key_line) +
                ":10: pipelines[1].key: 'profileid' is not one of the columns (id, mode, colorway, "
                "theme, deleted, deleted_at, profile_id)");

  text = original;
  const int bio_line = LineOf(text, "VARCHAR(210) <- bio");
  text.replace(text.find("VARCHAR(210) <- bio"), 19, "VARCHAR(-2) <- bio");
  config = LoadCopy(text, &path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message().rfind(
                path + ":" + std::to_string(bio_line) + ":19: pipelines[0].columns.bio: ", 0),
            0u)
      << config.status().message();
}

}  // namespace
}  // namespace ddb2pg::config
