// PostgresSink: writes batches to PostgreSQL exactly once.
//
// Each Commit() is one transaction: first the checkpoint row in ddb2pg.checkpoints is updated
// guarded by the fencing token (UPDATE … WHERE id = $1 AND fence = $3; no row → rollback and
// kConflict: another runner took over; the row lock it takes also makes a concurrent Open()
// wait until this commit is done). Then for every table the last version of each key is
// written (TableWriter: COPY into a temporary staging table, then INSERT … SELECT … ON CONFLICT
// (key) DO UPDATE for upserts, only the deleted / deleted_at columns (and those reading
// operation() or ttl_delete()) for soft deletes, DELETE … USING staging for hard deletes; or,
// for batches of new keys only, one COPY straight into the table); while a snapshot of the
// checkpoint is unfinished, snapshot rows and stream rows meet at the snapshot fence first
// (TableWriter, docs/consistency.md); the dead letters go into ddb2pg.dead_letters; and COMMIT. The statements after the
// COPYs, the dead letters and the COMMIT travel in one libpq pipeline (one round trip).
//
// Rows PostgreSQL rejects (a data error: SQLSTATE class 22 or 23, 21000, 54000, P0001 — a
// CHECK or NOT NULL violation, text a type refuses, an index row too large, a trigger's
// exception): the writes run after a savepoint; on a row error the sink rolls back to it and
// writes each table again with TableWriter::WriteIsolating, which finds exactly the rejected
// rows. Per table (TableRows::on_error): kDeadLetter turns each into a dead letter carrying
// PostgreSQL's message and SQLSTATE and the record's key, operation and position
// (Batch::origins); kSkip leaves it out; kStop fails the commit with kDataError naming the
// table, the row's key and the SQLSTATE, and nothing of the batch is written. Otherwise the
// rest of the batch, the dead letters and the checkpoint commit in the same transaction, so
// exactly-once holds; CommitReport says what was left out. A batch without rejected rows pays
// one SAVEPOINT round trip.
//
// Errors: kConflict (fenced out; stop), kUnavailable (connection lost, server shutting down, or
// no answer within commit_timeout; Open() again and resume from the checkpoint it returns),
// kDataError (a rejected row under on_error: stop), kFailedPrecondition (the table does not fit
// the statements, e.g. no unique key), kNotFound / kPermissionDenied (missing table, missing
// privilege).
//
// Open() bumps the fence (taking the checkpoint over from any previous runner) and returns the
// saved checkpoint; a runner whose fence was bumped gets kConflict on its next Commit and must
// stop. Connection failures come back as kUnavailable; the caller reconnects (Open again) and
// resumes from the checkpoint Open returns, so nothing is lost or applied twice.
//
// Partitioned mode (options.runner_id set; the runtime's lanes use it through pipeline::Sink):
// instead of the checkpoint row and its fence, each commit moves the positions of the
// partitions it covers in ddb2pg.partitions, guarded by each lease's owner and epoch.
//
// Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/option_defaults.h"
#include "core/status.h"
#include "pipeline/sink.h"
#include "sink/pg_result.h"
#include "model/pipeline_spec.h"
#include "model/batch.h"

namespace ddb2pg::sink {

// What a batch holds (model/batch.h), by the names the sink's code and tests use.
using model::Batch;
using model::DeadLetter;
using model::RecordOrigin;
using model::TableRows;

struct PgStatement;  // sink/pg_connection.h

struct PostgresSinkOptions {
  std::string conninfo;        // libpq conninfo or URI; PG* environment variables apply as in libpq
  std::string checkpoint_id;   // identifies the pipeline set + source, e.g. "users.yaml:users"
  std::string application_name = "ddb2pg";  // used when the conninfo sets none
  // synchronous_commit for the sink's own transactions. "off" is safe here: a commit lost in a
  // server crash loses its checkpoint with it, so the restart re-reads those changes. "" keeps
  // the server's setting.
  std::string synchronous_commit = "off";
  // COPY batches of new keys straight into the target (see TableWriter); false always stages.
  bool direct_copy = true;
  // Partitioned mode (pipeline::Sink): the runner whose leases guard each commit, and the tables
  // Open() prepares. Empty runner_id: the single-checkpoint mode of Open(tables) / Commit(batch).
  std::string runner_id;
  std::vector<const model::TableSpec*> tables;
  // The longest Open() or Commit() waits on PostgreSQL (each isolation attempt for rejected
  // rows gets a window of its own); then the statement is cancelled, the connection dropped and the
  // call returns kUnavailable. Catches a frozen or half-open server that TCP has not noticed.
  std::chrono::milliseconds commit_timeout{core::defaults::kCommitTimeoutMs};
};

// What one Commit() wrote, per table of the batch (same order as Batch::tables).
struct CommitTableReport {
  int64_t rows_written = 0;   // rows written after keeping the last version of each key
  int64_t dead_lettered = 0;  // rows PostgreSQL rejected, written to ddb2pg.dead_letters
  int64_t skipped = 0;        // rows PostgreSQL rejected, left out (on_error: skip)
};

struct CommitReport {
  std::vector<CommitTableReport> tables;
  int64_t rows_written = 0;         // all tables
  int64_t rejected_rows = 0;        // rows PostgreSQL rejected (dead-lettered or skipped)
  int64_t dead_letters_written = 0; // Batch::dead_letters plus the rejected rows' letters
  int direct_tables = 0;            // tables written by the direct COPY path
};

struct OpenResult {
  std::optional<std::string> checkpoint;  // nullopt: first run
  int64_t fence = 0;
};

class PostgresSink : public pipeline::Sink {
 public:
  explicit PostgresSink(PostgresSinkOptions options);
  ~PostgresSink() override;
  PostgresSink(const PostgresSink&) = delete;
  PostgresSink& operator=(const PostgresSink&) = delete;

  // Connects, creates the ddb2pg schema, checkpoint and dead-letter tables if missing, takes the
  // fence, prepares statements for `tables`, and returns the saved checkpoint.
  // May be called again after a failure (it reconnects). The TableSpecs must outlive the sink.
  core::Result<OpenResult> Open(const std::vector<const model::TableSpec*>& tables);
  // Writes the batch and moves the checkpoint to batch.checkpoint (kept when empty), atomically.
  // batch.tables must name TableSpecs given to Open() (matched by address, else schema + name).
  // `report`, when given, receives what was written (only meaningful when Ok is returned).
  core::Status Commit(const Batch& batch, CommitReport* report = nullptr);
  void Close() override;

  // Partitioned mode (see pipeline/sink.h): connects and prepares options.tables; takes no fence.
  core::Status Open() override;
  // One transaction: every advance moves its partition WHERE owner = runner_id AND epoch = the
  // advance's; if any is not held any more, ROLLBACK and report it (nothing written).
  core::Result<pipeline::CommitResult> Commit(const Batch& batch,
                                              const std::vector<pipeline::PartitionAdvance>& advances) override;
  core::Result<std::map<std::string, pipeline::StoredPartition>> ReadPositions(
      const std::vector<std::string>& ids) override;

  // Each of its transactions (a range of the sweep, the end) waits up to commit_timeout.
  core::Result<std::vector<pipeline::SnapshotEnd>> EndSnapshots(const std::function<bool()>& keep_going) override;

  // For tests and metrics: how many of the last Commit()'s tables took the direct COPY path.
  int last_direct_tables() const;

 private:
  core::Status Connect(const std::vector<const model::TableSpec*>& tables);
  // The body both modes share: BEGIN and `guard` in one round trip; if accepted(guard's result),
  // the batch's rows and dead letters and COMMIT; else ROLLBACK and false.
  core::Result<bool> CommitGuarded(const Batch& batch, PgStatement guard,
                                   const std::function<bool(const PgResult&)>& accepted, CommitReport* report);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddb2pg::sink
