// SystemStatus: typed reads of ddb2pg's own tables for the operator's views — `ddb2pg status`,
// the status page (/api/status) and the demo's summary. Read-only: the tables are written by
// SystemTables (DDL, migrations), PgLeaseStore (sources, partitions, runners, lease events),
// PipelineRegistry (pipelines) and PostgresSink (positions, fence, dead letters).
//
// Every value comes back as display text ("" for NULL); ages are PostgreSQL's clock (now() − the
// row's time), in seconds with one decimal.
//
// Thread-safety: stateless; each call uses the connection it is given (one thread at a time).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "sink/pg_connection.h"

namespace ddb2pg::sink {

class SystemStatus {
 public:
  struct Runner {
    std::string checkpoint, runner, host, pid, lanes, heartbeat_age_s;
    bool standby = false;  // its configuration is superseded: it holds nothing (docs/consistency.md)
  };
  struct Partition {
    std::string checkpoint, id, kind, state, owner, epoch;
    std::string lease;  // "held", "expired" or "" (unowned)
    std::string records, age_s, parent;
    std::string lane;   // "" when unowned
  };
  struct DeadLetter {
    std::string id, pipeline, key, operation, reason;
    std::string item;  // the raw item's first `item_chars` + 1 characters (the caller shortens it)
    std::string created_at;  // ISO-8601, UTC
  };
  enum class PartitionOrder { kByKind, kPendingFirst };

  // The runners registered on these checkpoints, oldest first.
  static core::Result<std::vector<Runner>> Runners(PgConnection& db, const std::vector<std::string>& checkpoints,
                                                   int limit);
  // The partitions of these checkpoints: by kind (shards, then segments) and id, or the pending ones
  // first.
  static core::Result<std::vector<Partition>> Partitions(PgConnection& db, const std::vector<std::string>& checkpoints,
                                                         PartitionOrder order, int limit);
  // The newest dead letters of these pipelines, newest first.
  static core::Result<std::vector<DeadLetter>> LatestDeadLetters(PgConnection& db,
                                                                 const std::vector<std::string>& pipelines, int limit,
                                                                 int item_chars);
  // How many dead letters these pipelines have (every pipeline when empty).
  static core::Result<int64_t> DeadLetterCount(PgConnection& db, const std::vector<std::string>& pipelines);
};

}  // namespace ddb2pg::sink
