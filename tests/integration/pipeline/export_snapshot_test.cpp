// Issue 28: the first snapshot taken from a DynamoDB export in S3 (snapshot.from: export) on the
// real servers — DynamoDB Local and its stream, PostgreSQL, and s3rver holding an export written
// in AWS's layout (export_writer.h; DynamoDB Local has no export API). Changes made after the
// export time and while ddb2pg loads it arrive through the stream; the target ends equal to the
// table, no item is read from the table by a Scan, and a load stopped halfway resumes its files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <random>
#include <thread>

#include "export_writer.h"
#include "fake_export_control_plane.h"
#include "aws/export_client.h"
#include "source/export_requester.h"
#include "in_process_run.h"
#include "pipeline_fixture.h"

namespace ddb2pg::testing {
namespace {

class ExportSnapshot : public PipelineFixture {
 protected:
  void SetUp() override {
    PipelineFixture::SetUp();
    // The wiring resolves the S3 endpoint as the binary does: from the environment.
    setenv("AWS_ENDPOINT_URL_S3", S3Endpoint().c_str(), 1);
    s3_ = std::make_unique<aws::S3Client>(aws_, S3Endpoint(), aws::RetryPolicy(), core::SystemClock::Instance());
  }
  void TearDown() override {
    run_.Stop();
    unsetenv("AWS_ENDPOINT_URL_S3");
  }

  std::string Export(int files) {
    ExportWriter writer(*ddb_, *s3_, kTestBucket, key_ + "/exports/");
    const std::string manifest = writer.Write("users", files, std::chrono::system_clock::now());
    exported_ = writer.items();
    return manifest;
  }

  config::Config ExportConfig(const std::string& manifest) {
    config::Config config = LoadConfig(ConfigText());
    config.sources[0].snapshot.from = "export";
    config.sources[0].snapshot.export_manifest = manifest;
    config.runtime.lanes = 2;
    return config;
  }

  int64_t Read(const char* operation) {
    return static_cast<int64_t>(run_.metrics().RecordsRead("users", operation).Value());
  }

  void WaitForSnapshot() {
    const auto complete_by = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (run_.metrics().SnapshotComplete("users").Value() == 0 && std::chrono::steady_clock::now() < complete_by) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(run_.metrics().SnapshotComplete("users").Value(), 1);
  }

  std::unique_ptr<aws::S3Client> s3_;
  int64_t exported_ = 0;
  InProcessRun run_;
};

TEST_F(ExportSnapshot, TheExportIsTheSnapshotAndTheStreamCarriesEverythingAfterIt) {
  BulkLoad(3000, 281);
  const std::string manifest = Export(5);
  ASSERT_FALSE(manifest.empty());
  ASSERT_EQ(exported_, 3000);
  // Writes after the export time, before ddb2pg starts: only the stream has them.
  app::SampleData data(282);
  for (int i = 0; i < 150; ++i) RandomChange(data);

  run_.Start(ExportConfig(manifest));
  // And while it loads.
  for (int i = 0; i < 150; ++i) RandomChange(data);
  WaitForSnapshot();
  auto differences = WaitUntilEqual(std::chrono::seconds(120));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  EXPECT_EQ(Read("snapshot"), exported_) << "every snapshot row came from the export's files";
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.partitions WHERE kind = 'segment' AND state = 'done'"), "5")
      << "one partition per data file";
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();
}

TEST_F(ExportSnapshot, AStoppedLoadResumesItsFilesWhereTheirCommitsEnded) {
  BulkLoad(6000, 291);
  const std::string manifest = Export(2);
  ASSERT_FALSE(manifest.empty());

  config::Config config = ExportConfig(manifest);
  config.postgres.batch_max_rows = 200;  // many commits per file
  run_.Start(config);
  const auto partway = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  // Stopped once some rows are committed and before the load is done.
  const auto profiles = [&]() -> int64_t {
    try {
      return std::stoll(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".profile"));
    } catch (const std::runtime_error&) {  // not created yet
      return 0;
    }
  };
  while (profiles() < 1000 && std::chrono::steady_clock::now() < partway) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  run_.Stop();
  const std::string committed = pg_->Scalar(
      "SELECT coalesce(sum(position::bigint), 0) FROM ddb2pg.partitions WHERE kind = 'segment' AND state <> 'done' "
      "AND position <> ''");
  const std::string done = pg_->Scalar("SELECT count(*) FROM ddb2pg.partitions WHERE kind = 'segment' AND "
                                       "state = 'done'");

  app::SampleData data(292);
  for (int i = 0; i < 100; ++i) RandomChange(data);
  run_.Start(config);
  WaitForSnapshot();
  auto differences = WaitUntilEqual(std::chrono::seconds(120));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  EXPECT_NE(committed, "0");
  if (done == "0") {
    // The second run read only what the first had not committed.
    EXPECT_EQ(Read("snapshot"), exported_ - std::stoll(committed)) << "committed before the stop: " << committed;
  }
  std::cout << "first run committed " << committed << " line(s) of unfinished files, finished " << done
            << " file(s); the second read " << Read("snapshot") << " of " << exported_ << "\n";
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();
}

// kill -9 of the real binary while it loads the export and the stream runs beside it, three times,
// then a run to the end: the target equals the table and no change is applied twice.
TEST_F(ExportSnapshot, KillNineDuringTheLoadThenFinalStateEqualAndNoChangeAppliedTwice) {
  constexpr int kItems = 50000;  // the end-to-end size
  BulkLoad(kItems, 311);
  const std::string manifest = Export(4);
  ASSERT_FALSE(manifest.empty());
  std::string config = ConfigWithAuditPipeline();
  ReplaceAll(config, "segments: 4", "segments: 4\n      from: export\n      export:\n        manifest: " + manifest);
  config += "\nruntime:\n  lanes: 2\n";
  const std::string config_path = ScratchDir() + "/" + key_ + ".yaml";
  const std::string log_path = ScratchDir() + "/" + key_ + ".log";
  std::ofstream(config_path) << config;
  std::vector<std::string> env = ChildEnvironment();
  env.push_back("AWS_ENDPOINT_URL_S3=" + S3Endpoint());
  const std::vector<std::string> args = {DDB2PG_BINARY, "run", "-c", config_path, "--progress", "plain",
                                         "--metrics-listen", "off", "--init-schema"};
  std::thread writer;
  std::mt19937 rng(312);
  std::uniform_int_distribution<int> lifetime_ms(300, 1500);
  for (int kill = 0; kill < 3; ++kill) {
    ChildProcess child(args, env, log_path);
    if (kill == 0) {
      WaitForSeed();
      writer = std::thread([&] {
        app::SampleData data(313);
        for (int i = 0; i < 500; ++i) {
          RandomChange(data);
          std::this_thread::sleep_for(std::chrono::milliseconds(4));
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(lifetime_ms(rng)));
    ASSERT_EQ(child.Wait(std::chrono::milliseconds(0)), -1) << "ddb2pg exited early; see " << log_path;
    child.Signal(SIGKILL);
    EXPECT_EQ(child.Wait(std::chrono::seconds(5)), 128 + SIGKILL);
  }
  ChildProcess final_run(args, env, log_path);
  if (writer.joinable()) writer.join();
  const auto differences = WaitUntilEqual(std::chrono::seconds(180));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences) << " (log: " << log_path << ")";
  final_run.Signal(SIGTERM);
  EXPECT_EQ(final_run.Wait(std::chrono::seconds(10)), 0) << "see " << log_path;
  const auto twice = pg_->Query("SELECT id::text, v, op, count(*) FROM " + schema_ +
                                ".audit_log GROUP BY 1, 2, 3 HAVING count(*) > 1 LIMIT 5");
  EXPECT_TRUE(twice.empty()) << "changes applied twice, e.g. " << *twice[0][0] << " v" << *twice[0][1] << " "
                             << *twice[0][2];
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".audit_log WHERE op = 'snapshot'"), std::to_string(kItems))
      << "each exported item written once by the snapshot, across the kills";
}

TEST_F(ExportSnapshot, AnExportRequestedThroughTheControlPlaneIsLoaded) {
  BulkLoad(2000, 301);
  FakeExportControlPlane control(*ddb_, *s3_, 3);
  aws::ResolvedAws control_aws = aws_;
  control_aws.dynamodb_endpoint = control.url();
  aws::ExportClient exports(control_aws, aws::RetryPolicy(), core::SystemClock::Instance());
  source::ExportRequester requester(exports, core::SystemClock::Instance(),
                                    {std::chrono::milliseconds(20), std::chrono::milliseconds(80)});
  aws::ExportRequest request;
  request.table_arn = "arn:aws:dynamodb:us-east-1:000000000000:table/users";
  request.export_time_ms = core::ToEpochMillis(std::chrono::system_clock::now());
  request.client_token = source::ExportRequester::ClientToken(key_, request.table_arn, request.export_time_ms);
  request.s3_bucket = kTestBucket;
  request.s3_prefix = key_ + "/requested/";

  control.set_point_in_time_recovery(false);
  std::atomic<bool> stop{false};
  auto refused = requester.Run(request, {}, stop);
  EXPECT_EQ(refused.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("update-continuous-backups --table-name users"), std::string::npos)
      << refused.status().message();

  control.set_point_in_time_recovery(true);
  int last_poll = -1;
  auto done = requester.Run(request, [&](const aws::ExportDescription&, int polls) { last_poll = polls; }, stop);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(last_poll, 3);
  // Asked again with the same token (a restart): the same export, not a second one.
  auto again = exports.ExportTableToPointInTime(request);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->export_arn, done->export_arn);
  EXPECT_EQ(control.exports_started(), 1);

  run_.Start(ExportConfig("s3://" + done->s3_bucket + "/" + done->export_manifest));
  app::SampleData data(302);
  for (int i = 0; i < 50; ++i) RandomChange(data);
  WaitForSnapshot();
  auto differences = WaitUntilEqual(std::chrono::seconds(120));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  EXPECT_EQ(Read("snapshot"), 2000);
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();
}

// `ddb2pg run` with snapshot.export.s3_bucket: it requests the export itself (the fake control
// plane stands in front of DynamoDB Local as the source's endpoint). Point-in-time recovery off
// fails the run naming the fix; a restart while the export is in progress polls the same export
// instead of requesting a second one; the completed export is the snapshot.
TEST_F(ExportSnapshot, RunRequestsTheExportItselfAndARestartDuringItRequestsNoSecond) {
  BulkLoad(2000, 311);
  FakeExportControlPlane control(*ddb_, *s3_, 2, aws_.dynamodb_endpoint);
  config::Config config = LoadConfig(ConfigText());
  config.sources[0].snapshot.from = "export";
  config.sources[0].snapshot.export_bucket = kTestBucket;
  config.sources[0].snapshot.export_prefix = key_ + "/requested/";
  config.sources[0].endpoint = control.url();
  config.sources[0].streams_endpoint = aws_.dynamodb_endpoint;
  config.runtime.lanes = 2;
  run_.set_export_polls({std::chrono::milliseconds(20), std::chrono::milliseconds(80)});
  const auto wait_for = [](const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!condition() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return condition();
  };

  control.set_point_in_time_recovery(false);
  run_.Start(config);
  ASSERT_TRUE(wait_for([&] { return run_.finished(); }));
  run_.Stop();
  EXPECT_EQ(run_.result().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_NE(run_.result().message().find("update-continuous-backups --table-name users"), std::string::npos)
      << run_.result().ToString();
  EXPECT_EQ(control.exports_started(), 0);
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.checkpoints WHERE export_time_ms IS NOT NULL"), "0")
      << "a refused request leaves no export time: one from before recovery was enabled would be refused too";

  control.set_point_in_time_recovery(true);
  control.hold(true);
  run_.Start(config);
  ASSERT_TRUE(wait_for([&] { return control.describe_calls() >= 2; }));
  const std::string where = " FROM ddb2pg.checkpoints WHERE export_time_ms IS NOT NULL";
  EXPECT_EQ(pg_->Scalar("SELECT export_status" + where), "IN_PROGRESS");
  const std::string arn = pg_->Scalar("SELECT export_arn" + where);
  EXPECT_NE(arn.find("/export/"), std::string::npos) << arn;
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.partitions WHERE checkpoint_id IN (SELECT id" + where + ")"), "0")
      << "nothing is seeded before the export completes";
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();

  // The restart polls the stored export; it completes; the stream carries what changed since.
  const int polled = control.describe_calls();
  run_.Start(config);
  ASSERT_TRUE(wait_for([&] { return control.describe_calls() > polled; }));
  control.hold(false);
  // The fake writes the table as it is when the export completes: the changes come after that.
  ASSERT_TRUE(wait_for([&] { return pg_->Scalar("SELECT export_status" + where) == "COMPLETED"; }));
  app::SampleData data(312);
  for (int i = 0; i < 50; ++i) RandomChange(data);
  WaitForSnapshot();
  auto differences = WaitUntilEqual(std::chrono::seconds(120));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences);
  EXPECT_EQ(Read("snapshot"), 2000);
  EXPECT_EQ(control.exports_started(), 1) << "the restart asked for no second export";
  EXPECT_EQ(pg_->Scalar("SELECT export_status" + where), "COMPLETED");
  EXPECT_EQ(pg_->Scalar("SELECT export_arn" + where), arn);
  EXPECT_NE(pg_->Scalar("SELECT export_manifest" + where).find("manifest-summary.json"), std::string::npos);
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();
}

// An export that FAILs stops the run with AWS's reason and the remedy; a restart reports the same
// export again rather than requesting another.
TEST_F(ExportSnapshot, AFailedRequestedExportStopsTheRunNamingItsReasonAndTheRemedy) {
  BulkLoad(100, 321);
  FakeExportControlPlane control(*ddb_, *s3_, 2, aws_.dynamodb_endpoint);
  control.fail_exports(true);
  config::Config config = LoadConfig(ConfigText());
  config.sources[0].snapshot.from = "export";
  config.sources[0].snapshot.export_bucket = kTestBucket;
  config.sources[0].snapshot.export_prefix = key_ + "/failing/";
  config.sources[0].endpoint = control.url();
  config.sources[0].streams_endpoint = aws_.dynamodb_endpoint;
  run_.set_export_polls({std::chrono::milliseconds(20), std::chrono::milliseconds(80)});
  for (int start = 0; start < 2; ++start) {
    run_.Start(config);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!run_.finished() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(run_.finished());
    run_.Stop();
    EXPECT_EQ(run_.result().code(), core::StatusCode::kFailedPrecondition);
    EXPECT_NE(run_.result().message().find("FAILED: S3AccessDenied: Access Denied"), std::string::npos)
        << run_.result().ToString();
    EXPECT_NE(run_.result().message().find("ddb2pg reset"), std::string::npos) << run_.result().ToString();
  }
  EXPECT_EQ(control.exports_started(), 1);
  EXPECT_EQ(pg_->Scalar("SELECT export_status FROM ddb2pg.checkpoints"), "FAILED");
}

}  // namespace
}  // namespace ddb2pg::testing
