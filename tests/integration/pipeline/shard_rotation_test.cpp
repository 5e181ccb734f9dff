// Shard rotation with two runners sharing the shards, on real DynamoDB Local 1.25.1 under an
// accelerated clock (faketime x2000): it closes a shard 4 h (of its clock) old and opens a child,
// like AWS — a rotation every few seconds of real time; iterators expire after 15 min of its clock
// (< 1 s real), so readers meet ExpiredIterator often. The test starts and stops that server.
//
// Parent before child across runners: an audit pipeline logs every (key, version) applied, in
// commit order; a child shard read before its parent was finished would apply an older version
// of a key after a newer one. At the end PostgreSQL equals the table.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "pipeline_fixture.h"

namespace ddb2pg::testing {
namespace {

// Starts `scripts/servers start DIR --ddb-version 1.25.1 --faketime ...` and stops it on exit.
class RotatingServer {
 public:
  RotatingServer() : dir_("/tmp/" + UniqueName("rotsrv")) {
    const std::string command = std::string(DDB2PG_SOURCE_DIR) + "/scripts/servers start " + dir_ +
                                " --ddb-version 1.25.1 --faketime '+0 x2000' --no-pg >" + dir_ + ".log 2>&1";
    started_ = std::system(command.c_str()) == 0;
    std::ifstream env(dir_ + "/env");
    const std::string prefix = "export DDB2PG_TEST_DYNAMODB_ENDPOINT=";
    for (std::string line; std::getline(env, line);) {
      if (line.rfind(prefix, 0) == 0) endpoint_ = line.substr(prefix.size());
    }
  }
  ~RotatingServer() {
    const std::string command = std::string(DDB2PG_SOURCE_DIR) + "/scripts/servers stop " + dir_ + " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) std::cerr << "could not stop the server in " << dir_ << "\n";
    std::remove((dir_ + ".log").c_str());
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  bool ok() const { return started_ && !endpoint_.empty(); }
  const std::string& endpoint() const { return endpoint_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool started_ = false;
  std::string endpoint_;
};

class ShardRotation : public PipelineFixture {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RotatingServer>();
    ASSERT_TRUE(server_->ok()) << "could not start DynamoDB Local 1.25.1 (see " << server_->dir() << ".log)";
    saved_endpoint_ = DynamoDbEndpoint();
    setenv("DDB2PG_TEST_DYNAMODB_ENDPOINT", server_->endpoint().c_str(), 1);
    PipelineFixture::SetUp();
  }
  void TearDown() override {
    if (!saved_endpoint_.empty()) setenv("DDB2PG_TEST_DYNAMODB_ENDPOINT", saved_endpoint_.c_str(), 1);
    server_.reset();
  }
  std::unique_ptr<RotatingServer> server_;
  std::string saved_endpoint_;
};

TEST_F(ShardRotation, TwoRunnersShareTheShardsParentBeforeChild) {
  std::string config = ConfigWithAuditPipeline();
  config += "\nruntime:\n  lease_ttl_ms: 3000\n  heartbeat_ms: 300\n";
  const std::string config_path = ScratchDir() + "/" + key_ + ".yaml";
  const std::string log_path = ScratchDir() + "/" + key_ + ".log";
  std::ofstream(config_path) << config;

  BulkLoad(30, 61);
  const std::vector<std::string> args = {DDB2PG_BINARY, "run", "-c", config_path, "--progress", "plain",
                                         "--metrics-listen", "off", "--init-schema", "--lanes", "2"};
  ChildProcess first(args, ChildEnvironment(), log_path);
  ChildProcess second(args, ChildEnvironment(), log_path);
  // The changes start once the snapshot's watermark is taken, so every delete leaves the
  // soft-deleted row the oracle expects (an item created and deleted before it is in neither the
  // Scan nor the applied stream: docs/consistency.md, "The watermark").
  WaitForSeed();
  // Which runner gets a new shard is a race between the two (each shard is claimed by whoever
  // ticks first once its parent is done). Half-way, the runner holding the open shard stops: the
  // other must take the lineage over, so both read shards whatever the races went like.
  ChildProcess* stopped = nullptr;
  {
    app::SampleData data(62);
    const auto start = std::chrono::steady_clock::now();
    const auto end = start + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < end) {
      RandomChange(data);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (stopped == nullptr && std::chrono::steady_clock::now() - start > std::chrono::seconds(14)) {
        // runner ids are host:pid:random.
        const auto owners = pg_->Query("SELECT split_part(owner, ':', 2) FROM ddb2pg.partitions WHERE kind = 'shard' AND "
                                       "state = 'pending' AND owner IS NOT NULL LIMIT 1");
        if (owners.empty() || !owners[0][0]) continue;
        const pid_t owner = static_cast<pid_t>(std::stoi(*owners[0][0]));
        stopped = owner == first.pid() ? &first : owner == second.pid() ? &second : nullptr;
        if (stopped == nullptr) continue;
        stopped->Signal(SIGTERM);
        EXPECT_EQ(stopped->Wait(std::chrono::seconds(10)), 0) << "see " << log_path;
      }
    }
  }
  ASSERT_NE(stopped, nullptr) << "no runner held a shard half-way (see " << log_path << ")";
  ChildProcess& remaining = stopped == &first ? second : first;
  const auto differences = WaitUntilEqual(std::chrono::seconds(120));
  EXPECT_TRUE(differences.empty()) << ::testing::PrintToString(differences) << " (log: " << log_path << ")";
  remaining.Signal(SIGTERM);
  EXPECT_EQ(remaining.Wait(std::chrono::seconds(5)), 0) << "see " << log_path;

  const int shards = std::stoi(pg_->Scalar("SELECT count(*) FROM ddb2pg.lease_events WHERE partition_id NOT LIKE 'scan/%' "
                                           "AND event = 'claim'"));
  EXPECT_GE(shards, 3) << "the stream rotated its shards several times";
  EXPECT_EQ(pg_->Scalar("SELECT count(DISTINCT runner_id) FROM ddb2pg.lease_events WHERE partition_id NOT LIKE "
                        "'scan/%' AND event = 'claim'"),
            "2")
      << "both runners read shards";
  // Per key, versions were applied in order (a delete carries the version it deleted): no older
  // version in a later transaction than a newer one.
  const auto out_of_order = pg_->Query(
      "SELECT a.id::text, a.v, b.v FROM " + schema_ + ".audit_log a JOIN " + schema_ +
      ".audit_log b ON a.id = b.id AND a.v < b.v AND a.xid > b.xid WHERE a.op <> 'snapshot' AND b.op <> 'snapshot' "
      "LIMIT 5");
  EXPECT_TRUE(out_of_order.empty()) << "key " << *out_of_order[0][0] << ": version " << *out_of_order[0][1]
                                    << " applied after " << *out_of_order[0][2];
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM (SELECT id, v, op FROM " + schema_ +
                        ".audit_log GROUP BY 1, 2, 3 HAVING count(*) > 1) x"),
            "0")
      << "no change applied twice";
}

}  // namespace
}  // namespace ddb2pg::testing
