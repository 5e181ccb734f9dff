#include "pipeline/source_runtime.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <set>
#include <thread>

#include "core/thread_name.h"
#include "pipeline/lease_manager.h"
#include "pipeline/shard_discovery.h"

namespace ddb2pg::pipeline {

struct SourceRuntime::Impl {
  SourceRuntimeParts parts;
  std::vector<const processor::MappingPlan*> plans;
  Metrics& metrics;
  RuntimeOptions options;
  const core::Clock& clock;

  std::atomic<bool> stop_requested{false};
  std::mutex mutex;
  std::condition_variable wake;
  std::string stream_arn;
  int total_segments = 0;
  std::vector<std::unique_ptr<Lane>> lanes;
  mutable std::mutex progress_mutex;
  RuntimeProgress progress;  // the runtime's own fields (lanes' are summed in on read)
  int64_t item_count_estimate = 0;
  ShardDiscovery discovery;

  Impl(SourceRuntimeParts parts_in, std::vector<const processor::MappingPlan*> plans_in, Metrics& metrics_in,
       RuntimeOptions options_in, const core::Clock& clock_in)
      : parts(std::move(parts_in)), plans(std::move(plans_in)), metrics(metrics_in), options(options_in),
        clock(clock_in), discovery(*parts.source, clock, options.full_listing_interval) {}

  void SetState(const char* state) {
    std::lock_guard lock(progress_mutex);
    progress.state = state;
  }

  void SleepTick(std::chrono::milliseconds duration) {
    std::unique_lock lock(mutex);
    wake.wait_for(lock, duration, [&] { return stop_requested.load(); });
  }

  // Retries a call while it fails transiently (core::Status::transient) (until stopped), with backoff up to
  // reconnect_backoff_max; counts each failure in errors_total{kind} and says so in the log.
  template <typename Fn>
  auto Retrying(const char* what, const char* kind, Fn fn) -> decltype(fn()) {
    auto backoff = std::chrono::milliseconds(100);
    while (true) {
      auto result = fn();
      if (result.ok() || !result.status().transient() || stop_requested) return result;
      metrics.Errors(kind).Increment();
      spdlog::warn("{}: {}; retrying in {} ms", what, result.status().message(), backoff.count());
      SetState("reconnecting");
      SleepTick(backoff);
      backoff = std::min(backoff * 2, options.lane.reconnect_backoff_max);
    }
  }
  // PostgreSQL (the lease store).
  template <typename Fn>
  auto Retrying(const char* what, Fn fn) -> decltype(fn()) {
    return Retrying(what, "connection", std::move(fn));
  }

  void Prepare(ClaimedPartition& lease) {
    if (lease.kind != PartitionKind::kSegment || !lease.id.starts_with("scan/")) return;
    // "scan/<i>" (the source's first snapshot, of the checkpoint's segment count) or
    // "scan/<i>/<n>@<tag>" (a backfill or re-snapshot of n segments).
    const std::string rest = lease.id.substr(lease.id.find('/') + 1);
    lease.segment = std::stoi(rest);
    const size_t slash = rest.find('/');
    lease.total_segments = slash == std::string::npos ? total_segments : std::stoi(rest.substr(slash + 1));
  }

  // Ending snapshots (Sink::EndSnapshots) runs on a thread of its own: a sweep reads a whole
  // table, and leases must be renewed meanwhile.
  std::unique_ptr<Sink> ender;
  bool ender_open = false;
  std::thread ender_thread;
  std::atomic<bool> ending{false};
  std::mutex ender_mutex;
  core::Status ender_error;  // a failure a person must fix (guarded by ender_mutex)

  // `segment_finished`: a lane just finished a partition (the counts may predate it). A sweep in
  // progress stops between two ranges when the runtime stops, or (`until`) at that time.
  void EndSnapshots(const LeaseCounts& counts, bool segment_finished,
                    std::optional<std::chrono::steady_clock::time_point> until = std::nullopt) {
    const bool due = counts.pipelines_to_finish > 0 || (segment_finished && counts.pipelines_snapshotting > 0);
    if (!due || ending.load()) return;
    if (ender_thread.joinable()) ender_thread.join();
    ending = true;
    ender_thread = std::thread([this, until] {
      core::SetCurrentThreadName("snapshot-end");
      if (ender == nullptr) ender = parts.make_sink(-1);
      core::Status status = ender_open ? core::Status::Ok() : ender->Open();
      ender_open = status.ok();
      if (status.ok()) {
        auto ended = ender->EndSnapshots([&] {
          return until ? clock.Monotonic() < *until : !stop_requested.load();
        });
        if (ended.ok()) {
          // Its connection is wanted only while a snapshot ends: a runner of 50 sources would
          // otherwise hold 50 idle ones.
          ender->Close();
          ender_open = false;
          for (const auto& end : *ended) {
            if (end.swept < 0) {
              spdlog::info("source {}: pipeline {}: snapshot complete, streaming", parts.source_name, end.pipeline);
            } else {
              spdlog::info("source {}: pipeline {}: snapshot complete; {} row(s) of {} whose items were not found "
                           "removed or marked deleted (per on_delete); streaming",
                           parts.source_name, end.pipeline, end.swept, end.target);
            }
          }
        } else {
          status = ended.status();
          ender->Close();
          ender_open = false;
        }
      }
      if (!status.ok() && status.code() == core::StatusCode::kCancelled) {
        spdlog::info("source {}: {}", parts.source_name, status.message());
      } else if (!status.ok()) {
        if (status.transient()) {
          metrics.Errors("connection").Increment();
          spdlog::warn("source {}: ending a snapshot: {}; trying again", parts.source_name, status.message());
        } else {
          std::lock_guard lock(ender_mutex);
          ender_error = status.WithContext("ending a snapshot");
        }
      }
      ending = false;
    });
  }

  // on_trimmed: incremental_export. The gap, [the last committed change time, now), opened in
  // the store first — every shard partition replaced by the current stream's shards from the
  // gap's end, held back, so no lane applies a stream change newer than the gap's rows — then
  // requested as incremental exports (this blocks until they complete: no lease is renewed
  // meanwhile, and none is held but the backfills'), and their data files stored as partitions
  // applied one after another, before the stream. A runner killed in between fills the stored gap
  // at its next start (the same windows: the same exports, by their ClientTokens).
  core::Status BridgeGap(const std::string& what) {
    auto opened = Retrying("finding a gap", [&] { return parts.store->OpenedGap(); });
    if (!opened.ok()) return opened.status();
    if (!*opened) {
      auto from = Retrying("finding where the gap starts", [&] { return parts.store->GapStart(); });
      if (!from.ok()) return from.status();
      if (!*from) {
        return {core::StatusCode::kTrimmedData,
                what + "; on_trimmed is incremental_export, but no committed change time is stored for this source "
                       "(a checkpoint of an earlier release, or no change applied yet), so the gap's start is "
                       "unknown: re-snapshot (stream.on_trimmed: resnapshot, or `ddb2pg reset`)"};
      }
      auto layout = Retrying("describing the source", "source", [&] { return parts.source->Describe(); });
      if (!layout.ok()) return layout.status();
      const int64_t to_ms = GapEndMs(core::ToEpochMillis(clock.Now()));
      auto shards = parts.source->GapShards(*layout, to_ms);
      if (!shards.ok()) return shards.status();
      auto stored = Retrying("opening the gap", [&]() -> core::Result<bool> {
        core::Status status = parts.store->OpenGap(layout->stream_arn, **from, to_ms, *shards);
        if (!status.ok()) return status;
        return true;
      });
      if (!stored.ok()) return stored.status();
      opened = Retrying("finding a gap", [&] { return parts.store->OpenedGap(); });
      if (!opened.ok()) return opened.status();
      if (!*opened) return core::Status::Ok();  // another runner bridged it meanwhile
      stream_arn = layout->stream_arn;
      discovery.Reset();
    }
    const auto [from_ms, to_ms] = **opened;
    spdlog::warn("source {}: {}; on_trimmed is incremental_export: bridging the changes from {} ms to {} ms with "
                 "incremental exports",
                 parts.source_name, what, from_ms, to_ms);
    SetState("bridging");
    while (core::ToEpochMillis(clock.Now()) < to_ms && !stop_requested) SleepTick(std::chrono::milliseconds(200));
    auto gap = parts.source->GapPartitions(from_ms, to_ms, stop_requested);
    if (!gap.ok()) {
      if (gap.status().code() == core::StatusCode::kCancelled) return core::Status::Ok();
      return gap.status().WithContext("bridging the gap from " + std::to_string(from_ms) + " ms to " +
                                      std::to_string(to_ms) + " ms");
    }
    for (size_t i = 1; i < gap->size(); ++i) (*gap)[i].parent = (*gap)[i - 1].id;
    auto filled = Retrying("storing the gap's partitions", [&]() -> core::Result<bool> {
      core::Status status = parts.store->FillGap(*gap);
      if (!status.ok()) return status;
      return true;
    });
    if (!filled.ok()) return filled.status();
    spdlog::info("source {}: the gap is {} incremental export file(s), applied in order before the stream",
                 parts.source_name, gap->size());
    return core::Status::Ok();
  }

  core::Status DataLost(const std::string& what) {
    std::string message = what + "; changes in between are lost upstream";
    if (options.bridge_on_trimmed) return BridgeGap(message);
    if (!options.resnapshot_on_trimmed) {
      return {core::StatusCode::kTrimmedData,
              message + "; on_trimmed is stop: the target may miss changes. Re-snapshot (set stream.on_trimmed: "
                        "resnapshot, or `ddb2pg reset`) to repair it"};
    }
    spdlog::warn("source {}: {}; on_trimmed is resnapshot: scanning the table again", parts.source_name, message);
    auto layout = Retrying("describing the source", "source", [&] { return parts.source->Describe(); });
    if (!layout.ok()) return layout.status();
    auto seed = parts.source->Seed(*layout, std::nullopt);
    if (!seed.ok()) return seed.status();
    auto reset = Retrying("re-snapshot", [&]() -> core::Result<bool> {
      core::Status status = parts.store->StartOver(*seed);
      if (!status.ok()) return status;
      return true;
    });
    if (!reset.ok()) return reset.status();
    stream_arn = seed->stream_arn;
    total_segments = seed->total_segments;
    discovery.Reset();
    return core::Status::Ok();
  }

  // Looks for new shards (ShardDiscovery) and stores them; a full listing also finds pending
  // shards trimmed before they were read, and forgets done shards no longer listed.
  core::Status Discover(const std::vector<std::string>& finished) {
    auto listed = discovery.Next(stream_arn, finished);
    MirrorDescribeStreamCalls();
    if (!listed.ok()) {
      if (!listed.status().transient()) return listed.status();
      metrics.Errors("source").Increment();
      spdlog::warn("source {}: listing the shards: {}; trying again at the next discovery", parts.source_name,
                   listed.status().message());
      return core::Status::Ok();
    }
    if (!listed->complete) {
      core::Status added = parts.store->AddShards(listed->shards);
      if (!added.ok()) discovery.Reset();  // not stored: the next discovery lists every shard
      return added.ok() || added.retryable() ? core::Status::Ok() : added;
    }
    auto synced = parts.store->SyncShards(listed->shards);
    if (!synced.ok()) return synced.retryable() ? core::Status::Ok() : synced;
    auto pending = parts.store->PendingShards();
    if (!pending.ok()) return pending.status().retryable() ? core::Status::Ok() : pending.status();
    std::set<std::string> ids;
    for (const auto& shard : listed->shards) ids.insert(shard.id);
    for (const auto& [id, position] : *pending) {
      if (ids.count(id) == 0) {
        return DataLost("shard " + id + " of " + stream_arn + " was trimmed before it was read" +
                        (position.empty() ? std::string() : " past sequence number " + position));
      }
    }
    // A replaced or disabled stream: once the old one is read to its end, the gap is data lost.
    if (pending->empty()) {
      auto layout = parts.source->Describe();
      MirrorDescribeStreamCalls();
      if (layout.ok() && layout->stream_arn != stream_arn) {
        return DataLost("the stream " + stream_arn + " was replaced by " + layout->stream_arn);
      }
    }
    return core::Status::Ok();
  }

  int64_t describe_stream_calls_counted = 0;
  void MirrorDescribeStreamCalls() {
    const int64_t calls = parts.source->describe_stream_calls();
    metrics.DescribeStreamCalls(parts.source_name).Increment(static_cast<double>(calls - describe_stream_calls_counted));
    describe_stream_calls_counted = calls;
  }

  // The runtime's own progress with its lanes' summed in (progress() and the stall report).
  RuntimeProgress Snapshot() const {
    std::lock_guard lock(progress_mutex);
    RuntimeProgress p = progress;
    const auto now = clock.Monotonic();
    bool connected = !lanes.empty();
    for (const auto& lane : lanes) {
      const LaneProgress l = lane->progress();
      p.Add(l);
      p.snapshot_items_read += l.snapshot_records;
      if (l.last_lag_ms >= 0) p.last_lag_ms = std::max(p.last_lag_ms, l.last_lag_ms);
      if (l.oldest_uncommitted_read) {
        p.behind_ms = std::max<int64_t>(
            p.behind_ms, std::chrono::duration_cast<std::chrono::milliseconds>(now - *l.oldest_uncommitted_read).count());
      }
      connected = connected && l.connected;
      p.shards_active += l.partitions - l.segments;
    }
    // A runner standing by is ready: it is where a rollout wants it (docs/consistency.md).
    p.ready = connected && (p.state == "snapshot" || p.state == "streaming" || p.state == "standby") &&
              p.behind_ms < options.stall_timeout.count();
    return p;
  }

  // Says in the log when records start waiting longer than the stall time uncommitted (a hung or
  // very slow PostgreSQL; /readyz answers 503 meanwhile), and when commits catch up again.
  bool stalled = false;
  void ReportStall() {
    const int64_t behind_ms = Snapshot().behind_ms;
    const bool stall = behind_ms >= options.stall_timeout.count();
    if (stall && !stalled) {
      spdlog::warn("source {}: records have waited {} s uncommitted (runtime.stall_ms is {} ms): PostgreSQL is hung "
                   "or too slow; not ready until commits go through (the commit deadline re-makes a hung connection)",
                   parts.source_name, behind_ms / 1000, options.stall_timeout.count());
    } else if (!stall && stalled) {
      spdlog::info("source {}: commits go through again", parts.source_name);
    }
    stalled = stall;
  }

  // This runner's configuration is superseded by a newer one whose runners are live: it holds no
  // partition and applies nothing of its mapping until they are gone (docs/consistency.md).
  bool standby = false;
  void SetStandby(bool on, const std::string& why) {
    if (on && !standby) {
      spdlog::warn("source {}: standing by: {}", parts.source_name, why);
    } else if (!on && standby) {
      spdlog::info("source {}: this configuration is current: taking partitions", parts.source_name);
    }
    standby = on;
    metrics.Standby(parts.source_name).Set(on ? 1 : 0);
  }

  void PublishProgress(const LeaseManager& leases) {
    std::lock_guard lock(progress_mutex);
    const LeaseCounts& counts = leases.counts();
    progress.partitions_held = leases.held();
    progress.live_runners = counts.live_runners;
    progress.partitions_pending = counts.pending;
    progress.segments_pending = counts.segments_pending;
    progress.segments_total = total_segments;
    progress.snapshot_complete = counts.segments_pending == 0 && counts.pipelines_snapshotting == 0;
    progress.snapshot_items_estimate = item_count_estimate;
    progress.lanes = static_cast<int>(lanes.size());
    progress.state = standby ? "standby" : progress.snapshot_complete ? "streaming" : "snapshot";
    metrics.SnapshotComplete(parts.source_name).Set(progress.snapshot_complete ? 1 : 0);
    metrics.SnapshotSegmentsDone(parts.source_name).Set(total_segments - counts.segments_pending);
    int64_t snapshot_records = 0;
    int shards = 0;
    for (const auto& lane : lanes) {
      const LaneProgress l = lane->progress();
      snapshot_records += l.snapshot_records;
      shards += l.partitions - l.segments;
    }
    metrics.SnapshotItemsRead(parts.source_name).Set(static_cast<double>(snapshot_records));
    metrics.ShardsActive(parts.source_name).Set(shards);
    metrics.ShardsFinished(parts.source_name).Set(leases.shards_finished());
    progress.shards_finished = leases.shards_finished();
    metrics.SnapshotItemsEstimate(parts.source_name).Set(static_cast<double>(item_count_estimate));
  }

  core::Status Run() {
    SetState("starting");
    LeaseStore& store = *parts.store;
    auto opened = Retrying("PostgreSQL", [&]() -> core::Result<bool> {
      core::Status status = store.Open();
      if (!status.ok()) return status;
      return true;
    });
    if (!opened.ok()) return opened.status().WithContext("PostgreSQL");
    if (stop_requested) return core::Status::Ok();
    auto registered = Retrying("registering", [&]() -> core::Result<bool> {
      core::Status status = store.Register(parts.identity);
      if (!status.ok()) return status;
      return true;
    });
    if (!registered.ok()) return registered.status();

    // DynamoDB down or throttled at start is a transient fault like any other: wait it out.
    auto layout = Retrying(("source " + parts.source_name).c_str(), "source", [&] { return parts.source->Describe(); });
    if (stop_requested && !layout.ok()) return core::Status::Ok();
    if (!layout.ok()) return layout.status().WithContext("source " + parts.source_name);
    item_count_estimate = layout->item_count_estimate;
    auto initialize = [&] {
      return Retrying("initializing", [&] {
        return store.Initialize(
            [&](const std::optional<std::string>& legacy) { return parts.source->Seed(*layout, legacy); },
            parts.pipelines);
      });
    };
    auto state = initialize();
    if (!state.ok()) return state.status().WithContext("source " + parts.source_name);
    for (const auto& note : state->notes) spdlog::warn("source {}: {}", parts.source_name, note);
    SetStandby(state->standby, state->standby_reason);
    stream_arn = state->stream_arn;
    total_segments = state->total_segments;
    if (state->migrated) {
      spdlog::info("source {}: converted the checkpoint of an earlier release into partitions", parts.source_name);
    }
    std::optional<std::pair<int64_t, int64_t>> opened_gap;
    if (!standby && options.bridge_on_trimmed) {
      auto opened = Retrying("finding a gap", [&] { return store.OpenedGap(); });
      if (!opened.ok()) return opened.status();
      opened_gap = *opened;
    }
    if (standby) {
      // The current configuration's runners own the source's state: nothing to check or store.
    } else if (opened_gap) {
      // A gap opened by a runner that stopped before it was filled.
      DDB2PG_RETURN_IF_ERROR(BridgeGap("a gap opened before this start"));
    } else if (stream_arn != layout->stream_arn) {
      DDB2PG_RETURN_IF_ERROR(DataLost("the stream of table changed since the stored position (pinned " + stream_arn +
                                      ", now " + layout->stream_arn + "): the stream was disabled and re-enabled"));
    } else {
      auto synced = store.SyncShards(layout->shards);
      if (!synced.ok() && !synced.retryable()) return synced;
      discovery.Listed(layout->shards);
    }
    MirrorDescribeStreamCalls();

    // Lanes.
    std::vector<Lane*> lane_ptrs;
    for (int i = 0; i < std::max(1, options.lanes); ++i) {
      auto lane = std::make_unique<Lane>(i, *parts.source, parts.make_sink(i), plans, metrics, parts.source_name,
                                         options.lane, clock);
      std::lock_guard lock(progress_mutex);  // progress() reads the lanes
      lanes.push_back(std::move(lane));
      lane_ptrs.push_back(lanes.back().get());
    }
    std::vector<core::Status> lane_results(lanes.size());
    std::vector<std::thread> lane_threads;
    std::atomic<int> lanes_running{static_cast<int>(lanes.size())};
    for (size_t i = 0; i < lanes.size(); ++i) {
      lane_threads.emplace_back([&, i] {
        core::SetCurrentThreadName("mapper-" + std::to_string(i));
        lane_results[i] = lanes[i]->Run();
        lanes_running.fetch_sub(1);
        wake.notify_all();
      });
    }
    LeaseManager leases(store, lane_ptrs, metrics, parts.source_name, [this](ClaimedPartition& lease) { Prepare(lease); });
    metrics.Ready().Set(1);

    core::Status result = core::Status::Ok();
    auto last_discovery = clock.Monotonic();
    while (!stop_requested) {
      // A lane that returned (failed, or stopped on its own) ends the run; its result is read
      // only after its thread is joined below (reading it here raced with the lane's write).
      if (lanes_running.load() < static_cast<int>(lanes.size())) break;
      core::Status ticked = leases.Tick(stream_arn);
      if (!ticked.ok()) {
        if (!ticked.retryable()) {
          result = ticked;
          break;
        }
        metrics.Errors("connection").Increment();
        spdlog::warn("source {}: lease heartbeat failed ({}); retrying", parts.source_name, ticked.message());
        SetState("reconnecting");
      } else {
        const LeaseCounts& counts = leases.counts();
        if (counts.superseded && !standby) {
          SetStandby(true, "a newer configuration took the partitions over (revoking this runner's leases); no "
                           "partitions, nothing of this file's mapping applied, until its runners are gone");
        } else if (standby && (!counts.superseded || counts.current_runners == 0)) {
          // The current configuration's runners are gone (or one of ours took over): decide again,
          // under the checkpoint's lock; on_change applies to this file's mapping if it takes over.
          auto again = initialize();
          if (!again.ok()) {
            result = again.status().WithContext("source " + parts.source_name);
            break;
          }
          for (const auto& note : again->notes) spdlog::warn("source {}: {}", parts.source_name, note);
          if (!again->standby) {
            stream_arn = again->stream_arn;
            total_segments = again->total_segments;
          }
          SetStandby(again->standby, again->standby_reason);
        }
        PublishProgress(leases);
        if (!standby) EndSnapshots(leases.counts(), false);
      }
      {
        std::lock_guard lock(ender_mutex);
        if (!ender_error.ok()) {
          result = ender_error;
          break;
        }
      }
      ReportStall();
      const bool finished = leases.CollectEvents();
      if (finished && !standby) EndSnapshots(leases.counts(), true);
      // Every lane's at once: one loss of data is handled once, however many readers saw it.
      core::Status lost;
      for (auto& lane : lanes) {
        core::Status error = lane->TakeSourceError();
        if (lost.ok()) lost = error;
      }
      if (!lost.ok()) {
        result = DataLost(lost.message());
        // Readers of the partitions just replaced may still report the same loss: handled.
        for (auto& lane : lanes) (void)lane->TakeSourceError();
      }
      if (!result.ok()) break;
      if (!standby && (finished || clock.Monotonic() - last_discovery >= options.discovery_interval)) {
        last_discovery = clock.Monotonic();
        result = Discover(leases.TakeFinishedShards());
        if (!result.ok()) break;
      }
      SleepTick(options.heartbeat);
    }
    metrics.Ready().Set(0);
    for (auto& lane : lanes) lane->RequestStop();
    for (auto& thread : lane_threads) thread.join();
    // A snapshot whose last segment the lanes just committed ends now rather than at the next start.
    if (ender_thread.joinable()) ender_thread.join();
    if (result.ok() && !standby) {
      // At most a few seconds of sweeping: a stop must not wait for a large table's sweep.
      auto counts = store.Counts();
      if (counts.ok()) EndSnapshots(*counts, false, clock.Monotonic() + std::chrono::seconds(5));
      if (ender_thread.joinable()) ender_thread.join();
    }
    ender.reset();
    for (auto& lane_result : lane_results) {
      if (!lane_result.ok() && result.ok()) result = lane_result;
    }
    core::Status left = leases.Shutdown();
    if (!left.ok()) spdlog::warn("source {}: releasing leases: {} (they expire instead)", parts.source_name, left.ToString());
    SetState(result.ok() ? "stopped" : "failed");
    return result;
  }
};

SourceRuntime::SourceRuntime(SourceRuntimeParts parts, std::vector<const processor::MappingPlan*> plans,
                             Metrics& metrics, RuntimeOptions options, const core::Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(parts), std::move(plans), metrics, options, clock)) {}

SourceRuntime::~SourceRuntime() = default;

core::Status SourceRuntime::Run() { return impl_->Run(); }

void SourceRuntime::RequestStop() {
  impl_->stop_requested = true;
  impl_->wake.notify_all();
}

RuntimeProgress SourceRuntime::progress() const { return impl_->Snapshot(); }

}  // namespace ddb2pg::pipeline
