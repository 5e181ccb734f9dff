// PostgresSink: writes batches to PostgreSQL exactly once.
//
// Each Commit() is one transaction: first the checkpoint row in ddb2pg.checkpoints is updated
// guarded by the fencing token (UPDATE … WHERE id = $1 AND fence = $3; no row → rollback and
// kConflict: another runner took over; the row lock it takes also makes a concurrent Open()
// wait until this commit is done). Then for every table the last version of each key is
// written (TableWriter: COPY into a temporary staging table, then INSERT … SELECT … ON CONFLICT
// (key) DO UPDATE for upserts, only the deleted / deleted_at columns for soft deletes, DELETE …
// USING staging for hard deletes; or, for batches of new keys only, one COPY straight into the
// table); the dead letters go into ddb2pg.dead_letters; and COMMIT. The statements after the
// COPYs, the dead letters and the COMMIT travel in one libpq pipeline (one round trip).
//
// Errors: kConflict (fenced out; stop), kUnavailable (connection lost or server shutting down;
// Open() again and resume from the checkpoint it returns), kInvalidArgument (a row PostgreSQL
// rejects, e.g. bad UUID text: the message names the table and the row's key; nothing of the
// batch is written), kNotFound / kPermissionDenied (missing table, missing privilege).
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

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/sink.h"
#include "sink/pg_result.h"
#include "processor/table_spec.h"
#include "sink/batch.h"

namespace ddb2pg::sink {

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
  std::vector<const processor::TableSpec*> tables;
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
  core::Result<OpenResult> Open(const std::vector<const processor::TableSpec*>& tables);
  // Writes the batch and moves the checkpoint to batch.checkpoint (kept when empty), atomically.
  // batch.tables must name TableSpecs given to Open() (matched by address, else schema + name).
  core::Status Commit(const Batch& batch);
  void Close() override;

  // Partitioned mode (see pipeline/sink.h): connects and prepares options.tables; takes no fence.
  core::Status Open() override;
  // One transaction: every advance moves its partition WHERE owner = runner_id AND epoch = the
  // advance's; if any is not held any more, ROLLBACK and report it (nothing written).
  core::Result<pipeline::CommitResult> Commit(const Batch& batch,
                                              const std::vector<pipeline::PartitionAdvance>& advances) override;
  core::Result<std::map<std::string, pipeline::StoredPartition>> ReadPositions(
      const std::vector<std::string>& ids) override;

  // For tests and metrics: how many of the last Commit()'s tables took the direct COPY path.
  int last_direct_tables() const;

 private:
  core::Status Connect(const std::vector<const processor::TableSpec*>& tables);
  // The body both modes share: BEGIN and `guard` in one round trip; if accepted(guard's result),
  // the batch's rows and dead letters and COMMIT; else ROLLBACK and false.
  core::Result<bool> CommitGuarded(const Batch& batch, PgStatement guard,
                                   const std::function<bool(const PgResult&)>& accepted);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddb2pg::sink
