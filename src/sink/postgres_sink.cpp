#include "sink/postgres_sink.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "core/json_writer.h"
#include "core/value_json.h"
#include "sink/pg_connection.h"
#include "sink/pg_lease_store.h"
#include "sink/sql_text.h"
#include "sink/system_tables.h"
#include "sink/table_writer.h"

namespace ddb2pg::sink {
namespace {

constexpr const char* kTakeFenceSql =
    "INSERT INTO ddb2pg.checkpoints AS c (id, fence) VALUES ($1, 1) "
    "ON CONFLICT (id) DO UPDATE SET fence = c.fence + 1, updated_at = now() "
    "RETURNING fence, position";

constexpr const char* kCheckpointName = "ddb2pg_checkpoint";
constexpr const char* kCheckpointSql =
    "UPDATE ddb2pg.checkpoints SET position = COALESCE($2, position), records = records + $4, "
    "rows_written = rows_written + $5, dead_letters = dead_letters + $6, commits = commits + 1, "
    "last_change_time = GREATEST(last_change_time, to_timestamp($7::double precision / 1000)), "
    "updated_at = now() WHERE id = $1 AND fence = $3";

constexpr const char* kAdvanceName = "ddb2pg_advance";
constexpr const char* kAdvanceSql =
    "UPDATE ddb2pg.partitions p SET position = COALESCE(NULLIF(u.pos, ''), p.position), "
    "state = CASE WHEN u.done THEN 'done' ELSE p.state END, records = p.records + u.n, updated_at = now() "
    "FROM unnest($2::text[], $3::bigint[], $4::text[], $5::boolean[], $6::bigint[]) AS u(id, epoch, pos, done, n) "
    "WHERE p.checkpoint_id = $1 AND p.partition_id = u.id AND p.owner = $7 AND p.epoch = u.epoch "
    "RETURNING p.partition_id";

constexpr const char* kDeadLettersName = "ddb2pg_dead_letters";
constexpr const char* kDeadLettersSql =
    "INSERT INTO ddb2pg.dead_letters (pipeline, key, operation, reason, item, change_time, position) "
    "SELECT p, NULLIF(k, ''), NULLIF(o, ''), r, NULLIF(i, ''), "
    "CASE WHEN t = 0 THEN NULL ELSE to_timestamp(t::double precision / 1000) END, NULLIF(pos, '') "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[]) "
    "AS d(p, k, o, r, i, t, pos)";

constexpr const char* kRowsSavepoint = "ddb2pg_rows";
// After rows were rejected: the checkpoint's counters were written before the rows were known.
constexpr const char* kCountersSql =
    "UPDATE ddb2pg.checkpoints SET rows_written = rows_written - $2, dead_letters = dead_letters + $3 "
    "WHERE id = $1 AND fence = $4";

// The row's cells as a JSON object {"column": "text" | null}: the dead letter's item.
std::string RowJson(const model::TableSpec& table, const model::Row& row) {
  std::string json;
  core::JsonWriter writer(&json);
  writer.BeginObject();
  for (size_t i = 0; i < row.size() && i < table.columns.size(); ++i) {
    writer.Key(table.columns[i].name);
    if (row.is_null(i)) {
      writer.Null();
    } else {
      writer.String(row.cell(i));
    }
  }
  writer.EndObject();
  return json;
}

// One text[] literal per dead-letter field.
std::vector<std::optional<std::string>> DeadLetterParams(const std::vector<DeadLetter>& letters) {
  std::vector<std::string> arrays(7, "{");
  bool first = true;
  for (const auto& letter : letters) {
    if (!first) {
      for (auto& array : arrays) array.push_back(',');
    }
    first = false;
    AppendArrayElement(arrays[0], SanitizeText(letter.pipeline));
    AppendArrayElement(arrays[1], SanitizeText(letter.key_json));
    AppendArrayElement(arrays[2], SanitizeText(letter.operation));
    AppendArrayElement(arrays[3], SanitizeText(letter.reason));
    AppendArrayElement(arrays[4], SanitizeText(letter.item_json));
    AppendArrayElement(arrays[5], std::to_string(letter.change_time_ms));
    AppendArrayElement(arrays[6], SanitizeText(letter.position));
  }
  std::vector<std::optional<std::string>> params;
  for (auto& array : arrays) {
    array.push_back('}');
    params.emplace_back(std::move(array));
  }
  return params;
}

}  // namespace

struct PostgresSink::Impl {
  PostgresSinkOptions options;
  std::unique_ptr<PgConnection> connection;
  std::vector<std::unique_ptr<TableWriter>> writers;
  int64_t fence = 0;
  int last_direct_tables = 0;

  TableWriter* Find(const model::TableSpec* table) {
    for (auto& writer : writers) {
      if (&writer->table() == table) return writer.get();
    }
    for (auto& writer : writers) {
      if (writer->table().schema == table->schema && writer->table().name == table->name) return writer.get();
    }
    return nullptr;
  }

  // Ends a failed transaction; a broken connection is dropped so the next call reports it.
  void Abort() {
    if (connection == nullptr) return;
    if (connection->broken() || !connection->Exec("ROLLBACK", "rollback").ok()) connection.reset();
  }

  core::Status Fail(core::Status status) {
    Abort();
    if (connection != nullptr && connection->broken()) connection.reset();
    return status;
  }

  // Bounds every wait on PostgreSQL from now on by commit_timeout.
  void StartDeadline() {
    if (connection != nullptr) connection->SetDeadline(std::chrono::steady_clock::now() + options.commit_timeout);
  }

  using Plans = std::vector<std::pair<TableWriter*, TableWriter::Plan>>;
  // The fence each writer writes behind (absent: its table's pipeline streams).
  using Fences = std::map<const TableWriter*, SnapshotFence>;

  // Inside the batch's transaction, before any row is written: which of the batch's tables is
  // being snapshotted (`snapshotting`: target → the snapshot reconciles, read before this
  // batch's own partition updates)? Then take the fence's table lock for what the batch holds
  // of them: SHARE for snapshot rows (snapshot batches run side by side, no stream claim can
  // commit meanwhile), ROW EXCLUSIVE for stream rows (stream batches run side by side, no
  // snapshot batch meanwhile), SHARE ROW EXCLUSIVE for both. Taken first, so no transaction waits
  // for it while holding row locks of the targets. A table whose pipeline streams is written
  // without the fence.
  core::Result<Fences> EnterFence(const Plans& plans, const std::map<std::string, bool>& snapshotting) {
    Fences fences;
    int64_t snapshot_rows = 0;
    int64_t stream_rows = 0;
    bool record_keys = false;
    for (const auto& [writer, plan] : plans) {
      auto it = snapshotting.find(writer->qualified_name());
      if (it == snapshotting.end()) continue;
      snapshot_rows += plan.snapshot_upserts;
      stream_rows += plan.stream_rows();
      record_keys = record_keys || it->second;
      SnapshotFence& fence = fences[writer];
      fence.checkpoint_id = options.checkpoint_id;
      fence.record_keys = it->second;
    }
    if (fences.empty() || (snapshot_rows == 0 && stream_rows == 0)) return Fences();
    const std::string context = "the snapshot fence of '" + options.checkpoint_id + "'";
    const char* mode = snapshot_rows == 0 ? "ROW EXCLUSIVE" : stream_rows == 0 ? "SHARE" : "SHARE ROW EXCLUSIVE";
    DDB2PG_RETURN_IF_ERROR(
        connection->Exec(std::string("LOCK TABLE ddb2pg.snapshot_fence IN ") + mode + " MODE", context));
    if (stream_rows == 0 && !record_keys) {
      std::vector<std::string> targets;
      for (const auto& [writer, fence] : fences) targets.push_back(writer->qualified_name());
      DDB2PG_ASSIGN_OR_RETURN(PgResult any, connection->Query("SELECT EXISTS (SELECT 1 FROM ddb2pg.snapshot_fence "
                                                              "WHERE checkpoint_id = $1 AND target = ANY ($2::text[]))",
                                                              {options.checkpoint_id, TextArray(targets)}, context));
      const bool allow_direct = std::string_view(PQgetvalue(any.get(), 0, 0)) != "t";
      for (auto& [writer, fence] : fences) fence.allow_direct = allow_direct;
    }
    return fences;
  }

  static const SnapshotFence* FenceOf(const Fences& fences, const TableWriter* writer) {
    auto it = fences.find(writer);
    return it == fences.end() ? nullptr : &it->second;
  }

  // The usual way: every table's rows, then one pipeline with the finishing statements, the
  // dead letters and COMMIT.
  core::Status WriteAll(const Plans& plans, const Batch& batch, CommitReport& report, const Fences& fences) {
    PgConnection& pg = *connection;
    std::vector<PgStatement> finish;
    for (auto& [writer, plan] : plans) {
      DDB2PG_RETURN_IF_ERROR(writer->Write(pg, plan, finish, FenceOf(fences, writer)));
      if (writer->last_write_was_direct()) ++report.direct_tables;
    }
    if (!batch.dead_letters.empty()) {
      finish.push_back({kDeadLettersName, "", DeadLetterParams(batch.dead_letters), "inserting dead letters"});
    }
    finish.push_back({"", "COMMIT", {}, "COMMIT"});
    auto results = pg.RunPipeline(finish);
    if (!results.ok()) return results.status();
    // A COMMIT of a transaction that failed on the server reports ROLLBACK.
    if (std::string_view(PQcmdStatus(results->back().get())) != "COMMIT") {
      return core::Status::Internal("the transaction was rolled back by the server");
    }
    report.dead_letters_written = static_cast<int64_t>(batch.dead_letters.size());
    return core::Status::Ok();
  }

  DeadLetter LetterFor(const Batch& batch, const TableRows& table_rows, const TableWriter& writer,
                       const RejectedRow& rejected) {
    const model::Row& row = table_rows.rows[rejected.row];
    DeadLetter letter;
    letter.pipeline = table_rows.pipeline.empty() ? writer.display_name() : table_rows.pipeline;
    if (rejected.row < table_rows.origins.size() && table_rows.origins[rejected.row] < batch.origins.size()) {
      const RecordOrigin& origin = batch.origins[table_rows.origins[rejected.row]];
      letter.key_json = origin.key.is_map() ? core::ItemToJson(origin.key) : "";
      letter.operation = std::string(core::OperationName(origin.operation));
      letter.change_time_ms = origin.change_time_ms;
      letter.position = origin.position.partition + "@" + origin.position.offset;
    }
    letter.reason = "PostgreSQL rejected the row for " + writer.display_name() + " (" + writer.DescribeKey(row) +
                    "): " + rejected.error.message;
    if (!rejected.error.detail.empty()) letter.reason += "; " + rejected.error.detail;
    letter.reason += " [SQLSTATE " + rejected.error.sqlstate + "]";
    letter.item_json = RowJson(writer.table(), row);
    return letter;
  }

  // After a row error: back to the savepoint, every table again with its rejected rows found
  // and left out, then the dead letters, the corrected counters and COMMIT.
  core::Status WriteIsolating(const Plans& plans, const Batch& batch, const std::string& fence,
                              CommitReport& report, const Fences& fences) {
    PgConnection& pg = *connection;
    DDB2PG_RETURN_IF_ERROR(pg.Exec(std::string("ROLLBACK TO SAVEPOINT ") + kRowsSavepoint, "isolating rejected rows"));
    report.direct_tables = 0;
    std::vector<DeadLetter> letters = batch.dead_letters;
    int64_t rejected_total = 0;
    int64_t letters_added = 0;
    for (size_t t = 0; t < batch.tables.size(); ++t) {
      const TableRows& table_rows = batch.tables[t];
      if (table_rows.rows.empty()) continue;
      auto entry = std::find_if(plans.begin(), plans.end(), [&](const auto& p) {
        return p.second.rows == &table_rows.rows;
      });
      if (entry == plans.end()) continue;
      TableWriter& writer = *entry->first;
      std::vector<RejectedRow> rejected;
      // Each attempt gets a window of its own: many rejected rows make many attempts.
      DDB2PG_RETURN_IF_ERROR(
          writer.WriteIsolating(pg, entry->second, &rejected, options.commit_timeout, FenceOf(fences, &writer)));
      if (rejected.empty()) continue;
      std::sort(rejected.begin(), rejected.end(), [](const RejectedRow& a, const RejectedRow& b) { return a.row < b.row; });
      const RejectedRow& first = rejected.front();
      if (table_rows.on_error == model::ErrorPolicy::kStop) {
        return core::Status::DataError(
            "table " + writer.display_name() + " rejected the row with key " +
            writer.DescribeKey(table_rows.rows[first.row]) + ": " + first.error.message + " [SQLSTATE " +
            first.error.sqlstate + "] (on_error: stop; nothing of this batch was committed" +
            (rejected.size() > 1 ? ", " + std::to_string(rejected.size() - 1) + " more rows were rejected too" : "") +
            ")");
      }
      auto& counts = report.tables[t];
      counts.rows_written -= static_cast<int64_t>(rejected.size());
      rejected_total += static_cast<int64_t>(rejected.size());
      if (table_rows.on_error == model::ErrorPolicy::kSkip) {
        counts.skipped += static_cast<int64_t>(rejected.size());
        spdlog::warn("table {}: skipped {} row(s) PostgreSQL rejected (first: SQLSTATE {}; on_error: skip)",
                     writer.display_name(), rejected.size(), first.error.sqlstate);
      } else {
        for (const auto& row : rejected) letters.push_back(LetterFor(batch, table_rows, writer, row));
        counts.dead_lettered += static_cast<int64_t>(rejected.size());
        letters_added += static_cast<int64_t>(rejected.size());
        spdlog::warn("table {}: {} row(s) PostgreSQL rejected went to ddb2pg.dead_letters (first: SQLSTATE {})",
                     writer.display_name(), rejected.size(), first.error.sqlstate);
      }
      for (const auto& row : rejected) {
        spdlog::debug("table {}: rejected row {}: {} [SQLSTATE {}]", writer.display_name(),
                      writer.DescribeKey(table_rows.rows[row.row]), row.error.message, row.error.sqlstate);
      }
    }
    StartDeadline();
    std::vector<PgStatement> finish;
    if (!letters.empty()) finish.push_back({kDeadLettersName, "", DeadLetterParams(letters), "inserting dead letters"});
    if (!fence.empty()) {
      finish.push_back({"",
                        kCountersSql,
                        {options.checkpoint_id, std::to_string(rejected_total), std::to_string(letters_added), fence},
                        "updating checkpoint '" + options.checkpoint_id + "' counters"});
    }
    finish.push_back({"", "COMMIT", {}, "COMMIT"});
    auto results = pg.RunPipeline(finish);
    if (!results.ok()) return results.status();
    if (std::string_view(PQcmdStatus(results->back().get())) != "COMMIT") {
      return core::Status::Internal("the transaction was rolled back by the server");
    }
    report.rows_written -= rejected_total;
    report.rejected_rows = rejected_total;
    report.dead_letters_written = static_cast<int64_t>(letters.size());
    return core::Status::Ok();
  }
};

PostgresSink::PostgresSink(PostgresSinkOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

PostgresSink::~PostgresSink() = default;

void PostgresSink::Close() {
  impl_->connection.reset();
  impl_->writers.clear();
}

int PostgresSink::last_direct_tables() const { return impl_->last_direct_tables; }

core::Status PostgresSink::Open() {
  auto opened = Connect(impl_->options.tables);
  return opened;
}

core::Status PostgresSink::Connect(const std::vector<const model::TableSpec*>& tables) {
  Close();
  Impl& impl = *impl_;
  if (impl.options.checkpoint_id.empty()) return core::Status::InvalidArgument("the sink needs a checkpoint id");
  TableWriterOptions writer_options;
  writer_options.direct_copy = impl.options.direct_copy;
  for (size_t i = 0; i < tables.size(); ++i) {
    impl.writers.push_back(std::make_unique<TableWriter>(*tables[i], static_cast<int>(i), writer_options));
    DDB2PG_RETURN_IF_ERROR(impl.writers.back()->Validate());
  }

  auto connected = PgConnection::Connect(impl.options.conninfo, impl.options.application_name);
  if (!connected.ok()) return connected.status();
  std::unique_ptr<PgConnection> connection = std::move(connected).value();
  connection->SetDeadline(std::chrono::steady_clock::now() + impl.options.commit_timeout);
  if (!impl.options.synchronous_commit.empty()) {
    DDB2PG_RETURN_IF_ERROR(connection
                               ->Query("SELECT set_config('synchronous_commit', $1, false)",
                                       {impl.options.synchronous_commit}, "setting synchronous_commit")
                               .status());
  }
  DDB2PG_RETURN_IF_ERROR(SystemTables::Ensure(*connection));
  for (auto& writer : impl.writers) DDB2PG_RETURN_IF_ERROR(writer->Prepare(*connection));
  DDB2PG_RETURN_IF_ERROR(connection->Prepare(kCheckpointName, kCheckpointSql, "preparing the checkpoint update"));
  DDB2PG_RETURN_IF_ERROR(connection->Prepare(kDeadLettersName, kDeadLettersSql, "preparing the dead-letter insert"));
  DDB2PG_RETURN_IF_ERROR(connection->Prepare(kAdvanceName, kAdvanceSql, "preparing the partition update"));
  impl.connection = std::move(connection);
  return core::Status::Ok();
}

core::Result<OpenResult> PostgresSink::Open(const std::vector<const model::TableSpec*>& tables) {
  Impl& impl = *impl_;
  DDB2PG_RETURN_IF_ERROR(Connect(tables));
  std::unique_ptr<PgConnection> connection = std::move(impl.connection);
  // Taking the fence last: a runner that fails to set up does not fence out a working one.
  auto taken = connection->Query(kTakeFenceSql, {impl.options.checkpoint_id},
                                 "taking checkpoint '" + impl.options.checkpoint_id + "'");
  if (!taken.ok()) return taken.status();
  OpenResult result;
  result.fence = std::stoll(PQgetvalue(taken->get(), 0, 0));
  if (!PQgetisnull(taken->get(), 0, 1)) result.checkpoint = std::string(PQgetvalue(taken->get(), 0, 1));
  impl.fence = result.fence;
  impl.connection = std::move(connection);
  // The position holds scan keys (user data): only at debug.
  spdlog::info("postgres sink: connected to {}, checkpoint '{}' fence {}, {}", impl.connection->description(),
               impl.options.checkpoint_id, result.fence,
               result.checkpoint ? "resuming from the saved position" : "first run");
  if (result.checkpoint) spdlog::debug("postgres sink: checkpoint '{}' position {}", impl.options.checkpoint_id, *result.checkpoint);
  return result;
}

core::Status PostgresSink::Commit(const Batch& batch, CommitReport* report) {
  Impl& impl = *impl_;
  const std::string fence = std::to_string(impl.fence);
  int64_t rows_written = 0;  // the guard's counter; corrected when rows are rejected
  for (const auto& table_rows : batch.tables) rows_written += static_cast<int64_t>(table_rows.rows.size());
  PgStatement guard{kCheckpointName,
                    "",
                    {impl.options.checkpoint_id,
                     batch.checkpoint.empty() ? std::nullopt : std::optional<std::string>(batch.checkpoint), fence,
                     std::to_string(batch.records), std::to_string(rows_written),
                     std::to_string(batch.dead_letters.size()),
                     batch.max_change_time_ms > 0 ? std::optional<std::string>(std::to_string(batch.max_change_time_ms))
                                                  : std::nullopt},
                    "updating checkpoint '" + impl.options.checkpoint_id + "'"};
  auto committed = CommitGuarded(
      batch, std::move(guard),
      [](const PgResult& result) { return std::string_view(PQcmdTuples(result.get())) == "1"; }, report);
  if (!committed.ok()) return committed.status();
  if (!*committed) {
    return core::Status::Conflict("another ddb2pg runner took over checkpoint '" + impl.options.checkpoint_id +
                                  "' (this runner's fence " + fence + " is stale); this runner must stop");
  }
  return core::Status::Ok();
}

core::Result<pipeline::CommitResult> PostgresSink::Commit(const Batch& batch,
                                                          const std::vector<pipeline::PartitionAdvance>& advances) {
  Impl& impl = *impl_;
  std::vector<std::string> ids, epochs, positions, dones, counts;
  for (const auto& advance : advances) {
    ids.push_back(advance.id);
    epochs.push_back(std::to_string(advance.epoch));
    positions.push_back(advance.position);
    dones.emplace_back(advance.done ? "true" : "false");
    counts.push_back(std::to_string(advance.records));
  }
  PgStatement guard{kAdvanceName,
                    "",
                    {impl.options.checkpoint_id, TextArray(ids), TextArray(epochs), TextArray(positions),
                     TextArray(dones), TextArray(counts), impl.options.runner_id},
                    "advancing partitions of '" + impl.options.checkpoint_id + "'"};
  std::set<std::string> moved;
  CommitReport report;
  auto committed = CommitGuarded(
      batch, std::move(guard),
      [&](const PgResult& result) {
        for (int i = 0; i < PQntuples(result.get()); ++i) moved.insert(PQgetvalue(result.get(), i, 0));
        return moved.size() == ids.size();
      },
      &report);
  if (!committed.ok()) return committed.status();
  pipeline::CommitResult result;
  if (!*committed) {
    for (const auto& id : ids) {
      if (moved.count(id) == 0) result.lost.push_back(id);
    }
    return result;
  }
  for (const auto& table : report.tables) result.tables.push_back({table.rows_written, table.dead_lettered, table.skipped});
  result.dead_letters_written = report.dead_letters_written;
  return result;
}

namespace {

// Pipelines of checkpoint $1 whose snapshot is read to its end but not yet ended.
std::string DueSql() {
  return "SELECT l.pipeline, l.target, l.reconcile FROM ddb2pg.pipelines l WHERE " + SystemTables::kSnapshotsToEndWhere +
         " ORDER BY l.pipeline";
}
// Taken by each transaction that sweeps or ends: no snapshot or stream batch of a snapshotting
// table commits meanwhile.
constexpr const char* kExcludeFencedBatchesSql = "LOCK TABLE ddb2pg.snapshot_fence IN SHARE ROW EXCLUSIVE MODE";

}  // namespace

core::Result<std::vector<pipeline::SnapshotEnd>> PostgresSink::EndSnapshots(const std::function<bool()>& keep_going) {
  Impl& impl = *impl_;
  if (impl.connection == nullptr || impl.connection->broken()) {
    return core::Status::Unavailable("the PostgreSQL connection is closed; Open() the sink again");
  }
  PgConnection& db = *impl.connection;
  const std::string& cp = impl.options.checkpoint_id;
  const std::string context = "ending the snapshots of '" + cp + "'";
  auto writer_of = [&](const std::string& target) -> const TableWriter* {
    for (const auto& w : impl.writers) {
      if (w->qualified_name() == target) return w.get();
    }
    return nullptr;
  };
  // `phase_change`: the transaction ends snapshots, so it first takes the checkpoint's lock
  // exclusively, as every phase change does. A batch holds that lock (shared) from before it reads
  // the phases until it commits, and takes the fence's lock only after reading them: without this,
  // a batch that read 'snapshot' and then waited for the fence's lock behind this transaction
  // would, once this committed, fence its keys for a snapshot that had ended, and nothing would
  // ever empty them. The checkpoint's lock comes before the fence's, in the order batches take them.
  auto in_transaction = [&](bool phase_change, const std::function<core::Status()>& body) -> core::Status {
    impl.StartDeadline();
    DDB2PG_RETURN_IF_ERROR(db.Exec("BEGIN", context));
    if (phase_change) DDB2PG_RETURN_IF_ERROR(db.Query(SystemTables::kCheckpointLockSql, {cp}, context).status());
    DDB2PG_RETURN_IF_ERROR(db.Exec(kExcludeFencedBatchesSql, context));
    DDB2PG_RETURN_IF_ERROR(body());
    return db.Exec("COMMIT", context);
  };

  // 1. The sweeps, a range of keys per transaction, so that batches of the table wait for one
  //    range at most. The fence stays up throughout: a key the stream writes in a range already
  //    swept is claimed and its row kept; no range is visited twice.
  std::map<std::string, int64_t> swept;  // pipeline → rows swept
  auto listed = db.Query(DueSql(), {cp}, context);
  if (!listed.ok()) return impl.Fail(listed.status());
  for (int i = 0; i < PQntuples(listed->get()); ++i) {
    const std::string pipeline = PQgetvalue(listed->get(), i, 0);
    const std::string target = PQgetvalue(listed->get(), i, 1);
    const TableWriter* writer = writer_of(target);
    // Not reconciling, or a pipeline no longer in the file (runners share one file, so none
    // runs it, and its table is not written any more): ended without a sweep.
    if (std::string_view(PQgetvalue(listed->get(), i, 2)) != "t" || writer == nullptr) continue;
    int64_t total = 0;
    if (!writer->SweepSql(true).empty()) {
      std::vector<std::optional<std::string>> params = {cp, target};
      for (bool more = true; more;) {
        if (params.size() > 2 && !keep_going()) {
          return core::Status::Cancelled("stopped while sweeping " + target + " (the next start sweeps it again)");
        }
        core::Status ranged = in_transaction(false, [&]() -> core::Status {
          DDB2PG_ASSIGN_OR_RETURN(auto range, db.Query(writer->SweepSql(params.size() == 2), params,
                                                       "sweeping " + target));
          more = PQntuples(range.get()) == 1;
          if (!more) return core::Status::Ok();
          total += std::stoll(PQgetvalue(range.get(), 0, 0));
          params.resize(2);
          for (int c = 1; c < PQnfields(range.get()); ++c) params.emplace_back(PQgetvalue(range.get(), 0, c));
          return core::Status::Ok();
        });
        if (!ranged.ok()) return impl.Fail(ranged);
      }
    }
    swept[pipeline] = total;
  }

  // 2. The ends: phase streaming, the table's fence and seen keys emptied. A pipeline that became
  //    due after step 1 and reconciles is left for the next call (it has not been swept).
  std::vector<pipeline::SnapshotEnd> ended;
  core::Status status = in_transaction(true, [&]() -> core::Status {
    DDB2PG_ASSIGN_OR_RETURN(auto due, db.Query(DueSql() + " FOR UPDATE OF l", {cp}, context));
    for (int i = 0; i < PQntuples(due.get()); ++i) {
      pipeline::SnapshotEnd end;
      end.pipeline = PQgetvalue(due.get(), i, 0);
      end.target = PQgetvalue(due.get(), i, 1);
      const bool sweeps = std::string_view(PQgetvalue(due.get(), i, 2)) == "t" && writer_of(end.target) != nullptr;
      if (sweeps) {
        auto it = swept.find(end.pipeline);
        if (it == swept.end()) continue;
        end.swept = it->second;
      }
      DDB2PG_RETURN_IF_ERROR(
          db.Query("UPDATE ddb2pg.pipelines SET phase = 'streaming', swept = NULLIF($3::bigint, -1), "
                   "snapshot_ended_at = now(), updated_at = now() WHERE checkpoint_id = $1 AND pipeline = $2",
                   {cp, end.pipeline, std::to_string(end.swept)}, context)
              .status());
      for (const char* table : {"snapshot_fence", "snapshot_seen"}) {
        DDB2PG_RETURN_IF_ERROR(db.Query(std::string("DELETE FROM ddb2pg.") + table +
                                            " WHERE checkpoint_id = $1 AND target = $2 AND NOT EXISTS (SELECT 1 FROM "
                                            "ddb2pg.pipelines WHERE checkpoint_id = $1 AND target = $2 AND phase = "
                                            "'snapshot')",
                                        {cp, end.target}, context)
                                   .status());
      }
      ended.push_back(std::move(end));
    }
    return core::Status::Ok();
  });
  if (!status.ok()) return impl.Fail(status);
  return ended;
}

core::Result<std::map<std::string, pipeline::StoredPartition>> PostgresSink::ReadPositions(
    const std::vector<std::string>& ids) {
  Impl& impl = *impl_;
  if (impl.connection == nullptr || impl.connection->broken()) {
    return core::Status::Unavailable("the PostgreSQL connection is closed; Open() the sink again");
  }
  auto rows = impl.connection->Query(
      "SELECT partition_id, COALESCE(position, ''), state = 'done', COALESCE(owner, ''), epoch FROM "
      "ddb2pg.partitions WHERE checkpoint_id = $1 AND partition_id = ANY ($2::text[])",
      {impl.options.checkpoint_id, TextArray(ids)}, "reading partition positions");
  if (!rows.ok()) return impl.Fail(rows.status());
  std::map<std::string, pipeline::StoredPartition> out;
  for (int i = 0; i < PQntuples(rows->get()); ++i) {
    pipeline::StoredPartition stored;
    stored.position = PQgetvalue(rows->get(), i, 1);
    stored.done = std::string_view(PQgetvalue(rows->get(), i, 2)) == "t";
    stored.owner = PQgetvalue(rows->get(), i, 3);
    stored.epoch = std::stoll(PQgetvalue(rows->get(), i, 4));
    out[PQgetvalue(rows->get(), i, 0)] = std::move(stored);
  }
  return out;
}

core::Result<bool> PostgresSink::CommitGuarded(const Batch& batch, PgStatement guard,
                                               const std::function<bool(const PgResult&)>& accepted,
                                               CommitReport* report) {
  Impl& impl = *impl_;
  impl.last_direct_tables = 0;
  if (impl.connection == nullptr) {
    return core::Status::Unavailable("the PostgreSQL connection is closed; Open() the sink again");
  }
  if (impl.connection->broken()) {
    impl.connection.reset();
    return core::Status::Unavailable("the PostgreSQL connection was lost; Open() the sink again");
  }
  impl.StartDeadline();

  // Everything that needs no server first: dedupe, count, check row widths.
  std::vector<std::pair<TableWriter*, TableWriter::Plan>> plans;
  int64_t rows_written = 0;
  for (const auto& table_rows : batch.tables) {
    if (table_rows.rows.empty()) continue;
    if (table_rows.table == nullptr) return core::Status::Internal("a batch table without its TableSpec");
    TableWriter* writer = impl.Find(table_rows.table);
    if (writer == nullptr) {
      return core::Status::Internal("table " + DisplayName(*table_rows.table) + " was not given to Open()");
    }
    for (const auto& entry : plans) {
      if (entry.first == writer) {
        return core::Status::Internal("table " + DisplayName(*table_rows.table) + " appears twice in one batch");
      }
    }
    DDB2PG_ASSIGN_OR_RETURN(auto plan, writer->MakePlan(table_rows.rows));
    rows_written += static_cast<int64_t>(plan.kept.size());
    plans.emplace_back(writer, std::move(plan));
  }

  PgConnection& connection = *impl.connection;
  const bool fenced_mode = !impl.options.runner_id.empty();
  std::map<std::string, bool> snapshotting;  // target → its snapshot reconciles
  {
    std::vector<PgStatement> begin;
    begin.push_back({"", "BEGIN", {}, "BEGIN"});
    // Before the guard: a batch that finishes a snapshot's last segment still writes behind the
    // fence (which stays up until EndSnapshots).
    // The checkpoint's lock, shared: a phase change (a resnapshot, a new pipeline) waits for
    // this batch, and a batch after it reads the new phase.
    if (fenced_mode) {
      begin.push_back({"", SystemTables::kCheckpointSharedLockSql, {impl.options.checkpoint_id}, "the checkpoint's lock"});
      begin.push_back({"", SystemTables::kSnapshottingSql, {impl.options.checkpoint_id}, "the snapshots' state"});
    }
    begin.push_back(std::move(guard));
    auto results = connection.RunPipeline(begin);
    if (!results.ok()) return impl.Fail(results.status());
    if (fenced_mode) {
      const PgResult& phases = (*results)[2];
      for (int i = 0; i < PQntuples(phases.get()); ++i) {
        snapshotting[PQgetvalue(phases.get(), i, 0)] = std::string_view(PQgetvalue(phases.get(), i, 1)) == "t";
      }
    }
    if (!accepted(results->back())) {
      impl.Abort();
      return false;
    }
  }

  CommitReport local_report;
  CommitReport& out = report != nullptr ? *report : local_report;
  out = CommitReport{};
  out.tables.resize(batch.tables.size());
  for (size_t t = 0; t < batch.tables.size(); ++t) {
    for (const auto& [writer, plan] : plans) {
      if (plan.rows == &batch.tables[t].rows) out.tables[t].rows_written = static_cast<int64_t>(plan.kept.size());
    }
  }
  out.rows_written = rows_written;
  // While a table's pipeline snapshots, its snapshot rows and stream rows meet at the snapshot
  // fence (docs/consistency.md).
  Impl::Fences fences;
  if (!snapshotting.empty()) {
    auto fenced = impl.EnterFence(plans, snapshotting);
    if (!fenced.ok()) return impl.Fail(fenced.status());
    fences = std::move(fenced).value();
  }
  // Rows PostgreSQL rejects are isolated by rolling back to here (see the header).
  core::Status written = connection.Exec(std::string("SAVEPOINT ") + kRowsSavepoint, "SAVEPOINT");
  if (written.ok()) written = impl.WriteAll(plans, batch, out, fences);
  // Isolating needs the transaction still open (failed), i.e. not an error at COMMIT itself.
  if (!written.ok() && written.code() == core::StatusCode::kDataError && !connection.broken() &&
      IsRowError(connection.last_error().sqlstate) && PQtransactionStatus(connection.raw()) == PQTRANS_INERROR) {
    impl.StartDeadline();
    // The legacy checkpoint's counters follow the rejected rows; partitioned mode keeps none.
    written = impl.WriteIsolating(plans, batch, impl.options.runner_id.empty() ? std::to_string(impl.fence) : "", out,
                                  fences);
  }
  if (!written.ok()) return impl.Fail(written);
  impl.last_direct_tables = out.direct_tables;
  return true;
}

}  // namespace ddb2pg::sink
