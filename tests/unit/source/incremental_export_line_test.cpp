// IncrementalExportLine: the lines of a DynamoDB incremental export (NEW_AND_OLD_IMAGES) as change
// records — an insert, an update, a delete with and without its old image — and errors that name
// the file and line.
#include "source/incremental_export_line.h"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace ddb2pg::source {
namespace {

core::Result<core::Record> Decode(const std::string& line) {
  std::string padded = line;
  padded.reserve(line.size() + simdjson::SIMDJSON_PADDING);
  return IncrementalExportLine::Decode(padded, padded.capacity(), {"id", "sk"}, nullptr, "users", "f.json.gz line 7");
}

constexpr char kKeys[] = R"("Keys":{"id":{"S":"u1"},"sk":{"N":"2"}})";

TEST(IncrementalExportLine, AnInsertAnUpdateAndDeletesBecomeChanges) {
  auto created = Decode(std::string(R"({"Metadata":{"WriteTimestampMicros":{"N":"1700000000123456"}},)") + kKeys +
                        R"(,"NewImage":{"id":{"S":"u1"},"sk":{"N":"2"},"name":{"S":"Ann"}}})");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->operation, core::Operation::kCreate);
  EXPECT_EQ(created->metadata.change_time_ms, 1700000000123);
  EXPECT_EQ(created->metadata.table, "users");
  EXPECT_EQ(created->key.Find("id")->as_string(), "u1");
  EXPECT_EQ(created->key.Find("sk")->number_text(), "2");
  ASSERT_TRUE(created->after.has_value());
  EXPECT_EQ(created->after->Find("name")->as_string(), "Ann");
  EXPECT_FALSE(created->before.has_value());

  // Fields in another order; the timestamp as a bare number.
  auto updated = Decode(std::string("{") + kKeys +
                        R"(,"OldImage":{"id":{"S":"u1"},"sk":{"N":"2"},"name":{"S":"Ann"}},)"
                        R"("NewImage":{"id":{"S":"u1"},"sk":{"N":"2"},"name":{"S":"Bo"}},)"
                        R"("Metadata":{"WriteTimestampMicros":1700000000999000}})");
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->operation, core::Operation::kUpdate);
  EXPECT_EQ(updated->before->Find("name")->as_string(), "Ann");
  EXPECT_EQ(updated->after->Find("name")->as_string(), "Bo");
  EXPECT_EQ(updated->metadata.change_time_ms, 1700000000999);

  auto deleted = Decode(std::string(R"({"Metadata":{"WriteTimestampMicros":{"N":"1700000001000000"}},)") + kKeys +
                        R"(,"OldImage":{"id":{"S":"u1"},"sk":{"N":"2"},"name":{"S":"Bo"}}})");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->operation, core::Operation::kDelete);
  EXPECT_FALSE(deleted->after.has_value());
  EXPECT_EQ(deleted->before->Find("name")->as_string(), "Bo");
  EXPECT_FALSE(deleted->metadata.ttl_delete) << "an incremental export does not say who deleted";

  auto keys_only = Decode(std::string(R"({"Metadata":{"WriteTimestampMicros":{"N":"1700000001000000"}},)") + kKeys + "}");
  ASSERT_TRUE(keys_only.ok()) << keys_only.status().ToString();
  EXPECT_EQ(keys_only->operation, core::Operation::kDelete);
  EXPECT_FALSE(keys_only->before.has_value());
}

TEST(IncrementalExportLine, ALineOfAnotherShapeIsADataErrorNamingTheFileAndLine) {
  auto full_export_line = Decode(R"({"Item":{"id":{"S":"u1"},"sk":{"N":"2"}}})");
  EXPECT_EQ(full_export_line.status().code(), core::StatusCode::kDataError);
  EXPECT_NE(full_export_line.status().message().find("f.json.gz line 7: no Keys"), std::string::npos)
      << full_export_line.status().message();
  auto no_time = Decode(std::string("{") + kKeys + "}");
  EXPECT_NE(no_time.status().message().find("no Metadata"), std::string::npos) << no_time.status().message();
  auto missing_key = Decode(R"({"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{"id":{"S":"u1"}}})");
  EXPECT_NE(missing_key.status().message().find("Keys has no key attribute sk"), std::string::npos)
      << missing_key.status().message();
  EXPECT_EQ(Decode("not json").status().code(), core::StatusCode::kDataError);
}

}  // namespace
}  // namespace ddb2pg::source
