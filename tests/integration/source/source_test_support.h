// Helpers for the source's integration tests: clients on one DynamoDB Local database (its own
// access key), a stream-enabled table of {id S, version N, payload S} items, a writer model that
// remembers every version it wrote, and a target model that applies records like a sink would.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "aws/credentials.h"
#include "aws/dynamodb_client.h"
#include "aws/streams_client.h"
#include "core/clock.h"
#include "core/record.h"
#include "support/test_env.h"

namespace ddb2pg::source::testing {

struct Database {
  explicit Database(const std::string& endpoint, const std::string& access_key)
      : resolved(Resolve(endpoint, access_key)),
        table(resolved, aws::RetryPolicy(), core::SystemClock::Instance()),
        streams(resolved, aws::RetryPolicy(), core::SystemClock::Instance()) {}

  static aws::ResolvedAws Resolve(const std::string& endpoint, const std::string& access_key) {
    aws::ResolvedAws resolved;
    resolved.credentials.access_key_id = access_key;
    resolved.credentials.secret_access_key = "secret";
    resolved.credentials.source = "test";
    resolved.region = "us-east-1";
    resolved.dynamodb_endpoint = endpoint;
    resolved.streams_endpoint = endpoint;
    return resolved;
  }

  void CreateTable(const std::string& name) {
    aws::CreateTableRequest request;
    request.table_name = name;
    request.key_schema = {{"id", "HASH"}};
    request.attribute_definitions = {{"id", "S"}};
    request.stream_view_type = "NEW_AND_OLD_IMAGES";
    auto created = table.CreateTable(request);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    auto active = table.WaitForTableActive(name);
    ASSERT_TRUE(active.ok()) << active.status().ToString();
  }

  aws::ResolvedAws resolved;
  aws::DynamoDbClient table;
  aws::StreamsClient streams;
};

inline std::string KeyId(int n) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "k%06d", n);
  return buffer;
}

inline core::Value MakeItem(const std::string& id, int version) {
  return core::Value::MakeMap({{"id", core::Value::String(id)},
                               {"version", core::Value::Number(std::to_string(version))},
                               {"payload", core::Value::String("payload of " + id + " at version " + std::to_string(version))}});
}

inline std::optional<int> VersionOf(const std::optional<core::Value>& image) {
  if (!image) return std::nullopt;
  return std::stoi(image->Find("version")->number_text());
}

// The table as the writer left it: id → version of the live item (absent: deleted / never written).
class WriterModel {
 public:
  explicit WriterModel(Database& db, std::string table_name, uint32_t seed)
      : db_(db), table_name_(std::move(table_name)), random_(seed) {}

  void BulkInsert(int first, int count) {
    std::vector<aws::WriteRequest> writes;
    for (int n = first; n < first + count; ++n) {
      const std::string id = KeyId(n);
      const int version = ++next_version_[id];
      writes.push_back({MakeItem(id, version), std::nullopt});
      live_[id] = version;
    }
    core::Status status = db_.table.BatchWriteItem(table_name_, writes);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  // One random insert, update or delete on keys [0, key_space).
  void RandomChange(int key_space) {
    const std::string id = KeyId(static_cast<int>(random_() % static_cast<uint32_t>(key_space)));
    const bool exists = live_.count(id) != 0;
    if (exists && random_() % 10 < 3) {
      core::Status status = db_.table.DeleteItem(table_name_, core::Value::MakeMap({{"id", core::Value::String(id)}}));
      ASSERT_TRUE(status.ok()) << status.ToString();
      live_.erase(id);
      ++deletes_;
      return;
    }
    const int version = ++next_version_[id];
    if (exists && random_() % 2 == 0) {
      aws::UpdateItemRequest update;
      update.table_name = table_name_;
      update.key = core::Value::MakeMap({{"id", core::Value::String(id)}});
      update.update_expression = "SET #v = :v, payload = :p";
      update.expression_attribute_names = {{"#v", "version"}};
      update.expression_attribute_values = {
          {":v", core::Value::Number(std::to_string(version))},
          {":p", core::Value::String("payload of " + id + " at version " + std::to_string(version))}};
      core::Status status = db_.table.UpdateItem(update);
      ASSERT_TRUE(status.ok()) << status.ToString();
    } else {
      core::Status status = db_.table.PutItem(table_name_, MakeItem(id, version));
      ASSERT_TRUE(status.ok()) << status.ToString();
    }
    exists ? ++updates_ : ++inserts_;
    live_[id] = version;
  }

  const std::map<std::string, int>& live() const { return live_; }
  // Every version ever written per key (1 … n).
  const std::map<std::string, int>& versions_written() const { return next_version_; }
  int inserts() const { return inserts_; }
  int updates() const { return updates_; }
  int deletes() const { return deletes_; }

 private:
  Database& db_;
  std::string table_name_;
  std::mt19937 random_;
  std::map<std::string, int> live_;
  std::map<std::string, int> next_version_;
  int inserts_ = 0, updates_ = 0, deletes_ = 0;
};

// Applies records like a sink: snapshot/create/update upsert `after`, delete removes. Checks, per
// key, that stream changes chain: each change's old image is the previous change's new image
// (the stream was read from TRIM_HORIZON of a table whose stream was on from its creation, so
// the chain starts at the key's first INSERT). A broken chain is a gap or a reordering.
class TargetModel {
 public:
  void Apply(const core::Record& record) {
    using core::Operation;
    switch (record.operation) {
      case Operation::kMarker:
        if (record.position.partition == "snapshot" && record.position.partition_done) snapshot_done_ = true;
        return;
      case Operation::kSnapshot: {
        EXPECT_FALSE(snapshot_done_) << "a snapshot row after the hand-off";
        const std::string id = record.key.Find("id")->as_string();
        EXPECT_TRUE(snapshot_ids_.insert(id).second) << "snapshot row " << id << " emitted twice";
        rows_[id] = *VersionOf(record.after);
        return;
      }
      case Operation::kCreate:
      case Operation::kUpdate:
      case Operation::kDelete: {
        ++changes_;
        const std::string id = record.key.Find("id")->as_string();
        EXPECT_TRUE(sequence_numbers_.insert(record.metadata.shard_id + "/" + record.metadata.sequence_number).second)
            << "change " << record.metadata.sequence_number << " emitted twice";
        auto& last = chain_[id];
        const std::optional<int> before = VersionOf(record.before);
        if (before != last) {
          ++chain_breaks_;
          if (chain_breaks_ <= 5) {
            ADD_FAILURE() << "key " << id << ": change " << record.metadata.sequence_number << " has old version "
                          << (before ? std::to_string(*before) : "none") << " but the last change applied left "
                          << (last ? std::to_string(*last) : "none");
          }
        }
        last = VersionOf(record.after);
        if (record.after) {
          versions_seen_[id].insert(*last);
          rows_[id] = *last;
        } else {
          rows_.erase(id);
        }
        return;
      }
    }
  }

  const std::map<std::string, int>& rows() const { return rows_; }
  const std::set<std::string>& snapshot_ids() const { return snapshot_ids_; }
  bool snapshot_done() const { return snapshot_done_; }
  int64_t changes() const { return changes_; }
  int chain_breaks() const { return chain_breaks_; }
  // Every version 1 … n of every key written was seen (inserts and updates; deletes are in the chain).
  bool SawEveryVersion(const std::map<std::string, int>& versions_written, std::string* missing) const {
    for (const auto& [id, last_version] : versions_written) {
      auto found = versions_seen_.find(id);
      for (int version = 1; version <= last_version; ++version) {
        if (found == versions_seen_.end() || found->second.count(version) == 0) {
          *missing = id + " version " + std::to_string(version);
          return false;
        }
      }
    }
    return true;
  }

 private:
  std::map<std::string, int> rows_;
  std::set<std::string> snapshot_ids_;
  std::set<std::string> sequence_numbers_;
  std::map<std::string, std::optional<int>> chain_;
  std::map<std::string, std::set<int>> versions_seen_;
  bool snapshot_done_ = false;
  int64_t changes_ = 0;
  int chain_breaks_ = 0;
};

}  // namespace ddb2pg::source::testing
