#include "aws/response_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "../../../bench/reference_data.h"

namespace ddb2pg::aws {
namespace {

using core::StatusCode;
using core::Value;

// Shaped like real DynamoDB Streams output: an INSERT, a MODIFY, a user REMOVE, and a TTL REMOVE.
constexpr std::string_view kGetRecordsBody = R"({
  "NextShardIterator": "arn:aws:dynamodb:us-east-1:000000000000:table/users/stream/2024-09-05T17:16:20.382|001|AAAA",
  "Records": [
    {"awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":1.7255565E9,
      "Keys":{"id":{"S":"6f1c9a9e-5c1e-4d3b-9a57-0f3c2b8e4a11"}},
      "NewImage":{"id":{"S":"6f1c9a9e-5c1e-4d3b-9a57-0f3c2b8e4a11"},"name":{"S":"Avery"},"repScore":{"N":"5"},
                  "appearance":{"M":{"mode":{"S":"dark"},"colorway":{"S":"lavender"}}}},
      "SequenceNumber":"100000000000000000001","SizeBytes":120,"StreamViewType":"NEW_AND_OLD_IMAGES"},
     "eventID":"a1b2c3","eventName":"INSERT","eventSource":"aws:dynamodb","eventVersion":"1.1"},
    {"awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":1725556501,
      "Keys":{"id":{"S":"6f1c9a9e-5c1e-4d3b-9a57-0f3c2b8e4a11"}},
      "NewImage":{"id":{"S":"6f1c9a9e-5c1e-4d3b-9a57-0f3c2b8e4a11"},"name":{"S":"Avery Q"},"repScore":{"N":"5.5"}},
      "OldImage":{"id":{"S":"6f1c9a9e-5c1e-4d3b-9a57-0f3c2b8e4a11"},"name":{"S":"Avery"},"repScore":{"N":"5"}},
      "SequenceNumber":"100000000000000000002","SizeBytes":140,"StreamViewType":"NEW_AND_OLD_IMAGES"},
     "eventID":"d4e5f6","eventName":"MODIFY","eventSource":"aws:dynamodb","eventVersion":"1.1",
     "someFutureField":{"nested":[1,2,{"x":null}]}},
    {"awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":1725556502.123,
      "Keys":{"id":{"S":"6f1c9a9e-5c1e-4d3b-9a57-0f3c2b8e4a11"}},
      "OldImage":{"id":{"S":"6f1c9a9e-5c1e-4d3b-9a57-0f3c2b8e4a11"},"name":{"S":"Avery Q"}},
      "SequenceNumber":"100000000000000000003","SizeBytes":90,"StreamViewType":"NEW_AND_OLD_IMAGES"},
     "eventID":"0789ab","eventName":"REMOVE","eventSource":"aws:dynamodb","eventVersion":"1.1"},
    {"awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":1.725556503E9,
      "Keys":{"id":{"S":"0b7c1a2e-0000-4000-8000-000000000002"}},
      "OldImage":{"id":{"S":"0b7c1a2e-0000-4000-8000-000000000002"},"expiresAt":{"N":"1725556400"}},
      "SequenceNumber":"100000000000000000004","SizeBytes":80,"StreamViewType":"NEW_AND_OLD_IMAGES"},
     "eventID":"cdef01","eventName":"REMOVE","eventSource":"aws:dynamodb","eventVersion":"1.1",
     "userIdentity":{"principalId":"dynamodb.amazonaws.com","type":"Service"}}
  ]
})";

TEST(ResponseParser, GetRecordsInsertModifyRemoveAndTtl) {
  core::Result<GetRecordsResult> result = ParseGetRecordsResponse(kGetRecordsBody);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->response_bytes, kGetRecordsBody.size());
  ASSERT_TRUE(result->next_shard_iterator.has_value());
  EXPECT_EQ(*result->next_shard_iterator,
            "arn:aws:dynamodb:us-east-1:000000000000:table/users/stream/2024-09-05T17:16:20.382|001|AAAA");
  ASSERT_EQ(result->records.size(), 4u);
  const Value key = Value::MakeMap({{"id", Value::String("6f1c9a9e-5c1e-4d3b-9a57-0f3c2b8e4a11")}});

  const StreamRecord& insert = result->records[0];
  EXPECT_EQ(insert.event_id, "a1b2c3");
  EXPECT_EQ(insert.event_name, "INSERT");
  EXPECT_EQ(insert.keys, key);
  ASSERT_TRUE(insert.new_image.has_value());
  EXPECT_FALSE(insert.old_image.has_value());
  EXPECT_EQ(insert.new_image->Find("appearance")->Find("mode")->as_string(), "dark");
  EXPECT_EQ(insert.sequence_number, "100000000000000000001");
  EXPECT_EQ(insert.approximate_creation_time_ms, 1725556500000);
  EXPECT_EQ(insert.size_bytes, 120);
  EXPECT_EQ(insert.user_identity_type, "");

  const StreamRecord& modify = result->records[1];
  EXPECT_EQ(modify.event_name, "MODIFY");
  ASSERT_TRUE(modify.new_image && modify.old_image);
  EXPECT_EQ(modify.new_image->Find("repScore")->number_text(), "5.5");
  EXPECT_EQ(modify.old_image->Find("repScore")->number_text(), "5");
  EXPECT_EQ(modify.approximate_creation_time_ms, 1725556501000);

  const StreamRecord& remove = result->records[2];
  EXPECT_EQ(remove.event_name, "REMOVE");
  EXPECT_FALSE(remove.new_image.has_value());
  ASSERT_TRUE(remove.old_image.has_value());
  EXPECT_EQ(remove.approximate_creation_time_ms, 1725556502123);
  EXPECT_EQ(remove.user_identity_type, "");

  const StreamRecord& ttl = result->records[3];
  EXPECT_EQ(ttl.event_name, "REMOVE");
  EXPECT_EQ(ttl.user_identity_type, "Service");
  EXPECT_EQ(ttl.user_identity_principal_id, "dynamodb.amazonaws.com");
  EXPECT_EQ(ttl.approximate_creation_time_ms, 1725556503000);
  EXPECT_EQ(ttl.keys.Find("id")->as_string(), "0b7c1a2e-0000-4000-8000-000000000002");
}

TEST(ResponseParser, GetRecordsOwnedStringOverloadGivesTheSameResult) {
  std::string body(kGetRecordsBody);
  body.shrink_to_fit();
  core::Result<GetRecordsResult> in_place = ParseGetRecordsResponse(body);
  ASSERT_TRUE(in_place.ok()) << in_place.status().ToString();
  EXPECT_EQ(body, kGetRecordsBody) << "the body must not change";
  core::Result<GetRecordsResult> copied = ParseGetRecordsResponse(std::string_view(kGetRecordsBody));
  ASSERT_TRUE(copied.ok());
  ASSERT_EQ(in_place->records.size(), copied->records.size());
  for (size_t i = 0; i < copied->records.size(); ++i) {
    EXPECT_EQ(in_place->records[i].keys, copied->records[i].keys);
    EXPECT_EQ(in_place->records[i].new_image, copied->records[i].new_image);
    EXPECT_EQ(in_place->records[i].old_image, copied->records[i].old_image);
    EXPECT_EQ(in_place->records[i].sequence_number, copied->records[i].sequence_number);
  }
}

TEST(ResponseParser, GetRecordsClosedShardAndEmptyPages) {
  core::Result<GetRecordsResult> closed = ParseGetRecordsResponse(R"({"Records":[]})");
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_TRUE(closed->records.empty());
  EXPECT_FALSE(closed->next_shard_iterator.has_value());

  core::Result<GetRecordsResult> null_iterator = ParseGetRecordsResponse(R"({"Records":[],"NextShardIterator":null})");
  ASSERT_TRUE(null_iterator.ok()) << null_iterator.status().ToString();
  EXPECT_FALSE(null_iterator->next_shard_iterator.has_value());

  core::Result<GetRecordsResult> open_empty = ParseGetRecordsResponse(R"({"NextShardIterator":"it-2","Records":[]})");
  ASSERT_TRUE(open_empty.ok());
  EXPECT_EQ(open_empty->next_shard_iterator, std::optional<std::string>("it-2"));

  core::Result<GetRecordsResult> nothing = ParseGetRecordsResponse("{}");
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->records.empty());
}

void ExpectGetRecordsError(std::string_view body, std::string_view expected) {
  core::Result<GetRecordsResult> result = ParseGetRecordsResponse(body);
  ASSERT_FALSE(result.ok()) << body;
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find(expected), std::string::npos)
      << "message: " << result.status().message() << "\nexpected to contain: " << expected;
}

std::string Record(std::string_view event_name, std::string_view dynamodb) {
  std::string out = R"({"eventID":"e","eventName":")";
  out += event_name;
  out += R"(","dynamodb":)";
  out += dynamodb;
  out += '}';
  return out;
}

TEST(ResponseParser, GetRecordsErrorsNameTheRecordAndField) {
  const std::string ok_data = R"({"Keys":{"id":{"S":"a"}},"SequenceNumber":"1"})";
  const std::string bad_image =
      R"({"Keys":{"id":{"S":"a"}},"SequenceNumber":"2","NewImage":{"id":{"S":"a"},"appearance":{"M":{"mode":{"S":5}}}}})";
  ExpectGetRecordsError("{\"Records\":[" + Record("INSERT", ok_data) + "," + Record("MODIFY", bad_image) + "]}",
                        "GetRecords: Records[1].dynamodb.NewImage.appearance.mode: S must be a string");
  ExpectGetRecordsError("{\"Records\":[" + Record("UPSERT", ok_data) + "]}",
                        "GetRecords: Records[0].eventName: must be INSERT, MODIFY or REMOVE");
  ExpectGetRecordsError(R"({"Records":[{"eventName":"INSERT","dynamodb":{"SequenceNumber":"1"}}]})",
                        "GetRecords: Records[0].dynamodb: Keys is missing");
  ExpectGetRecordsError(R"({"Records":[{"eventName":"INSERT","dynamodb":{"Keys":{}}}]})",
                        "Records[0].dynamodb: SequenceNumber is missing");
  // Found by fuzz/targets/get_records_response.cpp (fuzz/regressions/get_records_response).
  ExpectGetRecordsError(R"({"Records":[{"eventName":"INSERT","dynamodb":{"Keys":{},"SequenceNumber":""}}]})",
                        "Records[0].dynamodb.SequenceNumber: is empty");
  ExpectGetRecordsError(R"({"Records":[{"dynamodb":{"Keys":{},"SequenceNumber":"1"}}]})",
                        "Records[0]: eventName is missing");
  ExpectGetRecordsError(R"({"Records":[{"eventName":"INSERT"}]})", "Records[0]: dynamodb is missing");
  ExpectGetRecordsError(R"({"Records":[5]})", "GetRecords: Records[0]: expected a record object");
  ExpectGetRecordsError(R"({"Records":{}})", "GetRecords: Records: must be an array");
  ExpectGetRecordsError(R"({"Records":[],"NextShardIterator":5})", "GetRecords: NextShardIterator: must be a string");
  ExpectGetRecordsError("{\"Records\":[" + Record("INSERT", R"({"Keys":{},"SequenceNumber":1})") + "]}",
                        "Records[0].dynamodb.SequenceNumber: must be a string");
  ExpectGetRecordsError(
      "{\"Records\":[" + Record("INSERT", R"({"Keys":{},"SequenceNumber":"1","ApproximateCreationDateTime":"x"})") + "]}",
      "Records[0].dynamodb.ApproximateCreationDateTime: must be a number");
  ExpectGetRecordsError(
      "{\"Records\":[" + Record("INSERT", R"({"Keys":{},"SequenceNumber":"1","ApproximateCreationDateTime":-1})") + "]}",
      "ApproximateCreationDateTime: is not a plausible epoch time");
  ExpectGetRecordsError("{\"Records\":[" + Record("INSERT", R"({"Keys":[],"SequenceNumber":"1"})") + "]}",
                        "Records[0].dynamodb.Keys: expected an object of attributes");
  ExpectGetRecordsError(R"({"Records":[)", "GetRecords");
  ExpectGetRecordsError("[]", "GetRecords: expected a JSON object");
  ExpectGetRecordsError("", "GetRecords");
  ExpectGetRecordsError(R"({"Records":[]} {"Records":[]})", "GetRecords");
}

TEST(ResponseParser, ScanPageWithLastEvaluatedKey) {
  constexpr std::string_view kBody = R"({"ConsumedCapacity":{"CapacityUnits":12.5,"TableName":"users"},
    "Count":2,
    "Items":[{"id":{"S":"a"},"repScore":{"N":"4.5"},"tags":{"SS":["x","y"]}},
             {"id":{"S":"b"},"appearance":{"M":{"mode":{"S":"light"}}}}],
    "LastEvaluatedKey":{"id":{"S":"b"}},
    "ScannedCount":3})";
  core::Result<ScanPage> page = ParseScanResponse(kBody);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].Find("repScore")->number_text(), "4.5");
  EXPECT_EQ(page->items[0].Find("tags")->set().size(), 2u);
  EXPECT_EQ(page->items[1].Find("appearance")->Find("mode")->as_string(), "light");
  ASSERT_TRUE(page->last_evaluated_key.has_value());
  EXPECT_EQ(*page->last_evaluated_key, Value::MakeMap({{"id", Value::String("b")}}));
  EXPECT_EQ(page->scanned_count, 3);
  EXPECT_DOUBLE_EQ(page->consumed_capacity_units, 12.5);
  EXPECT_EQ(page->response_bytes, kBody.size());
}

TEST(ResponseParser, ScanDecodesOnlySelectedAttributesAndWholeKeys) {
  // `junk` is no valid AttributeValue: skipped unread, it is no error.
  constexpr std::string_view kBody = R"({"Count":1,
    "Items":[{"id":{"S":"a"},"email":{"S":"a@example.com"},"junk":{"S":5},
              "appearance":{"M":{"mode":{"S":"light"},"colorway":{"S":"matcha"}}},"bio":{"S":"tea"}}],
    "LastEvaluatedKey":{"id":{"S":"a"},"sort":{"N":"1"}}})";
  const AttributeSelection only({"id", "appearance"});
  core::Result<ScanPage> page = ParseScanResponse(kBody, &only);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 1u);
  const Value& item = page->items[0];
  ASSERT_EQ(item.map().size(), 2u);
  EXPECT_EQ(item.Find("id")->as_string(), "a");
  EXPECT_EQ(item.Find("appearance")->map().size(), 2u);  // a selected map is whole
  EXPECT_EQ(item.Find("email"), nullptr);
  EXPECT_EQ(item.Find("bio"), nullptr);
  ASSERT_TRUE(page->last_evaluated_key.has_value());
  EXPECT_EQ(page->last_evaluated_key->map().size(), 2u);  // keys are never filtered

  // Without a selection the same `junk` is the error it always was.
  core::Result<ScanPage> all = ParseScanResponse(kBody);
  ASSERT_FALSE(all.ok());
  EXPECT_NE(all.status().message().find("junk"), std::string::npos) << all.status().message();
  // A document cut short inside a skipped attribute is still an error.
  EXPECT_FALSE(ParseScanResponse(R"({"Items":[{"id":{"S":"a"},"email":{"S":"x")", &only).ok());
}

TEST(ResponseParser, GetRecordsDecodesOnlySelectedImageAttributes) {
  constexpr std::string_view kBody = R"({"Records":[{"eventID":"1","eventName":"MODIFY","dynamodb":{
    "Keys":{"id":{"S":"a"}},
    "NewImage":{"id":{"S":"a"},"name":{"S":"New"},"followers":{"N":"12"}},
    "OldImage":{"id":{"S":"a"},"name":{"S":"Old"},"followers":{"N":"11"}},
    "SequenceNumber":"100","SizeBytes":50,"StreamViewType":"NEW_AND_OLD_IMAGES"}}],
    "NextShardIterator":"it"})";
  const AttributeSelection only({"name"});
  core::Result<GetRecordsResult> page = ParseGetRecordsResponse(kBody, &only);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->records.size(), 1u);
  const StreamRecord& record = page->records[0];
  EXPECT_EQ(record.keys, Value::MakeMap({{"id", Value::String("a")}}));
  ASSERT_TRUE(record.new_image.has_value());
  ASSERT_TRUE(record.old_image.has_value());
  EXPECT_EQ(*record.new_image, Value::MakeMap({{"name", Value::String("New")}}));
  EXPECT_EQ(*record.old_image, Value::MakeMap({{"name", Value::String("Old")}}));
  EXPECT_EQ(record.sequence_number, "100");
}

TEST(ResponseParser, GetRecordsSkipsImagesOfLeadingRecordsOlderThanTheCutoff) {
  // 1 and 2 are older than the cut-off (2 has its time after the images, as the order of fields
  // is free), 3 is not, and 4, older again, comes after it: only the leading old ones are skipped.
  constexpr std::string_view kBody = R"({"Records":[
    {"eventID":"1","eventName":"MODIFY","dynamodb":{"ApproximateCreationDateTime":1000,
      "Keys":{"id":{"S":"a"}},"NewImage":{"id":{"S":"a"},"v":{"N":"1"}},"OldImage":{"id":{"S":"a"}},
      "SequenceNumber":"1"}},
    {"eventID":"2","eventName":"INSERT","dynamodb":{"Keys":{"id":{"S":"b"}},
      "NewImage":{"id":{"S":"b"},"v":{"N":"2"},"m":{"M":{"x":{"L":[{"S":"y"}]}}}},
      "SequenceNumber":"2","ApproximateCreationDateTime":1999.5}},
    {"eventID":"3","eventName":"MODIFY","dynamodb":{"ApproximateCreationDateTime":2000,
      "Keys":{"id":{"S":"c"}},"NewImage":{"id":{"S":"c"}},"OldImage":{"id":{"S":"c"}},"SequenceNumber":"3"}},
    {"eventID":"4","eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":1000,
      "Keys":{"id":{"S":"d"}},"OldImage":{"id":{"S":"d"}},"SequenceNumber":"4"}}],
    "NextShardIterator":"it"})";
  core::Result<GetRecordsResult> page = ParseGetRecordsResponse(kBody, nullptr, 2000000);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->records.size(), 4u);
  for (size_t i = 0; i < 2; ++i) {
    const StreamRecord& old = page->records[i];
    EXPECT_TRUE(old.images_skipped) << i;
    EXPECT_FALSE(old.new_image.has_value()) << i;
    EXPECT_FALSE(old.old_image.has_value()) << i;
    EXPECT_EQ(old.sequence_number, std::to_string(i + 1));  // the rest is read as usual
    EXPECT_EQ(old.event_name, i == 0 ? "MODIFY" : "INSERT");
  }
  EXPECT_EQ(page->records[0].keys, Value::MakeMap({{"id", Value::String("a")}}));
  EXPECT_EQ(page->records[1].approximate_creation_time_ms, 1999500);
  for (size_t i = 2; i < 4; ++i) {
    EXPECT_FALSE(page->records[i].images_skipped) << i;
    EXPECT_TRUE(page->records[i].old_image.has_value()) << i;
  }
  EXPECT_TRUE(page->records[2].new_image.has_value());
  EXPECT_EQ(page->next_shard_iterator, "it");

  // Without a cut-off every image is decoded.
  core::Result<GetRecordsResult> all = ParseGetRecordsResponse(kBody);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  for (const StreamRecord& record : all->records) {
    EXPECT_FALSE(record.images_skipped);
    EXPECT_TRUE(record.old_image.has_value() || record.new_image.has_value());
  }
  // A skipped image is still checked for being well-formed JSON, and a bad time is still an error.
  EXPECT_FALSE(ParseGetRecordsResponse(R"({"Records":[{"eventName":"INSERT","dynamodb":{"ApproximateCreationDateTime":1,
    "Keys":{"id":{"S":"a"}},"NewImage":{"id":{"S":"a"},"SequenceNumber":"1"}}]})", nullptr, 2000000).ok());
  EXPECT_FALSE(ParseGetRecordsResponse(R"({"Records":[{"eventName":"INSERT","dynamodb":{"ApproximateCreationDateTime":"x",
    "Keys":{"id":{"S":"a"}},"NewImage":{"id":{"S":"a"}},"SequenceNumber":"1"}}]})", nullptr, 2000000).ok());
}

TEST(AttributeSelection, SortsDedupesAndFindsNames) {
  const AttributeSelection only({"name", "id", "name", "appearance"});
  EXPECT_EQ(only.names(), (std::vector<std::string>{"appearance", "id", "name"}));
  EXPECT_TRUE(only.Contains("id"));
  EXPECT_FALSE(only.Contains("i"));
  EXPECT_FALSE(only.Contains("names"));
  EXPECT_FALSE(AttributeSelection({}).Contains(""));
}

TEST(ResponseParser, ScanLastPageAndEmptyPage) {
  core::Result<ScanPage> last = ParseScanResponse(R"({"Items":[{"id":{"S":"z"}}],"Count":1,"ScannedCount":1})");
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(last->items.size(), 1u);
  EXPECT_FALSE(last->last_evaluated_key.has_value());
  core::Result<ScanPage> empty = ParseScanResponse(R"({"Count":0,"Items":[],"ScannedCount":0})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->items.empty());
}

TEST(ResponseParser, ScanErrorsNameTheItem) {
  auto expect_error = [](std::string_view body, std::string_view expected) {
    core::Result<ScanPage> page = ParseScanResponse(body);
    ASSERT_FALSE(page.ok()) << body;
    EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(page.status().message().find(expected), std::string::npos)
        << "message: " << page.status().message() << "\nexpected to contain: " << expected;
  };
  expect_error(R"({"Items":[{"id":{"S":"a"}},{"id":{"X":"b"}}]})", "Scan: Items[1].id: unknown AttributeValue type");
  expect_error(R"({"Items":[{"id":{"S":"a"}},"b"]})", "Scan: Items[1]: expected an object of attributes");
  expect_error(R"({"Items":[],"LastEvaluatedKey":{"id":{}}})", "Scan: LastEvaluatedKey.id: empty AttributeValue");
  expect_error(R"({"Items":[],"ScannedCount":"3"})", "Scan: ScannedCount: must be an integer");
  expect_error(R"({"Items":[],"ConsumedCapacity":{"CapacityUnits":"x"}})", "Scan: ConsumedCapacity.CapacityUnits");
  expect_error(R"({"Items":5})", "Scan: Items: must be an array");
  expect_error("nope", "Scan");
}

TEST(ResponseParser, ReferencePagesDecodeToTheReferenceItems) {
  const std::string body = bench::MakeGetRecordsPageJson(25, 100);
  core::Result<GetRecordsResult> result = ParseGetRecordsResponse(body);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->records.size(), 25u);
  for (size_t i = 0; i < 25; ++i) {
    const StreamRecord& record = result->records[i];
    EXPECT_EQ(record.event_name, "MODIFY");
    EXPECT_EQ(*record.new_image, bench::MakeReferenceItem(100 + i));
    EXPECT_EQ(*record.old_image, bench::MakeReferenceOldImage(100 + i));
    EXPECT_NE(*record.new_image, *record.old_image);
    EXPECT_EQ(record.keys, Value::MakeMap({{"id", *record.new_image->Find("id")}}));
    EXPECT_GE(record.approximate_creation_time_ms, 1725500000000);
  }
  EXPECT_TRUE(result->next_shard_iterator.has_value());

  std::string scan_body = bench::MakeScanPageJson(10, 7);
  core::Result<ScanPage> page = ParseScanResponse(scan_body);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 10u);
  EXPECT_EQ(page->items[9], bench::MakeReferenceItem(16));
  ASSERT_TRUE(page->last_evaluated_key.has_value());
  EXPECT_EQ(*page->last_evaluated_key->Find("id"), *page->items[9].Find("id"));
}

}  // namespace
}  // namespace ddb2pg::aws
