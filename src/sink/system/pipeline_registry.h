// PipelineRegistry: each pipeline's progress within its source's checkpoint (ddb2pg.pipelines).
//
// A source's checkpoint (its stream position and Scan segments) is shared by the pipelines that
// read it; each pipeline has a phase of its own:
//
//   snapshot   a Scan feeds its table: the source's first snapshot (segments "scan/<i>", scope
//              NULL: every pipeline), or a backfill / re-snapshot of some pipelines (segments
//              "scan/<i>/<n>@<tag>", scope: their names) while the others stream on. The stream
//              writes its table all along; the snapshot fence keeps a Scan row from overwriting
//              a newer change (docs/consistency.md).
//   streaming  its snapshot is complete (PostgresSink::EndSnapshots ends it, after the sweep of
//              a snapshot that reconciles).
//
// Align() brings the stored pipelines in line with the configuration when a runner starts; the
// commands `resnapshot` and `reset` use StartSnapshot() and Forget().
//
// Every call runs inside the caller's open transaction, which holds the checkpoint's advisory
// lock (PgLeaseStore). Thread-safety: stateless.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/lease_store.h"
#include "sink/pg_connection.h"

namespace ddb2pg::sink {

// One pipeline's stored progress, as `status` shows it.
struct PipelineProgress {
  std::string pipeline;
  std::string target;
  std::string phase;  // snapshot | streaming
  bool reconcile = false;
  int segments = 0;       // of its current (or last) snapshot
  int segments_done = 0;
  int64_t swept = -1;     // rows its last sweep removed or soft-deleted; -1: none ran
  std::string snapshot_started_at, snapshot_ended_at;
};

class PipelineRegistry {
 public:
  // Compares the configured pipelines with the stored ones and applies what differs:
  //  - none stored (a new checkpoint): all are registered where the source's snapshot is
  //    (RegisterWhereTheSourceIs);
  //  - a new pipeline whose table a stored, no longer configured one wrote: a rename, its
  //    progress carries over;
  //  - any other new pipeline: a backfill of its table alone (StartSnapshot);
  //  - a changed mapping: per its on_change (stop: kFailedPrecondition naming both choices);
  //  - a stored pipeline no longer configured: left as it is, said in a note.
  // Returns one note per change.
  static core::Result<std::vector<std::string>> Align(PgConnection& db, const std::string& checkpoint_id,
                                                      const std::vector<pipeline::PipelineInfo>& pipelines,
                                                      int total_segments, bool created);

  // Registers `pipelines` where the source's first snapshot stands: in the snapshot phase while
  // one of its segments is pending, else streaming. `created` (the checkpoint was just seeded):
  // a snapshot into a table with rows reconciles. Returns a note per such table.
  static core::Result<std::vector<std::string>> RegisterWhereTheSourceIs(
      PgConnection& db, const std::string& checkpoint_id, const std::vector<pipeline::PipelineInfo>& pipelines,
      int total_segments, bool created);

  // Starts a snapshot of `pipelines` beside the stream: one Scan of `total_segments` segments
  // whose rows are only for them, their fence emptied, their phase snapshot; `reconcile` ends it
  // with a sweep of the rows whose keys neither the Scan nor the stream saw.
  static core::Status StartSnapshot(PgConnection& db, const std::string& checkpoint_id,
                                    const std::vector<pipeline::PipelineInfo>& pipelines, int total_segments,
                                    bool reconcile);

  // Forgets a pipeline's progress: its row, its own segments, its fence. Its table is kept.
  static core::Status Forget(PgConnection& db, const std::string& checkpoint_id, const std::string& pipeline);

  static core::Result<std::vector<PipelineProgress>> Read(PgConnection& db, const std::string& checkpoint_id);

  // Whether the table exists and holds a row (a snapshot into it then reconciles).
  static core::Result<bool> TargetHasRows(PgConnection& db, const std::string& target);
};

}  // namespace ddb2pg::sink
