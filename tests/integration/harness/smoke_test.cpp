// Proves the harness: both real servers are up and reachable from C++.
// DynamoDB Local: create a stream-enabled table, put an item, read it back from the stream.
// PostgreSQL: write a row and read it back through libpq.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "aws/curl_transport.h"
#include "support/test_env.h"

namespace ddb2pg {
namespace {

// A raw DynamoDB call: DynamoDB Local wants an Authorization header but does not check it; the
// access key in it selects the (isolated) database.
std::string Call(aws::CurlTransport& http, const std::string& access_key, const std::string& target,
                 const std::string& body) {
  aws::HttpRequest request;
  request.url = testing::DynamoDbEndpoint() + "/";
  request.headers = {
      {"Content-Type", "application/x-amz-json-1.0"},
      {"X-Amz-Target", target},
      {"Authorization", "AWS4-HMAC-SHA256 Credential=" + access_key +
                            "/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"},
  };
  request.body = body;
  auto response = http.Send(request);
  EXPECT_TRUE(response.ok()) << response.status().ToString();
  if (!response.ok()) return {};
  EXPECT_EQ(response->status, 200) << target << ": " << response->body;
  return response->body;
}

TEST(HarnessSmoke, DynamoDbLocalStreamRoundTrip) {
  aws::CurlTransport http;
  const std::string key = testing::UniqueName("smoke");
  const std::string table = "smoke_users";
  Call(http, key, "DynamoDB_20120810.CreateTable",
       R"({"TableName":")" + table +
           R"(","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],)"
           R"("AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],)"
           R"("BillingMode":"PAY_PER_REQUEST",)"
           R"("StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}})");
  Call(http, key, "DynamoDB_20120810.PutItem",
       R"({"TableName":")" + table + R"(","Item":{"id":{"S":"u-1"},"name":{"S":"Ada"},"repScore":{"N":"5"}}})");

  simdjson::dom::parser parser;
  auto described = Call(http, key, "DynamoDB_20120810.DescribeTable", R"({"TableName":")" + table + R"("})");
  std::string_view arn = parser.parse(described)["Table"]["LatestStreamArn"].get_string().value();
  ASSERT_FALSE(arn.empty());
  const std::string stream_arn(arn);

  auto stream = Call(http, key, "DynamoDBStreams_20120810.DescribeStream",
                     R"({"StreamArn":")" + stream_arn + R"("})");
  std::string shard_id(
      parser.parse(stream)["StreamDescription"]["Shards"].at(0)["ShardId"].get_string().value());

  auto iterator_body = Call(http, key, "DynamoDBStreams_20120810.GetShardIterator",
                            R"({"StreamArn":")" + stream_arn + R"(","ShardId":")" + shard_id +
                                R"(","ShardIteratorType":"TRIM_HORIZON"})");
  std::string iterator(parser.parse(iterator_body)["ShardIterator"].get_string().value());

  auto records_body = Call(http, key, "DynamoDBStreams_20120810.GetRecords",
                           R"({"ShardIterator":")" + iterator + R"("})");
  auto records = parser.parse(records_body)["Records"].get_array();
  ASSERT_EQ(records.error(), simdjson::SUCCESS) << records_body;
  ASSERT_EQ(records.value().size(), 1u) << records_body;
  auto record = records.value().at(0);
  EXPECT_EQ(std::string_view(record["eventName"].get_string().value()), "INSERT");
  EXPECT_EQ(std::string_view(record["dynamodb"]["NewImage"]["name"]["S"].get_string().value()), "Ada");
  EXPECT_EQ(std::string_view(record["dynamodb"]["NewImage"]["repScore"]["N"].get_string().value()), "5");
}

TEST(HarnessSmoke, PostgresWriteAndRead) {
  testing::PgTestConnection pg(testing::PostgresConninfo());
  const std::string schema = testing::UniqueName("smoke");
  pg.Exec("CREATE SCHEMA " + schema);
  pg.Exec("CREATE TABLE " + schema + ".t (id UUID PRIMARY KEY, name TEXT)");
  pg.Exec("INSERT INTO " + schema + ".t VALUES ('6f1c2c8e-3b7a-4f6e-9a53-0d2b9f6e1a10', 'Ada')");
  EXPECT_EQ(pg.Scalar("SELECT name FROM " + schema + ".t WHERE id = '6f1c2c8e-3b7a-4f6e-9a53-0d2b9f6e1a10'"),
            "Ada");
  pg.Exec("DROP SCHEMA " + schema + " CASCADE");
}

}  // namespace
}  // namespace ddb2pg
