// LeasedSink: drives the real PostgresSink the way a lane does, for the sink's own tests. The
// checkpoint has one partition, "p", which Open() leases to this runner (taking it over from
// any other LeasedSink of the same checkpoint: its epoch goes up); each Commit advances it to the
// batch's position in the same transaction as the rows. A LeasedSink whose lease was taken over
// gets kConflict and nothing is written. Owns its sink and a test connection; one thread.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/partition.h"
#include "pipeline/sink.h"
#include "sink/postgres_sink.h"
#include "support/test_env.h"

namespace ddb2pg::sink::testing {

// A batch and the position its commit moves the partition to ("" keeps the stored one).
struct PositionedBatch : model::Batch {
  std::string position;
};

class LeasedSink {
 public:
  // The partition every LeasedSink commits through.
  static constexpr const char* kPartition = "p";

  explicit LeasedSink(PostgresSinkOptions options) : options_(std::move(options)) {
    static std::atomic<int> next{0};
    if (options_.runner_id.empty()) options_.runner_id = "test-runner-" + std::to_string(++next);
  }

  struct Opened {
    std::optional<std::string> position;  // nullopt: nothing committed yet
  };
  // Opens the sink for `tables` (they must outlive it), then takes the partition's lease.
  core::Result<Opened> Open(std::vector<const model::TableSpec*> tables) {
    options_.tables = std::move(tables);
    sink_ = std::make_unique<PostgresSink>(options_);
    DDB2PG_RETURN_IF_ERROR(sink_->Open());
    ddb2pg::testing::PgTestConnection db(options_.conninfo);
    auto taken = db.Query(
        "INSERT INTO ddb2pg.partitions AS p (checkpoint_id, partition_id, kind, owner, epoch) VALUES ('" +
        options_.checkpoint_id + "', '" + kPartition + "', 'shard', '" + options_.runner_id +
        "', 1) ON CONFLICT (checkpoint_id, partition_id) DO UPDATE SET owner = EXCLUDED.owner, epoch = p.epoch + 1 "
        "RETURNING epoch, position");
    epoch_ = std::stoll(*taken.at(0)[0]);
    Opened opened;
    opened.position = taken.at(0)[1];
    return opened;
  }

  // Commits `batch` and moves the partition to batch.position. kConflict when the lease was
  // taken over (nothing written).
  core::Status Commit(const PositionedBatch& batch, pipeline::CommitResult* result = nullptr) {
    pipeline::PartitionAdvance advance;
    advance.id = kPartition;
    advance.epoch = epoch_;
    advance.position = batch.position;
    advance.records = batch.records;
    auto committed = sink_->Commit(batch, {advance});
    if (!committed.ok()) return committed.status();
    if (!committed->committed()) {
      return core::Status::Conflict("runner " + options_.runner_id + " lost partition " + kPartition + " of '" +
                                    options_.checkpoint_id + "'");
    }
    if (result != nullptr) *result = std::move(committed).value();
    return core::Status::Ok();
  }

  PostgresSink& sink() { return *sink_; }

 private:
  PostgresSinkOptions options_;
  std::unique_ptr<PostgresSink> sink_;
  int64_t epoch_ = 0;
};

// Rows PostgreSQL rejected in a commit (dead-lettered or skipped).
inline int64_t RejectedRows(const pipeline::CommitResult& result) {
  int64_t rejected = 0;
  for (const auto& table : result.tables) rejected += table.dead_lettered + table.skipped;
  return rejected;
}

}  // namespace ddb2pg::sink::testing
