// Pure text helpers of the sink: COPY escaping, identifier quoting, type names, array literals,
// UTF-8 sanitizing, password redaction, per-key dedupe.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>

#include "sink/copy_text_encoder.h"
#include "sink/pg_connection.h"
#include "sink/row_deduper.h"
#include "sink/sql_text.h"
#include "sink/table_writer.h"

namespace ddb2pg::sink {
namespace {

using model::ColumnKind;
using model::Row;

TEST(CopyTextEncoder, EscapesTheFourSpecialBytesAndWritesNulls) {
  Row row;
  row.AppendCell("plain 'quotes' \"double\"");
  row.AppendCell("a\\b\tc\nd\re");
  row.AppendNull();
  row.AppendCell("\\N");
  row.AppendCell("");
  row.AppendCell("Grüße 🎉");
  std::string out;
  CopyTextEncoder::AppendRow(out, row);
  EXPECT_EQ(out, "plain 'quotes' \"double\"\ta\\\\b\\tc\\nd\\re\t\\N\t\\\\N\t\tGrüße 🎉\n");
  out.clear();
  CopyTextEncoder::AppendRow(out, row, "u");
  EXPECT_EQ(out.substr(out.size() - 3), "\tu\n");
}

// The escaper scans 16 bytes at a time: special bytes at every offset and cell length around
// the block size must come out exactly as the byte-by-byte definition says.
TEST(CopyTextEncoder, EscapingMatchesTheByteByByteDefinitionAtEveryOffset) {
  auto reference = [](std::string_view text) {
    std::string out;
    for (char c : text) {
      switch (c) {
        case '\\': out += "\\\\"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
      }
    }
    return out;
  };
  const std::string specials = "\\\t\n\r";
  for (size_t length = 0; length <= 40; ++length) {
    for (size_t at = 0; at < length; ++at) {
      for (char special : specials) {
        std::string text(length, 'x');
        text[at] = special;
        if (length > 20) text[length - 1 - at / 2] = '\\';  // a second one further on
        std::string out;
        CopyTextEncoder::AppendEscaped(out, text);
        ASSERT_EQ(out, reference(text)) << "length " << length << " at " << at;
      }
    }
    std::string plain(length, 'y');
    std::string out = "prefix";
    CopyTextEncoder::AppendEscaped(out, plain);
    EXPECT_EQ(out, "prefix" + plain);
  }
}

TEST(SqlText, QuotesIdentifiersAndSpellsTypes) {
  EXPECT_EQ(QuoteIdentifier("profile"), "\"profile\"");
  EXPECT_EQ(QuoteIdentifier("we\"ird name"), "\"we\"\"ird name\"");
  model::TableSpec table;
  table.schema = "My\"Schema";
  table.name = "t";
  EXPECT_EQ(QualifiedName(table), "\"My\"\"Schema\".\"t\"");
  EXPECT_EQ(QuotedList({"a", "b\"c"}), "\"a\", \"b\"\"c\"");

  model::ColumnType type;
  type.kind = ColumnKind::kVarchar;
  type.length = 210;
  EXPECT_EQ(SqlTypeName(type), "VARCHAR(210)");
  type.kind = ColumnKind::kNumeric;
  type.precision = 10;
  type.scale = 2;
  EXPECT_EQ(SqlTypeName(type), "NUMERIC(10,2)");
  type.kind = ColumnKind::kDouble;
  EXPECT_EQ(SqlTypeName(type), "DOUBLE PRECISION");
  type.kind = ColumnKind::kTimestamptz;
  EXPECT_EQ(SqlTypeName(type), "TIMESTAMPTZ");
}

TEST(SqlText, ArrayElementsAndSanitizing) {
  std::string array = "{";
  AppendArrayElement(array, "a\"b\\c,d}");
  array.push_back(',');
  AppendArrayElement(array, "", true);
  array.push_back('}');
  EXPECT_EQ(array, "{\"a\\\"b\\\\c,d}\",NULL}");

  EXPECT_EQ(SanitizeText("ok Grüße 🎉"), "ok Grüße 🎉");
  EXPECT_EQ(SanitizeText(std::string("a\0b", 3)), "ab");
  EXPECT_EQ(SanitizeText("cut \xE6\x97"), "cut \xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(SanitizeText("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(SanitizeText("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
}

TEST(RedactPassword, RemovesThePasswordInEveryForm) {
  EXPECT_EQ(RedactPassword("failed for s3cret here", "s3cret"), "failed for *** here");
  EXPECT_EQ(RedactPassword("bad: host=x password=hunter2 port=5", ""), "bad: host=x password=*** port=5");
  EXPECT_EQ(RedactPassword("uri postgresql://bob:hunter2@db:5432/x", ""), "uri postgresql://bob:***@db:5432/x");
  EXPECT_EQ(RedactPassword("postgresql://db:5432/x", ""), "postgresql://db:5432/x");
}

TEST(RedactPassword, QuotedValuesSslPasswordAndBlanksAroundTheEqualsSign) {
  EXPECT_EQ(RedactPassword("host=x password='two words' port=5", ""), "host=x password=*** port=5");
  EXPECT_EQ(RedactPassword("host=x password='it\\'s here' port=5", ""), "host=x password=*** port=5");
  EXPECT_EQ(RedactPassword("host=x password = hunter2 port=5", ""), "host=x password = *** port=5");
  EXPECT_EQ(RedactPassword("sslkey=k sslpassword=keypass host=x", ""), "sslkey=k sslpassword=*** host=x");
  EXPECT_EQ(RedactPassword("postgresql://h/db?user=u&password=hunter2&sslmode=require", ""),
            "postgresql://h/db?user=u&password=***&sslmode=require");
}

TEST(RedactPassword, EverySpellingOfAConninfoSecret) {
  // libpq decodes the URI's password; an error may echo it as written, percent-encoded.
  auto secrets = ConninfoSecrets("postgresql://bob:p%40ss%2Fw0rd@db:5432/x?sslpassword=keypass");
  EXPECT_THAT(secrets, ::testing::UnorderedElementsAre("keypass", "p@ss/w0rd", "p%40ss%2Fw0rd"));
  EXPECT_EQ(RedactSecrets("token \"p%40ss%2Fw0rd\" and p@ss/w0rd and keypass", secrets), "token \"***\" and *** and ***");
  // A URI libpq refuses (bad percent-encoding) still yields the password as written.
  secrets = ConninfoSecrets("postgresql://bob:hunter%zz2@db/x");
  EXPECT_EQ(secrets, (std::vector<std::string>{"hunter%zz2"}));
  EXPECT_EQ(RedactSecrets("invalid percent-encoded token: \"hunter%zz2\"", secrets),
            "invalid percent-encoded token: \"***\"");
  secrets = ConninfoSecrets("host=db password='two words' sslpassword=k3y");
  EXPECT_THAT(secrets, ::testing::UnorderedElementsAre("two words", "k3y"));
}

Row KeyRow(std::string key, std::string value, model::RowAction action = model::RowAction::kUpsert) {
  Row row;
  row.action = action;
  row.AppendCell(key);
  row.AppendCell(value);
  return row;
}

model::TableSpec KeyedTable(ColumnKind key_kind) {
  model::TableSpec table;
  table.name = "t";
  table.columns.resize(2);
  table.columns[0].name = "k";
  table.columns[0].type.kind = key_kind;
  table.columns[1].name = "v";
  table.key_columns = {"k"};
  return table;
}

TEST(RowDeduper, KeepsTheLastRowOfEachKeyInOrder) {
  const auto table = KeyedTable(ColumnKind::kText);
  RowDeduper deduper(table);
  std::vector<Row> rows = {KeyRow("a", "1"), KeyRow("b", "1"), KeyRow("a", "2"),
                           KeyRow("c", "1"), KeyRow("a", "3", model::RowAction::kSoftDelete)};
  EXPECT_EQ(deduper.KeepLast(rows), (std::vector<size_t>{1, 3, 4}));
  EXPECT_EQ(deduper.DescribeKey(rows[0]), "k=a");
}

// TableWriter's plan: one row per key (the last), in key order, so the COPY walks the B-tree.
TEST(TableWriterPlan, KeepsTheLastRowOfEachKeyInKeyOrder) {
  const auto table = KeyedTable(ColumnKind::kText);
  TableWriter writer(table, 0);
  std::vector<Row> rows = {KeyRow("m", "1"), KeyRow("c", "1"), KeyRow("x", "1"), KeyRow("c", "2"),
                           KeyRow("a", "1", model::RowAction::kHardDelete)};
  auto plan = writer.MakePlan(rows);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->kept, (std::vector<size_t>{4, 3, 0, 2}));  // a, c (its last row), m, x
  EXPECT_EQ(plan->upserts, 3);
  EXPECT_EQ(plan->hard_deletes, 1);
}

TEST(RowDeduper, ComparesUuidsAndIntegersLikePostgres) {
  const auto uuids = KeyedTable(ColumnKind::kUuid);
  RowDeduper by_uuid(uuids);
  std::vector<Row> rows = {KeyRow("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "1"),
                           KeyRow("{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}", "2"),
                           KeyRow("a0eebc999c0b4ef8bb6d6bb9bd380a11", "3"),
                           KeyRow("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12", "4")};
  EXPECT_EQ(by_uuid.KeepLast(rows), (std::vector<size_t>{2, 3}));

  const auto integers = KeyedTable(ColumnKind::kBigint);
  RowDeduper by_integer(integers);
  rows = {KeyRow("007", "1"), KeyRow("+7", "2"), KeyRow("-0", "3"), KeyRow("0", "4"), KeyRow("70", "5")};
  EXPECT_EQ(by_integer.KeepLast(rows), (std::vector<size_t>{1, 3, 4}));
}

TEST(RowDeduper, NullKeysNeverMatch) {
  const auto table = KeyedTable(ColumnKind::kText);
  RowDeduper deduper(table);
  std::vector<Row> rows(3);
  for (auto& row : rows) {
    row.AppendNull();
    row.AppendCell("v");
  }
  rows.push_back(KeyRow("", "x"));
  rows.push_back(KeyRow("", "y"));
  EXPECT_EQ(deduper.KeepLast(rows), (std::vector<size_t>{0, 1, 2, 4}));
}

TEST(RowDeduper, ManyRowsKeepOnePerKey) {
  const auto table = KeyedTable(ColumnKind::kUuid);
  RowDeduper deduper(table);
  std::vector<Row> rows;
  for (int round = 0; round < 3; ++round) {
    for (int n = 0; n < 5000; ++n) {
      char uuid[37];
      std::snprintf(uuid, sizeof(uuid), "%08x-0000-4000-8000-%012d", n, round == 1 ? 0 : n);
      std::string key(uuid);
      if (round == 2) {
        for (auto& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      rows.push_back(KeyRow(key, std::to_string(round)));
    }
  }
  // Rounds 0 and 2 spell the same 5000 keys (2 in upper case); round 1 has other keys except n=0.
  const auto kept = deduper.KeepLast(rows);
  EXPECT_EQ(kept.size(), 9999u);
  EXPECT_EQ(kept.front(), 5001u);
  EXPECT_EQ(kept.back(), 14999u);
}

TEST(RowDeduper, CompositeKeysAreUnambiguous) {
  model::TableSpec table;
  table.columns.resize(3);
  table.columns[0].name = "a";
  table.columns[1].name = "b";
  table.columns[2].name = "v";
  table.key_columns = {"a", "b"};
  RowDeduper deduper(table);
  auto make = [](std::optional<std::string> a, std::optional<std::string> b) {
    Row row;
    a ? row.AppendCell(*a) : row.AppendNull();
    b ? row.AppendCell(*b) : row.AppendNull();
    row.AppendCell("v");
    return row;
  };
  std::vector<Row> rows = {make("ab", "c"), make("a", "bc"), make("", std::nullopt), make(std::nullopt, ""),
                           make("a", "bc")};
  EXPECT_EQ(deduper.KeepLast(rows), (std::vector<size_t>{0, 2, 3, 4}));
}

}  // namespace
}  // namespace ddb2pg::sink
