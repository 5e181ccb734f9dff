// Batch: everything one PostgreSQL transaction commits — the rows of every fan-out table and the
// dead letters (the partitions' positions travel beside it, pipeline::PartitionAdvance). Built by the pipeline's
// BatchBuilder, committed by a pipeline::Sink (PostgresSink): a plain value shared by both, so
// neither includes the other.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/record.h"
#include "core/value.h"
#include "model/row.h"
#include "model/pipeline_spec.h"

namespace ddb2pg::model {

struct DeadLetter {
  std::string pipeline;
  std::string key_json;      // the item key as DynamoDB JSON
  std::string operation;     // core::OperationName
  std::string reason;        // the mapping error
  std::string item_json;     // the raw image as DynamoDB JSON ("" when none)
  int64_t change_time_ms = 0;
  std::string position;      // "<partition>@<offset>" of the record

  // What the letter adds to a batch's bytes (it travels in the same transaction): the runtime
  // counts it toward the batch byte limit like a row's byte_size().
  size_t byte_size() const {
    return pipeline.size() + key_json.size() + operation.size() + reason.size() + item_json.size() +
           position.size() + sizeof(change_time_ms);
  }
};

// The record a row was mapped from: what its dead letter says if PostgreSQL rejects the row.
// The runtime can move these out of the record once it is mapped (no copy on the hot path).
struct RecordOrigin {
  core::Value key{};  // the item key (a map; rendered as DynamoDB JSON only for a dead letter)
  core::Operation operation = core::Operation::kSnapshot;
  core::Position position{};
  int64_t change_time_ms = 0;
};

struct TableRows {
  const model::TableSpec* table = nullptr;  // owned by the pipeline configuration
  // In record order; the same key may appear several times: the sink keeps the last.
  std::vector<model::Row> rows;
  // What happens to a row PostgreSQL rejects (a data error: SQLSTATE class 22 or 23, 21000,
  // 54000, P0001). kDeadLetter / kSkip: exactly the rejected rows are left out, the rest of the
  // batch commits; kStop: nothing commits and Commit() fails with kDataError. The runtime sets
  // it from the pipeline's on_error; the default stops, so a batch that does not say cannot
  // lose rows quietly.
  model::ErrorPolicy on_error = model::ErrorPolicy::kStop;
  std::string pipeline{};  // names the pipeline in the dead letters of rejected rows
  // Optional, parallel to `rows`: origins[i] indexes Batch::origins for rows[i]. Without it a
  // rejected row's dead letter carries the row's key cells and no position.
  std::vector<uint32_t> origins{};
};

struct Batch {
  std::vector<TableRows> tables;  // each table at most once
  std::vector<DeadLetter> dead_letters;
  std::vector<RecordOrigin> origins{};  // see TableRows::origins
  int64_t records = 0;      // source records this batch covers (for metrics)
  int64_t max_change_time_ms = 0;
};

}  // namespace ddb2pg::model
