// SnapshotFenceSql: every statement against ddb2pg.snapshot_fence and ddb2pg.snapshot_seen, the
// snapshot fence's two tables (docs/consistency.md, "The stream beside the snapshot").
//
// A key's text is ROW(key cells)::text of the row being written, the same for the claim, the
// check and the sweep; the caller builds it (KeyText) from its own relation so that the
// fence's columns can never be taken for a user column of the same name. Parameters: the
// checkpoint id and the target's quoted qualified name, at the positions the caller names.
//
// Lock order (each batch and each phase change): the checkpoint's advisory lock
// (SystemTables), then the fence's table lock in the mode the batch needs, then the targets' rows.
//
// Thread-safety: stateless.
#pragma once

#include <string>
#include <vector>

namespace ddb2pg::sink {

class SnapshotFenceSql {
 public:
  // ROW(relation."k1", relation."k2")::text for the quoted key columns.
  static std::string KeyText(const std::string& relation, const std::vector<std::string>& key_columns);

  // " AND NOT EXISTS (…)": the key of `key_text` is not fenced for checkpoint `checkpoint_param`
  // and target `target_param` ("$1", "$2"…). One index probe per row (OFFSET 0 keeps the planner
  // from turning it into an anti join that scans every fenced key of the table per row).
  static std::string NotFenced(const std::string& key_text, const char* checkpoint_param, const char* target_param);
  // INSERT INTO the fence (`seen` false: the stream's claims) or the seen keys (`seen` true: the
  // keys a reconciling Scan read) … SELECT DISTINCT <checkpoint>, <target>, <key_text> FROM
  // <from> WHERE <where> ON CONFLICT DO NOTHING. A claim also records the deletion mark
  // (kDeletedKey) when a row of <from> matches `<where> AND <deleted_where>` (the stream's hard
  // deletes); `deleted_where` is unused for the seen keys.
  static std::string Record(bool seen, const char* checkpoint_param, const char* target_param,
                            const std::string& key_text, const std::string& from, const std::string& where,
                            const std::string& deleted_where = std::string());
  // The fence's deletion mark: a row of the target with this key (no ROW(…)::text is empty) says
  // that the stream hard-deleted some key of the target during the snapshot. While it is absent,
  // every fenced key has a row in the target (an upsert or a soft delete wrote it), so a snapshot
  // batch's direct COPY meets any fenced key as a unique violation and falls back to the fenced
  // upsert; it cannot bring back a row the stream deleted.
  static constexpr const char* kDeletedKey = "";
  // The sweep's condition on row t: its key was neither fenced nor seen ($1 checkpoint, $2 target).
  static std::string NeitherFencedNorSeen(const std::string& key_text);

  // The fence's table lock for a batch: `snapshot_rows` and/or `stream_rows` it holds of a
  // snapshotting table (SHARE for snapshot rows only, ROW EXCLUSIVE for stream rows only, SHARE
  // ROW EXCLUSIVE for both); and for a transaction that sweeps or ends snapshots (no batch of a
  // snapshotting table commits meanwhile).
  static std::string LockForBatch(bool snapshot_rows, bool stream_rows);
  static const char* const kLockForSweepOrEnd;
  // Does the deletion mark stand for checkpoint $1 and any target in $2::text[]? One row, one
  // boolean, one index probe per target. False: a batch holding snapshot rows (alone or with
  // stream rows) may COPY straight into the targets (see kDeletedKey).
  static const char* const kAnyDeletedSql;
  // After a target's snapshot ended ($1 checkpoint, $2 target): its fenced and seen keys, unless
  // another pipeline of the same target still snapshots.
  static std::vector<std::string> EmptyEndedTarget();
};

}  // namespace ddb2pg::sink
