#include "processor/mapping_plan.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <thread>

namespace ddb2pg::processor {

using model::PipelineSpec;
using model::ColumnSpec;
using model::ColumnType;
using model::DeletePolicy;
using model::RowAction;
using model::Row;
namespace {

using core::Operation;
using core::Value;

ColumnSpec Column(std::string name, std::string_view type, std::string expression) {
  ColumnSpec column;
  column.name = std::move(name);
  column.type = *ColumnType::Parse(type);
  column.expression = std::move(expression);
  return column;
}

PipelineSpec ProfileSpec() {
  PipelineSpec spec;
  spec.name = "profile";
  spec.source = "users";
  spec.table.name = "profile";
  spec.table.columns = {
      Column("id", "uuid", "id"),
      Column("name", "text", "name"),
      Column("bio", "varchar(10)", "bio"),
      Column("deleted", "boolean", "deleted"),
      Column("deleted_at", "timestamptz", "deletedAt"),
  };
  spec.table.key_columns = {"id"};
  return spec;
}

constexpr char kId[] = "3f2c1a4e-8b7d-4c2a-9e1f-0a1b2c3d4e5f";

core::Record MakeRecord(Operation op, Value image) {
  core::Record record;
  record.operation = op;
  record.key = Value::MakeMap({{"id", Value::String(kId)}});
  if (op == Operation::kDelete) {
    record.before = std::move(image);
  } else {
    record.after = std::move(image);
  }
  record.metadata.change_time_ms = 1725556580382;
  return record;
}

Value Item() {
  return Value::MakeMap({{"id", Value::String(kId)}, {"name", Value::String("Avery")}, {"bio", Value::String("tea")}});
}

std::vector<std::string> Cells(const Row& row) {
  std::vector<std::string> cells;
  for (size_t i = 0; i < row.size(); ++i) cells.push_back(row.is_null(i) ? "~" : std::string(row.cell(i)));
  return cells;
}

using Cells_ = std::vector<std::string>;

TEST(MappingPlan, ImageAttributesAreTheTopLevelNamesItsExpressionsRead) {
  PipelineSpec spec = ProfileSpec();
  spec.table.columns.push_back(Column("mode", "text", "coalesce(appearance.mode, settings.\"ui mode\", 'light')"));
  spec.table.columns.push_back(Column("kind", "text", "if(exists(tags[0]), operation(), key('pk'))"));
  spec.filter = "not contains(lower(email), 'test', true)";
  auto plan = MappingPlan::Compile(spec);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  auto read = plan->ImageAttributes();
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, (std::set<std::string>{"appearance", "bio", "deletedAt", "deleted", "email", "id", "name",
                                          "pk", "settings", "tags"}));
}

TEST(MappingPlan, UpsertMapsEveryColumnAndUndeletes) {
  auto plan = MappingPlan::Compile(ProfileSpec());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  auto row = plan->Map(MakeRecord(Operation::kCreate, Item()));
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_TRUE(row->has_value());
  EXPECT_EQ((*row)->action, RowAction::kUpsert);
  EXPECT_EQ(Cells(**row), (Cells_{kId, "Avery", "tea", "false", "~"}));
}

TEST(MappingPlan, SoftDeleteMapsTheBeforeImageAndSetsTheFlagAndTime) {
  auto plan = MappingPlan::Compile(ProfileSpec());
  ASSERT_TRUE(plan.ok());
  auto row = plan->Map(MakeRecord(Operation::kDelete, Item()));
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_TRUE(row->has_value());
  EXPECT_EQ((*row)->action, RowAction::kSoftDelete);
  EXPECT_EQ(Cells(**row), (Cells_{kId, "Avery", "tea", "true", "2024-09-05 17:16:20.382+00"}));
}

TEST(MappingPlan, KeysOnlyDeleteMapsFromTheKey) {
  auto plan = MappingPlan::Compile(ProfileSpec());
  ASSERT_TRUE(plan.ok());
  core::Record record = MakeRecord(Operation::kDelete, Value());
  record.before.reset();
  auto row = plan->Map(record);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(Cells(**row), (Cells_{kId, "~", "~", "true", "2024-09-05 17:16:20.382+00"}));
}

TEST(MappingPlan, HardDeleteCarriesOnlyKeyCells) {
  PipelineSpec spec = ProfileSpec();
  spec.table.delete_policy = DeletePolicy::kHard;
  auto plan = MappingPlan::Compile(spec);
  ASSERT_TRUE(plan.ok());
  auto row = plan->Map(MakeRecord(Operation::kDelete, Item()));
  ASSERT_TRUE(row.ok());
  EXPECT_EQ((*row)->action, RowAction::kHardDelete);
  EXPECT_EQ(Cells(**row), (Cells_{kId, "~", "~", "~", "~"}));
}

TEST(MappingPlan, IgnoredDeletesMarkersAndFilteredRecordsGiveNoRow) {
  PipelineSpec spec = ProfileSpec();
  spec.table.delete_policy = DeletePolicy::kIgnore;
  spec.filter = "name != 'skip me'";
  auto plan = MappingPlan::Compile(spec);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->Map(MakeRecord(Operation::kDelete, Item()))->has_value());
  core::Record marker;
  EXPECT_FALSE(plan->Map(marker)->has_value());
  Value skipped = Item();
  skipped.Set("name", Value::String("skip me"));
  EXPECT_FALSE(plan->Map(MakeRecord(Operation::kUpdate, skipped))->has_value());
  EXPECT_TRUE(plan->Map(MakeRecord(Operation::kSnapshot, Item()))->has_value());
}

core::Record TtlRemove() {
  core::Record record = MakeRecord(Operation::kDelete, Item());
  record.metadata.ttl_delete = true;
  return record;
}

// on_ttl_delete decides for REMOVEs made by DynamoDB's TTL, on_delete for every other REMOVE.
TEST(MappingPlan, TtlRemovesFollowTheirOwnPolicy) {
  struct Case {
    DeletePolicy on_delete;
    std::optional<DeletePolicy> on_ttl_delete;
    std::optional<RowAction> user_remove;  // nullopt: no row
    std::optional<RowAction> ttl_remove;
  };
  const Case cases[] = {
      {DeletePolicy::kHard, DeletePolicy::kSoft, RowAction::kHardDelete, RowAction::kSoftDelete},
      {DeletePolicy::kHard, DeletePolicy::kIgnore, RowAction::kHardDelete, std::nullopt},
      {DeletePolicy::kHard, DeletePolicy::kHard, RowAction::kHardDelete, RowAction::kHardDelete},
      {DeletePolicy::kSoft, DeletePolicy::kHard, RowAction::kSoftDelete, RowAction::kHardDelete},
      {DeletePolicy::kSoft, DeletePolicy::kIgnore, RowAction::kSoftDelete, std::nullopt},
      {DeletePolicy::kIgnore, DeletePolicy::kSoft, std::nullopt, RowAction::kSoftDelete},
      {DeletePolicy::kIgnore, DeletePolicy::kHard, std::nullopt, RowAction::kHardDelete},
      // Unset: the same as on_delete.
      {DeletePolicy::kSoft, std::nullopt, RowAction::kSoftDelete, RowAction::kSoftDelete},
      {DeletePolicy::kHard, std::nullopt, RowAction::kHardDelete, RowAction::kHardDelete},
      {DeletePolicy::kIgnore, std::nullopt, std::nullopt, std::nullopt},
  };
  for (const Case& c : cases) {
    PipelineSpec spec = ProfileSpec();
    spec.table.delete_policy = c.on_delete;
    spec.table.ttl_delete_policy = c.on_ttl_delete;
    auto plan = MappingPlan::Compile(spec);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    const std::string label = "on_delete " + std::to_string(static_cast<int>(c.on_delete)) + ", on_ttl_delete " +
                              (c.on_ttl_delete ? std::to_string(static_cast<int>(*c.on_ttl_delete)) : "unset");
    for (const bool ttl : {false, true}) {
      core::Record record = MakeRecord(Operation::kDelete, Item());
      record.metadata.ttl_delete = ttl;
      auto row = plan->Map(record);
      ASSERT_TRUE(row.ok()) << label << ": " << row.status().ToString();
      const std::optional<RowAction>& expected = ttl ? c.ttl_remove : c.user_remove;
      ASSERT_EQ(row->has_value(), expected.has_value()) << label << (ttl ? ", TTL remove" : ", user remove");
      if (!expected) continue;
      EXPECT_EQ((*row)->action, *expected) << label << (ttl ? ", TTL remove" : ", user remove");
      if (*expected == RowAction::kSoftDelete) {
        EXPECT_EQ(Cells(**row), (Cells_{kId, "Avery", "tea", "true", "2024-09-05 17:16:20.382+00"})) << label;
      } else {
        EXPECT_EQ(Cells(**row), (Cells_{kId, "~", "~", "~", "~"})) << label;
      }
    }
    // Inserts and updates are not affected by either policy.
    auto upsert = plan->Map(MakeRecord(Operation::kUpdate, Item()));
    ASSERT_TRUE(upsert.ok() && upsert->has_value()) << label;
    EXPECT_EQ((*upsert)->action, RowAction::kUpsert) << label;
  }
}

// A table whose TTL deletes are soft needs the soft-delete columns even if user deletes are hard;
// its upserts un-delete as any soft-delete table's do.
TEST(MappingPlan, SoftTtlDeletesNeedTheDeletedColumns) {
  PipelineSpec spec = ProfileSpec();
  spec.table.columns.erase(spec.table.columns.begin() + 3);  // no deleted column
  spec.table.delete_policy = DeletePolicy::kHard;
  EXPECT_TRUE(MappingPlan::Compile(spec).ok());
  spec.table.ttl_delete_policy = DeletePolicy::kSoft;
  EXPECT_EQ(MappingPlan::Compile(spec).status().message(),
            "pipeline profile: soft deletes need the column \"deleted\" in profile (or choose another deleted "
            "column, or on_delete / on_ttl_delete: hard or ignore)");

  spec = ProfileSpec();
  spec.table.delete_policy = DeletePolicy::kHard;
  spec.table.ttl_delete_policy = DeletePolicy::kSoft;
  spec.table.columns.push_back(Column("expired", "boolean", "ttl_delete()"));
  auto plan = MappingPlan::Compile(spec);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  auto upsert = plan->Map(MakeRecord(Operation::kCreate, Item()));
  ASSERT_TRUE(upsert.ok()) << upsert.status().ToString();
  EXPECT_EQ(Cells(**upsert), (Cells_{kId, "Avery", "tea", "false", "~", "false"}));
  auto expired = plan->Map(TtlRemove());
  ASSERT_TRUE(expired.ok()) << expired.status().ToString();
  EXPECT_EQ((*expired)->action, RowAction::kSoftDelete);
  EXPECT_EQ(Cells(**expired), (Cells_{kId, "Avery", "tea", "true", "2024-09-05 17:16:20.382+00", "true"}));
  auto removed = plan->Map(MakeRecord(Operation::kDelete, Item()));
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ((*removed)->action, RowAction::kHardDelete);
}

// ttl_delete() in a filter: here expiry is not replicated at all, user deletes are.
TEST(MappingPlan, TtlDeleteInAFilter) {
  PipelineSpec spec = ProfileSpec();
  spec.table.delete_policy = DeletePolicy::kHard;
  spec.filter = "not ttl_delete()";
  auto plan = MappingPlan::Compile(spec);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_FALSE(plan->Map(TtlRemove())->has_value());
  auto removed = plan->Map(MakeRecord(Operation::kDelete, Item()));
  ASSERT_TRUE(removed.ok() && removed->has_value());
  EXPECT_EQ((*removed)->action, RowAction::kHardDelete);
  EXPECT_TRUE(plan->Map(MakeRecord(Operation::kCreate, Item()))->has_value());
}

TEST(MappingPlan, FilterMustBeBoolean) {
  PipelineSpec spec = ProfileSpec();
  spec.filter = "name";
  auto plan = MappingPlan::Compile(spec);
  ASSERT_TRUE(plan.ok());
  auto row = plan->Map(MakeRecord(Operation::kCreate, Item()));
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().message(), "filter: expected a boolean, got S \"Avery\" (expression: name)");
}

TEST(MappingPlan, ErrorsNameColumnTypeAndExpression) {
  auto plan = MappingPlan::Compile(ProfileSpec());
  ASSERT_TRUE(plan.ok());
  Value item = Item();
  item.Set("bio", Value::String("eleven char"));
  auto row = plan->Map(MakeRecord(Operation::kCreate, item));
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(row.status().message(), "column bio (VARCHAR(10)): value has 11 characters (expression: bio)");

  Value no_id = Item();
  no_id.map().erase(no_id.map().begin());
  row = plan->Map(MakeRecord(Operation::kCreate, no_id));
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().message(), "column id: key column is NULL (expression: id)");

  Value bad_id = Item();
  bad_id.Set("id", Value::String("user-1"));
  row = plan->Map(MakeRecord(Operation::kCreate, bad_id));
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().message(),
            "column id (UUID): S \"user-1\" is not a UUID (expected 8-4-4-4-12 hex digits) (expression: id)");
}

TEST(MappingPlan, CompileErrorsNameThePipelineColumnAndPosition) {
  PipelineSpec spec = ProfileSpec();
  spec.table.columns[1].expression = "coalesce(name";
  spec.table.columns[1].line = 12;
  spec.table.columns[1].column = 7;
  auto plan = MappingPlan::Compile(spec);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "pipeline profile, column name (line 12, column 7): expression \"coalesce(name\": position 14: "
            "expected ')' to close coalesce(, found end of expression");

  spec = ProfileSpec();
  spec.table.key_columns = {"nope"};
  EXPECT_EQ(MappingPlan::Compile(spec).status().message(), "pipeline profile: key column nope is not a column of profile");
  spec.table.key_columns = {};
  EXPECT_FALSE(MappingPlan::Compile(spec).ok());

  spec = ProfileSpec();
  spec.table.columns.erase(spec.table.columns.begin() + 3);  // no deleted column
  EXPECT_EQ(MappingPlan::Compile(spec).status().message(),
            "pipeline profile: soft deletes need the column \"deleted\" in profile (or choose another deleted "
            "column, or on_delete / on_ttl_delete: hard or ignore)");
  spec.table.delete_policy = DeletePolicy::kHard;
  EXPECT_TRUE(MappingPlan::Compile(spec).ok());

  spec = ProfileSpec();
  spec.table.deleted_at_column = "";
  EXPECT_TRUE(MappingPlan::Compile(spec).ok());
  spec.table.columns[3].type = *ColumnType::Parse("uuid");
  EXPECT_EQ(MappingPlan::Compile(spec).status().message(),
            "pipeline profile: the deleted column deleted (UUID) cannot hold a boolean flag");

  spec = ProfileSpec();
  spec.table.columns[0].expression = "";
  EXPECT_EQ(MappingPlan::Compile(spec).status().message(), "pipeline profile, column id: a key column needs an expression");

  spec = ProfileSpec();
  spec.table.columns.push_back(Column("name", "text", "x"));
  EXPECT_EQ(MappingPlan::Compile(spec).status().message(), "pipeline profile: column name is listed twice");

  spec = ProfileSpec();
  spec.filter = "a ==";
  spec.filter_line = 30;
  EXPECT_EQ(MappingPlan::Compile(spec).status().message(),
            "pipeline profile: filter (line 30) \"a ==\": position 5: expected a value, a path or a function call, "
            "found end of expression");
}

TEST(MappingPlan, UnmappedAndNullColumnsAreNull) {
  PipelineSpec spec = ProfileSpec();
  spec.table.columns.push_back(Column("extra", "text", ""));
  spec.table.columns.push_back(Column("nothing", "jsonb", "null"));
  auto plan = MappingPlan::Compile(spec);
  ASSERT_TRUE(plan.ok());
  auto row = plan->Map(MakeRecord(Operation::kCreate, Item()));
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(Cells(**row), (Cells_{kId, "Avery", "tea", "false", "~", "~", "~"}));
}

TEST(MappingPlan, MapIsSafeFromManyThreads) {
  PipelineSpec spec = ProfileSpec();
  spec.table.columns.push_back(Column("upper_name", "text", "upper(name)"));
  auto plan = MappingPlan::Compile(spec);
  ASSERT_TRUE(plan.ok());
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        Value item = Item();
        const std::string name = "n" + std::to_string(t) + "_" + std::to_string(i);
        // Vary the attribute order so that the lookup hints keep changing.
        if (i % 2 == 0) {
          item = Value::MakeMap({{"name", Value::String(name)}, {"id", Value::String(kId)}});
        } else {
          item.Set("name", Value::String(name));
        }
        auto row = plan->Map(MakeRecord(Operation::kUpdate, item));
        std::string upper = name;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (!row.ok() || (*row)->cell(1) != name || (*row)->cell(5) != upper) ++mismatches;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace ddb2pg::processor

namespace ddb2pg::processor {
namespace {

PipelineSpec PronounsSpec() {
  PipelineSpec spec;
  spec.name = "pronouns";
  spec.source = "users";
  spec.table.name = "profile_pronouns";
  spec.explode = "pronouns";
  spec.table.columns = {Column("profile_id", "uuid", "id"), Column("position", "integer", "index"),
                        Column("pronoun", "text", "element.pronoun")};
  spec.table.key_columns = {"profile_id", "position"};
  spec.table.delete_policy = DeletePolicy::kHard;
  return spec;
}

Value Pronouns(std::vector<std::string> pronouns) {
  Value::List list;
  for (auto& pronoun : pronouns) list.push_back(Value::MakeMap({{"pronoun", Value::String(std::move(pronoun))}}));
  return Value::MakeMap({{"id", Value::String(kId)}, {"pronouns", Value::MakeList(std::move(list))}});
}

TEST(MappingPlanExplode, ReadsTheExplodedAttributeAndNotElementOrIndex) {
  PipelineSpec spec = PronounsSpec();
  spec.table.columns.push_back(Column("shown", "text", "concat(element.pronoun, nickname)"));
  auto plan = MappingPlan::Compile(spec);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_TRUE(plan->exploded());
  ASSERT_TRUE(plan->ImageAttributes().has_value());
  EXPECT_EQ(*plan->ImageAttributes(), (std::set<std::string>{"id", "nickname", "pronouns"}));
}

TEST(MappingPlanExplode, MapIsForPlainPipelinesAndMapRowsForEvery) {
  auto exploded = MappingPlan::Compile(PronounsSpec());
  ASSERT_TRUE(exploded.ok()) << exploded.status().ToString();
  EXPECT_EQ(exploded->Map(MakeRecord(Operation::kCreate, Pronouns({"she"}))).status().code(),
            core::StatusCode::kInternal);

  auto plain = MappingPlan::Compile(ProfileSpec());
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->exploded());
  std::vector<Row> rows;
  ASSERT_TRUE(plain->MapRows(MakeRecord(Operation::kCreate, Item()), &rows).ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(Cells(rows[0]), (Cells_{kId, "Avery", "tea", "false", "~"}));
}

TEST(MappingPlanExplode, AFailedRecordAppendsNothingToRowsAlreadyThere) {
  PipelineSpec spec = PronounsSpec();
  spec.table.columns[2] = Column("pronoun", "varchar(3)", "element.pronoun");
  auto plan = MappingPlan::Compile(spec);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::vector<Row> rows;
  ASSERT_TRUE(plan->MapRows(MakeRecord(Operation::kCreate, Pronouns({"she", "her"})), &rows).ok());
  ASSERT_EQ(rows.size(), 2u);
  const core::Status failed = plan->MapRows(MakeRecord(Operation::kCreate, Pronouns({"she", "they"})), &rows);
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("element [1]: column pronoun (VARCHAR(3))"), std::string::npos) << failed.message();
  EXPECT_EQ(rows.size(), 2u);
}

TEST(MappingPlanExplode, UpdatesFollowTheListAcrossManyChanges) {
  // Applying each change's rows in order to a table keyed like the sink's ends with the last
  // state's elements, whatever was added and removed on the way.
  auto plan = MappingPlan::Compile(PronounsSpec());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const std::vector<std::vector<std::string>> states = {
      {"she", "her"}, {"she", "her", "hers"}, {"they"}, {}, {"xe", "xem", "xyr", "xemself"}, {"xe", "xyr"}};
  std::map<std::string, std::string> table;  // position → pronoun
  for (size_t i = 0; i < states.size(); ++i) {
    core::Record record = MakeRecord(i == 0 ? Operation::kCreate : Operation::kUpdate, Pronouns(states[i]));
    if (i > 0) record.before = Pronouns(states[i - 1]);
    std::vector<Row> rows;
    ASSERT_TRUE(plan->MapRows(record, &rows).ok());
    for (const Row& row : rows) {
      if (row.action == RowAction::kHardDelete) table.erase(std::string(row.cell(1)));
      else table[std::string(row.cell(1))] = std::string(row.cell(2));
    }
    std::map<std::string, std::string> expected;
    for (size_t p = 0; p < states[i].size(); ++p) expected[std::to_string(p)] = states[i][p];
    EXPECT_EQ(table, expected) << "after change " << i;
  }
  core::Record removed = MakeRecord(Operation::kDelete, Pronouns(states.back()));
  std::vector<Row> rows;
  ASSERT_TRUE(plan->MapRows(removed, &rows).ok());
  for (const Row& row : rows) {
    EXPECT_EQ(row.action, RowAction::kHardDelete);
    table.erase(std::string(row.cell(1)));
  }
  EXPECT_TRUE(table.empty());
}

}  // namespace
}  // namespace ddb2pg::processor
