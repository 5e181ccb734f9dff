#include "sink/postgres_sink.h"

#include <spdlog/spdlog.h>

#include <set>

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

  TableWriter* Find(const processor::TableSpec* table) {
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

core::Status PostgresSink::Connect(const std::vector<const processor::TableSpec*>& tables) {
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

core::Result<OpenResult> PostgresSink::Open(const std::vector<const processor::TableSpec*>& tables) {
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
  spdlog::info("postgres sink: connected to {}, checkpoint '{}' fence {}, {}", impl.connection->description(),
               impl.options.checkpoint_id, result.fence,
               result.checkpoint ? "resuming from " + *result.checkpoint : std::string("first run"));
  return result;
}

core::Status PostgresSink::Commit(const Batch& batch) {
  Impl& impl = *impl_;
  const std::string fence = std::to_string(impl.fence);
  int64_t rows_written = 0;
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
  auto committed = CommitGuarded(batch, std::move(guard),
                                 [](const PgResult& result) { return std::string_view(PQcmdTuples(result.get())) == "1"; });
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
  auto committed = CommitGuarded(batch, std::move(guard), [&](const PgResult& result) {
    for (int i = 0; i < PQntuples(result.get()); ++i) moved.insert(PQgetvalue(result.get(), i, 0));
    return moved.size() == ids.size();
  });
  if (!committed.ok()) return committed.status();
  pipeline::CommitResult result;
  if (!*committed) {
    for (const auto& id : ids) {
      if (moved.count(id) == 0) result.lost.push_back(id);
    }
  }
  return result;
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
                                               const std::function<bool(const PgResult&)>& accepted) {
  Impl& impl = *impl_;
  impl.last_direct_tables = 0;
  if (impl.connection == nullptr) {
    return core::Status::Unavailable("the PostgreSQL connection is closed; Open() the sink again");
  }
  if (impl.connection->broken()) {
    impl.connection.reset();
    return core::Status::Unavailable("the PostgreSQL connection was lost; Open() the sink again");
  }

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
  {
    std::vector<PgStatement> begin;
    begin.push_back({"", "BEGIN", {}, "BEGIN"});
    begin.push_back(std::move(guard));
    auto results = connection.RunPipeline(begin);
    if (!results.ok()) return impl.Fail(results.status());
    if (!accepted((*results)[1])) {
      impl.Abort();
      return false;
    }
  }

  std::vector<PgStatement> finish;
  for (auto& [writer, plan] : plans) {
    core::Status written = writer->Write(connection, plan, finish);
    if (!written.ok()) return impl.Fail(written);
    if (writer->last_write_was_direct()) ++impl.last_direct_tables;
  }
  if (!batch.dead_letters.empty()) {
    finish.push_back({kDeadLettersName, "", DeadLetterParams(batch.dead_letters), "inserting dead letters"});
  }
  finish.push_back({"", "COMMIT", {}, "COMMIT"});
  auto results = connection.RunPipeline(finish);
  if (!results.ok()) return impl.Fail(results.status());
  // A COMMIT of a transaction that failed on the server reports ROLLBACK.
  if (std::string_view(PQcmdStatus(results->back().get())) != "COMMIT") {
    return impl.Fail(core::Status::Internal("the transaction was rolled back by the server"));
  }
  return true;
}

}  // namespace ddb2pg::sink
