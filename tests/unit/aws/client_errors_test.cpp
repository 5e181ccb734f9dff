// Error classification and messages of the AWS clients, and the shape of the requests they send.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "aws/aws_error.h"
#include "aws/dynamodb_client.h"
#include "aws/streams_client.h"
#include "unit/aws/fake_aws.h"

namespace ddb2pg::aws {
namespace {

using core::StatusCode;
using testing::AwsErrorReply;
using testing::FakeAws;
using testing::FakeClock;
using testing::Reply;

RetryPolicy FastPolicy() {
  RetryOptions options;
  options.max_attempts = 3;
  return RetryPolicy(options, [] { return 0.5; });
}

struct ClassifyCase {
  long http_status;
  const char* type;
  StatusCode expected;
};

TEST(ClassifyAwsError, MapsEveryKnownTypeAndFallsBackOnTheHttpStatus) {
  const std::vector<ClassifyCase> cases = {
      {400, "ProvisionedThroughputExceededException", StatusCode::kThrottled},
      {400, "RequestLimitExceeded", StatusCode::kThrottled},
      {400, "ThrottlingException", StatusCode::kThrottled},
      {400, "LimitExceededException", StatusCode::kThrottled},
      {500, "InternalServerError", StatusCode::kUnavailable},
      {503, "ServiceUnavailable", StatusCode::kUnavailable},
      {502, "", StatusCode::kUnavailable},
      {504, "SomethingNew", StatusCode::kUnavailable},
      {400, "ResourceNotFoundException", StatusCode::kNotFound},
      {400, "ValidationException", StatusCode::kInvalidArgument},
      {400, "SerializationException", StatusCode::kInvalidArgument},
      {413, "", StatusCode::kInvalidArgument},
      {400, "AccessDeniedException", StatusCode::kPermissionDenied},
      {400, "UnrecognizedClientException", StatusCode::kPermissionDenied},
      {400, "InvalidSignatureException", StatusCode::kPermissionDenied},
      {400, "ExpiredTokenException", StatusCode::kPermissionDenied},
      {403, "", StatusCode::kPermissionDenied},
      {400, "ExpiredIteratorException", StatusCode::kExpiredIterator},
      {400, "TrimmedDataAccessException", StatusCode::kTrimmedData},
      {400, "ConditionalCheckFailedException", StatusCode::kConflict},
      {400, "ResourceInUseException", StatusCode::kConflict},
      {429, "", StatusCode::kThrottled},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ClassifyAwsError(c.http_status, c.type), c.expected) << c.http_status << " " << c.type;
  }
}

TEST(ParseAwsErrorBody, ReadsTypeAfterTheHashAndEitherMessageSpelling) {
  auto error = ParseAwsErrorBody(
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"})");
  EXPECT_EQ(error.type, "ResourceNotFoundException");
  EXPECT_EQ(error.message, "Requested resource not found");
  error = ParseAwsErrorBody(R"({"__type":"ExpiredIteratorException","Message":"Iterator expired"})");
  EXPECT_EQ(error.type, "ExpiredIteratorException");
  EXPECT_EQ(error.message, "Iterator expired");
  error = ParseAwsErrorBody("<html><body>Bad Gateway</body></html>");
  EXPECT_EQ(error.type, "");
  EXPECT_EQ(error.message, "");
  error = ParseAwsErrorBody("");
  EXPECT_EQ(error.type, "");
}

TEST(AwsErrorStatus, FormatsOperationResourceTypeAndMessage) {
  const std::vector<std::string> no_secrets;
  auto status = AwsErrorStatus(AwsOperation::kDescribeTable, "users", 400,
                               R"({"__type":"x#ResourceNotFoundException","message":"Requested resource not found"})",
                               no_secrets);
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "DescribeTable users: ResourceNotFoundException: Requested resource not found");
  status = AwsErrorStatus(AwsOperation::kScan, "users", 502, "<html>bad gateway</html>", no_secrets);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "Scan users: HTTP 502");
}

TEST(AwsErrorStatus, KeepsOnlyTheFirstLineAndABoundedLength) {
  const std::vector<std::string> no_secrets;
  const std::string long_message(5000, 'x');
  auto status = AwsErrorStatus(AwsOperation::kPutItem, "t", 400,
                               R"({"__type":"ValidationException","message":")" + long_message + R"("})", no_secrets);
  EXPECT_LT(status.message().size(), 400u);
  status = AwsErrorStatus(AwsOperation::kPutItem, "t", 400,
                          R"({"__type":"InvalidSignatureException","message":"mismatch\n\nThe Canonical String:\nPOST\n/"})",
                          no_secrets);
  EXPECT_EQ(status.message(), "PutItem t: InvalidSignatureException: mismatch");
}

TEST(DynamoDbClientErrors, MissingTableIsNotFoundNamingTheTableAndTriedOnce) {
  FakeAws fake;
  FakeClock clock;
  fake.Script(AwsErrorReply(400, "ResourceNotFoundException", "Cannot do operations on a non-existent table"));
  DynamoDbClient client(testing::TestAws(), FastPolicy(), clock, fake.Factory());
  auto table = client.DescribeTable("no_such_table");
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(table.status().message(),
            "DescribeTable no_such_table: ResourceNotFoundException: Cannot do operations on a non-existent table");
  EXPECT_EQ(fake.request_count(), 1u);
}

TEST(StreamsClientErrors, ExpiredIteratorAndTrimmedDataSurfaceAsThemselvesWithoutRetry) {
  const std::string iterator = "arn:aws:dynamodb:us-east-1:0:table/t/stream/2026-01-01T00:00:00.000|1|AAAASECRETISHSTATE";
  for (auto [type, code] : {std::pair{"ExpiredIteratorException", StatusCode::kExpiredIterator},
                            std::pair{"TrimmedDataAccessException", StatusCode::kTrimmedData}}) {
    FakeAws fake;
    FakeClock clock;
    fake.Script(AwsErrorReply(400, type, "no luck"));
    StreamsClient client(testing::TestAws(), FastPolicy(), clock, fake.Factory());
    auto records = client.GetRecords(iterator, 100);
    ASSERT_FALSE(records.ok());
    EXPECT_EQ(records.status().code(), code) << type;
    EXPECT_EQ(records.status().message(), "GetRecords arn:aws:dynamodb:us-east-1:0:table/t/stream/2026-01-01T00:00:00.000: " +
                                              std::string(type) + ": no luck");
    EXPECT_EQ(fake.request_count(), 1u);
    EXPECT_TRUE(clock.sleeps().empty());
  }
}

// Every way an error can come back, each carrying the secret key or session token somewhere.
std::vector<core::Result<HttpResponse>> LeakyReplies() {
  const std::string secret = testing::kTestSecret;
  const std::string token = testing::kTestToken;
  return {
      AwsErrorReply(400, "UnrecognizedClientException", "The key " + secret + " is not valid"),
      AwsErrorReply(400, "InvalidSignatureException",
                    "The request signature we calculated does not match.\\n\\nThe Canonical String for this request "
                    "should have been\\n'POST\\n/\\n\\nx-amz-security-token:" +
                        token + "'"),
      AwsErrorReply(400, "ExpiredTokenException", "The security token " + token + " has expired"),
      Reply(403, "<html>denied for " + secret + "</html>"),
      Reply(400, R"({"__type":"ValidationException","Message":")" + std::string(290, 'x') + secret + R"("})"),
      core::Status::Unavailable("connection reset while sending " + token),
  };
}

TEST(ClientErrors, NoSecretOrTokenInAnyStatusMessage) {
  std::vector<std::string> messages;
  for (auto& reply : LeakyReplies()) {
    FakeAws fake;
    FakeClock clock;
    fake.SetResponder([reply](const HttpRequest&) { return reply; });
    DynamoDbClient tables(testing::TestAws(), FastPolicy(), clock, fake.Factory());
    StreamsClient streams(testing::TestAws(), FastPolicy(), clock, fake.Factory());
    messages.push_back(tables.DescribeTable("users").status().message());
    messages.push_back(tables.PutItem("users", core::Value::MakeMap({{"id", core::Value::String("a")}})).message());
    messages.push_back(tables.DeleteTable("users").message());
    messages.push_back(tables.BatchWriteItem("users", {{core::Value::MakeMap({{"id", core::Value::String("a")}}),
                                                        std::nullopt}})
                           .message());
    messages.push_back(streams.ListStreams("users").status().message());
    messages.push_back(streams.GetShardIterator("arn:s", "shard-1", ShardIteratorType::kLatest, "").status().message());
    DescribeStreamRequest describe;
    describe.stream_arn = "arn:s";
    messages.push_back(streams.DescribeAllShards(describe).status().message());
    // The requests did carry the token: the client had it in hand.
    ASSERT_FALSE(fake.requests().empty());
    EXPECT_EQ(testing::HeaderValue(fake.requests().front(), "X-Amz-Security-Token"), testing::kTestToken);
  }
  ASSERT_EQ(messages.size(), LeakyReplies().size() * 7);
  for (const auto& message : messages) {
    EXPECT_FALSE(message.empty());
    EXPECT_EQ(message.find(testing::kTestSecret), std::string::npos) << message;
    EXPECT_EQ(message.find(testing::kTestToken), std::string::npos) << message;
    EXPECT_EQ(message.find("SECRET"), std::string::npos) << "a prefix of the secret leaked: " << message;
  }
}

TEST(ClientRequests, DynamoDbAndStreamsRequestsAreSignedJsonPostsToTheRightEndpoint) {
  FakeAws fake;
  FakeClock clock;
  fake.SetResponder([](const HttpRequest& request) {
    if (testing::HeaderValue(request, "X-Amz-Target") == "DynamoDBStreams_20120810.GetShardIterator") {
      return Reply(200, R"({"ShardIterator":"arn:s|1|AAAA"})");
    }
    return Reply(200, R"({"TableDescription":{"TableName":"t","TableStatus":"DELETING"}})");
  });
  DynamoDbClient tables(testing::TestAws(), FastPolicy(), clock, fake.Factory());
  StreamsClient streams(testing::TestAws(), FastPolicy(), clock, fake.Factory());
  ASSERT_TRUE(tables.DeleteTable("t").ok());
  auto iterator = streams.GetShardIterator("arn:s", "shardId-1", ShardIteratorType::kTrimHorizon, "");
  ASSERT_TRUE(iterator.ok()) << iterator.status().ToString();
  EXPECT_EQ(*iterator, "arn:s|1|AAAA");

  const auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].url, "http://dynamodb.test:8000/");
  EXPECT_EQ(requests[1].url, "http://streams.test:8000/");
  EXPECT_EQ(testing::HeaderValue(requests[0], "X-Amz-Target"), "DynamoDB_20120810.DeleteTable");
  EXPECT_EQ(testing::HeaderValue(requests[1], "X-Amz-Target"), "DynamoDBStreams_20120810.GetShardIterator");
  for (const auto& request : requests) {
    EXPECT_EQ(testing::HeaderValue(request, "Content-Type"), "application/x-amz-json-1.0");
    EXPECT_EQ(testing::HeaderValue(request, "X-Amz-Date"), "20260101T000000Z");
    const std::string authorization = testing::HeaderValue(request, "Authorization");
    EXPECT_NE(authorization.find("Credential=AKIDTEST/20260101/us-east-1/dynamodb/aws4_request"), std::string::npos)
        << authorization;
  }
  EXPECT_EQ(requests[1].body,
            R"({"StreamArn":"arn:s","ShardId":"shardId-1","ShardIteratorType":"TRIM_HORIZON"})");
}

TEST(ClientRequests, ShardIteratorTypesAndSequenceNumbers) {
  FakeAws fake;
  FakeClock clock;
  fake.SetResponder([](const HttpRequest&) { return Reply(200, R"({"ShardIterator":"it"})"); });
  StreamsClient streams(testing::TestAws(), FastPolicy(), clock, fake.Factory());
  ASSERT_TRUE(streams.GetShardIterator("arn:s", "sh", ShardIteratorType::kLatest, "").ok());
  ASSERT_TRUE(streams.GetShardIterator("arn:s", "sh", ShardIteratorType::kAtSequenceNumber, "100").ok());
  ASSERT_TRUE(streams.GetShardIterator("arn:s", "sh", ShardIteratorType::kAfterSequenceNumber, "200").ok());
  auto missing = streams.GetShardIterator("arn:s", "sh", ShardIteratorType::kAfterSequenceNumber, "");
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("shard sh"), std::string::npos);
  const auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].body, R"({"StreamArn":"arn:s","ShardId":"sh","ShardIteratorType":"LATEST"})");
  EXPECT_EQ(requests[1].body,
            R"({"StreamArn":"arn:s","ShardId":"sh","ShardIteratorType":"AT_SEQUENCE_NUMBER","SequenceNumber":"100"})");
  EXPECT_EQ(requests[2].body,
            R"({"StreamArn":"arn:s","ShardId":"sh","ShardIteratorType":"AFTER_SEQUENCE_NUMBER","SequenceNumber":"200"})");
}

TEST(ClientRequests, DescribeStreamWithChildShardFilter) {
  FakeAws fake;
  FakeClock clock;
  fake.Script(Reply(200, R"({"StreamDescription":{"StreamArn":"arn:s","Shards":[{"ShardId":"c1","ParentShardId":"p",)"
                         R"("SequenceNumberRange":{"StartingSequenceNumber":"5","EndingSequenceNumber":"9"}}]}})"));
  StreamsClient streams(testing::TestAws(), FastPolicy(), clock, fake.Factory());
  DescribeStreamRequest request;
  request.stream_arn = "arn:s";
  request.limit = 10;
  request.exclusive_start_shard_id = "c0";
  request.child_shards_of = "p";
  auto stream = streams.DescribeStream(request);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  ASSERT_EQ(stream->shards.size(), 1u);
  EXPECT_EQ(stream->shards[0].parent_shard_id, "p");
  EXPECT_EQ(stream->shards[0].ending_sequence_number, "9");
  EXPECT_EQ(fake.requests()[0].body,
            R"({"StreamArn":"arn:s","Limit":10,"ExclusiveStartShardId":"c0","ShardFilter":{"Type":"CHILD_SHARDS","ShardId":"p"}})");
}

TEST(ClientRequests, ScanSendsEveryOption) {
  FakeAws fake;
  FakeClock clock;
  fake.Script(Reply(200, R"({"Items":[{"id":{"S":"a"}}],"Count":1,"ScannedCount":1,)"
                         R"("LastEvaluatedKey":{"id":{"S":"a"}},"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5}})"));
  DynamoDbClient tables(testing::TestAws(), FastPolicy(), clock, fake.Factory());
  ScanRequest request;
  request.table_name = "t";
  request.segment = 2;
  request.total_segments = 4;
  request.limit = 1000;
  request.exclusive_start_key = core::Value::MakeMap({{"id", core::Value::String("z")}});
  request.consistent_read = true;
  request.projection_expression = "#i, age";
  request.expression_attribute_names = {{"#i", "id"}};
  auto page = tables.Scan(request);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 1u);
  ASSERT_TRUE(page->last_evaluated_key.has_value());
  EXPECT_GT(page->response_bytes, 0u);
  EXPECT_EQ(fake.requests()[0].body,
            R"({"TableName":"t","Segment":2,"TotalSegments":4,"Limit":1000,"ExclusiveStartKey":{"id":{"S":"z"}},)"
            R"("ConsistentRead":true,"ProjectionExpression":"#i, age","ExpressionAttributeNames":{"#i":"id"},)"
            R"("ReturnConsumedCapacity":"TOTAL"})");
}

TEST(ClientRequests, CreateTableUpdateItemAndStreamToggle) {
  FakeAws fake;
  FakeClock clock;
  fake.SetResponder([](const HttpRequest&) {
    return Reply(200, R"({"TableDescription":{"TableName":"t","TableStatus":"ACTIVE",)"
                      R"("StreamSpecification":{"StreamEnabled":true,"StreamViewType":"KEYS_ONLY"},"LatestStreamArn":"arn:s"}})");
  });
  DynamoDbClient tables(testing::TestAws(), FastPolicy(), clock, fake.Factory());
  CreateTableRequest create;
  create.table_name = "t";
  create.key_schema = {{"pk", "HASH"}, {"sk", "RANGE"}};
  create.attribute_definitions = {{"pk", "S"}, {"sk", "N"}};
  create.stream_view_type = "KEYS_ONLY";
  auto created = tables.CreateTable(create);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->stream_enabled);
  EXPECT_EQ(created->latest_stream_arn, "arn:s");
  ASSERT_TRUE(tables.UpdateStream("t", false, "").ok());

  UpdateItemRequest update;
  update.table_name = "t";
  update.key = core::Value::MakeMap({{"pk", core::Value::String("a")}, {"sk", core::Value::Number("1")}});
  update.update_expression = "SET #n = :v";
  update.expression_attribute_names = {{"#n", "name"}};
  update.expression_attribute_values = {{":v", core::Value::String("Ada")}};
  update.condition_expression = "attribute_exists(pk)";
  ASSERT_TRUE(tables.UpdateItem(update).ok());

  const auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].body,
            R"({"TableName":"t","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],)"
            R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],)"
            R"("BillingMode":"PAY_PER_REQUEST","StreamSpecification":{"StreamEnabled":true,"StreamViewType":"KEYS_ONLY"}})");
  EXPECT_EQ(requests[1].body, R"({"TableName":"t","StreamSpecification":{"StreamEnabled":false}})");
  EXPECT_EQ(testing::HeaderValue(requests[1], "X-Amz-Target"), "DynamoDB_20120810.UpdateTable");
  EXPECT_EQ(requests[2].body,
            R"({"TableName":"t","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"UpdateExpression":"SET #n = :v",)"
            R"j("ConditionExpression":"attribute_exists(pk)","ExpressionAttributeNames":{"#n":"name"},)j"
            R"("ExpressionAttributeValues":{":v":{"S":"Ada"}}})");
}

TEST(ClientRequests, WaitForTableActivePollsThroughTheClock) {
  FakeAws fake;
  FakeClock clock;
  fake.Script(Reply(200, R"({"Table":{"TableName":"t","TableStatus":"CREATING"}})"));
  fake.Script(Reply(200, R"({"Table":{"TableName":"t","TableStatus":"CREATING"}})"));
  fake.Script(Reply(200, R"({"Table":{"TableName":"t","TableStatus":"ACTIVE"}})"));
  DynamoDbClient tables(testing::TestAws(), FastPolicy(), clock, fake.Factory());
  auto table = tables.WaitForTableActive("t", std::chrono::seconds(10), std::chrono::milliseconds(200));
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(clock.sleeps().size(), 2u);

  fake.SetResponder([](const HttpRequest&) { return Reply(200, R"({"Table":{"TableName":"t","TableStatus":"CREATING"}})"); });
  auto never = tables.WaitForTableActive("t", std::chrono::seconds(2), std::chrono::milliseconds(500));
  EXPECT_EQ(never.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(never.status().message().find("table t is still CREATING"), std::string::npos);
}

TEST(ClientRequests, NonMapItemIsRejectedBeforeSending) {
  FakeAws fake;
  FakeClock clock;
  DynamoDbClient tables(testing::TestAws(), FastPolicy(), clock, fake.Factory());
  const core::Status status = tables.PutItem("t", core::Value::String("x"));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "PutItem t: Item must be a map of attributes, got S");
  EXPECT_EQ(fake.request_count(), 0u);
}

}  // namespace
}  // namespace ddb2pg::aws
