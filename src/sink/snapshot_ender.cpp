#include "sink/snapshot_ender.h"

#include <optional>
#include <string_view>
#include <utility>

#include "sink/system/commit_sql.h"
#include "sink/system/snapshot_fence_sql.h"
#include "sink/system/system_tables.h"

namespace ddb2pg::sink {

SnapshotEnder::SnapshotEnder(PgConnection& db, std::string checkpoint_id, WriterOf writer_of,
                             std::function<void()> start_deadline)
    : db_(db),
      checkpoint_id_(std::move(checkpoint_id)),
      writer_of_(std::move(writer_of)),
      start_deadline_(std::move(start_deadline)),
      context_("ending the snapshots of '" + checkpoint_id_ + "'") {}

core::Status SnapshotEnder::InTransaction(bool phase_change, const std::function<core::Status()>& body) {
  start_deadline_();
  DDB2PG_RETURN_IF_ERROR(db_.Exec("BEGIN", context_));
  if (phase_change) {
    DDB2PG_RETURN_IF_ERROR(db_.Query(SystemTables::kCheckpointLockSql, {checkpoint_id_}, context_).status());
  }
  DDB2PG_RETURN_IF_ERROR(db_.Exec(SnapshotFenceSql::kLockForSweepOrEnd, context_));
  DDB2PG_RETURN_IF_ERROR(body());
  return db_.Exec("COMMIT", context_);
}

core::Status SnapshotEnder::Sweep(const std::string& target, const TableWriter& writer,
                                  const std::function<bool()>& keep_going, int64_t* total) {
  if (writer.SweepSql(true).empty()) return core::Status::Ok();
  // The first range starts at the table's first key; each next one after the last key swept.
  std::vector<std::optional<std::string>> params = {checkpoint_id_, target};
  for (bool more = true; more;) {
    if (params.size() > 2 && !keep_going()) {
      return core::Status::Cancelled("stopped while sweeping " + target + " (the next start sweeps it again)");
    }
    DDB2PG_RETURN_IF_ERROR(InTransaction(false, [&]() -> core::Status {
      DDB2PG_ASSIGN_OR_RETURN(auto range, db_.Query(writer.SweepSql(params.size() == 2), params, "sweeping " + target));
      more = PQntuples(range.get()) == 1;
      if (!more) return core::Status::Ok();
      *total += std::stoll(PQgetvalue(range.get(), 0, 0));
      params.resize(2);
      for (int c = 1; c < PQnfields(range.get()); ++c) params.emplace_back(PQgetvalue(range.get(), 0, c));
      return core::Status::Ok();
    }));
  }
  return core::Status::Ok();
}

core::Result<std::vector<pipeline::SnapshotEnd>> SnapshotEnder::End(const std::function<bool()>& keep_going) {
  std::map<std::string, int64_t> swept;  // pipeline → rows swept
  DDB2PG_ASSIGN_OR_RETURN(auto listed, db_.Query(CommitSql::SnapshotsToEnd(false), {checkpoint_id_}, context_));
  for (int i = 0; i < PQntuples(listed.get()); ++i) {
    const std::string pipeline = PQgetvalue(listed.get(), i, 0);
    const std::string target = PQgetvalue(listed.get(), i, 1);
    const TableWriter* writer = writer_of_(target);
    // Not reconciling, or a pipeline no longer in the file (runners share one file, so none runs
    // it, and its table is not written any more): ended without a sweep.
    if (std::string_view(PQgetvalue(listed.get(), i, 2)) != "t" || writer == nullptr) continue;
    int64_t total = 0;
    DDB2PG_RETURN_IF_ERROR(Sweep(target, *writer, keep_going, &total));
    swept[pipeline] = total;
  }
  return EndDue(swept);
}

core::Result<std::vector<pipeline::SnapshotEnd>> SnapshotEnder::EndDue(const std::map<std::string, int64_t>& swept) {
  std::vector<pipeline::SnapshotEnd> ended;
  DDB2PG_RETURN_IF_ERROR(InTransaction(true, [&]() -> core::Status {
    DDB2PG_ASSIGN_OR_RETURN(auto due, db_.Query(CommitSql::SnapshotsToEnd(true), {checkpoint_id_}, context_));
    for (int i = 0; i < PQntuples(due.get()); ++i) {
      pipeline::SnapshotEnd end;
      end.pipeline = PQgetvalue(due.get(), i, 0);
      end.target = PQgetvalue(due.get(), i, 1);
      const bool sweeps = std::string_view(PQgetvalue(due.get(), i, 2)) == "t" && writer_of_(end.target) != nullptr;
      if (sweeps) {
        auto it = swept.find(end.pipeline);
        if (it == swept.end()) continue;
        end.swept = it->second;
      }
      DDB2PG_RETURN_IF_ERROR(
          db_.Query(CommitSql::kEndSnapshotSql, {checkpoint_id_, end.pipeline, std::to_string(end.swept)}, context_)
              .status());
      for (const auto& empty : SnapshotFenceSql::EmptyEndedTarget()) {
        DDB2PG_RETURN_IF_ERROR(db_.Query(empty, {checkpoint_id_, end.target}, context_).status());
      }
      ended.push_back(std::move(end));
    }
    return core::Status::Ok();
  }));
  return ended;
}

}  // namespace ddb2pg::sink
