#include "pipeline/batch_builder.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/value_json.h"

namespace ddb2pg::pipeline {
namespace {

bool IsStreamOperation(core::Operation op) {
  return op == core::Operation::kCreate || op == core::Operation::kUpdate || op == core::Operation::kDelete;
}

std::string PositionText(const core::Position& position) { return position.partition + "@" + position.offset; }

}  // namespace

BatchBuilder::BatchBuilder(std::vector<const processor::MappingPlan*> plans, Metrics& metrics,
                           const std::string& source_name)
    : plans_(std::move(plans)), metrics_(metrics) {
  for (const auto* plan : plans_) {
    tables_.push_back(&plan->spec().table);
    dead_letters_.push_back(&metrics.DeadLetters(plan->spec().name));
    skipped_counters_.push_back(&metrics.RecordsSkipped(plan->spec().name));
    filtered_.push_back(&metrics.RecordsFiltered(plan->spec().name));
  }
  for (core::Operation op : {core::Operation::kSnapshot, core::Operation::kCreate, core::Operation::kUpdate,
                             core::Operation::kDelete, core::Operation::kMarker}) {
    records_read_.push_back(&metrics.RecordsRead(source_name, std::string(core::OperationName(op))));
  }
  ResetBatch();
}

void BatchBuilder::ResetBatch() {
  batch_ = model::Batch{};
  for (const auto* plan : plans_) {
    model::TableRows rows{&plan->spec().table, {}};
    rows.on_error = plan->spec().on_error;  // what happens to a row PostgreSQL rejects
    rows.pipeline = plan->spec().name;
    batch_.tables.push_back(std::move(rows));
  }
  advances_.clear();
  change_times_.clear();
  rows_ = 0;
  bytes_ = 0;
  snapshot_records_ = 0;
}

void BatchBuilder::Clear() { ResetBatch(); }

bool BatchBuilder::Full(int max_rows, int max_bytes) const {
  return rows_ >= static_cast<size_t>(max_rows) || bytes_ >= static_cast<size_t>(max_bytes);
}

core::Status BatchBuilder::Add(core::Record& record, const ClaimedPartition& lease) {
  records_read_[static_cast<size_t>(record.operation)]->Increment();
  if (record.operation != core::Operation::kMarker) {
    auto& rows = scratch_rows_;  // one list per plan, reused
    rows.resize(plans_.size());
    for (auto& list : rows) list.clear();
    std::vector<model::DeadLetter> letters;
    for (size_t i = 0; i < plans_.size(); ++i) {
      // A backfill's segment feeds only the pipelines it is for.
      if (!lease.scope.empty() &&
          std::find(lease.scope.begin(), lease.scope.end(), plans_[i]->spec().name) == lease.scope.end()) {
        continue;
      }
      // An exploded pipeline's record may give many rows (a child table): all of them travel
      // in this batch, so an update's added and removed elements commit together.
      const core::Status mapped = plans_[i]->MapRows(record, &rows[i]);
      if (mapped.ok()) {
        if (rows[i].empty()) filtered_[i]->Increment();
        continue;
      }
      const auto& spec = plans_[i]->spec();
      metrics_.Errors("mapping").Increment();
      switch (spec.on_error) {
        case model::ErrorPolicy::kStop:
          return core::Status::DataError("pipeline " + spec.name + ": record " + core::ItemToJson(record.key) +
                                               " at " + PositionText(record.position) + ": " +
                                               mapped.message() + " (on_error: stop)");
        case model::ErrorPolicy::kSkip:
          skipped_counters_[i]->Increment();
          ++skipped_;
          spdlog::warn("pipeline {}: skipped a record of partition {}: {}", spec.name, lease.id,
                       mapped.message());
          spdlog::debug("pipeline {}: skipped record {}", spec.name, core::ItemToJson(record.key));
          break;
        case model::ErrorPolicy::kDeadLetter: {
          model::DeadLetter letter;
          letter.pipeline = spec.name;
          letter.key_json = record.key.is_map() ? core::ItemToJson(record.key) : "{}";
          letter.operation = std::string(core::OperationName(record.operation));
          letter.reason = mapped.message();
          const core::Value* image = record.image();
          letter.item_json = image != nullptr && image->is_map() ? core::ItemToJson(*image) : "";
          letter.change_time_ms = record.metadata.change_time_ms;
          letter.position = PositionText(record.position);
          dead_letters_[i]->Increment();
          bytes_ += letter.byte_size();  // dead letters travel in the same transaction
          letters.push_back(std::move(letter));
          break;
        }
      }
    }
    bool has_rows = false;
    const auto origin = static_cast<uint32_t>(batch_.origins.size());
    for (size_t i = 0; i < plans_.size(); ++i) {
      for (model::Row& row : rows[i]) {
        if (record.operation == core::Operation::kSnapshot && row.action == model::RowAction::kUpsert) {
          row.action = model::RowAction::kSnapshotUpsert;  // never overwrites a newer change (the fence)
        }
        bytes_ += row.byte_size();
        rows_ += 1;
        batch_.tables[i].rows.push_back(std::move(row));
        batch_.tables[i].origins.push_back(origin);
        has_rows = true;
      }
    }
    for (auto& letter : letters) batch_.dead_letters.push_back(std::move(letter));
    if (has_rows) {
      // What a rejected row's dead letter says about its record (the sink renders it only then).
      model::RecordOrigin from;
      from.key = record.key;
      from.operation = record.operation;
      from.position = record.position;
      from.change_time_ms = record.metadata.change_time_ms;
      batch_.origins.push_back(std::move(from));
    }
    if (IsStreamOperation(record.operation)) {
      change_times_.push_back(record.metadata.change_time_ms);
      batch_.max_change_time_ms = std::max(batch_.max_change_time_ms, record.metadata.change_time_ms);
    }
  }
  PartitionAdvance& advance = advances_[lease.id];
  advance.id = lease.id;
  advance.epoch = lease.epoch;
  if (!record.position.offset.empty()) advance.position = record.position.offset;
  advance.done = advance.done || record.position.partition_done;
  if (record.operation != core::Operation::kMarker) advance.records += 1;
  if (IsStreamOperation(record.operation)) advance.change_ms = std::max(advance.change_ms, record.metadata.change_time_ms);
  batch_.records += 1;
  if (record.operation == core::Operation::kSnapshot) ++snapshot_records_;
  return core::Status::Ok();
}

BuiltBatch BatchBuilder::Take(const std::function<std::string(const std::string& id)>& position_before) {
  BuiltBatch built;
  for (auto& [id, advance] : advances_) {
    built.before[id] = position_before(id);
    built.advances.push_back(advance);
  }
  built.change_times = std::move(change_times_);
  built.snapshot_records = snapshot_records_;
  built.batch = std::move(batch_);
  ResetBatch();
  return built;
}

}  // namespace ddb2pg::pipeline
