// Shared set-up for end-to-end pipeline tests on the real servers: an isolated DynamoDB Local
// database (own access key) with the `users` table, an own PostgreSQL schema, the reference
// configuration (examples/users.yaml) pointed at both, and helpers to compare both sides.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "processor/plan_checker.h"
#include "app/generator.h"
#include "app/sample_data.h"
#include "app/wiring.h"
#include "aws/dynamodb_client.h"
#include "config/config.h"
#include "support/test_env.h"

namespace ddb2pg::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// What the test expects of one DynamoDB item, tracked by the writer (the test's own oracle).
struct Expected {
  int64_t version = 0;
  bool deleted = false;
  core::Value item;  // the last image written
};

class PipelineFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = UniqueName("pipe");
    schema_ = key_;
    aws_.credentials.access_key_id = key_;
    aws_.credentials.secret_access_key = "secret";
    aws_.region = "us-east-1";
    aws_.dynamodb_endpoint = DynamoDbEndpoint();
    aws_.streams_endpoint = aws_.dynamodb_endpoint;
    ddb_ = std::make_unique<aws::DynamoDbClient>(aws_, aws::RetryPolicy(), core::SystemClock::Instance());
    ASSERT_TRUE(app::EnsureUsersTable(*ddb_, "users").ok());
    UsePostgres(PostgresConninfo());
  }

  // Each test gets its own database on the server: ddb2pg's checkpoint and dead-letter tables
  // are per database, so tests running side by side never share a checkpoint.
  static std::string OwnDatabase(const std::string& admin_conninfo, const std::string& name) {
    PgTestConnection admin(admin_conninfo);
    admin.Exec("CREATE DATABASE " + name);
    std::string conninfo = admin_conninfo;
    const size_t at = conninfo.find("dbname=");
    if (at == std::string::npos) return conninfo + " dbname=" + name;
    const size_t end = conninfo.find(' ', at);
    return conninfo.replace(at, (end == std::string::npos ? conninfo.size() : end) - at, "dbname=" + name);
  }

  // Points the test (and configs it makes) at a PostgreSQL server and creates the schema there.
  void UsePostgres(const std::string& admin_conninfo) {
    pg_conninfo_ = OwnDatabase(admin_conninfo, key_);
    pg_ = std::make_unique<PgTestConnection>(pg_conninfo_);
    pg_->Exec("CREATE SCHEMA IF NOT EXISTS " + schema_);
  }

  // examples/users.yaml with every table in this test's schema, plus `extra` YAML appended to
  // the pipelines list.
  std::string ConfigText(const std::string& extra_pipelines = "") const {
    std::string text = ReadFile(std::string(DDB2PG_SOURCE_DIR) + "/examples/users.yaml");
    for (const char* table : {"profile", "appearance_settings", "notification_settings"}) {
      ReplaceAll(text, std::string("table: ") + table + "\n", "table: " + schema_ + "." + table + "\n");
    }
    return text + extra_pipelines;
  }

  // The proof of "never twice": an `audit` table with one row per change (key id, version,
  // operation) whose trigger logs every INSERT and UPDATE into `audit_log` in the same
  // transaction, with the transaction's id (xid). Returns the reference configuration plus the
  // `audit` pipeline that writes it.
  std::string ConfigWithAuditPipeline() const {
    pg_->Exec("CREATE TABLE " + schema_ + ".audit (id UUID, v BIGINT, op TEXT, deleted BOOLEAN, "
              "deleted_at TIMESTAMPTZ, PRIMARY KEY (id, v, op))");
    pg_->Exec("CREATE TABLE " + schema_ + ".audit_log (xid BIGINT DEFAULT txid_current(), id UUID, v BIGINT, op TEXT)");
    pg_->Exec("CREATE FUNCTION " + schema_ + ".log_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO " +
              schema_ + ".audit_log (id, v, op) VALUES (NEW.id, NEW.v, NEW.op); RETURN NEW; END $$");
    pg_->Exec("CREATE TRIGGER log AFTER INSERT OR UPDATE ON " + schema_ + ".audit FOR EACH ROW EXECUTE FUNCTION " +
              schema_ + ".log_audit()");
    return ConfigText("\n  - name: audit\n    source: users\n    table: " + schema_ +
                      ".audit\n    key: [id, v, op]\n    on_delete: soft\n    columns:\n      id: UUID <- id\n"
                      "      v: BIGINT <- v\n      op: TEXT <- operation()\n      deleted: BOOLEAN <- deleted\n"
                      "      deleted_at: TIMESTAMPTZ <- deletedAt\n");
  }

  // The environment a ddb2pg subprocess needs to reach this test's servers.
  std::vector<std::string> ChildEnvironment() const {
    return {"AWS_ENDPOINT_URL_DYNAMODB=" + aws_.dynamodb_endpoint, "AWS_ACCESS_KEY_ID=" + key_,
            "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1", "DATABASE_URL=" + pg_conninfo_};
  }

  config::Config LoadConfig(const std::string& text) const {
    auto loaded = config::LoadConfigText(text, "test.yaml", processor::PlanChecker());
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    config::Config config = std::move(loaded).value();
    for (auto& source : config.sources) {
      source.endpoint = aws_.dynamodb_endpoint;
      source.access_key_id = key_;
      source.secret_access_key = "secret";
      source.region = "us-east-1";
    }
    config.postgres.conninfo = pg_conninfo_;
    config.metrics.listen = "";
    return config;
  }

  // Waits until the source is seeded (its shard partitions exist, the first at the snapshot's
  // watermark): changes made after this are applied as changes; changes before it are in the
  // snapshot (docs/consistency.md, "The watermark"). A test that counts applied changes starts
  // its writer here.
  void WaitForSeed(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        if (pg_->Scalar("SELECT count(*) FROM ddb2pg.partitions WHERE kind = 'shard'") != "0") return;
      } catch (const std::runtime_error&) {  // ddb2pg's tables are not created yet
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "the source was not seeded within " << timeout.count() << " s";
  }

  // Writes `count` fresh items in bulk; records them in the oracle.
  void BulkLoad(int count, uint64_t seed) {
    app::SampleData data(seed);
    std::vector<aws::WriteRequest> writes;
    for (int i = 0; i < count; ++i) {
      const std::string id = data.NewId();
      core::Value item = data.MakeItem(id, 1);
      Remember(id, item, 1, false);
      writes.push_back({std::move(item), std::nullopt});
    }
    ASSERT_TRUE(ddb_->BatchWriteItem("users", writes).ok());
  }

  // One random change: insert (40%), update (45%) or delete (15%) of a known live item.
  void RandomChange(app::SampleData& data) {
    std::uniform_int_distribution<int> percent(0, 99);
    const int pick = percent(data.rng());
    std::string id;
    {
      std::lock_guard lock(mutex_);
      if (pick >= 40 && !live_.empty()) {
        auto it = live_.begin();
        std::advance(it, std::uniform_int_distribution<size_t>(0, std::min<size_t>(live_.size() - 1, 500))(data.rng()));
        id = *it;
      }
    }
    if (id.empty()) {
      id = data.NewId();
      core::Value item = data.MakeItem(id, 1);
      ASSERT_TRUE(ddb_->PutItem("users", item).ok());
      Remember(id, item, 1, false);
    } else if (pick < 85) {
      const int64_t version = VersionOf(id) + 1;
      core::Value item = data.MakeItem(id, version);
      ASSERT_TRUE(ddb_->PutItem("users", item).ok());
      Remember(id, item, version, false);
    } else {
      ASSERT_TRUE(ddb_->DeleteItem("users", core::Value::MakeMap({{"id", core::Value::String(id)}})).ok());
      Remember(id, core::Value(), VersionOf(id), true);
    }
  }

  void Remember(const std::string& id, core::Value item, int64_t version, bool deleted) {
    std::lock_guard lock(mutex_);
    auto& entry = expected_[id];
    entry.version = version;
    entry.deleted = deleted;
    if (!deleted) entry.item = std::move(item);
    if (deleted) {
      live_.erase(id);
    } else {
      live_.insert(id);
    }
  }

  int64_t VersionOf(const std::string& id) {
    std::lock_guard lock(mutex_);
    return expected_[id].version;
  }

  static std::string Text(const core::Value* v) {
    if (v == nullptr || v->is_null()) return "NULL";
    if (const std::string* s = v->scalar_text()) return *s;
    return v->DebugString();
  }

  // Compares PostgreSQL with the oracle, row by row; returns the differences (empty: equal).
  std::vector<std::string> Differences(size_t max = 10, bool check_counts = true) {
    std::map<std::string, SqlRow> profiles, appearance, notifications;
    for (auto& row : pg_->Query("SELECT id::text, name, handle, location, bio, rep_score::text, deleted::text, "
                                "(deleted_at IS NOT NULL)::text FROM " + schema_ + ".profile")) {
      profiles[*row[0]] = row;
    }
    for (auto& row : pg_->Query("SELECT profile_id::text, mode, colorway, coalesce(theme, 'NULL'), deleted::text FROM " +
                                schema_ + ".appearance_settings")) {
      appearance[*row[0]] = row;
    }
    for (auto& row : pg_->Query("SELECT profile_id::text, push_follows::text, app_tp_replies::text, deleted::text FROM " +
                                schema_ + ".notification_settings")) {
      notifications[*row[0]] = row;
    }
    std::vector<std::string> out;
    auto differ = [&](const std::string& what) {
      if (out.size() < max) out.push_back(what);
    };
    std::lock_guard lock(mutex_);
    if (check_counts && profiles.size() != expected_.size()) {
      differ("profile has " + std::to_string(profiles.size()) + " rows, expected " + std::to_string(expected_.size()));
    }
    for (const auto& [id, expected] : expected_) {
      auto p = profiles.find(id);
      if (p == profiles.end()) {
        differ("profile " + id + " missing");
        continue;
      }
      const SqlRow& row = p->second;
      if (expected.deleted) {
        if (row[6] != std::optional<std::string>("true") || row[7] != std::optional<std::string>("true")) {
          differ("profile " + id + " should be soft-deleted");
        }
        continue;
      }
      const core::Value& item = expected.item;
      if (row[6] != std::optional<std::string>("false")) differ("profile " + id + " deleted should be false");
      if (row[1].value_or("NULL") != Text(item.Find("name"))) differ("profile " + id + " name " + row[1].value_or("NULL"));
      if (row[2].value_or("NULL") != Text(item.Find("handle"))) differ("profile " + id + " handle differs");
      if (row[3].value_or("NULL") != Text(item.Find("location"))) differ("profile " + id + " location differs");
      if (row[4].value_or("NULL") != Text(item.Find("bio"))) differ("profile " + id + " bio differs");
      if (row[5].value_or("NULL") != Text(item.Find("repScore"))) {
        differ("profile " + id + " rep_score " + row[5].value_or("NULL") + " vs " + Text(item.Find("repScore")));
      }
      auto a = appearance.find(id);
      const core::Value* look = item.Find("appearance");
      if (a == appearance.end()) {
        differ("appearance_settings " + id + " missing");
      } else if (a->second[1].value_or("NULL") != Text(look->Find("mode")) ||
                 a->second[2].value_or("NULL") != Text(look->Find("colorway")) ||
                 a->second[3].value_or("NULL") != Text(look->Find("theme"))) {
        differ("appearance_settings " + id + " differs");
      }
      auto n = notifications.find(id);
      const core::Value* notes = item.Find("notifications");
      if (n == notifications.end()) {
        differ("notification_settings " + id + " missing");
      } else if (n->second[1].value_or("NULL") != (notes->Find("push_follows")->as_bool() ? "true" : "false") ||
                 n->second[2].value_or("NULL") != (notes->Find("app_tp_replies")->as_bool() ? "true" : "false")) {
        differ("notification_settings " + id + " differs");
      }
    }
    return out;
  }

  // Polls until PostgreSQL equals the oracle or `timeout` passes; returns the last differences.
  std::vector<std::string> WaitUntilEqual(std::chrono::seconds timeout, bool check_counts = true) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<std::string> differences;
    do {
      try {
        differences = Differences(10, check_counts);
      } catch (const std::runtime_error& error) {  // e.g. the tables are not created yet
        differences = {error.what()};
      }
      if (differences.empty()) return differences;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    } while (std::chrono::steady_clock::now() < deadline);
    return differences;
  }

  std::string key_, schema_, pg_conninfo_;
  aws::ResolvedAws aws_;
  std::unique_ptr<aws::DynamoDbClient> ddb_;
  std::unique_ptr<PgTestConnection> pg_;
  std::mutex mutex_;
  std::map<std::string, Expected> expected_;
  std::set<std::string> live_;
};

// A ddb2pg subprocess with extra environment; stdout/stderr to `log_path`.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::string& log_path) {
    pid_ = fork();
    if (pid_ == 0) {
      for (const auto& assignment : env) putenv(const_cast<char*>(strdup(assignment.c_str())));
      FILE* log = fopen(log_path.c_str(), "a");
      if (log != nullptr) {
        dup2(fileno(log), 1);
        dup2(fileno(log), 2);
      }
      std::vector<char*> argv;
      for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~ChildProcess() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void Signal(int sig) { kill(pid_, sig); }
  // Waits up to `timeout`; the exit code, or -1 on timeout, or 128+signal when killed.
  int Wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

}  // namespace ddb2pg::testing
