// SchemaDiff's rules over catalog descriptions, without a server.
#include "sink/schema_diff.h"

#include <gtest/gtest.h>

namespace ddb2pg::sink {
namespace {

using processor::ColumnKind;
using processor::ColumnType;

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

processor::TableSpec Spec() {
  processor::TableSpec table;
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

}  // namespace
}  // namespace ddb2pg::sink
