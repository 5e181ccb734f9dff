// BatchBuilder: maps records into the batch a lane is building — every pipeline's rows for the
// record (one, or one per element for an exploded pipeline), dead letters per the pipelines'
// on_error, and each partition's advance (the position the batch brings it to).
//
// Owned by one lane and used only by its mapper thread. The plans and metrics outlive it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/record.h"
#include "core/status.h"
#include "pipeline/metrics.h"
#include "pipeline/partition.h"
#include "processor/mapping_plan.h"
#include "model/batch.h"

namespace ddb2pg::pipeline {

struct BuiltBatch {
  model::Batch batch;
  std::vector<PartitionAdvance> advances;
  std::vector<int64_t> change_times;  // stream records' change times (lag histogram)
  int64_t snapshot_records = 0;
  std::optional<std::chrono::steady_clock::time_point> first_read;  // when its first record was read
  std::map<std::string, std::string> before;  // each advanced partition's position before the batch
};

class BatchBuilder {
 public:
  BatchBuilder(std::vector<const processor::MappingPlan*> plans, Metrics& metrics, const std::string& source_name);

  // Maps one record of partition `lease` into the batch. kInvalidArgument for an on_error: stop
  // pipeline's failure (the record does not touch the batch).
  core::Status Add(core::Record& record, const ClaimedPartition& lease);
  // Takes the batch built so far (empty afterwards); `position_before(id)` gives each advanced
  // partition's position before it (what the previous batch brought it to). It is called once per
  // partition the batch touches, not per partition held: a lane may hold hundreds.
  BuiltBatch Take(const std::function<std::string(const std::string& id)>& position_before);
  void Clear();

  bool empty() const { return batch_.records == 0; }
  // Whether the batch holds records read by the Scan.
  bool has_snapshot_records() const { return snapshot_records_ > 0; }
  bool Full(int max_rows, int max_bytes) const;
  size_t rows() const { return rows_; }
  int64_t skipped() const { return skipped_; }
  // Partitions with records in the batch.
  bool Touches(const std::string& partition_id) const { return advances_.count(partition_id) != 0; }

 private:
  void ResetBatch();

  std::vector<const processor::MappingPlan*> plans_;
  std::vector<const model::TableSpec*> tables_;
  Metrics& metrics_;
  std::vector<prometheus::Counter*> dead_letters_, skipped_counters_, filtered_;
  std::vector<prometheus::Counter*> records_read_;
  std::vector<std::vector<model::Row>> scratch_rows_;  // per plan: the record's rows
  model::Batch batch_;
  std::map<std::string, PartitionAdvance> advances_;
  std::vector<int64_t> change_times_;
  size_t rows_ = 0;
  int64_t snapshot_records_ = 0;
  size_t bytes_ = 0;
  int64_t skipped_ = 0;
};

}  // namespace ddb2pg::pipeline
