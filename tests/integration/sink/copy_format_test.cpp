// Binary COPY against text COPY on the real PostgreSQL: the same rows written through a sink that
// COPYs binary and one that COPYs text must read back identical, cell for cell, for every type
// CopyBinaryEncoder writes — including the cells it has no exact binary form for (the COPY then
// goes as text), hostile text, NULLs and values at the types' limits.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "integration/sink/sink_fixture.h"
#include "sink/copy_binary_encoder.h"

namespace ddb2pg::sink::testing {
namespace {

class CopyFormatTest : public SinkTest {
 protected:
  static constexpr const char* kColumns =
      "(id INTEGER PRIMARY KEY, u UUID, tz TIMESTAMPTZ, ts TIMESTAMP, d DATE, b BOOLEAN, s SMALLINT, i INTEGER, "
      "g BIGINT, r REAL, f DOUBLE PRECISION, t TEXT, v VARCHAR(12), jb JSONB, j JSON)";

  TableSpec Spec(const std::string& name) {
    TableSpec table;
    table.schema = schema_;
    table.name = name;
    table.columns = {Column("id", ColumnKind::kInteger), Column("u", ColumnKind::kUuid),
                     Column("tz", ColumnKind::kTimestamptz), Column("ts", ColumnKind::kTimestamp),
                     Column("d", ColumnKind::kDate), Column("b", ColumnKind::kBoolean),
                     Column("s", ColumnKind::kSmallint), Column("i", ColumnKind::kInteger),
                     Column("g", ColumnKind::kBigint), Column("r", ColumnKind::kReal),
                     Column("f", ColumnKind::kDouble), Column("t", ColumnKind::kText),
                     Column("v", ColumnKind::kVarchar, 12), Column("jb", ColumnKind::kJsonb),
                     Column("j", ColumnKind::kJson)};
    table.key_columns = {"id"};
    table.delete_policy = model::DeletePolicy::kHard;
    return table;
  }

  // Row n: column c's value from values[c] (cycling), "" meaning NULL.
  static std::vector<Row> Rows(const std::vector<std::vector<std::string>>& values, int count, int base) {
    std::vector<Row> rows;
    for (int n = 0; n < count; ++n) {
      Row row;
      row.AppendCell(std::to_string(base + n));
      for (const auto& column : values) {
        const std::string& cell = column[n % column.size()];
        if (cell.empty()) {
          row.AppendNull();
        } else {
          row.AppendCell(cell);
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  std::string Dump(const std::string& table) {
    return Scalar("SELECT string_agg(to_jsonb(x)::text, E'\\n' ORDER BY id) FROM " + schema_ + "." + table + " x");
  }
};

TEST_F(CopyFormatTest, BinaryAndTextCopiesReadBackTheSame) {
  // Each column's cells: what TypeConverter writes, and forms it never writes (which must go as text).
  const std::vector<std::vector<std::string>> values = {
      {"00000000-0000-4000-8000-000000000001", "{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}",
       "a0eebc999c0b4ef8bb6d6bb9bd380a11", "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", ""},
      {"2024-09-05 17:16:20.382266+00", "2024-09-05T17:16:20.382266Z", "1990-08-22 00:00:00+00", "0001-01-01 00:00:00+00",
       "9999-12-31 23:59:59.999999+00", "2024-02-29 12:00:00+05:30", "2024-02-29 12:00:00-0800", "1969-12-31 23:59:59.5+00",
       ""},
      {"2024-09-05 17:16:20.1", "1900-03-01 00:00:00", "2000-01-01 00:00:00", ""},
      {"2024-02-29", "1970-01-01", "1999-12-31", "0001-01-01", ""},
      {"true", "false", "t", "f", ""},
      {"32767", "-32768", "0", "-1", ""},
      {"2147483647", "-2147483648", "42", ""},
      {"9223372036854775807", "-9223372036854775808", "1725556580382", ""},
      {"5", "-0", "3.4028235e+38", "1.17549435e-38", "0.1", "NaN", "Infinity", "-Infinity", "1e-45", ""},
      {"0.1", "-0", "1.7976931348623157e+308", "5e-324", "2.2250738585072014e-308", "NaN", "-Infinity", "1e22", ""},
      {"O'Brien \"q\"", "back\\slash \\N", "tab\there", "new\nline\r\n", "unicode: Grüße 日本語 🎉", "\\.", ""},
      {"short", "twelve chars", "é日🎉", ""},
      {R"({"a": [1, 2.50, "x"], "b": null})", R"("text")", "[]", ""},
      {R"({"b": 1,  "a": [1, 2.50]})", "123.4500", ""}};
  db_->Exec("CREATE TABLE " + schema_ + ".as_binary " + kColumns);
  db_->Exec("CREATE TABLE " + schema_ + ".as_text " + kColumns);
  TableSpec binary_table = Spec("as_binary");
  TableSpec text_table = Spec("as_text");
  LeasedSink binary_sink(Options("b"));
  PostgresSinkOptions text_options = Options("t");
  text_options.binary_copy = false;
  LeasedSink text_sink(text_options);
  auto opened = binary_sink.Open({&binary_table});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_TRUE(text_sink.Open({&text_table}).ok());

  // Inserts (the direct COPY), updates of the same keys (COPY into staging, then upserts), then a
  // batch with one cell no binary form fits (a timestamptz without its offset): that COPY is text.
  for (int round = 0; round < 3; ++round) {
    std::vector<Row> rows = Rows(values, 180, round == 0 ? 0 : round == 1 ? 7 : 500);
    if (round == 2) rows[3].SetCell(2, "1990-08-22");
    pipeline::CommitResult binary_result;
    pipeline::CommitResult text_result;
    ASSERT_TRUE(binary_sink.Commit(MakeBatch(rows, "p", &binary_table), &binary_result).ok());
    ASSERT_TRUE(text_sink.Commit(MakeBatch(rows, "p", &text_table), &text_result).ok());
    EXPECT_EQ(binary_result.tables.at(0).copied_binary, round < 2) << round;
    if (round < 2) {
      EXPECT_EQ(binary_result.tables.at(0).copied_directly, round == 0) << round;
    }
    EXPECT_FALSE(text_result.tables.at(0).copied_binary);
  }
  EXPECT_EQ(Scalar("SELECT count(*) FROM " + schema_ + ".as_binary"), "367");
  EXPECT_EQ(Dump("as_binary"), Dump("as_text"));
  // Spot checks of what the binary path wrote.
  EXPECT_EQ(Scalar("SELECT (tz = '2024-02-29 06:30:00+00')::text FROM " + schema_ + ".as_binary WHERE id = 5"), "true");
  EXPECT_EQ(Scalar("SELECT r::text || ' ' || f::text FROM " + schema_ + ".as_binary WHERE id = 5"), "NaN NaN");
}

TEST_F(CopyFormatTest, AValueTheTableRejectsIsNamedTheSameWayInBinary) {
  db_->Exec("CREATE TABLE " + schema_ + ".as_binary " + kColumns);
  TableSpec table = Spec("as_binary");
  LeasedSink sink(Options());
  ASSERT_TRUE(sink.Open({&table}).ok());
  // VARCHAR(12) refuses 13 characters whatever the format: the commit fails naming the row.
  std::vector<Row> rows = Rows({{""}, {""}, {""}, {""}, {""}, {""}, {""}, {""}, {""}, {""}, {""}, {"thirteen char"}, {""}, {""}}, 3, 1);
  rows[1].SetCell(12, "thirteen char");
  rows[0].SetCell(12, "ok");
  rows[2].SetCell(12, "ok");
  auto status = sink.Commit(MakeBatch(rows, "p", &table));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("value too long for type character varying(12)"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("id=2"), std::string::npos) << status.message();
}

TEST(CopyBinaryEncoder, CellsWithoutAnExactBinaryFormAreRefused) {
  using E = CopyBinaryEncoder::Encoding;
  std::string out;
  for (const char* text : {"2024-09-05 17:16:20", "1990-08-22", "2024-09-05 17:16:20.1234567+00",
                           "2024-02-30 00:00:00+00", "2024-09-05 24:00:00+00", "epoch", "infinity",
                           " 2024-09-05 17:16:20+00"}) {
    EXPECT_FALSE(CopyBinaryEncoder::EncodeCell(E::kTimestamptz, text, out)) << text;
  }
  EXPECT_FALSE(CopyBinaryEncoder::EncodeCell(E::kTimestamp, "2024-09-05 17:16:20+00", out));
  for (const char* text : {" 1", "+1", "1 ", "32768", "1.0", "", "0x10"}) {
    EXPECT_FALSE(CopyBinaryEncoder::EncodeCell(E::kInt2, text, out)) << text;
  }
  for (const char* text : {"yes", "on", "1", "TRUE", " t"}) EXPECT_FALSE(CopyBinaryEncoder::EncodeCell(E::kBool, text, out)) << text;
  for (const char* text : {"1e39", "1e-50", "+1", "0x1p3", "inf", " 1"}) {
    EXPECT_FALSE(CopyBinaryEncoder::EncodeCell(E::kFloat4, text, out)) << text;
  }
  for (const char* text : {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "a0eebc99--9c0b4ef8bb6d6bb9bd380a11",
                           "-a0eebc999c0b4ef8bb6d6bb9bd380a11", "a0eebc999c0b4ef8bb6d6bb9bd380a11-", "{a0eebc999c0b4ef8bb6d6bb9bd380a11"}) {
    EXPECT_FALSE(CopyBinaryEncoder::EncodeCell(E::kUuid, text, out)) << text;
  }
  EXPECT_TRUE(out.empty());
  // And the canonical forms encode to PostgreSQL's bytes.
  ASSERT_TRUE(CopyBinaryEncoder::EncodeCell(E::kTimestamptz, "2000-01-01 00:00:01+00", out));
  EXPECT_EQ(out, std::string("\0\0\0\0\0\x0f\x42\x40", 8));
  out.clear();
  ASSERT_TRUE(CopyBinaryEncoder::EncodeCell(E::kDate, "1999-12-31", out));
  EXPECT_EQ(out, std::string("\xff\xff\xff\xff", 4));
  out.clear();
  ASSERT_TRUE(CopyBinaryEncoder::EncodeCell(E::kInt2, "-2", out));
  EXPECT_EQ(out, std::string("\xff\xfe", 2));
}

}  // namespace
}  // namespace ddb2pg::sink::testing
