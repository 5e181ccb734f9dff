// Both examples map the reference item (in its map shape and its list shape) into exactly the
// rows SCENARIO.md describes: every cell of the three tables, for a snapshot and for a REMOVE.
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "processor/plan_checker.h"
#include "config/config.h"
#include "core/record.h"
#include "core/value.h"
#include "processor/mapping_plan.h"

namespace ddb2pg::config {
namespace {

using core::Value;
using processor::MappingPlan;
using model::RowAction;
using Cells = std::vector<std::optional<std::string>>;

const std::string kUsers = std::string(DDB2PG_SOURCE_DIR) + "/examples/users.yaml";
const std::string kUsersList =
    std::string(DDB2PG_SOURCE_DIR) + "/examples/users-notification-list.yaml";

constexpr const char* kId = "5F0C7C9E-1B2A-4C3D-9E8F-0A1B2C3D4E5F";  // written lower-case
constexpr const char* kIdLower = "5f0c7c9e-1b2a-4c3d-9e8f-0a1b2c3d4e5f";
constexpr const char* kHostileBio = "Robert'); DROP TABLE profile;-- \"quoted\" \\ back\tslash";
const std::vector<std::string> kNotificationKinds = {"follows",  "comments", "quotes",
                                                     "likes",    "mentions", "app_wide",
                                                     "tp_invites", "tp_replies"};

// The attributes both shapes share, including some no target uses (they are ignored).
Value BaseItem() {
  Value item = Value::MakeMap();
  item.Set("id", Value::String(kId));
  item.Set("createdAt", Value::String("2024-09-05T17:16:20.382266Z"));
  item.Set("name", Value::String("Ada Lovelace"));
  item.Set("handle", Value::String("ada"));
  item.Set("imageUrl", Value::String("https://img.example/ada.png"));
  item.Set("bio", Value::String(kHostileBio));
  item.Set("location", Value::String("London"));
  item.Set("repScore", Value::Number("5"));
  item.Set("website", Value::String("https://ada.example"));
  item.Set("birthdate", Value::String("1990-08-22"));
  item.Set("email", Value::String("ada@example.com"));
  item.Set("followers", Value::Number("1815"));
  item.Set("brew", Value::MakeList({Value::String("tea")}));
  Value appearance = Value::MakeMap();  // no theme, deleted, deletedAt: NULL / FALSE
  appearance.Set("mode", Value::String("dark"));
  appearance.Set("colorway", Value::String("sage"));
  item.Set("appearance", std::move(appearance));
  return item;
}

// notifications as a map of booleans: push_* on for follows, comments and tp_invites; app_* on
// for likes and tp_replies; the rest off. The map is soft-deleted on its own.
Value MapShapeItem() {
  Value item = BaseItem();
  Value notifications = Value::MakeMap();
  for (const std::string& kind : kNotificationKinds) {
    notifications.Set("push_" + kind,
                      Value::Bool(kind == "follows" || kind == "comments" || kind == "tp_invites"));
    notifications.Set("app_" + kind, Value::Bool(kind == "likes" || kind == "tp_replies"));
  }
  notifications.Set("deleted", Value::Bool(true));
  notifications.Set("deletedAt", Value::String("2024-10-01T08:30:00+02:00"));
  item.Set("notifications", std::move(notifications));
  return item;
}

// notifications as a list of enabled names, in mixed case; the user is soft-deleted at the top.
Value ListShapeItem() {
  Value item = BaseItem();
  item.Set("notifications",
           Value::MakeList({Value::String("Follows"), Value::String("comments"),
                            Value::String("TeaPartyInvites"), Value::String("TEAPARTYREPLY"),
                            Value::String("SomethingNew")}));
  item.Set("deleted", Value::Bool(true));
  item.Set("deletedAt", Value::String("2024-10-02T12:00:00Z"));
  return item;
}

core::Record Snapshot(const Value& item) {
  core::Record record;
  record.operation = core::Operation::kSnapshot;
  Value key = Value::MakeMap();
  key.Set("id", *item.Find("id"));
  record.key = std::move(key);
  record.after = item;
  record.metadata.table = "users";
  record.metadata.change_time_ms = 1725556580000;  // 2024-09-05 17:16:20 UTC
  return record;
}

core::Record Remove(const Value& item) {
  core::Record record = Snapshot(item);
  record.operation = core::Operation::kDelete;
  record.before = item;
  record.after.reset();
  record.metadata.change_time_ms = 1727740800000;  // 2024-10-01 00:00:00 UTC
  return record;
}

std::vector<MappingPlan> Plans(const std::string& path) {
  core::Result<Config> config = LoadConfigFile(path, processor::PlanChecker(), [](const std::string&) {
    return std::optional<std::string>();
  });
  EXPECT_TRUE(config.ok()) << config.status().message();
  std::vector<MappingPlan> plans;
  if (!config.ok()) return plans;
  for (const model::PipelineSpec& spec : config->pipelines) {
    core::Result<MappingPlan> plan = MappingPlan::Compile(spec);
    EXPECT_TRUE(plan.ok()) << plan.status().message();
    if (plan.ok()) plans.push_back(std::move(plan).value());
  }
  return plans;
}

void ExpectRow(const MappingPlan& plan, const core::Record& record, RowAction action,
               const std::map<std::string, std::optional<std::string>>& expected) {
  SCOPED_TRACE(plan.spec().name);
  core::Result<std::optional<model::Row>> row = plan.Map(record);
  ASSERT_TRUE(row.ok()) << row.status().message();
  ASSERT_TRUE(row->has_value());
  const model::Row& cells = **row;
  EXPECT_EQ(cells.action, action);
  const auto& columns = plan.spec().table.columns;
  ASSERT_EQ(cells.size(), columns.size());
  ASSERT_EQ(expected.size(), columns.size()) << "the test names every column";
  for (size_t i = 0; i < columns.size(); ++i) {
    auto found = expected.find(columns[i].name);
    ASSERT_NE(found, expected.end()) << columns[i].name;
    const std::optional<std::string> actual =
        cells.is_null(i) ? std::nullopt : std::optional<std::string>(std::string(cells.cell(i)));
    EXPECT_EQ(actual, found->second) << "column " << columns[i].name;
  }
}

std::map<std::string, std::optional<std::string>> ExpectedProfile(bool deleted,
                                                                  std::optional<std::string> at) {
  return {{"id", kIdLower},
          {"user_id", kIdLower},
          {"created_at", "2024-09-05 17:16:20.382266+00"},
          {"name", "Ada Lovelace"},
          {"handle", "ada"},
          {"image_url", "https://img.example/ada.png"},
          {"bio", kHostileBio},
          {"location", "London"},
          {"rep_score", "5"},
          {"website", "https://ada.example"},
          {"birthdate", "1990-08-22 00:00:00+00"},
          {"deleted", deleted ? "true" : "false"},
          {"deleted_at", at}};
}

std::map<std::string, std::optional<std::string>> ExpectedAppearance(
    bool deleted, std::optional<std::string> at) {
  return {{"id", kIdLower},
          {"mode", "dark"},
          {"colorway", "sage"},
          {"theme", std::nullopt},
          {"deleted", deleted ? "true" : "false"},
          {"deleted_at", at},
          {"profile_id", kIdLower}};
}

// `on(channel, kind)` says which booleans are true.
template <typename On>
std::map<std::string, std::optional<std::string>> ExpectedNotifications(
    On on, bool deleted, std::optional<std::string> at) {
  std::map<std::string, std::optional<std::string>> row = {
      {"id", kIdLower},
      {"profile_id", kIdLower},
      {"deleted", deleted ? "true" : "false"},
      {"deleted_at", at}};
  for (const char* channel : {"push", "app"}) {
    for (const std::string& kind : kNotificationKinds) {
      row[std::string(channel) + "_" + kind] = on(channel, kind) ? "true" : "false";
    }
  }
  return row;
}

TEST(ExamplesMapping, UsersYamlMapsTheMapShape) {
  const std::vector<MappingPlan> plans = Plans(kUsers);
  ASSERT_EQ(plans.size(), 3u);
  const core::Record record = Snapshot(MapShapeItem());
  ExpectRow(plans[0], record, RowAction::kUpsert, ExpectedProfile(false, std::nullopt));
  ExpectRow(plans[1], record, RowAction::kUpsert, ExpectedAppearance(false, std::nullopt));
  ExpectRow(plans[2], record, RowAction::kUpsert,
            ExpectedNotifications(
                [](const std::string& channel, const std::string& kind) {
                  if (channel == "push") {
                    return kind == "follows" || kind == "comments" || kind == "tp_invites";
                  }
                  return kind == "likes" || kind == "tp_replies";
                },
                true, "2024-10-01 06:30:00+00"));
}

TEST(ExamplesMapping, NotificationListYamlMapsTheListShape) {
  const std::vector<MappingPlan> plans = Plans(kUsersList);
  ASSERT_EQ(plans.size(), 3u);
  const core::Record record = Snapshot(ListShapeItem());
  ExpectRow(plans[0], record, RowAction::kUpsert,
            ExpectedProfile(true, "2024-10-02 12:00:00+00"));
  ExpectRow(plans[1], record, RowAction::kUpsert, ExpectedAppearance(false, std::nullopt));
  ExpectRow(plans[2], record, RowAction::kUpsert,
            ExpectedNotifications(
                [](const std::string&, const std::string& kind) {
                  return kind == "follows" || kind == "comments" || kind == "tp_invites" ||
                         kind == "tp_replies";
                },
                true, "2024-10-02 12:00:00+00"));
}

TEST(ExamplesMapping, NotificationListWithoutNotificationsIsAllFalse) {
  const std::vector<MappingPlan> plans = Plans(kUsersList);
  ASSERT_EQ(plans.size(), 3u);
  const core::Record record = Snapshot(BaseItem());
  ExpectRow(plans[2], record, RowAction::kUpsert,
            ExpectedNotifications([](const std::string&, const std::string&) { return false; },
                                  false, std::nullopt));
}

TEST(ExamplesMapping, RemoveSoftDeletesAllThreeRows) {
  for (const std::string& path : {kUsers, kUsersList}) {
    SCOPED_TRACE(path);
    const std::vector<MappingPlan> plans = Plans(path);
    ASSERT_EQ(plans.size(), 3u);
    const core::Record record = Remove(path == kUsers ? MapShapeItem() : ListShapeItem());
    for (const MappingPlan& plan : plans) {
      SCOPED_TRACE(plan.spec().name);
      core::Result<std::optional<model::Row>> row = plan.Map(record);
      ASSERT_TRUE(row.ok()) << row.status().message();
      ASSERT_TRUE(row->has_value());
      EXPECT_EQ((*row)->action, RowAction::kSoftDelete);
      const model::TableSpec& table = plan.spec().table;
      const auto deleted = static_cast<size_t>(table.ColumnIndex("deleted"));
      const auto deleted_at = static_cast<size_t>(table.ColumnIndex("deleted_at"));
      const auto key = static_cast<size_t>(table.ColumnIndex(table.key_columns[0]));
      EXPECT_EQ((*row)->cell(deleted), "true");
      EXPECT_EQ((*row)->cell(deleted_at), "2024-10-01 00:00:00+00");
      EXPECT_EQ((*row)->cell(key), kIdLower);
    }
  }
}

TEST(ExamplesMapping, ABioOverTheLimitIsRejectedNamingTheColumn) {
  const std::vector<MappingPlan> plans = Plans(kUsers);
  ASSERT_EQ(plans.size(), 3u);
  Value item = MapShapeItem();
  item.Set("bio", Value::String(std::string(211, 'x')));
  core::Result<std::optional<model::Row>> row = plans[0].Map(Snapshot(item));
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().message(),
            "column bio (VARCHAR(210)): value has 211 characters (expression: bio)");
}

}  // namespace
}  // namespace ddb2pg::config
