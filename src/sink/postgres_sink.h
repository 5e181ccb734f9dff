// PostgresSink: writes batches to PostgreSQL exactly once.
//
// Each Commit() is one transaction: for every table, COPY the rows into a temporary staging
// table, then upsert (INSERT … SELECT … ON CONFLICT (key) DO UPDATE), apply soft deletes (only
// the deleted / deleted_at columns on conflict) and hard deletes (DELETE … USING staging), keeping
// only the last version of each key; insert the dead letters into ddb2pg.dead_letters; and
// update the checkpoint row in ddb2pg.checkpoints guarded by the fencing token
// (UPDATE … WHERE id = $1 AND fence = $2; no row → kConflict: another runner took over).
//
// Open() bumps the fence (taking the checkpoint over from any previous runner) and returns the
// saved checkpoint; a runner whose fence was bumped gets kConflict on its next Commit and must
// stop. Connection failures come back as kUnavailable; the caller reconnects (Open again) and
// resumes from the checkpoint Open returns, so nothing is lost or applied twice.
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "processor/table_spec.h"
#include "sink/batch.h"

namespace ddb2pg::sink {

struct PostgresSinkOptions {
  std::string conninfo;        // libpq conninfo or URI; PG* environment variables apply as in libpq
  std::string checkpoint_id;   // identifies the pipeline set + source, e.g. "users.yaml:users"
  std::string application_name = "ddb2pg";
};

struct OpenResult {
  std::optional<std::string> checkpoint;  // nullopt: first run
  int64_t fence = 0;
};

class PostgresSink {
 public:
  explicit PostgresSink(PostgresSinkOptions options);
  ~PostgresSink();
  PostgresSink(const PostgresSink&) = delete;
  PostgresSink& operator=(const PostgresSink&) = delete;

  // Connects, creates the ddb2pg schema, checkpoint and dead-letter tables if missing, takes the
  // fence, prepares statements for `tables`, and returns the saved checkpoint.
  core::Result<OpenResult> Open(const std::vector<const processor::TableSpec*>& tables);
  core::Status Commit(const Batch& batch);
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddb2pg::sink
