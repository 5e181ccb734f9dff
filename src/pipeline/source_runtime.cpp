#include "pipeline/source_runtime.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/bounded_queue.h"
#include "core/thread_name.h"
#include "core/value_json.h"
#include "sink/postgres_sink.h"
#include "source/dynamodb_source.h"

namespace ddb2pg::pipeline {
namespace {

source::SourceOptions ToSourceOptions(const config::SourceConfig& config,
                                      const std::vector<const processor::MappingPlan*>& plans) {
  source::SourceOptions options;
  // Decode only what some pipeline reads (plus the key, added by the source), unless one of
  // them reads the image whole.
  std::set<std::string> attributes;
  bool all = false;
  for (const auto* plan : plans) {
    auto read = plan->ImageAttributes();
    if (!read) {
      all = true;
      break;
    }
    attributes.insert(read->begin(), read->end());
  }
  if (!all) options.decode_attributes = std::vector<std::string>(attributes.begin(), attributes.end());
  options.table = config.table;
  options.snapshot_enabled = config.snapshot.enabled;
  options.segments = config.snapshot.segments;
  options.page_limit = config.snapshot.page_limit;
  options.max_items_per_second = config.snapshot.max_items_per_second;
  options.consistent_read = config.snapshot.consistent_read;
  options.stream_start_at =
      config.stream.start_at == "latest" ? source::StreamStartAt::kLatest : source::StreamStartAt::kTrimHorizon;
  options.max_idle_poll_ms = config.stream.max_idle_poll_ms;
  options.max_concurrent_shards = config.stream.max_concurrent_shards;
  options.on_trimmed =
      config.stream.on_trimmed == "resnapshot" ? source::TrimmedPolicy::kResnapshot : source::TrimmedPolicy::kStop;
  options.enable_stream = config.stream.enable_stream;
  return options;
}

bool IsStreamOperation(core::Operation op) {
  return op == core::Operation::kCreate || op == core::Operation::kUpdate || op == core::Operation::kDelete;
}

std::string PositionText(const core::Position& position) { return position.partition + "@" + position.offset; }

}  // namespace

struct SourceRuntime::Impl {
  const config::SourceConfig& source_config;
  std::vector<const processor::MappingPlan*> plans;
  std::vector<const processor::TableSpec*> tables;
  RuntimeOptions options;
  const core::Clock& clock;
  Metrics& metrics;
  sink::PostgresSink sink;
  source::DynamoDbSource source;
  core::BoundedQueue<core::Record> queue;
  std::atomic<bool> stop_requested{false};

  // Per-pipeline metric handles, in plan order.
  std::vector<prometheus::Counter*> rows_written, dead_letters, skipped, filtered;
  // records_read[operation]: looked up once, not per record (a family lookup hashes the labels).
  std::array<prometheus::Counter*, 5> records_read{};
  std::vector<std::optional<processor::Row>> scratch_rows;  // Add()'s per-plan rows (mapper thread)
  prometheus::Histogram* commit_latency;
  prometheus::Histogram* lag;

  mutable std::mutex progress_mutex;
  RuntimeProgress progress;

  // The batch being built, and the positions around it.
  sink::Batch batch;
  size_t batch_rows = 0;
  size_t batch_bytes = 0;
  std::vector<int64_t> batch_change_times;  // stream records' change times, for the lag histogram
  std::optional<std::chrono::steady_clock::time_point> batch_deadline;
  source::SourcePosition pending;     // position after the last record added to the batch
  std::string committed_checkpoint;   // what PostgreSQL holds now ("" before the first commit)

  // The committer: commits the batch handed over while the mapper builds the next one, so
  // PostgreSQL's work overlaps the mapping (one batch in flight, one being built). Guarded by
  // commit_mutex; the sink is used only by the committer thread once it runs.
  struct InFlight {
    sink::Batch batch;
    std::vector<int64_t> change_times;
  };
  std::mutex commit_mutex;
  std::condition_variable commit_changed;
  std::optional<InFlight> in_flight;
  bool committer_stop = false;
  core::Status commit_error;  // the committer's first failure; nothing is committed after it

  Impl(const config::SourceConfig& source_config, std::vector<const processor::MappingPlan*> plans,
       std::string conninfo, std::string checkpoint_id, aws::TableApi& table_api, aws::StreamsApi& streams_api,
       Metrics& metrics, RuntimeOptions options, const core::Clock& clock)
      : source_config(source_config),
        plans(std::move(plans)),
        options(options),
        clock(clock),
        metrics(metrics),
        sink(sink::PostgresSinkOptions{std::move(conninfo), std::move(checkpoint_id)}),
        source(ToSourceOptions(source_config, this->plans), table_api, streams_api, clock),
        queue(options.queue_capacity) {
    for (const auto* plan : this->plans) {
      tables.push_back(&plan->spec().table);
      rows_written.push_back(&metrics.RowsWritten(plan->spec().name));
      dead_letters.push_back(&metrics.DeadLetters(plan->spec().name));
      skipped.push_back(&metrics.RecordsSkipped(plan->spec().name));
      filtered.push_back(&metrics.RecordsFiltered(plan->spec().name));
    }
    for (core::Operation op : {core::Operation::kSnapshot, core::Operation::kCreate, core::Operation::kUpdate,
                               core::Operation::kDelete, core::Operation::kMarker}) {
      records_read[static_cast<size_t>(op)] =
          &metrics.RecordsRead(source_config.name, std::string(core::OperationName(op)));
    }
    commit_latency = &metrics.CommitLatency(source_config.name);
    lag = &metrics.EndToEndLag(source_config.name);
    ResetBatch();
  }

  void SetState(const char* state) {
    std::lock_guard lock(progress_mutex);
    progress.state = state;
  }

  void ResetBatch() {
    batch = sink::Batch{};
    for (const auto* table : tables) batch.tables.push_back(sink::TableRows{table, {}});
    batch_rows = 0;
    batch_bytes = 0;
    batch_change_times.clear();
    batch_deadline.reset();
  }

  bool BatchFull() const {
    return batch_rows >= static_cast<size_t>(options.batch_max_rows) ||
           batch_bytes >= static_cast<size_t>(options.batch_max_bytes);
  }

  // Opens (or re-opens) the sink, retrying while PostgreSQL is unreachable.
  core::Result<sink::OpenResult> OpenSink() {
    auto backoff = std::chrono::milliseconds(100);
    while (true) {
      auto opened = sink.Open(tables);
      if (opened.ok() || !opened.status().retryable()) return opened;
      metrics.Errors("connection").Increment();
      if (stop_requested) return core::Status::Cancelled("stopped while reconnecting to PostgreSQL");
      spdlog::warn("PostgreSQL unavailable ({}); retrying in {} ms", opened.status().message(), backoff.count());
      SetState("reconnecting");
      clock.SleepFor(backoff);
      backoff = std::min(backoff * 2, options.reconnect_backoff_max);
    }
  }

  // Hands the batch being built to the committer, waiting while the previous one is still in
  // flight. Returns the committer's failure, if it had one (the batch is then not committed).
  core::Status Flush() {
    if (batch.records == 0) return CommitError();
    batch.checkpoint = pending.Serialize();
    std::unique_lock lock(commit_mutex);
    commit_changed.wait(lock, [&] { return !in_flight || !commit_error.ok(); });
    if (!commit_error.ok()) return commit_error;
    in_flight = InFlight{std::move(batch), std::move(batch_change_times)};
    lock.unlock();
    commit_changed.notify_all();
    ResetBatch();
    return core::Status::Ok();
  }

  // Waits until nothing is in flight; the committer's failure, if any.
  core::Status WaitCommitted() {
    std::unique_lock lock(commit_mutex);
    commit_changed.wait(lock, [&] { return !in_flight || !commit_error.ok(); });
    return commit_error;
  }

  core::Status CommitError() {
    std::lock_guard lock(commit_mutex);
    return commit_error;
  }

  void CommitterLoop() {
    while (true) {
      std::unique_lock lock(commit_mutex);
      commit_changed.wait(lock, [&] { return in_flight.has_value() || committer_stop; });
      if (!in_flight) return;  // stopping with nothing left
      lock.unlock();
      core::Status status = CommitNow(*in_flight);  // in_flight is not touched by the mapper meanwhile
      lock.lock();
      if (!status.ok()) {
        commit_error = std::move(status);
      } else {
        in_flight.reset();
      }
      lock.unlock();
      commit_changed.notify_all();
      if (!CommitError().ok()) return;
    }
  }

  // Commits one batch. On a lost connection: reconnect, and read the checkpoint back to tell a
  // commit that landed (checkpoint == ours) from one that did not (checkpoint == previous).
  core::Status CommitNow(InFlight& flight) {
    sink::Batch& committing = flight.batch;
    const auto started = clock.Monotonic();
    while (true) {
      core::Status status = sink.Commit(committing);
      if (status.ok()) break;
      if (!status.retryable()) {
        metrics.Errors("commit").Increment();
        return status.WithContext("commit to PostgreSQL");
      }
      metrics.Errors("connection").Increment();
      spdlog::warn("commit failed ({}); reconnecting", status.message());
      sink.Close();
      auto reopened = OpenSink();
      if (!reopened.ok()) return reopened.status();
      const std::string saved = reopened->checkpoint.value_or("");
      if (saved == committing.checkpoint) break;  // it had landed before the connection dropped
      if (saved != committed_checkpoint) {
        return core::Status::Internal("checkpoint changed under us while reconnecting (another runner?)");
      }
    }
    const double seconds = std::chrono::duration<double>(clock.Monotonic() - started).count();
    commit_latency->Observe(seconds);
    committed_checkpoint = committing.checkpoint;
    const int64_t now_ms = core::ToEpochMillis(clock.Now());
    for (int64_t change_ms : flight.change_times) lag->Observe(std::max<int64_t>(0, now_ms - change_ms) / 1000.0);
    metrics.Commits(source_config.name).Increment();
    metrics.LastCommitTime(source_config.name).Set(static_cast<double>(now_ms) / 1000.0);
    int64_t rows = 0;
    for (size_t i = 0; i < committing.tables.size(); ++i) {
      rows += static_cast<int64_t>(committing.tables[i].rows.size());
      rows_written[i]->Increment(static_cast<double>(committing.tables[i].rows.size()));
    }
    {
      std::lock_guard lock(progress_mutex);
      progress.records_committed += committing.records;
      progress.rows_committed += rows;
      progress.dead_letters += static_cast<int64_t>(committing.dead_letters.size());
      progress.commits += 1;
      progress.last_commit_unix_ms = now_ms;
      progress.last_change_time_ms = std::max(progress.last_change_time_ms, committing.max_change_time_ms);
      if (committing.max_change_time_ms > 0) {
        progress.last_lag_ms = std::max<int64_t>(0, now_ms - committing.max_change_time_ms);
      }
    }
    return core::Status::Ok();
  }

  // Maps one record through every pipeline into the batch. A kStop pipeline's failure returns
  // the error before the record touches the batch or the position.
  core::Status Add(core::Record& record) {
    records_read[static_cast<size_t>(record.operation)]->Increment();
    if (record.operation != core::Operation::kMarker) {
      std::vector<std::optional<processor::Row>>& rows = scratch_rows;  // one per plan, reused
      rows.resize(plans.size());
      for (auto& row : rows) row.reset();
      std::vector<sink::DeadLetter> letters;
      for (size_t i = 0; i < plans.size(); ++i) {
        auto mapped = plans[i]->Map(record);
        if (mapped.ok()) {
          rows[i] = std::move(mapped).value();
          if (!rows[i]) filtered[i]->Increment();
          continue;
        }
        const auto& spec = plans[i]->spec();
        metrics.Errors("mapping").Increment();
        switch (spec.on_error) {
          case processor::ErrorPolicy::kStop:
            return core::Status::InvalidArgument("pipeline " + spec.name + ": record " +
                                                 core::ItemToJson(record.key) + " at " +
                                                 PositionText(record.position) + ": " +
                                                 mapped.status().message() + " (on_error: stop)");
          case processor::ErrorPolicy::kSkip:
            skipped[i]->Increment();
            spdlog::warn("pipeline {}: skipped record {}: {}", spec.name, core::ItemToJson(record.key),
                         mapped.status().message());
            {
              std::lock_guard lock(progress_mutex);
              progress.skipped += 1;
            }
            break;
          case processor::ErrorPolicy::kDeadLetter: {
            sink::DeadLetter letter;
            letter.pipeline = spec.name;
            letter.key_json = record.key.is_map() ? core::ItemToJson(record.key) : "{}";
            letter.operation = std::string(core::OperationName(record.operation));
            letter.reason = mapped.status().message();
            const core::Value* image = record.image();
            letter.item_json = image != nullptr && image->is_map() ? core::ItemToJson(*image) : "";
            letter.change_time_ms = record.metadata.change_time_ms;
            letter.position = PositionText(record.position);
            dead_letters[i]->Increment();
            letters.push_back(std::move(letter));
            break;
          }
        }
      }
      // The position first: a record whose position cannot be folded leaves the batch untouched
      // (its rows must not be committed under a checkpoint that excludes it).
      DDB2PG_RETURN_IF_ERROR(pending.Fold(record.position));
      for (size_t i = 0; i < plans.size(); ++i) {
        if (!rows[i]) continue;
        batch_bytes += rows[i]->byte_size();
        batch_rows += 1;
        batch.tables[i].rows.push_back(std::move(*rows[i]));
      }
      for (auto& letter : letters) batch.dead_letters.push_back(std::move(letter));
      if (IsStreamOperation(record.operation)) {
        batch_change_times.push_back(record.metadata.change_time_ms);
        batch.max_change_time_ms = std::max(batch.max_change_time_ms, record.metadata.change_time_ms);
      }
    } else {
      DDB2PG_RETURN_IF_ERROR(pending.Fold(record.position));
    }
    batch.records += 1;
    if (!batch_deadline) batch_deadline = clock.Monotonic() + options.batch_max_delay;
    return core::Status::Ok();
  }

  void PublishSourceProgress() {
    const auto p = source.progress();
    const std::string& name = source_config.name;
    metrics.SnapshotItemsRead(name).Set(static_cast<double>(p.snapshot_items));
    metrics.SnapshotItemsEstimate(name).Set(static_cast<double>(p.item_count_estimate));
    metrics.SnapshotSegmentsDone(name).Set(p.segments_done);
    metrics.SnapshotComplete(name).Set(p.snapshot_complete ? 1 : 0);
    metrics.ShardsActive(name).Set(p.shards_active);
    metrics.ShardsFinished(name).Set(p.shards_finished);
    std::lock_guard lock(progress_mutex);
    progress.snapshot_complete = p.snapshot_complete;
    progress.snapshot_items_read = p.snapshot_items;
    progress.snapshot_items_estimate = p.item_count_estimate;
    progress.shards_active = p.shards_active;
    progress.shards_finished = p.shards_finished;
    if (progress.state != "reconnecting") progress.state = p.snapshot_complete ? "streaming" : "snapshot";
  }

  core::Status Run() {
    SetState("starting");
    auto opened = OpenSink();
    if (!opened.ok()) return opened.status().WithContext("PostgreSQL");
    committed_checkpoint = opened->checkpoint.value_or("");
    if (opened->checkpoint) {
      auto parsed = source::SourcePosition::Parse(*opened->checkpoint);
      if (!parsed.ok()) return parsed.status().WithContext("saved checkpoint");
      pending = std::move(parsed).value();
      spdlog::info("source {}: resuming from the committed checkpoint", source_config.name);
    }
    DDB2PG_RETURN_IF_ERROR(source.Start(opened->checkpoint, &queue).WithContext("source " + source_config.name));
    metrics.Ready().Set(1);
    std::thread committer([this] {
      core::SetCurrentThreadName("pg-commit");
      CommitterLoop();
    });
    // Joined on every way out, an exception included (a joinable thread's destructor aborts).
    struct CommitterJoin {
      Impl* impl;
      std::thread* thread;
      void Join() {
        if (!thread->joinable()) return;
        {
          std::lock_guard lock(impl->commit_mutex);
          impl->committer_stop = true;
        }
        impl->commit_changed.notify_all();
        thread->join();
      }
      ~CommitterJoin() { Join(); }
    } committer_join{this, &committer};

    core::Status result = core::Status::Ok();
    auto last_progress = clock.Monotonic();
    // Records are taken from the queue many at a time (one lock, no per-record wake-up).
    constexpr size_t kPopMax = 256;
    std::vector<core::Record> popped;
    popped.reserve(kPopMax);
    while (true) {
      if (stop_requested) break;
      auto wait = std::chrono::milliseconds(50);
      if (batch_deadline) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*batch_deadline - clock.Monotonic());
        wait = std::clamp(left, std::chrono::milliseconds(0), wait);
      }
      result = CommitError();
      if (!result.ok()) break;
      popped.clear();
      queue.PopMany(&popped, kPopMax, wait);
      // Records popped but not added (a stop, an error) are after every position folded so far:
      // they were never committed and are read again after a restart.
      for (auto& record : popped) {
        if (stop_requested) break;
        result = Add(record);
        if (!result.ok()) break;
        if (BatchFull()) {
          result = Flush();
          if (!result.ok()) break;
        }
      }
      if (!result.ok()) break;
      if (BatchFull() || (batch_deadline && clock.Monotonic() >= *batch_deadline)) {
        result = Flush();
        if (!result.ok()) break;
      }
      if (popped.empty()) {
        core::Status source_status = source.status();
        if (!source_status.ok() && queue.size() == 0) {
          result = source_status.WithContext("source " + source_config.name);
          break;
        }
      }
      if (clock.Monotonic() - last_progress > std::chrono::milliseconds(500)) {
        PublishSourceProgress();
        last_progress = clock.Monotonic();
      }
    }
    metrics.Ready().Set(0);
    source.Stop();
    queue.Close();
    // Whatever was read is committed, also on a kStop mapping error or a fatal source error (the
    // batch holds only records before the failing one); nothing after a failed commit.
    core::Status flushed = Flush();
    if (flushed.ok()) flushed = WaitCommitted();
    if (!flushed.ok() && result.ok()) result = flushed;
    committer_join.Join();  // now: the sink is closed below
    PublishSourceProgress();
    sink.Close();
    SetState(result.ok() ? "stopped" : "failed");
    return result;
  }
};

SourceRuntime::SourceRuntime(const config::SourceConfig& source, std::vector<const processor::MappingPlan*> plans,
                             std::string conninfo, std::string checkpoint_id, aws::TableApi& table_api,
                             aws::StreamsApi& streams_api, Metrics& metrics, RuntimeOptions options,
                             const core::Clock& clock)
    : impl_(std::make_unique<Impl>(source, std::move(plans), std::move(conninfo), std::move(checkpoint_id), table_api,
                                   streams_api, metrics, options, clock)) {}

SourceRuntime::~SourceRuntime() = default;

core::Status SourceRuntime::Run() { return impl_->Run(); }

void SourceRuntime::SetStreamEnabler(std::function<core::Status(const std::string& table)> enabler) {
  impl_->source.SetStreamEnabler(std::move(enabler));
}

void SourceRuntime::RequestStop() { impl_->stop_requested = true; }

RuntimeProgress SourceRuntime::progress() const {
  std::lock_guard lock(impl_->progress_mutex);
  return impl_->progress;
}

}  // namespace ddb2pg::pipeline
