// PgLeaseStore, carrying over what an earlier release stored: a checkpoint whose id an earlier
// release spelled "<source>:<pipeline names>" is renamed to this release's id, with its
// partitions, lease events and fence.
#include "sink/system/pg_lease_store.h"

#include <spdlog/spdlog.h>

#include <set>

#include "sink/pg_connection.h"
#include "sink/pg_result.h"

namespace ddb2pg::sink {

core::Result<std::optional<std::set<std::string>>> PgLeaseStore::AdoptEarlierCheckpoint() {
  PgConnection& db = *connection_;
  const std::string& cp = options_.checkpoint_id;
  const std::string context = "adopting an earlier checkpoint of '" + cp + "'";
  DDB2PG_ASSIGN_OR_RETURN(auto own, db.Query("SELECT 1 FROM ddb2pg.checkpoints WHERE id = $1", {cp}, context));
  if (PQntuples(own.get()) > 0) return std::optional<std::set<std::string>>();
  DDB2PG_ASSIGN_OR_RETURN(
      auto earlier,
      db.Query("SELECT c.id, (SELECT count(*) FROM ddb2pg.runners r WHERE r.checkpoint_id = c.id AND r.heartbeat_at > "
               "now() - $2::bigint * interval '1 millisecond') FROM ddb2pg.checkpoints c WHERE left(c.id, "
               "length($1) + 1) = $1 || ':' ORDER BY c.updated_at DESC LIMIT 1",
               {cp, TtlMs()}, context));
  if (PQntuples(earlier.get()) == 0) return std::optional<std::set<std::string>>();
  const std::string old_id = CellText(earlier, 0, 0);
  if (std::stoll(CellText(earlier, 0, 1)) > 0) {
    return core::Status::Conflict("checkpoint '" + old_id + "' of an earlier release is still run by " +
                                  CellText(earlier, 0, 1) + " runner(s): stop them, then start this release (it "
                                  "carries that checkpoint over as '" + cp + "')");
  }
  for (const char* table : {"partitions", "lease_events", "snapshot_fence", "snapshot_seen"}) {
    DDB2PG_RETURN_IF_ERROR(db.Query(std::string("UPDATE ddb2pg.") + table +
                                        " SET checkpoint_id = $2 WHERE checkpoint_id = $1",
                                    {old_id, cp}, context)
                               .status());
  }
  DDB2PG_RETURN_IF_ERROR(
      db.Query("DELETE FROM ddb2pg.runners WHERE checkpoint_id = $1", {old_id}, context).status());
  DDB2PG_RETURN_IF_ERROR(
      db.Query("UPDATE ddb2pg.checkpoints SET id = $2, updated_at = now() WHERE id = $1", {old_id, cp}, context)
          .status());
  std::set<std::string> named;
  const std::string names = old_id.substr(cp.size() + 1);
  for (size_t start = 0; start <= names.size();) {
    const size_t comma = std::min(names.find(',', start), names.size());
    named.insert(names.substr(start, comma - start));
    start = comma + 1;
  }
  spdlog::info("carried checkpoint '{}' of an earlier release over as '{}'", old_id, cp);
  return std::optional<std::set<std::string>>(std::move(named));
}

}  // namespace ddb2pg::sink
