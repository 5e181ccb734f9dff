// Sink: the narrow interface a lane commits through. src/sink implements it for PostgreSQL
// (PostgresSink); unit tests use fakes. Only src/app names the concrete type (via a factory).
//
// Commit() is one transaction: every advanced partition's position moves, guarded by its lease
// (owner = this runner, epoch = the lease's), together with the batch's rows and dead letters.
// When any advanced partition's lease is gone, nothing is written and its id is reported in
// CommitResult::lost (the caller drops that partition's in-flight work and rewinds the rest).
//
// Errors: kUnavailable (connection lost: Open() again, then ReadPositions() tells whether the
// commit landed), kInvalidArgument (a row PostgreSQL rejects; nothing written), kNotFound /
// kPermissionDenied. Thread-safety: one thread at a time.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/partition.h"
#include "model/batch.h"

namespace ddb2pg::pipeline {

struct CommitResult {
  std::vector<std::string> lost;  // partitions whose lease was gone: nothing was committed
  bool committed() const { return lost.empty(); }
  // What was written, per table of the batch (same order), once committed. Rows PostgreSQL
  // rejected (a CHECK, NOT NULL … violation) are dead-lettered or skipped per the pipeline's
  // on_error, not written.
  struct TableCounts {
    int64_t rows_written = 0;
    int64_t dead_lettered = 0;
    int64_t skipped = 0;
    bool copied_directly = false;  // one COPY straight into the table (the batch held only new keys)
    bool copied_binary = false;    // the rows went by binary COPY (else text COPY)
  };
  std::vector<TableCounts> tables;
  int64_t dead_letters_written = 0;  // the batch's mapping dead letters plus the rejected rows'
};

// A stored partition, as ReadPositions returns it.
struct StoredPartition {
  std::string position;
  bool done = false;
  std::string owner;
  int64_t epoch = 0;
};

// A pipeline whose snapshot Sink::EndSnapshots ended.
struct SnapshotEnd {
  std::string pipeline;
  std::string target;
  int64_t swept = -1;  // rows of items not found, removed or soft-deleted; -1: the snapshot did not reconcile
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual core::Status Open() = 0;
  virtual core::Result<CommitResult> Commit(const model::Batch& batch,
                                            const std::vector<PartitionAdvance>& advances) = 0;
  virtual core::Result<std::map<std::string, StoredPartition>> ReadPositions(const std::vector<std::string>& ids) = 0;
  virtual void Close() = 0;
  // Ends the snapshot phase of each pipeline whose Scan segments are all done: a snapshot that
  // reconciles first sweeps its table (rows whose keys neither the Scan nor the stream wrote are
  // removed or soft-deleted, per on_delete); then the stream writes the table without the fence.
  // A sweep goes a range of keys per transaction and asks `keep_going` before each next range
  // (false: kCancelled; the next call starts the sweep over, which is harmless). On the caller's
  // own sink (a sweep may take long). The default has none to end.
  virtual core::Result<std::vector<SnapshotEnd>> EndSnapshots(const std::function<bool()>& keep_going) {
    (void)keep_going;
    return std::vector<SnapshotEnd>{};
  }
};

}  // namespace ddb2pg::pipeline
