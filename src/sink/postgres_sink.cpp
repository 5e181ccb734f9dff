#include "sink/postgres_sink.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "core/json_writer.h"
#include "core/value_json.h"
#include "sink/pg_connection.h"
#include "sink/sql_text.h"
#include "sink/system/commit_sql.h"
#include "sink/system/snapshot_fence_sql.h"
#include "sink/snapshot_ender.h"
#include "sink/system/system_tables.h"
#include "sink/table_writer.h"

namespace ddb2pg::sink {
namespace {

constexpr const char* kRowsSavepoint = "ddb2pg_rows";

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

}  // namespace

struct PostgresSink::Impl {
  PostgresSinkOptions options;
  std::unique_ptr<PgConnection> connection;
  std::vector<std::unique_ptr<TableWriter>> writers;

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
    DDB2PG_RETURN_IF_ERROR(
        connection->Exec(SnapshotFenceSql::LockForBatch(snapshot_rows > 0, stream_rows > 0), context));
    // The direct COPY (SnapshotFence::allow_direct). Not when any of the batch's tables is in a
    // reconciling snapshot (its rows' keys are recorded through staging). Stream rows alone may
    // try it: a key with no row yet is upserted by inserting it, fenced or not. With snapshot
    // rows, only while no hard delete is fenced for any of the batch's fenced tables: every fenced
    // key then has a row, so a COPY that holds one fails (the lock keeps the fence still).
    if (!record_keys) {
      bool allow_direct = true;
      if (snapshot_rows > 0) {
        std::vector<std::string> targets;
        for (const auto& [writer, fence] : fences) targets.push_back(writer->qualified_name());
        DDB2PG_ASSIGN_OR_RETURN(PgResult any, connection->Query(SnapshotFenceSql::kAnyDeletedSql, {options.checkpoint_id, TextArray(targets)}, context));
        allow_direct = std::string_view(PQgetvalue(any.get(), 0, 0)) != "t";
      }
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
  core::Status WriteAll(const Plans& plans, const Batch& batch, pipeline::CommitResult& report, const Fences& fences) {
    PgConnection& pg = *connection;
    std::vector<PgStatement> finish;
    for (auto& [writer, plan] : plans) {
      DDB2PG_RETURN_IF_ERROR(writer->Write(pg, plan, finish, FenceOf(fences, writer)));
      for (size_t t = 0; t < batch.tables.size(); ++t) {
        if (&batch.tables[t].rows != plan.rows) continue;
        report.tables[t].copied_directly = writer->last_write_was_direct();
        report.tables[t].copied_binary = writer->last_copy_was_binary();
      }
    }
    if (!batch.dead_letters.empty()) {
      finish.push_back(
          {CommitSql::kDeadLettersName, "", CommitSql::DeadLetterParams(batch.dead_letters), "inserting dead letters"});
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
  core::Status WriteIsolating(const Plans& plans, const Batch& batch, pipeline::CommitResult& report, const Fences& fences) {
    PgConnection& pg = *connection;
    DDB2PG_RETURN_IF_ERROR(pg.Exec(std::string("ROLLBACK TO SAVEPOINT ") + kRowsSavepoint, "isolating rejected rows"));
    for (auto& counts : report.tables) counts.copied_directly = counts.copied_binary = false;
    std::vector<DeadLetter> letters = batch.dead_letters;
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
      if (table_rows.on_error == model::ErrorPolicy::kSkip) {
        counts.skipped += static_cast<int64_t>(rejected.size());
        spdlog::warn("table {}: skipped {} row(s) PostgreSQL rejected (first: SQLSTATE {}; on_error: skip)",
                     writer.display_name(), rejected.size(), first.error.sqlstate);
      } else {
        for (const auto& row : rejected) letters.push_back(LetterFor(batch, table_rows, writer, row));
        counts.dead_lettered += static_cast<int64_t>(rejected.size());
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
    if (!letters.empty()) {
      finish.push_back({CommitSql::kDeadLettersName, "", CommitSql::DeadLetterParams(letters), "inserting dead letters"});
    }
    finish.push_back({"", "COMMIT", {}, "COMMIT"});
    auto results = pg.RunPipeline(finish);
    if (!results.ok()) return results.status();
    if (std::string_view(PQcmdStatus(results->back().get())) != "COMMIT") {
      return core::Status::Internal("the transaction was rolled back by the server");
    }
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

core::Status PostgresSink::Open() {
  Close();
  Impl& impl = *impl_;
  const std::vector<const model::TableSpec*>& tables = impl.options.tables;
  if (impl.options.checkpoint_id.empty()) return core::Status::InvalidArgument("the sink needs a checkpoint id");
  if (impl.options.runner_id.empty()) return core::Status::InvalidArgument("the sink needs the runner's id");
  TableWriterOptions writer_options;
  writer_options.direct_copy = impl.options.direct_copy;
  writer_options.binary_copy = impl.options.binary_copy;
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
  DDB2PG_RETURN_IF_ERROR(
      connection->Prepare(CommitSql::kDeadLettersName, CommitSql::kDeadLettersSql, "preparing the dead-letter insert"));
  DDB2PG_RETURN_IF_ERROR(
      connection->Prepare(CommitSql::kAdvanceName, CommitSql::kAdvanceSql, "preparing the partition update"));
  impl.connection = std::move(connection);
  spdlog::debug("postgres sink: connected to {} for '{}'", impl.connection->description(), impl.options.checkpoint_id);
  return core::Status::Ok();
}

core::Result<pipeline::CommitResult> PostgresSink::Commit(const Batch& batch,
                                                          const std::vector<pipeline::PartitionAdvance>& advances) {
  Impl& impl = *impl_;
  std::vector<std::string> ids, epochs, positions, dones, counts, change_times;
  for (const auto& advance : advances) {
    change_times.push_back(std::to_string(advance.change_ms));
    ids.push_back(advance.id);
    epochs.push_back(std::to_string(advance.epoch));
    positions.push_back(advance.position);
    dones.emplace_back(advance.done ? "true" : "false");
    counts.push_back(std::to_string(advance.records));
  }
  PgStatement guard{CommitSql::kAdvanceName,
                    "",
                    {impl.options.checkpoint_id, TextArray(ids), TextArray(epochs), TextArray(positions),
                     TextArray(dones), TextArray(counts), impl.options.runner_id, TextArray(change_times)},
                    "advancing partitions of '" + impl.options.checkpoint_id + "'"};
  std::set<std::string> moved;
  pipeline::CommitResult report;
  auto committed = CommitGuarded(
      batch, std::move(guard),
      [&](const PgResult& result) {
        for (int i = 0; i < PQntuples(result.get()); ++i) moved.insert(PQgetvalue(result.get(), i, 0));
        return moved.size() == ids.size();
      },
      report);
  if (!committed.ok()) return committed.status();
  pipeline::CommitResult result;
  if (!*committed) {
    for (const auto& id : ids) {
      if (moved.count(id) == 0) result.lost.push_back(id);
    }
    return result;
  }
  return report;
}

core::Result<std::vector<pipeline::SnapshotEnd>> PostgresSink::EndSnapshots(const std::function<bool()>& keep_going) {
  Impl& impl = *impl_;
  if (impl.connection == nullptr || impl.connection->broken()) {
    return core::Status::Unavailable("the PostgreSQL connection is closed; Open() the sink again");
  }
  SnapshotEnder ender(
      *impl.connection, impl.options.checkpoint_id,
      [&](const std::string& target) -> const TableWriter* {
        for (const auto& writer : impl.writers) {
          if (writer->qualified_name() == target) return writer.get();
        }
        return nullptr;
      },
      [&] { impl.StartDeadline(); });
  auto ended = ender.End(keep_going);
  // A stop between two sweep ranges happens outside any transaction: nothing to roll back.
  if (!ended.ok() && ended.status().code() != core::StatusCode::kCancelled) return impl.Fail(ended.status());
  return ended;
}

core::Result<std::map<std::string, pipeline::StoredPartition>> PostgresSink::ReadPositions(
    const std::vector<std::string>& ids) {
  Impl& impl = *impl_;
  if (impl.connection == nullptr || impl.connection->broken()) {
    return core::Status::Unavailable("the PostgreSQL connection is closed; Open() the sink again");
  }
  auto rows = impl.connection->Query(CommitSql::kReadPositionsSql, {impl.options.checkpoint_id, TextArray(ids)},
                                     "reading partition positions");
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
                                               pipeline::CommitResult& out) {
  Impl& impl = *impl_;
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
    plans.emplace_back(writer, std::move(plan));
  }

  PgConnection& connection = *impl.connection;
  std::map<std::string, bool> snapshotting;  // target → its snapshot reconciles
  {
    std::vector<PgStatement> begin;
    begin.push_back({"", "BEGIN", {}, "BEGIN"});
    // Before the guard: a batch that finishes a snapshot's last segment still writes behind the
    // fence (which stays up until EndSnapshots).
    // The checkpoint's lock, shared: a phase change (a resnapshot, a new pipeline) waits for
    // this batch, and a batch after it reads the new phase.
    begin.push_back({"", SystemTables::kCheckpointSharedLockSql, {impl.options.checkpoint_id}, "the checkpoint's lock"});
    begin.push_back({"", SystemTables::kSnapshottingSql, {impl.options.checkpoint_id}, "the snapshots' state"});
    begin.push_back(std::move(guard));
    auto results = connection.RunPipeline(begin);
    if (!results.ok()) return impl.Fail(results.status());
    const PgResult& phases = (*results)[2];
    for (int i = 0; i < PQntuples(phases.get()); ++i) {
      snapshotting[PQgetvalue(phases.get(), i, 0)] = std::string_view(PQgetvalue(phases.get(), i, 1)) == "t";
    }
    if (!accepted(results->back())) {
      impl.Abort();
      return false;
    }
  }

  out = pipeline::CommitResult{};
  out.tables.resize(batch.tables.size());
  for (size_t t = 0; t < batch.tables.size(); ++t) {
    for (const auto& [writer, plan] : plans) {
      if (plan.rows == &batch.tables[t].rows) out.tables[t].rows_written = static_cast<int64_t>(plan.kept.size());
    }
  }
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
    written = impl.WriteIsolating(plans, batch, out, fences);
  }
  if (!written.ok()) return impl.Fail(written);
  return true;
}

}  // namespace ddb2pg::sink
