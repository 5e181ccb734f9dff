// Issue 16 (TTL deletes) end to end: DynamoDB Local never expires items, so bench/replay_server
// serves the table and a stream whose REMOVEs carry the TTL service's userIdentity
// ({"type": "Service", "principalId": "dynamodb.amazonaws.com"}) or none (a user's delete). The
// real `ddb2pg run` reads them over HTTP, maps them and writes PostgreSQL through the real sink:
//  - archive (on_delete: hard, on_ttl_delete: soft, expired <- ttl_delete()): an expired item's
//    row stays with deleted = true and expired = true; a user-deleted item's row is gone;
//  - keep (on_delete: soft, on_ttl_delete: ignore): the reverse.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "pipeline_fixture.h"
#ifdef DDB2PG_REPLAY_SERVER
#include "reference_data.h"
#endif

namespace ddb2pg::testing {
namespace {

#ifndef DDB2PG_REPLAY_SERVER
TEST(TtlDeletes, ReplayedTtlRemoveFollowsOnTtlDeleteThroughTheRealSink) {
  GTEST_SKIP() << "built without bench/replay_server (DDB2PG_BUILD_BENCH=OFF)";
}
#else

constexpr int kItems = 6;       // items 1..6 of bench/reference_data.h
constexpr int kTtlRemoves = 2;  // items 1, 2: expired by TTL
constexpr int kRemoves = 2;     // items 3, 4: deleted by a user; 5, 6 stay

class TtlDeletes : public PipelineFixture {
 protected:
  // Only PostgreSQL: the source is the replay server, not DynamoDB Local.
  void SetUp() override {
    key_ = UniqueName("ttl");
    schema_ = key_;
    UsePostgres(PostgresConninfo());
  }

  // Starts the replay server; returns its port, or 0 (with a test failure) when it did not start.
  int StartReplayServer(std::unique_ptr<ChildProcess>* server, const std::string& log_path) {
    *server = std::make_unique<ChildProcess>(
        std::vector<std::string>{DDB2PG_REPLAY_SERVER, "--items", std::to_string(kItems), "--records", "0",
                                 "--shards", "1", "--ttl-removes", std::to_string(kTtlRemoves), "--removes",
                                 std::to_string(kRemoves)},
        std::vector<std::string>{}, log_path);
    const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch match;
      const std::string log = ReadFile(log_path);
      if (std::regex_search(log, match, listening)) return std::stoi(match[1].str());
      if ((*server)->Wait(std::chrono::milliseconds(100)) != -1) break;  // it exited
    }
    ADD_FAILURE() << "replay_server did not start; see " << log_path;
    return 0;
  }

  static std::string ItemId(int seed) {
    return bench::MakeReferenceItem(static_cast<uint64_t>(seed)).Find("id")->as_string();
  }

  // id → "deleted expired deleted_at" (or "deleted deleted_at" without an expired column).
  std::map<std::string, std::string> Rows(const std::string& table, bool with_expired) {
    std::map<std::string, std::string> rows;
    const std::string expired = with_expired ? " || ' ' || expired::text" : "";
    for (auto& row : pg_->Query("SELECT id::text, deleted::text" + expired +
                                " || ' ' || coalesce(to_char(deleted_at AT TIME ZONE 'UTC', "
                                "'YYYY-MM-DD HH24:MI:SS'), 'NULL') FROM " + schema_ + "." + table)) {
      rows[*row[0]] = *row[1];
    }
    return rows;
  }
};

TEST_F(TtlDeletes, ReplayedTtlRemoveFollowsOnTtlDeleteThroughTheRealSink) {
  const std::string replay_log = ScratchDir() + "/" + key_ + ".replay.log";
  const std::string log_path = ScratchDir() + "/" + key_ + ".log";
  std::unique_ptr<ChildProcess> server;
  const int port = StartReplayServer(&server, replay_log);
  ASSERT_GT(port, 0);

  const std::string config_path = ScratchDir() + "/" + key_ + ".yaml";
  std::ofstream(config_path) << "version: 1\n"
                                "sources:\n"
                                "  users:\n"
                                "    table: users\n"
                                "postgres:\n"
                                "  url: ${DATABASE_URL}\n"
                                "pipelines:\n"
                                "  - name: archive\n"
                                "    table: " + schema_ + ".archive\n"
                                "    key: id\n"
                                "    on_delete: hard\n"
                                "    on_ttl_delete: soft\n"
                                "    columns:\n"
                                "      id: UUID <- id\n"
                                "      handle: TEXT <- handle\n"
                                "      expired: BOOLEAN <- ttl_delete()\n"
                                "      deleted: BOOLEAN <- null\n"
                                "      deleted_at: TIMESTAMPTZ <- null\n"
                                "  - name: keep\n"
                                "    table: " + schema_ + ".keep\n"
                                "    key: id\n"
                                "    on_delete: soft\n"
                                "    on_ttl_delete: ignore\n"
                                "    columns:\n"
                                "      id: UUID <- id\n"
                                "      deleted: BOOLEAN <- null\n"
                                "      deleted_at: TIMESTAMPTZ <- null\n";
  const std::vector<std::string> env = {"AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:" + std::to_string(port),
                                        "AWS_ACCESS_KEY_ID=ttl", "AWS_SECRET_ACCESS_KEY=secret",
                                        "AWS_REGION=us-east-1", "DATABASE_URL=" + pg_conninfo_};
  ChildProcess run({DDB2PG_BINARY, "run", "-c", config_path, "--progress", "plain", "--metrics-listen", "off",
                    "--init-schema"},
                   env, log_path);

  // The stream's REMOVEs all stamp 2024-09-05 16:56:20 UTC (ApproximateCreationDateTime).
  const std::string removed_at = "2024-09-05 16:56:20";
  std::map<std::string, std::string> archive_expected, keep_expected;
  for (int seed = 1; seed <= kItems; ++seed) {
    const std::string id = ItemId(seed);
    if (seed <= kTtlRemoves) {
      archive_expected[id] = "true true " + removed_at;  // archived on expiry
      keep_expected[id] = "false NULL";                  // expiry ignored
    } else if (seed <= kTtlRemoves + kRemoves) {
      keep_expected[id] = "true " + removed_at;          // a user's delete, soft; gone from archive
    } else {
      archive_expected[id] = "false false NULL";
      keep_expected[id] = "false NULL";
    }
  }

  // Polls until both tables are as expected (the stream stays open, so ddb2pg never ends itself).
  std::map<std::string, std::string> archive, keep;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      archive = Rows("archive", true);
      keep = Rows("keep", false);
    } catch (const std::runtime_error&) {  // the tables are not created yet
    }
    if (archive == archive_expected && keep == keep_expected) break;
    ASSERT_EQ(run.Wait(std::chrono::milliseconds(300)), -1) << "ddb2pg exited early; see " << log_path;
  }
  EXPECT_EQ(archive, archive_expected) << "see " << log_path;
  EXPECT_EQ(keep, keep_expected) << "see " << log_path;
  // The archived rows keep their other columns (the before image), like any soft delete.
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".archive WHERE handle IS NULL"), "0");

  run.Signal(SIGTERM);
  EXPECT_EQ(run.Wait(std::chrono::seconds(30)), 0) << "see " << log_path;
  server->Signal(SIGTERM);
  EXPECT_EQ(server->Wait(std::chrono::seconds(10)), 0) << "see " << replay_log;
}
#endif  // DDB2PG_REPLAY_SERVER

}  // namespace
}  // namespace ddb2pg::testing
