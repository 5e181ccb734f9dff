#include "sink/system/system_status.h"

#include "sink/sql_text.h"
#include "sink/pg_result.h"

namespace ddb2pg::sink {

core::Result<std::vector<SystemStatus::Runner>> SystemStatus::Runners(PgConnection& db,
                                                                      const std::vector<std::string>& checkpoints,
                                                                      int limit) {
  DDB2PG_ASSIGN_OR_RETURN(
      auto rows,
      db.Query("SELECT checkpoint_id, runner_id, coalesce(host, ''), coalesce(pid, 0)::text, coalesce(lanes, 0)::text, "
               "round(EXTRACT(EPOCH FROM now() - heartbeat_at)::numeric, 1)::text, EXISTS (SELECT 1 FROM "
               "ddb2pg.configs c WHERE c.checkpoint_id = r.checkpoint_id AND c.superseded_at IS NULL AND "
               "c.config_hash <> md5(coalesce(r.config, ''))) FROM ddb2pg.runners r WHERE checkpoint_id = "
               "ANY($1::text[]) ORDER BY started_at LIMIT $2::int",
               {TextArray(checkpoints), std::to_string(limit)}, "reading the runners"));
  std::vector<Runner> out;
  for (int r = 0; r < PQntuples(rows.get()); ++r) {
    out.push_back({CellText(rows, r, 0), CellText(rows, r, 1), CellText(rows, r, 2), CellText(rows, r, 3),
                   CellText(rows, r, 4), CellText(rows, r, 5), CellText(rows, r, 6) == "t"});
  }
  return out;
}

core::Result<std::vector<SystemStatus::Partition>> SystemStatus::Partitions(
    PgConnection& db, const std::vector<std::string>& checkpoints, PartitionOrder order, int limit) {
  const std::string order_by =
      order == PartitionOrder::kPendingFirst ? "state DESC, kind DESC, partition_id" : "kind DESC, partition_id";
  DDB2PG_ASSIGN_OR_RETURN(
      auto rows,
      db.Query("SELECT checkpoint_id, partition_id, kind, state, coalesce(owner, ''), epoch::text, CASE WHEN owner IS "
               "NULL THEN '' WHEN lease_expires < now() THEN 'expired' ELSE 'held' END, records::text, "
               "round(EXTRACT(EPOCH FROM now() - updated_at)::numeric, 1)::text, coalesce(parent, ''), CASE WHEN "
               "owner IS NULL THEN '' ELSE coalesce(lane::text, '') END FROM ddb2pg.partitions WHERE checkpoint_id = "
               "ANY($1::text[]) ORDER BY " + order_by + " LIMIT $2::int",
               {TextArray(checkpoints), std::to_string(limit)}, "reading the partitions"));
  std::vector<Partition> out;
  for (int r = 0; r < PQntuples(rows.get()); ++r) {
    Partition p;
    int column = 0;
    for (std::string Partition::*field : {&Partition::checkpoint, &Partition::id, &Partition::kind, &Partition::state,
                                          &Partition::owner, &Partition::epoch, &Partition::lease, &Partition::records,
                                          &Partition::age_s, &Partition::parent, &Partition::lane}) {
      p.*field = CellText(rows, r, column++);
    }
    out.push_back(std::move(p));
  }
  return out;
}

core::Result<std::vector<SystemStatus::DeadLetter>> SystemStatus::LatestDeadLetters(
    PgConnection& db, const std::vector<std::string>& pipelines, int limit, int item_chars) {
  DDB2PG_ASSIGN_OR_RETURN(
      auto rows,
      db.Query("SELECT id::text, pipeline, coalesce(key, ''), coalesce(operation, ''), reason, left(coalesce(item, ''), "
               "$3::int), to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM "
               "ddb2pg.dead_letters WHERE pipeline = ANY($1::text[]) ORDER BY id DESC LIMIT $2::int",
               {TextArray(pipelines), std::to_string(limit), std::to_string(item_chars + 1)},
               "reading the latest dead letters"));
  std::vector<DeadLetter> out;
  for (int r = 0; r < PQntuples(rows.get()); ++r) {
    out.push_back({CellText(rows, r, 0), CellText(rows, r, 1), CellText(rows, r, 2), CellText(rows, r, 3),
                   CellText(rows, r, 4), CellText(rows, r, 5), CellText(rows, r, 6)});
  }
  return out;
}

core::Result<int64_t> SystemStatus::DeadLetterCount(PgConnection& db, const std::vector<std::string>& pipelines) {
  DDB2PG_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT count(*) FROM ddb2pg.dead_letters WHERE cardinality($1::text[]) = "
                                              "0 OR pipeline = ANY($1::text[])",
                                              {TextArray(pipelines)}, "counting dead letters"));
  return std::stoll(CellText(rows, 0, 0));
}

}  // namespace ddb2pg::sink
