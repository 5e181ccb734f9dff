#include "model/table_spec.h"

#include <gtest/gtest.h>

namespace ddb2pg::model {
namespace {

ColumnType MustParse(std::string_view sql) {
  auto parsed = ColumnType::Parse(sql);
  EXPECT_TRUE(parsed.ok()) << sql << ": " << parsed.status().ToString();
  return parsed.ok() ? *parsed : ColumnType{};
}

TEST(ColumnType, ParsesEverySpellingToItsCanonicalSql) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"text", "TEXT"},
      {"TEXT", "TEXT"},
      {"varchar(210)", "VARCHAR(210)"},
      {"Character  Varying ( 48 )", "VARCHAR(48)"},
      {"varchar", "VARCHAR"},
      {"uuid", "UUID"},
      {"timestamptz", "TIMESTAMPTZ"},
      {"timestamp with time zone", "TIMESTAMPTZ"},
      {"timestamp", "TIMESTAMP"},
      {"timestamp without time zone", "TIMESTAMP"},
      {"date", "DATE"},
      {"boolean", "BOOLEAN"},
      {"bool", "BOOLEAN"},
      {"int", "INTEGER"},
      {"integer", "INTEGER"},
      {"int4", "INTEGER"},
      {"bigint", "BIGINT"},
      {"int8", "BIGINT"},
      {"smallint", "SMALLINT"},
      {"int2", "SMALLINT"},
      {"real", "REAL"},
      {"float4", "REAL"},
      {"double precision", "DOUBLE PRECISION"},
      {"float8", "DOUBLE PRECISION"},
      {"numeric", "NUMERIC"},
      {"decimal", "NUMERIC"},
      {"numeric(10,2)", "NUMERIC(10,2)"},
      {"numeric(10, 2)", "NUMERIC(10,2)"},
      {"numeric(5)", "NUMERIC(5,0)"},
      {"jsonb", "JSONB"},
      {"json", "JSON"},
      {"bytea", "BYTEA"},
  };
  for (const auto& [sql, canonical] : cases) {
    EXPECT_EQ(MustParse(sql).ToSql(), canonical) << sql;
    // The canonical spelling parses back to the same type.
    EXPECT_EQ(MustParse(canonical), MustParse(sql)) << sql;
  }
  EXPECT_EQ(MustParse("varchar(210)").length, 210);
  EXPECT_EQ(MustParse("numeric(10,2)").precision, 10);
  EXPECT_EQ(MustParse("numeric(10,2)").scale, 2);
}

TEST(ColumnType, RejectsUnknownAndMalformedSpellings) {
  for (std::string_view bad : {"", "string", "varchar(0)", "varchar(x)", "varchar(10", "uuid(4)",
                               "numeric(2,3)", "numeric(1,2,3)", "text(5)", "int(-1)"}) {
    auto parsed = ColumnType::Parse(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
  }
  auto parsed = ColumnType::Parse("string");
  EXPECT_NE(parsed.status().message().find("unsupported column type \"string\""), std::string::npos)
      << parsed.status().message();
}

TEST(ColumnType, ParsesArraysOfTheSupportedElementTypes) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"text[]", "TEXT[]"},
      {"INTEGER []", "INTEGER[]"},
      {"int8[]", "BIGINT[]"},
      {"numeric(10,2)[]", "NUMERIC(10,2)[]"},
      {"double precision[]", "DOUBLE PRECISION[]"},
      {"bool[]", "BOOLEAN[]"},
      {"uuid[]", "UUID[]"},
      {"timestamp with time zone[]", "TIMESTAMPTZ[]"},
  };
  for (const auto& [sql, canonical] : cases) {
    const ColumnType type = MustParse(sql);
    EXPECT_TRUE(type.array) << sql;
    EXPECT_EQ(type.ToSql(), canonical) << sql;
    EXPECT_EQ(MustParse(canonical), type) << sql;
  }
  EXPECT_NE(MustParse("text[]"), MustParse("text"));
  for (std::string_view bad : {"jsonb[]", "varchar(5)[]", "text[][]", "[]", "date[]"}) {
    auto parsed = ColumnType::Parse(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
  }
  EXPECT_NE(ColumnType::Parse("jsonb[]").status().message().find(
                "arrays are supported of text, integer, bigint, numeric, double precision, boolean, uuid and "
                "timestamptz"),
            std::string::npos);
  EXPECT_NE(ColumnType::Parse("text[][]").status().message().find("arrays of arrays"), std::string::npos);
}

TEST(TableSpec, ColumnIndexFindsByExactName) {
  TableSpec table;
  for (const char* name : {"id", "bio"}) {
    ColumnSpec column;
    column.name = name;
    table.columns.push_back(column);
  }
  EXPECT_EQ(table.ColumnIndex("id"), 0);
  EXPECT_EQ(table.ColumnIndex("bio"), 1);
  EXPECT_EQ(table.ColumnIndex("Bio"), -1);
  EXPECT_EQ(table.ColumnIndex("missing"), -1);
}

}  // namespace
}  // namespace ddb2pg::model
