// SnapshotEnder: ends the snapshots of one checkpoint whose Scan segments are all done, for
// PostgresSink::EndSnapshots. Two steps:
//   1. the reconcile sweeps: for each reconciling pipeline, rows the snapshot did not see are
//      removed a range of keys per transaction, so the table's batches wait for one range at most
//      (the fence stays up throughout; no range is visited twice);
//   2. the ends, in one transaction under the checkpoint's exclusive lock: each due pipeline goes to
//      phase streaming and its table's fence and seen keys are emptied. A pipeline that became due
//      after step 1 and reconciles is left for the next call (it has not been swept).
// It borrows the sink's connection and writers for one call and owns nothing. Errors are returned
// as they are; the sink rolls back and drops a broken connection.
// Thread-safety: none; the sink calls it from its own thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/sink.h"
#include "sink/pg_connection.h"
#include "sink/table_writer.h"

namespace ddb2pg::sink {

class SnapshotEnder {
 public:
  // The writer of a target table ("schema.table"), or null when no pipeline of this file writes it.
  using WriterOf = std::function<const TableWriter*(const std::string& target)>;

  // `start_deadline` bounds the waits of the transaction about to begin (commit_timeout).
  SnapshotEnder(PgConnection& db, std::string checkpoint_id, WriterOf writer_of, std::function<void()> start_deadline);

  // The snapshots ended by this call. kCancelled when `keep_going` turned false between two sweep
  // ranges (outside any transaction; the next call sweeps that table again).
  core::Result<std::vector<pipeline::SnapshotEnd>> End(const std::function<bool()>& keep_going);

 private:
  // `body` in a transaction that holds the fence's sweep-or-end lock and, for a phase change, the
  // checkpoint's lock exclusively first. A batch holds the checkpoint's lock (shared) from before it
  // reads the phases until it commits, and takes the fence's lock only after reading them: without
  // the exclusive lock, a batch that read 'snapshot' and then waited for the fence's lock behind
  // this transaction would, once this committed, fence its keys for a snapshot that had ended, and
  // nothing would ever empty them. The checkpoint's lock comes before the fence's, in the order
  // batches take them.
  core::Status InTransaction(bool phase_change, const std::function<core::Status()>& body);
  // Step 1 for one table: the rows removed in *total.
  core::Status Sweep(const std::string& target, const TableWriter& writer, const std::function<bool()>& keep_going,
                     int64_t* total);
  // Step 2: `swept` is pipeline → rows swept in step 1.
  core::Result<std::vector<pipeline::SnapshotEnd>> EndDue(const std::map<std::string, int64_t>& swept);

  PgConnection& db_;
  const std::string checkpoint_id_;
  const WriterOf writer_of_;
  const std::function<void()> start_deadline_;
  const std::string context_;
};

}  // namespace ddb2pg::sink
