// TableWriter: writes one target table's rows inside the sink's transaction.
//
// Per batch: Plan() keeps the last row of each key (RowDeduper) and counts the actions; Write()
// sends the rows with COPY and queues the statements that finish the job in the sink's closing
// pipeline. Two ways to write:
//  - staging (always correct): COPY every kept row, tagged with its action, into a temporary
//    table created once per connection (ON COMMIT DELETE ROWS), then
//      INSERT … SELECT … WHERE action = 'u' ON CONFLICT (key) DO UPDATE SET <every column>,
//      INSERT … SELECT … WHERE action = 's' ON CONFLICT (key) DO UPDATE SET deleted, deleted_at
//        (and the columns with ColumnSpec::reads_change_kind, e.g. `expired <- ttl_delete()`),
//      DELETE … USING staging WHERE <keys equal> AND action = 'h'.
//    Each key appears once after Plan(), so the three statements cannot meet a key twice.
//  - direct (fast path for new keys, e.g. a snapshot into an empty table): COPY the upserts and
//    soft deletes straight into the target inside a savepoint. If no key exists yet, inserting
//    *is* upserting, so this is exactly the staging result at plain-COPY speed; the first
//    existing key makes the COPY fail with a unique violation, the savepoint is rolled back
//    and the batch goes through staging. After such a miss the direct path is skipped for
//    1, 2, 4 … 64 batches, so a stream of updates wastes at most one partial COPY in 64 (batches
//    with stream rows and batches of snapshot rows alone back off apart).
//
// Snapshot rows beside the stream (kSnapshotUpsert, action 'n'): while a snapshot is unfinished
// the sink passes a SnapshotFence. Stream rows then record their keys in ddb2pg.snapshot_fence
// in their transaction (the claim), and snapshot rows are upserted only where their key is not
// there: INSERT … SELECT … WHERE action = 'n' AND NOT EXISTS (fence) ON CONFLICT … DO UPDATE.
// The direct path may still be taken where SnapshotFence::allow_direct says; the stream rows are
// then staged as well, for their claim.
// The sink's table lock on the fence orders snapshot and stream transactions (PostgresSink; the
// rule and its proof are in docs/consistency.md). Without a fence 'n' rows are plain upserts.
//
// Rows PostgreSQL rejects (WriteIsolating): after a batch failed with a row error, the sink rolls
// back to its savepoint and writes each table again. The rows are COPYed once into a second
// temporary table, numbered by position (a row whose text a type refuses fails that COPY by
// line number: it is rejected and the COPY made again without it). Then the three statements
// run over ranges of row numbers, each attempt one round trip inside a savepoint: a failing
// range is rolled back and halved, down to single rows. The rows that fail alone come back as
// RejectedRow; everything else is written. One bad row among n costs about 2·log2(n) attempts,
// all inside the batch's transaction.
//
// Owned by PostgresSink; one per table and connection. Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/option_defaults.h"
#include "core/status.h"
#include "model/row.h"
#include "model/pipeline_spec.h"
#include "sink/copy_binary_encoder.h"
#include "sink/pg_connection.h"
#include "sink/row_deduper.h"

namespace ddb2pg::sink {

struct TableWriterOptions {
  bool direct_copy = true;               // try the direct path for batches of new keys
  size_t copy_chunk_bytes = 256 * 1024;  // COPY data is sent in chunks of about this size
  // COPY in the binary format where every column's type has one (CopyBinaryEncoder): the server
  // parses no text. false: always text.
  bool binary_copy = core::defaults::kBinaryCopy;
};

// A row PostgreSQL refused, found by WriteIsolating.
struct RejectedRow {
  size_t row = 0;        // index into the batch's rows for the table
  PgError error;         // PostgreSQL's SQLSTATE, message and detail
  std::string context;   // the failed step, e.g. "table public.profile: upsert"
};

// The snapshot fence of one transaction (see above), given by the sink while a snapshot of its
// checkpoint is unfinished.
struct SnapshotFence {
  std::string checkpoint_id;
  // The direct COPY may be tried: the snapshot does not reconcile, and the batch holds no snapshot
  // row or no hard delete is fenced (SnapshotFenceSql::kDeletedKey). Then a fenced key already has
  // a row and fails the COPY as a unique violation, and a key without one is upserted by inserting
  // it. The stream rows' claims still read their keys from staging.
  bool allow_direct = false;
  // The snapshot reconciles (PipelineRegistry): the keys of its rows are recorded in the fence
  // too, so that the sweep at its end knows which rows' items still exist.
  bool record_keys = false;
};

class TableWriter {
 public:
  struct Plan {
    const std::vector<model::Row>* rows = nullptr;
    std::vector<size_t> kept;  // indexes into *rows, one per key
    int64_t upserts = 0;
    int64_t soft_deletes = 0;
    int64_t hard_deletes = 0;
    int64_t snapshot_upserts = 0;
    int64_t stream_rows() const { return upserts + soft_deletes + hard_deletes; }
    // Rows the plain upsert writes: without a fence a snapshot row is one of them.
    int64_t plain_upserts(bool fenced) const { return upserts + (fenced ? 0 : snapshot_upserts); }
  };

  // `table` must outlive the writer; `index` makes the staging and statement names unique.
  TableWriter(const model::TableSpec& table, int index, TableWriterOptions options = {});

  // Checks that the spec can be written: key and soft-delete columns present, no clash with the
  // staging action column.
  core::Status Validate() const;
  // Creates the staging table and prepares the statements on a new connection.
  core::Status Prepare(PgConnection& connection);

  // Dedupes (kept in the order of the first key column) and counts; checks every row has one
  // cell per column. No I/O.
  core::Result<Plan> MakePlan(const std::vector<model::Row>& rows) const;
  // Inside the open transaction: COPYs the rows and appends the statements still to run.
  // `fence`: nullptr when no snapshot runs beside the stream (snapshot rows are plain upserts).
  core::Status Write(PgConnection& connection, const Plan& plan, std::vector<PgStatement>& finish,
                     const SnapshotFence* fence = nullptr);

  // Inside the open transaction: writes every row of `plan` it can (through staging, each
  // attempt in a savepoint) and returns the rows that fail on their own with a row error
  // (IsRowError) in *rejected. Any other failure is returned; the transaction is then unusable.
  // Each attempt may wait on PostgreSQL for `attempt_timeout` (a fresh deadline per attempt).
  core::Status WriteIsolating(PgConnection& connection, const Plan& plan, std::vector<RejectedRow>* rejected,
                              std::optional<std::chrono::milliseconds> attempt_timeout = std::nullopt,
                              const SnapshotFence* fence = nullptr);

  // The row's key cells as "col=value, …", for messages.
  std::string DescribeKey(const model::Row& row) const { return deduper_.DescribeKey(row); }
  const std::string& display_name() const { return display_name_; }
  // The table quoted and schema-qualified: the fence's `target`.
  const std::string& qualified_name() const { return qualified_name_; }
  // The end of a snapshot that reconciles, one range of keys at a time: removes (on_delete:
  // hard) or soft-deletes the rows among the next kSweepRangeRows keys whose key neither the
  // fence nor the seen keys hold. $1 checkpoint, $2 target, then (unless `first_range`) the
  // previous range's last key cells as text. Returns one row — the rows changed, then the
  // range's last key cells — or none when no key is left. "" for on_delete: ignore. With an
  // on_ttl_delete unlike on_delete, the gentler of the two.
  std::string SweepSql(bool first_range) const;
  static constexpr int kSweepRangeRows = 5000;
  const model::TableSpec& table() const { return table_; }
  // How the last Write() went, for tests and metrics.
  bool last_write_was_direct() const { return last_direct_; }
  // The last COPY of rows went in the binary format.
  bool last_copy_was_binary() const { return last_binary_; }

 private:
  core::Status CopyRows(PgConnection& connection, const std::string& copy_sql, const Plan& plan, bool direct,
                        bool fenced, std::string* sqlstate);
  // COPYs the kept rows not left out into the isolation table, each tagged with its action and
  // numbered by its position in plan.kept; a failed COPY names the position of its row.
  core::Status CopyNumbered(PgConnection& connection, const Plan& plan, const std::vector<bool>& left_out,
                            bool fenced, size_t* failed_position);

  // Fills the binary encoders from the columns' real types (pg_attribute), or leaves them empty.
  core::Status PrepareBinaryCopy(PgConnection& connection);

  const model::TableSpec& table_;
  TableWriterOptions options_;
  int sort_key_ = -1;  // rows are written in the order of this column (the first key column)
  RowDeduper deduper_;
  std::string display_name_;
  std::string qualified_name_;
  std::string staging_name_;  // pg_temp."ddb2pg_stage_<index>"
  std::string create_staging_sql_;
  std::string copy_direct_sql_;
  std::string copy_staging_sql_;
  std::string upsert_sql_;
  std::string soft_delete_sql_;  // empty when the table has no deleted column
  std::string hard_delete_sql_;
  std::string isolate_name_;  // pg_temp."ddb2pg_isolate_<index>": rows numbered for isolation
  std::string create_isolate_sql_;
  std::string copy_isolate_sql_;
  std::string upsert_range_sql_;  // the three statements over rows $1 <= ddb2pg_row < $2
  std::string soft_delete_range_sql_;
  std::string hard_delete_range_sql_;
  std::string claim_sql_;            // stream keys into the fence; $1 checkpoint, $2 target
  std::string snapshot_upsert_sql_;  // 'n' rows whose key is not fenced; $1 checkpoint, $2 target
  std::string claim_range_sql_;      // the same over rows $1 <= ddb2pg_row < $2; $3, $4 as above
  std::string snapshot_upsert_range_sql_;
  std::string seen_sql_;        // snapshot keys into snapshot_seen (record_keys); $1 checkpoint, $2 target
  std::string seen_range_sql_;  // the same over a range; $3, $4
  std::string fence_probe_;     // NOT EXISTS (this table's row `t` in the fence)
  std::string upsert_name_;
  std::string claim_name_;
  std::string snapshot_upsert_name_;
  std::string soft_delete_name_;
  std::string hard_delete_name_;
  // The direct path's back-off after a miss, kept apart for batches with stream rows ([1]) and
  // without ([0]): a stream of updates beside a snapshot misses every time, its Scan rows alone
  // do not. A lane's mixed batches count as stream batches and back off with them.
  struct DirectBackoff {
    int skip = 0;     // batches to skip the direct path for
    int backoff = 0;  // the last skip length
  };
  DirectBackoff direct_[2];
  bool last_direct_ = false;
  bool last_binary_ = false;
  std::unique_ptr<CopyBinaryEncoder> binary_direct_;   // the table's columns
  std::unique_ptr<CopyBinaryEncoder> binary_staging_;  // the same, then the action tag
  std::string copy_direct_binary_sql_;
  std::string copy_staging_binary_sql_;
};

}  // namespace ddb2pg::sink
