#include "source/source_position.h"

#include <gtest/gtest.h>

namespace ddb2pg::source {
namespace {

core::Value KeyS(const std::string& id) { return core::Value::MakeMap({{"id", core::Value::String(id)}}); }

TEST(SourcePosition, SerializeParseRoundTrip) {
  SourcePosition position;
  position.set_stream_arn("arn:aws:dynamodb:us-east-1:1:table/users/stream/2024-01-01T00:00:00.000");
  position.set_segment_count(3);
  position.mutable_segments()[0].last_key = core::Value::MakeMap(
      {{"pk", core::Value::String("user#\"1\"\n")}, {"sk", core::Value::Number("-1.5E-3")}});
  position.mutable_segments()[1].done = true;
  position.mutable_segments()[1].last_key = core::Value::MakeMap({{"b", core::Value::Binary(std::string("\0\x01\xff", 3))}});
  position.set_shard_sequence_number("shardId-0001", "000000000000000000123");
  position.set_shard_finished("shardId-0000");

  const std::string text = position.Serialize();
  EXPECT_EQ(text.rfind("{\"v\":1,", 0), 0u) << text;
  auto parsed = SourcePosition::Parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, position);
  EXPECT_EQ(parsed->Serialize(), text);

  auto empty = SourcePosition::Parse(SourcePosition().Serialize());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(SourcePosition().Serialize(), "{\"v\":1}");
}

TEST(SourcePosition, RejectsForeignAndUnknownVersions) {
  auto newer = SourcePosition::Parse("{\"v\":2,\"arn\":\"x\"}");
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(newer.status().message().find("version 2 is not supported"), std::string::npos) << newer.status().message();

  auto foreign = SourcePosition::Parse("{\"lsn\":\"0/16B3748\"}");
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("not written by the ddb2pg DynamoDB source"), std::string::npos);

  auto garbage = SourcePosition::Parse("shardId-1:123");
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("not valid JSON"), std::string::npos);

  auto unknown_field = SourcePosition::Parse("{\"v\":1,\"shards\":{},\"extra\":1}");
  ASSERT_FALSE(unknown_field.ok());
  EXPECT_NE(unknown_field.status().message().find("unknown field \"extra\""), std::string::npos);

  auto bad_key = SourcePosition::Parse("{\"v\":1,\"segments\":[{\"k\":{\"id\":{\"M\":{}}}}]}");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(bad_key.status().message().find("segments[0].k.id"), std::string::npos) << bad_key.status().message();
}

// Found by fuzz/targets/source_position.cpp: a folded offset that was not UTF-8 serialized into
// a checkpoint that Parse() then refused, which would stop the next start.
TEST(SourcePosition, FoldRejectsTextThatIsNotUtf8) {
  SourcePosition position;
  EXPECT_FALSE(position.Fold({"shardId-1", "00\xff" "12", false}).ok());
  EXPECT_FALSE(position.Fold({"shard\xc3(", "0012", false}).ok());
  EXPECT_FALSE(position.Fold({"stream", "arn:\xc3(", false}).ok());
  ASSERT_TRUE(position.Fold({"shardId-1", "0012", false}).ok());
  auto again = SourcePosition::Parse(position.Serialize());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, position);
}

TEST(SourcePosition, FoldAppliesEachKindOfStep) {
  SourcePosition position;
  ASSERT_TRUE(position.Fold({"stream", "arn:1", false}).ok());
  EXPECT_EQ(position.stream_arn(), "arn:1");

  ASSERT_TRUE(position.Fold({"scan/1", SourcePosition::KeyOffset(KeyS("b")), false}).ok());
  ASSERT_EQ(position.segments().size(), 2u);
  EXPECT_EQ(position.segments()[1].last_key, KeyS("b"));
  EXPECT_FALSE(position.segments()[0].last_key.has_value());
  EXPECT_FALSE(position.Fold({"scan/0", "not json", false}).ok());
  ASSERT_TRUE(position.Fold({"scan/0", "", true}).ok());
  EXPECT_TRUE(position.segments()[0].done);

  ASSERT_TRUE(position.Fold({"snapshot", "", true}).ok());
  EXPECT_TRUE(position.snapshot_complete());
  EXPECT_TRUE(position.segments().empty());

  ASSERT_TRUE(position.Fold({"shardId-1", "0005", false}).ok());
  ASSERT_TRUE(position.Fold({"shardId-1", "0009", false}).ok());
  EXPECT_EQ(position.shard_sequence_numbers().at("shardId-1"), "0009");
  ASSERT_TRUE(position.Fold({"shardId-1", "0009", true}).ok());
  EXPECT_EQ(position.shard_sequence_numbers().count("shardId-1"), 0u);
  EXPECT_EQ(position.finished_shards().count("shardId-1"), 1u);

  EXPECT_FALSE(position.Fold({"shardId-2", "", false}).ok());
  EXPECT_FALSE(position.Fold({"", "x", false}).ok());

  ASSERT_TRUE(position.Fold({"reset", "arn:2", false}).ok());
  EXPECT_EQ(position.stream_arn(), "arn:2");
  EXPECT_FALSE(position.snapshot_complete());
  EXPECT_TRUE(position.finished_shards().empty());
}

}  // namespace
}  // namespace ddb2pg::source

namespace ddb2pg::source {
namespace {

// The snapshot declares its segment count first (a marker on the last segment), so a position
// folded before every segment emitted something still resumes with the same TotalSegments.
TEST(SourcePosition, SegmentCountMarkerSurvivesSerialization) {
  SourcePosition position;
  ASSERT_TRUE(position.Fold({SourcePosition::SegmentPartition(3), "", false}).ok());
  ASSERT_TRUE(position.Fold({SourcePosition::SegmentPartition(1), R"({"id":{"S":"k1"}})", false}).ok());
  ASSERT_EQ(position.segments().size(), 4u);
  auto parsed = SourcePosition::Parse(position.Serialize());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->segments().size(), 4u);
  EXPECT_FALSE(parsed->segments()[3].done);
  EXPECT_FALSE(parsed->segments()[3].last_key.has_value());
  EXPECT_TRUE(parsed->segments()[1].last_key.has_value());
}

}  // namespace
}  // namespace ddb2pg::source
