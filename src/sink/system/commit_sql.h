// CommitSql: the statements PostgresSink runs against the ddb2pg schema in a batch's transaction
// and when it ends snapshots — moving partitions (ddb2pg.partitions), writing dead letters
// (ddb2pg.dead_letters), reading and ending pipelines' phases (ddb2pg.pipelines). The fence's own
// statements are SnapshotFenceSql's; the checkpoint's locks and the DDL are SystemTables'.
//
// Thread-safety: stateless.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/batch.h"

namespace ddb2pg::sink {

class CommitSql {
 public:
  // Prepared on every sink connection under these names.
  static const char* const kAdvanceName;
  static const char* const kDeadLettersName;
  // Moves the partitions the batch covers: $1 checkpoint, $2..$6 parallel arrays (id, epoch,
  // position ("" keeps it), done, records), $7 the runner, $8 a parallel array of the newest
  // change time applied (0: none; the stored change_ms only grows). Returns the partition ids
  // moved: a partition missing there was not held any more (owner or epoch changed).
  static const char* const kAdvanceSql;
  // Inserts dead letters: the seven text[] parameters DeadLetterParams makes.
  static const char* const kDeadLettersSql;
  static std::vector<std::optional<std::string>> DeadLetterParams(const std::vector<model::DeadLetter>& letters);
  // Partitions $2::text[] of checkpoint $1: id, position ('' when none), done, owner ('' when
  // none), epoch.
  static const char* const kReadPositionsSql;
  // Pipelines of checkpoint $1 whose snapshot is read to its end but not yet ended: pipeline,
  // target, reconcile; `for_update` locks their rows.
  static std::string SnapshotsToEnd(bool for_update);
  // Ends pipeline $2 of checkpoint $1's snapshot: phase streaming, $3 rows swept (-1: none).
  static const char* const kEndSnapshotSql;
};

}  // namespace ddb2pg::sink
