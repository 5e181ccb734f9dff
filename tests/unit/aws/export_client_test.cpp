// ExportClient against a scripted transport: the request AWS documents for
// ExportTableToPointInTime (explicit ExportTime, ClientToken), DescribeExport, and the error a
// table without point-in-time recovery gets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aws/export_client.h"
#include "fake_aws.h"

namespace ddb2pg::aws {
namespace {

using ::testing::HasSubstr;
using testing::AwsErrorReply;
using testing::FakeAws;
using testing::FakeClock;
using testing::HeaderValue;
using testing::Reply;

constexpr char kTableArn[] = "arn:aws:dynamodb:us-east-1:123456789012:table/users";
constexpr char kExportArn[] = "arn:aws:dynamodb:us-east-1:123456789012:table/users/export/01700000000000-abcdefgh";

ExportRequest Request() {
  ExportRequest request;
  request.table_arn = kTableArn;
  request.export_time_ms = 1700000000999;
  request.client_token = "ddb2pg-token";
  request.s3_bucket = "my-exports";
  request.s3_prefix = "ddb2pg/users/";
  return request;
}

TEST(ExportClient, SendsTheExplicitTimeAndTokenAndReadsTheDescription) {
  FakeAws fake;
  FakeClock clock;
  fake.Script(Reply(200, std::string(R"({"ExportDescription":{"ExportArn":")") + kExportArn +
                             R"(","ExportStatus":"IN_PROGRESS","ExportTime":1700000000,"S3Bucket":"my-exports",)"
                             R"("ClientToken":"ddb2pg-token","ExportFormat":"DYNAMODB_JSON"}})"));
  fake.Script(Reply(200, std::string(R"({"ExportDescription":{"ExportArn":")") + kExportArn +
                             R"(","ExportStatus":"COMPLETED","ExportTime":1700000000.5,"S3Bucket":"my-exports",)"
                             R"("ExportManifest":"ddb2pg/users/AWSDynamoDB/01700000000000-abcdefgh/manifest-summary.json",)"
                             R"("ItemCount":42,"BilledSizeBytes":1234}})"));
  ExportClient client(testing::TestAws(), RetryPolicy(), clock, fake.Factory());
  auto started = client.ExportTableToPointInTime(Request());
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->export_arn, kExportArn);
  EXPECT_EQ(started->export_status, "IN_PROGRESS");
  EXPECT_EQ(started->export_time_ms, 1700000000000);
  const HttpRequest sent = fake.requests().at(0);
  EXPECT_EQ(HeaderValue(sent, "x-amz-target"), "DynamoDB_20120810.ExportTableToPointInTime");
  EXPECT_EQ(sent.body, std::string(R"({"TableArn":")") + kTableArn +
                           R"(","ExportTime":1700000000,"ClientToken":"ddb2pg-token","S3Bucket":"my-exports",)"
                           R"("S3Prefix":"ddb2pg/users/","ExportFormat":"DYNAMODB_JSON","ExportType":"FULL_EXPORT"})");

  auto done = client.DescribeExport(kExportArn);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->export_status, "COMPLETED");
  EXPECT_EQ(done->export_time_ms, 1700000000500);
  EXPECT_EQ(done->export_manifest, "ddb2pg/users/AWSDynamoDB/01700000000000-abcdefgh/manifest-summary.json");
  EXPECT_EQ(done->item_count, 42);
  EXPECT_EQ(HeaderValue(fake.requests().at(1), "x-amz-target"), "DynamoDB_20120810.DescribeExport");
  EXPECT_EQ(fake.requests().at(1).body, std::string(R"({"ExportArn":")") + kExportArn + "\"}");
}

TEST(ExportClient, AnIncrementalExportSendsItsWindowAndNoExportTime) {
  FakeAws fake;
  FakeClock clock;
  fake.Script(Reply(200, std::string(R"({"ExportDescription":{"ExportArn":")") + kExportArn +
                             R"(","ExportStatus":"IN_PROGRESS","S3Bucket":"my-exports"}})"));
  ExportClient client(testing::TestAws(), RetryPolicy(), clock, fake.Factory());
  ExportRequest request = Request();
  request.incremental_from_ms = 1700000000999;
  request.incremental_to_ms = 1700003600000;
  auto started = client.ExportTableToPointInTime(request);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(fake.requests().at(0).body,
            std::string(R"({"TableArn":")") + kTableArn +
                R"(","ClientToken":"ddb2pg-token","S3Bucket":"my-exports","S3Prefix":"ddb2pg/users/",)"
                R"("ExportFormat":"DYNAMODB_JSON","ExportType":"INCREMENTAL_EXPORT","IncrementalExportSpecification":)"
                R"({"ExportFromTime":1700000000,"ExportToTime":1700003600,"ExportViewType":"NEW_AND_OLD_IMAGES"}})");
}

TEST(ExportClient, PointInTimeRecoveryOffNamesTheFix) {
  FakeAws fake;
  FakeClock clock;
  fake.Script(AwsErrorReply(400, "PointInTimeRecoveryUnavailableException",
                            "Point in time recovery is not enabled for table 'users'"));
  ExportClient client(testing::TestAws(), RetryPolicy(), clock, fake.Factory());
  auto refused = client.ExportTableToPointInTime(Request());
  EXPECT_EQ(refused.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("ExportTableToPointInTime users: PointInTimeRecoveryUnavailableException"));
  EXPECT_THAT(refused.status().message(),
              HasSubstr("aws dynamodb update-continuous-backups --table-name users "
                        "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true"));
}

}  // namespace
}  // namespace ddb2pg::aws
