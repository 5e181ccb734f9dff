// Snapshots from a DynamoDB export (snapshot.from: export) against an in-memory object store:
// the manifests as AWS documents them, the seed (one partition per data file, every shard from the
// export time), each data file read in byte ranges with its MD5, item count and resume position.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "aws/md5_digest.h"
#include "fake_dynamodb.h"
#include "source/dynamodb_record_source.h"
#include "source/export_file_reader.h"
#include "source/export_manifest.h"
#include "source/export_snapshot.h"
#include "source/incremental_gap.h"
#include "source/stream_watermark.h"
#include "support/gzip.h"

namespace ddb2pg::source {

using ddb2pg::testing::Gzip;
namespace {

using pipeline::PartitionKind;
using pipeline::ClaimedPartition;
using testing::FakeStreams;
using testing::FakeTable;

constexpr int64_t kExportTimeMs = 1700000123456;  // 2023-11-14T22:15:23.456Z

class FakeObjectStore final : public aws::ObjectStoreApi {
 public:
  void Put(const std::string& bucket, const std::string& key, std::string body) {
    std::lock_guard lock(mutex_);
    objects_[bucket + "/" + key] = std::move(body);
  }
  int gets() {
    std::lock_guard lock(mutex_);
    return gets_;
  }
  core::Result<aws::S3Object> GetObject(const std::string& bucket, const std::string& key,
                                        std::optional<aws::ByteRange> range) override {
    std::lock_guard lock(mutex_);
    ++gets_;
    auto found = objects_.find(bucket + "/" + key);
    if (found == objects_.end()) return core::Status::NotFound("GetObject " + bucket + "/" + key + ": NoSuchKey");
    aws::S3Object object;
    object.info.key = key;
    object.info.size = found->second.size();
    object.body = range ? found->second.substr(range->first, range->last - range->first + 1) : found->second;
    return object;
  }
  core::Result<aws::S3ObjectInfo> HeadObject(const std::string& bucket, const std::string& key) override {
    std::lock_guard lock(mutex_);
    auto found = objects_.find(bucket + "/" + key);
    if (found == objects_.end()) return core::Status::NotFound("HeadObject " + bucket + "/" + key + ": HTTP 404");
    return aws::S3ObjectInfo{key, found->second.size(), "", ""};
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> objects_;
  int gets_ = 0;
};


constexpr char kBucket[] = "exports";
constexpr char kDir[] = "ddb2pg/users/AWSDynamoDB/01700000123456-abcdefgh";
const std::string kManifestUri = std::string("s3://exports/") + kDir + "/manifest-summary.json";

// Writes an export of `files` data files holding ids "u<file>-<n>" in AWS's layout.
void WriteExport(FakeObjectStore& store, const std::vector<int>& items_per_file,
                 const std::string& format = "DYNAMODB_JSON", const std::string& type = "FULL_EXPORT",
                 std::function<void(int, std::string&)> tamper = {}) {
  std::string files;
  int total = 0;
  for (size_t f = 0; f < items_per_file.size(); ++f) {
    std::string lines;
    for (int n = 0; n < items_per_file[f]; ++n) {
      lines += R"({"Item":{"id":{"S":"u)" + std::to_string(f) + "-" + std::to_string(n) +
               R"("},"version":{"N":")" + std::to_string(n) + R"("},"tags":{"SS":["a","b"]}}})" + "\n";
    }
    std::string gz = Gzip(lines);
    const std::string md5 = aws::Md5Digest::Base64Of(gz);
    if (tamper) tamper(static_cast<int>(f), gz);
    const std::string key = std::string(kDir) + "/data/file" + std::to_string(f) + ".json.gz";
    store.Put(kBucket, key, gz);
    files += R"({"itemCount":)" + std::to_string(items_per_file[f]) + R"(,"md5Checksum":")" + md5 +
             R"(","etag":"x-1","dataFileS3Key":")" + key + "\"}\n";
    total += items_per_file[f];
  }
  store.Put(kBucket, std::string(kDir) + "/manifest-files.json", files);
  store.Put(kBucket, std::string(kDir) + "/manifest-summary.json",
            R"({"version":"2020-06-30","exportArn":"arn:aws:dynamodb:us-east-1:123456789012:table/users/export/01700000123456-abcdefgh",)"
            R"("startTime":"2023-11-14T22:15:30.000Z","endTime":"2023-11-14T22:20:00.000Z",)"
            R"("tableArn":"arn:aws:dynamodb:us-east-1:123456789012:table/users","tableId":"t",)"
            R"("exportTime":"2023-11-14T22:15:23.456Z","s3Bucket":"exports","s3Prefix":"ddb2pg/users/",)"
            R"("s3SseAlgorithm":"AES256","s3SseKmsKeyId":null,"manifestFilesS3Key":")" +
                std::string(kDir) + R"(/manifest-files.json","billedSizeBytes":0,"itemCount":)" +
                std::to_string(total) + R"(,"outputFormat":")" + format + R"(","exportType":")" + type + "\"}");
}

std::vector<core::Record> Collect(core::BoundedQueue<core::Record>& queue, pipeline::PartitionReader& reader) {
  std::vector<core::Record> records;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < give_up) {
    auto record = queue.PopFor(std::chrono::milliseconds(20));
    if (record) {
      records.push_back(std::move(*record));
      if (records.back().position.partition_done) break;
      continue;
    }
    if (!reader.status().ok()) break;
  }
  return records;
}

ClaimedPartition FileLease(int file, const std::string& position = "") {
  ClaimedPartition lease;
  lease.id = "scan/" + std::to_string(file);
  lease.kind = PartitionKind::kSegment;
  lease.segment = file;
  lease.position = position;
  lease.epoch = 1;
  return lease;
}

TEST(ExportManifest, ParsesTheDocumentedLayout) {
  FakeObjectStore store;
  WriteExport(store, {3, 0, 5});
  auto manifest = ExportManifest::Load(store, kManifestUri);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(manifest->bucket, "exports");
  EXPECT_EQ(manifest->export_time_ms, kExportTimeMs);
  EXPECT_EQ(manifest->item_count, 8);
  ASSERT_EQ(manifest->files.size(), 3u);
  EXPECT_EQ(manifest->files[2].key, std::string(kDir) + "/data/file2.json.gz");
  EXPECT_EQ(manifest->files[2].item_count, 5);
  EXPECT_EQ(manifest->files[2].md5_base64.size(), 24u);
}

TEST(ExportManifest, KeysWithoutTheExportPrefixAreTakenAsRelativeToIt) {
  FakeObjectStore store;
  WriteExport(store, {2});
  // The same export, its manifests naming keys without the "ddb2pg/users/" prefix.
  auto summary = store.GetObject(kBucket, std::string(kDir) + "/manifest-summary.json", std::nullopt);
  auto files = store.GetObject(kBucket, std::string(kDir) + "/manifest-files.json", std::nullopt);
  ASSERT_TRUE(summary.ok() && files.ok());
  const auto strip = [](std::string text) {
    for (size_t at = text.find("\"ddb2pg/users/AWSDynamoDB"); at != std::string::npos;
         at = text.find("\"ddb2pg/users/AWSDynamoDB", at)) {
      text.erase(at + 1, std::string("ddb2pg/users/").size());
    }
    return text;
  };
  store.Put(kBucket, std::string(kDir) + "/manifest-summary.json", strip(summary->body));
  store.Put(kBucket, std::string(kDir) + "/manifest-files.json", strip(files->body));
  ASSERT_EQ(strip(files->body).find("ddb2pg/users/"), std::string::npos);
  auto manifest = ExportManifest::Load(store, kManifestUri);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(manifest->files.at(0).key, std::string(kDir) + "/data/file0.json.gz");
}

TEST(ExportManifest, RefusesIonIncrementalAndBadUris) {
  FakeObjectStore ion;
  WriteExport(ion, {1}, "ION");
  auto refused = ExportManifest::Load(ion, kManifestUri);
  EXPECT_EQ(refused.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("ION format; ddb2pg reads DYNAMODB_JSON exports only"), std::string::npos)
      << refused.status().message();

  FakeObjectStore incremental;
  WriteExport(incremental, {1}, "DYNAMODB_JSON", "INCREMENTAL_EXPORT");
  EXPECT_NE(ExportManifest::Load(incremental, kManifestUri).status().message().find("must name a FULL_EXPORT"),
            std::string::npos);

  EXPECT_EQ(ExportManifest::Load(ion, "exports/manifest-summary.json").status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExportManifest::Load(ion, "s3://exports/nope/manifest-summary.json").status().code(),
            core::StatusCode::kNotFound);
  auto lines = ExportManifest::ParseFiles("{\"dataFileS3Key\":\"a\"}\n\nnot json\n", "files");
  EXPECT_EQ(lines.status().message(), "files line 3: not a JSON object");
}

TEST(ExportManifest, ParsesUtcTimes) {
  EXPECT_EQ(*ParseIsoUtcMillis("2023-11-14T22:15:23.456Z"), kExportTimeMs);
  EXPECT_EQ(*ParseIsoUtcMillis("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(*ParseIsoUtcMillis("1970-01-01T00:00:00.5+00:00"), 500);
  EXPECT_FALSE(ParseIsoUtcMillis("2023-11-14 22:15:23Z").ok());
  EXPECT_FALSE(ParseIsoUtcMillis("2023-02-30T00:00:00Z").ok());
}

// The system clock moved to `now`: exports are judged by their age.
class ClockAt final : public core::Clock {
 public:
  explicit ClockAt(int64_t now_ms) : now_(std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms))) {}
  std::chrono::system_clock::time_point Now() const override { return now_; }
  std::chrono::steady_clock::time_point Monotonic() const override { return std::chrono::steady_clock::now(); }
  void SleepFor(std::chrono::nanoseconds duration) const override { std::this_thread::sleep_for(duration); }

 private:
  std::chrono::system_clock::time_point now_;
};

class ExportSource : public ::testing::Test {
 protected:
  void SetUp() override {
    streams_.AddShard("closed");
    streams_.CloseShard("closed");
    streams_.AddShard("open", "closed");
  }
  DynamoDbRecordSource& Source() {
    SourceOptions options;
    options.table = "users";
    options.segments = 7;  // the export's file count wins
    source_ = std::make_unique<DynamoDbRecordSource>(options, table_, streams_, clock_);
    source_->SetExportSnapshot(std::make_shared<ExportSnapshot>(store_, kManifestUri));
    auto layout = source_->Describe();
    EXPECT_TRUE(layout.ok()) << layout.status().ToString();
    return *source_;
  }

  ClockAt clock_{kExportTimeMs + 3'600'000};  // an hour after the export
  FakeTable table_;
  FakeStreams streams_;
  FakeObjectStore store_;
  std::unique_ptr<DynamoDbRecordSource> source_;
  core::BoundedQueue<core::Record> queue_{100000};
};

TEST_F(ExportSource, SeedsOnePartitionPerFileAndEveryShardAtTheExportTime) {
  WriteExport(store_, {3, 4});
  DynamoDbRecordSource& source = Source();
  auto layout = source.Describe();
  ASSERT_TRUE(layout.ok());
  auto seed = source.Seed(*layout, std::nullopt);
  ASSERT_TRUE(seed.ok()) << seed.status().ToString();
  EXPECT_EQ(seed->total_segments, 2);
  ASSERT_EQ(seed->partitions.size(), 4u);
  EXPECT_EQ(seed->partitions[0].id, "scan/0");
  EXPECT_EQ(seed->partitions[1].id, "scan/1");
  for (size_t i = 2; i < 4; ++i) {
    // The closed shard too: the export may predate its last records.
    EXPECT_FALSE(seed->partitions[i].done) << seed->partitions[i].id;
    auto watermark = StreamWatermark::Parse(seed->partitions[i].position);
    ASSERT_TRUE(watermark) << seed->partitions[i].position;
    EXPECT_EQ(watermark->taken_ms, kExportTimeMs);
    EXPECT_EQ(watermark->iterator, "");
  }
  EXPECT_TRUE(streams_.iterator_calls().empty());  // no LATEST iterator: the hand-off is a time
}

TEST_F(ExportSource, AnExportOlderThanTheStreamKeepsChangesIsRefusedNamingTheAge) {
  WriteExport(store_, {3});
  clock_ = ClockAt(kExportTimeMs + 30 * 3'600'000LL);
  DynamoDbRecordSource& source = Source();
  auto layout = source.Describe();
  ASSERT_TRUE(layout.ok());
  auto seed = source.Seed(*layout, std::nullopt);
  ASSERT_FALSE(seed.ok());
  EXPECT_EQ(seed.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_NE(seed.status().message().find("taken 30 h ago"), std::string::npos) << seed.status().message();
  EXPECT_NE(seed.status().message().find("24 h"), std::string::npos) << seed.status().message();
}

TEST_F(ExportSource, ReadsAFileInRangesWithTheExportTime) {
  WriteExport(store_, {10, 2500});
  DynamoDbRecordSource& source = Source();
  auto reader = source.Open(FileLease(1), "", 7, &queue_, nullptr);
  auto records = Collect(queue_, *reader);
  ASSERT_TRUE(reader->status().ok()) << reader->status().ToString();
  ASSERT_EQ(records.size(), 2500u);
  EXPECT_EQ(store_.gets(), 3);  // the two manifests, then the data file in 1 MiB ranges (small here: one)
  for (size_t i = 0; i < records.size(); ++i) {
    const core::Record& record = records[i];
    ASSERT_EQ(record.operation, core::Operation::kSnapshot);
    EXPECT_EQ(record.key.Find("id")->as_string(), "u1-" + std::to_string(i));
    EXPECT_EQ(record.after->Find("version")->number_text(), std::to_string(i));
    EXPECT_EQ(record.metadata.change_time_ms, kExportTimeMs);
    EXPECT_EQ(record.position.partition, "scan/1");
    EXPECT_EQ(record.position.offset, std::to_string(i + 1));
    EXPECT_EQ(record.position.partition_done, i + 1 == records.size());
    EXPECT_EQ(record.reader_tag, 7u);
  }
}

TEST_F(ExportSource, SmallRangesAndResumingAfterAKill) {
  WriteExport(store_, {2500});
  auto manifest = ExportManifest::Load(store_, kManifestUri);
  ASSERT_TRUE(manifest.ok());
  ExportFileReaderOptions options;
  options.table = "users";
  options.key_names = {"id"};
  options.partition_id = "scan/0";
  options.bucket = manifest->bucket;
  options.file = manifest->files[0];
  options.export_time_ms = manifest->export_time_ms;
  options.chunk_bytes = 997;  // many ranges, lines and gzip blocks cut anywhere
  ExportFileReader reader(options, "1200", store_, core::SystemClock::Instance(), &queue_, 1);
  reader.Start("export-test");
  auto records = Collect(queue_, reader);
  ASSERT_TRUE(reader.status().ok()) << reader.status().ToString();
  ASSERT_EQ(records.size(), 1300u);
  EXPECT_EQ(records.front().key.Find("id")->as_string(), "u0-1200");
  EXPECT_EQ(records.front().position.offset, "1201");
  EXPECT_TRUE(records.back().position.partition_done);
  EXPECT_EQ(records.back().position.offset, "2500");

  // Resumed at its end (killed after the last commit but before the partition was marked done).
  ExportFileReader at_end(options, "2500", store_, core::SystemClock::Instance(), &queue_, 2);
  at_end.Start("export-test");
  auto marker = Collect(queue_, at_end);
  ASSERT_EQ(marker.size(), 1u);
  EXPECT_EQ(marker[0].operation, core::Operation::kMarker);
  EXPECT_TRUE(marker[0].position.partition_done);
}

TEST_F(ExportSource, ACorruptFileNeverCompletesItsPartition) {
  // The object no longer matches the manifest's MD5 (bytes appended after the gzip member).
  WriteExport(store_, {50}, "DYNAMODB_JSON", "FULL_EXPORT", [](int, std::string& gz) { gz += Gzip(""); });
  DynamoDbRecordSource& source = Source();
  auto reader = source.Open(FileLease(0), "", 1, &queue_, nullptr);
  auto records = Collect(queue_, *reader);
  EXPECT_EQ(reader->status().code(), core::StatusCode::kDataError);
  EXPECT_NE(reader->status().message().find("is not the manifest's md5Checksum"), std::string::npos)
      << reader->status().message();
  EXPECT_NE(reader->status().message().find("s3://exports/" + std::string(kDir) + "/data/file0.json.gz"),
            std::string::npos);
  for (const auto& record : records) EXPECT_FALSE(record.position.partition_done);
  EXPECT_EQ(records.size(), 49u);  // the last one is held back until the checks pass
}

TEST_F(ExportSource, AFileTheManifestDoesNotListFailsTheReader) {
  WriteExport(store_, {1});
  DynamoDbRecordSource& source = Source();
  auto reader = source.Open(FileLease(5), "", 1, &queue_, nullptr);
  EXPECT_EQ(reader->status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_NE(reader->status().message().find("partition scan/5 has no data file"), std::string::npos);
}

// An incremental export in AWS's layout (manifest-summary.json with exportFromTime/exportToTime,
// one data file of change lines): a create, an update and a delete in the window.
void WriteIncrementalExport(FakeObjectStore& store) {
  const std::string lines =
      R"({"Metadata":{"WriteTimestampMicros":{"N":"1700000100000001"}},"Keys":{"id":{"S":"new"}},)"
      R"("NewImage":{"id":{"S":"new"},"version":{"N":"1"}}})" "\n"
      R"({"Metadata":{"WriteTimestampMicros":{"N":"1700000110000002"}},"Keys":{"id":{"S":"changed"}},)"
      R"("OldImage":{"id":{"S":"changed"},"version":{"N":"1"}},"NewImage":{"id":{"S":"changed"},"version":{"N":"2"}}})" "\n"
      R"({"Metadata":{"WriteTimestampMicros":{"N":"1700000120000003"}},"Keys":{"id":{"S":"gone"}},)"
      R"("OldImage":{"id":{"S":"gone"},"version":{"N":"7"}}})" "\n";
  const std::string gz = Gzip(lines);
  const std::string key = std::string(kDir) + "/data/inc0.json.gz";
  store.Put(kBucket, key, gz);
  store.Put(kBucket, std::string(kDir) + "/manifest-files.json",
            R"({"itemCount":3,"md5Checksum":")" + aws::Md5Digest::Base64Of(gz) + R"(","etag":"x-1","dataFileS3Key":")" +
                key + "\"}\n");
  store.Put(kBucket, std::string(kDir) + "/manifest-summary.json",
            R"({"version":"2023-08-01","exportArn":"arn:aws:dynamodb:us-east-1:123456789012:table/users/export/01700000123456-abcdefgh",)"
            R"("startTime":"2023-11-14T22:16:00.000Z","endTime":"2023-11-14T22:20:00.000Z",)"
            R"("tableArn":"arn:aws:dynamodb:us-east-1:123456789012:table/users","tableId":"t",)"
            R"("exportFromTime":"2023-11-14T21:00:00.000Z","exportToTime":"2023-11-14T22:15:23.000Z",)"
            R"("s3Bucket":"exports","s3Prefix":"ddb2pg/users/","s3SseAlgorithm":"AES256","s3SseKmsKeyId":null,)"
            R"("manifestFilesS3Key":")" + std::string(kDir) +
                R"(/manifest-files.json","billedSizeBytes":0,"itemCount":3,"outputFormat":"DYNAMODB_JSON",)"
                R"("outputView":"NEW_AND_OLD_IMAGES","exportType":"INCREMENTAL_EXPORT"})");
}

TEST(IncrementalExport, ManifestIsReadOnlyWhenAnIncrementalExportIsExpected) {
  FakeObjectStore store;
  WriteIncrementalExport(store);
  auto manifest = ExportManifest::Load(store, kManifestUri, ExportType::kIncremental);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(manifest->export_from_time_ms, 1699995600000);  // 2023-11-14T21:00:00Z
  EXPECT_EQ(manifest->export_time_ms, 1700000123000);
  ASSERT_EQ(manifest->files.size(), 1u);
  EXPECT_NE(ExportManifest::Load(store, kManifestUri).status().message().find("must name a FULL_EXPORT"),
            std::string::npos);

  FakeObjectStore full;
  WriteExport(full, {1});
  auto refused = ExportManifest::Load(full, kManifestUri, ExportType::kIncremental);
  EXPECT_EQ(refused.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("needs an INCREMENTAL_EXPORT"), std::string::npos)
      << refused.status().message();
}

TEST(IncrementalExport, TheSameReaderTurnsItsLinesIntoChangesWithTheirOwnTimes) {
  FakeObjectStore store;
  WriteIncrementalExport(store);
  auto manifest = ExportManifest::Load(store, kManifestUri, ExportType::kIncremental);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  ExportFileReaderOptions options;
  options.table = "users";
  options.key_names = {"id"};
  options.partition_id = "gap/0";
  options.bucket = manifest->bucket;
  options.file = manifest->files[0];
  options.export_time_ms = manifest->export_time_ms;
  options.type = ExportType::kIncremental;
  core::BoundedQueue<core::Record> queue{100};
  ExportFileReader reader(options, "", store, core::SystemClock::Instance(), &queue, 1);
  reader.Start("incremental-export-test");
  auto records = Collect(queue, reader);
  ASSERT_TRUE(reader.status().ok()) << reader.status().ToString();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].operation, core::Operation::kCreate);
  EXPECT_EQ(records[0].key.Find("id")->as_string(), "new");
  EXPECT_EQ(records[0].metadata.change_time_ms, 1700000100000);
  EXPECT_EQ(records[1].operation, core::Operation::kUpdate);
  EXPECT_EQ(records[1].after->Find("version")->number_text(), "2");
  EXPECT_EQ(records[1].before->Find("version")->number_text(), "1");
  EXPECT_EQ(records[2].operation, core::Operation::kDelete);
  EXPECT_FALSE(records[2].after);
  EXPECT_EQ(records[2].metadata.change_time_ms, 1700000120000);
  EXPECT_EQ(records[2].position.partition, "gap/0");
  EXPECT_EQ(records[2].position.offset, "3");
  EXPECT_TRUE(records[2].position.partition_done);
}

// A control plane whose exports complete at once, each the incremental export in the store.
class CompletingExports final : public aws::ExportApi {
 public:
  std::vector<aws::ExportRequest> requests;
  std::vector<std::string> described;

  core::Result<aws::ExportDescription> ExportTableToPointInTime(const aws::ExportRequest& request) override {
    requests.push_back(request);
    return Description("arn:export/" + std::to_string(requests.size()));
  }
  core::Result<aws::ExportDescription> DescribeExport(const std::string& export_arn) override {
    described.push_back(export_arn);
    return Description(export_arn);
  }

 private:
  static aws::ExportDescription Description(const std::string& arn) {
    aws::ExportDescription description;
    description.export_arn = arn;
    description.export_status = "COMPLETED";
    description.s3_bucket = kBucket;
    description.export_manifest = std::string(kDir) + "/manifest-summary.json";
    return description;
  }
};

TEST(IncrementalGap, OneExportPerWindowWithATokenFromTheWindowAndKnownArnsPolledNotRequested) {
  FakeObjectStore store;
  WriteIncrementalExport(store);
  CompletingExports exports;
  IncrementalGap gap(exports, store, core::SystemClock::Instance());
  IncrementalGapRequest request;
  request.checkpoint_id = "users";
  request.table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/users";
  request.s3_bucket = kBucket;
  request.s3_prefix = "ddb2pg/users/";
  request.from_ms = kExportTimeMs - 30 * 3'600'000LL;  // 30 h: two windows
  request.to_ms = kExportTimeMs;
  std::map<IncrementalGap::Window, std::string> stored;
  std::atomic<bool> stop{false};
  auto windows = gap.Export(request, {}, [&](const IncrementalGap::Window& w, const std::string& arn) { stored[w] = arn; },
                            stop);
  ASSERT_TRUE(windows.ok()) << windows.status().ToString();
  ASSERT_EQ(windows->size(), 2u);
  ASSERT_EQ(exports.requests.size(), 2u);
  EXPECT_EQ(exports.requests[0].incremental_from_ms, kExportTimeMs / 1000 * 1000 - 30 * 3'600'000LL);
  EXPECT_EQ(exports.requests[0].incremental_to_ms, exports.requests[1].incremental_from_ms);
  EXPECT_EQ(exports.requests[1].incremental_to_ms, kExportTimeMs / 1000 * 1000);
  EXPECT_NE(exports.requests[0].client_token, exports.requests[1].client_token);
  EXPECT_EQ(exports.requests[0].client_token,
            IncrementalGap::ClientToken("users", request.table_arn, {windows->at(0).from_ms, windows->at(0).to_ms}));
  EXPECT_NE(exports.requests[1].client_token,
            ExportRequester::ClientToken("users", request.table_arn, exports.requests[1].incremental_to_ms))
      << "a full export at the window's end has a token of its own";
  EXPECT_EQ(windows->at(1).manifest.files.size(), 1u);
  EXPECT_EQ(stored.size(), 2u);

  // After a kill: the stored ARNs are polled; nothing is requested a second time.
  exports.requests.clear();
  auto again = gap.Export(request, stored, {}, stop);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->size(), 2u);
  EXPECT_TRUE(exports.requests.empty());
  EXPECT_EQ(exports.described, (std::vector<std::string>{"arn:export/1", "arn:export/2"}));
}

TEST(ExportSnapshotCovers, OnlyTheFirstSnapshotsSegments) {
  EXPECT_TRUE(ExportSnapshot::Covers(FileLease(3)));
  ClaimedPartition backfill = FileLease(3);
  backfill.id = "scan/3/8@t1";
  backfill.scope = {"orders"};
  EXPECT_FALSE(ExportSnapshot::Covers(backfill));
  ClaimedPartition shard = FileLease(0);
  shard.kind = PartitionKind::kShard;
  shard.id = "shardId-0001";
  EXPECT_FALSE(ExportSnapshot::Covers(shard));
}

}  // namespace
}  // namespace ddb2pg::source
