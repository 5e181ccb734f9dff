// SchemaDiff's rules over catalog descriptions, without a server.
#include "sink/schema_diff.h"

#include <gtest/gtest.h>

namespace ddb2pg::sink {
namespace {

using model::ColumnKind;
using model::ColumnType;

ColumnType Type(ColumnKind kind, int length = 0, int precision = 0, int scale = 0) {
  ColumnType type;
  type.kind = kind;
  type.length = length;
  type.precision = precision;
  type.scale = scale;
  return type;
}

int VarcharMod(int length) { return length + 4; }
int NumericMod(int precision, int scale) { return ((precision << 16) | scale) + 4; }

TEST(SchemaDiff, AcceptsOnlyTypesThatTakeEveryMappedValue) {
  EXPECT_TRUE(SchemaDiff::Accepts("uuid", -1, Type(ColumnKind::kUuid)));
  EXPECT_FALSE(SchemaDiff::Accepts("int4", -1, Type(ColumnKind::kUuid)));
  EXPECT_TRUE(SchemaDiff::Accepts("text", -1, Type(ColumnKind::kUuid)));
  EXPECT_TRUE(SchemaDiff::Accepts("varchar", VarcharMod(36), Type(ColumnKind::kUuid)));
  EXPECT_FALSE(SchemaDiff::Accepts("varchar", VarcharMod(35), Type(ColumnKind::kUuid)));
  EXPECT_TRUE(SchemaDiff::Accepts("varchar", -1, Type(ColumnKind::kText)));
  EXPECT_FALSE(SchemaDiff::Accepts("varchar", VarcharMod(210), Type(ColumnKind::kText)));
  EXPECT_TRUE(SchemaDiff::Accepts("varchar", VarcharMod(210), Type(ColumnKind::kVarchar, 48)));
  EXPECT_FALSE(SchemaDiff::Accepts("varchar", VarcharMod(48), Type(ColumnKind::kVarchar, 210)));
  EXPECT_TRUE(SchemaDiff::Accepts("int8", -1, Type(ColumnKind::kInteger)));
  EXPECT_FALSE(SchemaDiff::Accepts("int4", -1, Type(ColumnKind::kBigint)));
  EXPECT_TRUE(SchemaDiff::Accepts("float8", -1, Type(ColumnKind::kReal)));
  EXPECT_FALSE(SchemaDiff::Accepts("float4", -1, Type(ColumnKind::kDouble)));
  EXPECT_TRUE(SchemaDiff::Accepts("numeric", -1, Type(ColumnKind::kNumeric, 0, 38, 0)));
  EXPECT_TRUE(SchemaDiff::Accepts("numeric", NumericMod(12, 2), Type(ColumnKind::kNumeric, 0, 10, 2)));
  EXPECT_FALSE(SchemaDiff::Accepts("numeric", NumericMod(10, 2), Type(ColumnKind::kNumeric, 0, 12, 2)));
  EXPECT_FALSE(SchemaDiff::Accepts("numeric", NumericMod(10, 0), Type(ColumnKind::kBigint)));
  EXPECT_TRUE(SchemaDiff::Accepts("timestamptz", -1, Type(ColumnKind::kDate)));
  EXPECT_FALSE(SchemaDiff::Accepts("timestamp", -1, Type(ColumnKind::kTimestamptz)));
  EXPECT_TRUE(SchemaDiff::Accepts("jsonb", -1, Type(ColumnKind::kJson)));
  EXPECT_FALSE(SchemaDiff::Accepts("bool", -1, Type(ColumnKind::kText)));
  EXPECT_TRUE(SchemaDiff::Accepts("my_enum", -1, Type(ColumnKind::kText)));  // unknown types are trusted
}

model::TableSpec Spec() {
  model::TableSpec table;
  table.name = "t";
  table.columns.resize(3);
  table.columns[0].name = "a";
  table.columns[0].type = Type(ColumnKind::kUuid);
  table.columns[1].name = "b";
  table.columns[1].type = Type(ColumnKind::kBigint);
  table.columns[2].name = "deleted";
  table.columns[2].type = Type(ColumnKind::kBoolean);
  table.columns[2].default_sql = "FALSE";
  table.key_columns = {"b", "a"};
  return table;
}

TEST(SchemaDiff, CompositeKeysMatchInAnyOrder) {
  CatalogTable catalog;
  catalog.exists = true;
  catalog.columns = {{"a", "uuid", -1, "uuid"}, {"b", "int8", -1, "bigint"}, {"deleted", "bool", -1, "boolean"}};
  catalog.unique_keys = {{"a"}, {"a", "b"}};
  EXPECT_TRUE(SchemaDiff::Compare(Spec(), catalog).empty());

  catalog.unique_keys = {{"a"}, {"a", "b", "deleted"}};
  catalog.has_primary_key = true;
  auto problems = SchemaDiff::Compare(Spec(), catalog);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].table, "public.t");
  EXPECT_EQ(problems[0].fix_sql, "CREATE UNIQUE INDEX ON \"public\".\"t\" (\"b\", \"a\");");
}

TEST(SchemaDiff, MissingColumnKeepsItsDefault) {
  CatalogTable catalog;
  catalog.exists = true;
  catalog.columns = {{"a", "uuid", -1, "uuid"}, {"b", "int8", -1, "bigint"}};
  catalog.unique_keys = {{"b", "a"}};
  auto problems = SchemaDiff::Compare(Spec(), catalog);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].problem, "column deleted is missing");
  EXPECT_EQ(problems[0].fix_sql, "ALTER TABLE \"public\".\"t\" ADD COLUMN \"deleted\" BOOLEAN DEFAULT FALSE;");
}

TEST(SchemaDiff, MissingTableGetsItsCreateStatement) {
  auto problems = SchemaDiff::Compare(Spec(), CatalogTable{});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].fix_sql,
            "CREATE TABLE IF NOT EXISTS \"public\".\"t\" (\n    \"a\" UUID,\n    \"b\" BIGINT,\n"
            "    \"deleted\" BOOLEAN DEFAULT FALSE,\n    PRIMARY KEY (\"b\", \"a\")\n);");
}

TEST(SchemaDiff, NotNullColumnsTheMappingCanLeaveNullAreNamed) {
  model::TableSpec table = Spec();
  table.columns.resize(7);
  // can_be_null is what the config loader's MappingChecker found (PlanChecker's own tests cover
  // which expressions can be NULL); the schema check reads only the flag.
  auto set = [&](size_t i, const char* name, const char* expression, bool can_be_null) {
    table.columns[i].name = name;
    table.columns[i].type = Type(ColumnKind::kText);
    table.columns[i].expression = expression;
    table.columns[i].can_be_null = can_be_null;
  };
  table.columns[0].expression = "id";  // key columns: a NULL key is a mapping error, never a row
  table.columns[1].expression = "n";
  table.columns[2].expression = "";    // the soft-delete flag is FALSE when unmapped
  set(3, "name", "profile.name", true);
  set(4, "mode", "coalesce(appearance.mode, 'light')", false);
  set(5, "loud", "upper(if(exists(x), x, y))", true);
  set(6, "kind", "operation()", false);
  CatalogTable catalog;
  catalog.exists = true;
  catalog.unique_keys = {{"a", "b"}};
  for (const auto& column : table.columns) {
    catalog.columns.push_back({column.name, column.name == "a" ? "uuid" : column.name == "b" ? "int8"
                                            : column.name == "deleted" ? "bool" : "text",
                               -1, "", true, false});
  }
  auto problems = SchemaDiff::Compare(table, catalog);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].problem,
            "column name is NOT NULL but its mapping (profile.name) can be NULL: PostgreSQL will reject such rows "
            "(on_error decides what happens to them); drop the constraint, or map the column with coalesce(…, a "
            "default)");
  EXPECT_EQ(problems[0].fix_sql, "ALTER TABLE \"public\".\"t\" ALTER COLUMN \"name\" DROP NOT NULL;");
  EXPECT_FALSE(problems[0].blocking);
  EXPECT_NE(problems[1].problem.find("column loud is NOT NULL but its mapping (upper(if(exists(x), x, y)))"),
            std::string::npos)
      << problems[1].problem;
  EXPECT_FALSE(problems[1].blocking);

  // With delete: hard the flag is an ordinary column: unmapped, it is NULL.
  table.delete_policy = model::DeletePolicy::kHard;
  problems = SchemaDiff::Compare(table, catalog);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_NE(problems[0].problem.find("column deleted is NOT NULL but its mapping (nothing)"), std::string::npos);

  // Hard user deletes with soft TTL deletes: the flag is again always written.
  table.ttl_delete_policy = model::DeletePolicy::kSoft;
  problems = SchemaDiff::Compare(table, catalog);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].problem.find("column deleted"), std::string::npos) << problems[0].problem;
}

TEST(SchemaDiff, UnwrittenNotNullColumnWithoutDefaultBlocks) {
  CatalogTable catalog;
  catalog.exists = true;
  catalog.columns = {{"a", "uuid", -1, "uuid", true, false},
                     {"b", "int8", -1, "bigint", true, false},
                     {"deleted", "bool", -1, "boolean"},
                     {"tenant", "text", -1, "text", true, false},
                     {"created", "timestamptz", -1, "timestamp with time zone", true, true},
                     {"note", "text", -1, "text"}};
  catalog.unique_keys = {{"b", "a"}};
  auto problems = SchemaDiff::Compare(Spec(), catalog);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].problem,
            "column tenant is NOT NULL without a default and the configuration does not write it: every insert "
            "would fail");
  EXPECT_EQ(problems[0].fix_sql, "ALTER TABLE \"public\".\"t\" ALTER COLUMN \"tenant\" DROP NOT NULL;");
  EXPECT_TRUE(problems[0].blocking);
}

// Array columns (issue 27): an array catalog type (_text, _int4, …) is trusted; a scalar one is not.
TEST(SchemaDiff, ArrayColumnsNeedAnArrayInTheTable) {
  ColumnType text_array = Type(ColumnKind::kText);
  text_array.array = true;
  EXPECT_TRUE(SchemaDiff::Accepts("_text", -1, text_array));
  EXPECT_FALSE(SchemaDiff::Accepts("text", -1, text_array));
  EXPECT_FALSE(SchemaDiff::Accepts("jsonb", -1, text_array));
}

}  // namespace
}  // namespace ddb2pg::sink
