// The sample-data generator behind `ddb2pg generate` and the demo: reference-scenario items
// written to DynamoDB at a steady rate (PutItem / DeleteItem, one thread) or in bulk
// (BatchWriteItem from several threads, as fast as the server takes them).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "app/sample_data.h"
#include "aws/dynamodb_client.h"
#include "core/status.h"

namespace ddb2pg::app {

struct GeneratorOptions {
  std::string table = "users";
  bool create_table = false;         // create the table (key id S) with a NEW_AND_OLD_IMAGES stream if missing
  ItemShape shape = ItemShape::kNested;
  double rate = 100;                 // steady mode: operations per second
  std::chrono::seconds duration{0};  // steady mode: stop after this long (0: use count)
  int64_t count = 0;                 // operations (bulk: items) to write; 0 with duration 0: 1000
  double update_ratio = 0.2;         // steady mode: share of operations that update a known item
  double delete_ratio = 0.05;        // steady mode: share of operations that delete a known item
  double bad_ratio = 0;              // share of new items that are bad (see BadKind)
  bool bulk = false;                 // BatchWriteItem from `threads` threads, puts only
  int threads = 4;
  uint64_t seed = 1;
};

struct GeneratorReport {
  int64_t inserts = 0;
  int64_t updates = 0;
  int64_t deletes = 0;
  int64_t bad = 0;
  double seconds = 0;
  double operations_per_second() const { return seconds > 0 ? (inserts + updates + deletes) / seconds : 0; }
};

// Creates the table with its stream unless it exists; waits until ACTIVE.
core::Status EnsureUsersTable(aws::DynamoDbClient& client, const std::string& table);

// Writes until count/duration is reached or *stop becomes true.
core::Result<GeneratorReport> RunGenerator(aws::DynamoDbClient& client, const GeneratorOptions& options,
                                           const std::atomic<bool>* stop = nullptr);

}  // namespace ddb2pg::app
