// Batch: everything one PostgreSQL transaction commits — the rows of every fan-out table, the
// dead letters, and the source position they bring the checkpoint to.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "processor/row.h"
#include "processor/table_spec.h"

namespace ddb2pg::sink {

struct DeadLetter {
  std::string pipeline;
  std::string key_json;      // the item key as DynamoDB JSON
  std::string operation;     // core::OperationName
  std::string reason;        // the mapping error
  std::string item_json;     // the raw image as DynamoDB JSON ("" when none)
  int64_t change_time_ms = 0;
  std::string position;      // "<partition>@<offset>" of the record
};

struct TableRows {
  const processor::TableSpec* table = nullptr;  // owned by the pipeline configuration
  // In record order; the same key may appear several times: the sink keeps the last.
  std::vector<processor::Row> rows;
};

struct Batch {
  std::vector<TableRows> tables;  // each table at most once
  std::vector<DeadLetter> dead_letters;
  std::string checkpoint;   // the serialized source position after the last record of the batch
  int64_t records = 0;      // source records this batch covers (for metrics)
  int64_t max_change_time_ms = 0;
};

}  // namespace ddb2pg::sink
