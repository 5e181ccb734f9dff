// PostgresSink: the pipeline::Sink of PostgreSQL — writes a lane's batches exactly once.
//
// Each Commit() is one transaction. BEGIN, the checkpoint's advisory lock (shared; a phase
// change waits for the batch), the pipelines' phases, and the partitions' advance travel in one
// round trip: every partition the batch covers moves in ddb2pg.partitions WHERE owner = this
// runner AND epoch = the lease's; if any is not held any more, ROLLBACK, nothing is written and
// CommitResult::lost names it. Then for every table the last version of each key is written
// (TableWriter: COPY into a temporary staging table, then INSERT … SELECT … ON CONFLICT (key) DO
// UPDATE for upserts, only the deleted / deleted_at columns (and those reading operation() or
// ttl_delete()) for soft deletes, DELETE … USING staging for hard deletes; or, for batches of new
// keys only, one COPY straight into the table). While a table's pipeline snapshots, its snapshot
// rows and stream rows meet at the snapshot fence first (TableWriter, SnapshotFenceSql,
// docs/consistency.md). The dead letters go into ddb2pg.dead_letters, and COMMIT; the
// statements after the COPYs travel in one libpq pipeline (one round trip). Every statement
// against the ddb2pg schema is the schema owner's (src/sink/system/).
//
// Rows PostgreSQL rejects (a data error: SQLSTATE class 22 or 23, 21000, 54000, P0001 — a
// CHECK or NOT NULL violation, text a type refuses, an index row too large, a trigger's
// exception): the writes run after a savepoint; on a row error the sink rolls back to it and
// writes each table again with TableWriter::WriteIsolating, which finds exactly the rejected
// rows. Per table (TableRows::on_error): kDeadLetter turns each into a dead letter carrying
// PostgreSQL's message and SQLSTATE and the record's key, operation and position
// (Batch::origins); kSkip leaves it out; kStop fails the commit with kDataError naming the
// table, the row's key and the SQLSTATE, and nothing of the batch is written. Otherwise the
// rest of the batch, the dead letters and the partitions' positions commit in the same
// transaction, so exactly-once holds; CommitResult says what was left out. A batch without
// rejected rows pays one SAVEPOINT round trip.
//
// Errors: kUnavailable (connection lost, server shutting down, or no answer within
// commit_timeout: Open() again, then ReadPositions() tells whether the commit landed),
// kDataError (a rejected row under on_error: stop), kFailedPrecondition (the table does not fit
// the statements, e.g. no unique key), kNotFound / kPermissionDenied (missing table, missing
// privilege).
//
// Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
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
  // COPY in the binary format where the table's column types allow (CopyBinaryEncoder); false:
  // always text.
  bool binary_copy = core::defaults::kBinaryCopy;
  // The runner whose leases guard each commit (required), and the tables Open() prepares (they
  // must outlive the sink).
  std::string runner_id;
  std::vector<const model::TableSpec*> tables;
  // The longest Open() or Commit() waits on PostgreSQL (each isolation attempt for rejected
  // rows gets a window of its own); then the statement is cancelled, the connection dropped and the
  // call returns kUnavailable. Catches a frozen or half-open server that TCP has not noticed.
  std::chrono::milliseconds commit_timeout{core::defaults::kCommitTimeoutMs};
};

class PostgresSink : public pipeline::Sink {
 public:
  explicit PostgresSink(PostgresSinkOptions options);
  ~PostgresSink() override;
  PostgresSink(const PostgresSink&) = delete;
  PostgresSink& operator=(const PostgresSink&) = delete;

  void Close() override;

  // Connects (again, after a failure), brings the ddb2pg schema to this release's version
  // (SystemTables::Ensure) and prepares options.tables' statements.
  core::Status Open() override;
  // One transaction: every advance moves its partition WHERE owner = runner_id AND epoch = the
  // advance's; if any is not held any more, ROLLBACK and report it (nothing written).
  core::Result<pipeline::CommitResult> Commit(const Batch& batch,
                                              const std::vector<pipeline::PartitionAdvance>& advances) override;
  core::Result<std::map<std::string, pipeline::StoredPartition>> ReadPositions(
      const std::vector<std::string>& ids) override;

  // The sweeps and the phase change (SnapshotEnder); each of its transactions (a range of the sweep,
  // the end) waits up to commit_timeout.
  core::Result<std::vector<pipeline::SnapshotEnd>> EndSnapshots(const std::function<bool()>& keep_going) override;

 private:
  // The body both modes share: BEGIN and `guard` in one round trip; if accepted(guard's result),
  // the batch's rows and dead letters and COMMIT; else ROLLBACK and false.
  core::Result<bool> CommitGuarded(const Batch& batch, PgStatement guard,
                                   const std::function<bool(const PgResult&)>& accepted, pipeline::CommitResult& out);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddb2pg::sink
