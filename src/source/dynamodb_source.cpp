#include "source/dynamodb_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "core/thread_name.h"
#include "source/rate_limiter.h"

namespace ddb2pg::source {
namespace {

using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr auto kInitialIdleBackoff = milliseconds(10);
// A page with at least this many records means a backlog: re-poll at once.
constexpr size_t kBacklogPageRecords = 100;
// Pause after a partial page (the reader is at the shard's tip).
constexpr auto kNearTipPollDelay = milliseconds(20);
constexpr auto kRetryDelay = milliseconds(1000);  // after the client's own retries ran out

bool RetryLater(const core::Status& status) {
  return status.retryable() || status.code() == core::StatusCode::kDeadlineExceeded;
}

core::Status DataLost(std::string message, TrimmedPolicy policy) {
  message += policy == TrimmedPolicy::kStop
                 ? "; on_trimmed is stop: the target may miss changes. Re-snapshot (set stream.on_trimmed: "
                   "resnapshot, or drop this source's checkpoint) to repair it"
                 : "; on_trimmed is resnapshot: scanning the table again";
  return {core::StatusCode::kTrimmedData, std::move(message)};
}

std::string StreamFix(const std::string& table) {
  std::string fix = "enable it with NEW_AND_OLD_IMAGES (aws dynamodb update-table --table-name ";
  fix += table;
  fix += " --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES) or set stream.enable_stream: true";
  return fix;
}

// The validation of Start(), also used after a re-snapshot: the table's stream, checked.
core::Result<aws::TableDescription> DescribeWithStream(aws::TableApi& api, const std::string& table) {
  auto description = api.DescribeTable(table);
  if (!description.ok()) {
    std::string context = "DescribeTable ";
    context += table;
    return description.status().WithContext(context);
  }
  if (!description->stream_enabled || description->latest_stream_arn.empty()) {
    std::string message = "table ";
    message += table;
    message += " has no stream; ";
    message += StreamFix(table);
    return core::Status::InvalidArgument(std::move(message));
  }
  if (description->stream_view_type != "NEW_AND_OLD_IMAGES") {
    std::string message = "table ";
    message += table;
    message += " has a stream of ";
    message += description->stream_view_type;
    message += " but ddb2pg needs NEW_AND_OLD_IMAGES (old images for deletes and soft deletes): disable the stream, then ";
    message += StreamFix(table);
    return core::Status::InvalidArgument(std::move(message));
  }
  return description;
}

core::Result<std::vector<aws::ShardDescription>> ListAllShards(aws::StreamsApi& api, const std::string& arn) {
  std::vector<aws::ShardDescription> shards;
  aws::DescribeStreamRequest request;
  request.stream_arn = arn;
  for (;;) {
    auto page = api.DescribeStream(request);
    if (!page.ok()) return page.status().WithContext("DescribeStream " + arn);
    for (auto& shard : page->shards) shards.push_back(std::move(shard));
    if (page->last_evaluated_shard_id.empty()) break;
    request.exclusive_start_shard_id = page->last_evaluated_shard_id;
  }
  return shards;
}

core::Operation OperationOf(const std::string& event_name) {
  if (event_name == "INSERT") return core::Operation::kCreate;
  if (event_name == "MODIFY") return core::Operation::kUpdate;
  if (event_name == "REMOVE") return core::Operation::kDelete;
  return core::Operation::kMarker;
}

}  // namespace

// Everything the threads share, and the work itself: Run() is the main thread; it runs the
// snapshot on one thread per segment, then the stream on max_concurrent_shards reader threads
// while it discovers shards itself.
struct DynamoDbSource::State {
  State(const SourceOptions& options_in, aws::TableApi& table_api_in, aws::StreamsApi& streams_api_in,
        const core::Clock& clock_in)
      : options(options_in), table_api(table_api_in), streams_api(streams_api_in), clock(clock_in) {}

  const SourceOptions& options;
  aws::TableApi& table_api;
  aws::StreamsApi& streams_api;
  const core::Clock& clock;

  enum class ShardStatus { kWaiting, kReady, kBusy, kDone };
  struct Shard {
    std::string parent;
    bool ending_known = false;  // has an EndingSequenceNumber: closed, reading to its end
    bool listed = false;        // seen in a DescribeStream listing of this run
    bool start_latest = false;  // no saved progress and stream_start_at latest
    ShardStatus status = ShardStatus::kWaiting;
    std::string last_sequence_number;
    std::string iterator;
    SteadyTime due{};
    milliseconds idle_backoff{0};
    int64_t last_change_time_ms = 0;
  };

  core::BoundedQueue<core::Record>* out = nullptr;
  SourcePosition start_position;
  bool reset_at_start = false;
  aws::TableDescription table;
  std::vector<std::string> key_names;  // HASH, then RANGE
  std::shared_ptr<const aws::AttributeSelection> decode_only;  // null: decode every attribute
  std::string stream_arn;
  std::set<std::string> watch_shards;  // open when the snapshot began: must be read, not trimmed

  std::atomic<bool> stopping{false};
  std::atomic<bool> phase_stop{false};  // ends the current snapshot or stream phase

  mutable std::mutex mutex;
  std::condition_variable changed;
  core::Status fatal;
  core::Status phase_status;  // first error of the current phase
  bool stopped = false;

  // Progress (mutex unless atomic).
  std::atomic<int64_t> snapshot_items{0};
  std::atomic<int64_t> stream_records{0};
  std::atomic<int> segments_done{0};
  int segments_total = 0;
  bool snapshot_complete = false;
  SteadyTime snapshot_started{};
  SteadyTime snapshot_finished{};

  // Stream phase (mutex).
  std::map<std::string, Shard> shards;
  std::set<std::string> finished;
  bool discovery_requested = false;
  bool first_discovery = true;
  bool start_latest = false;
  bool stream_closing = false;  // the table's stream was disabled or replaced: drain, then stop
  std::string stream_closing_reason;

  bool Halted() const { return stopping.load() || phase_stop.load(); }

  void PhaseError(core::Status status) {
    std::lock_guard lock(mutex);
    if (phase_status.ok()) phase_status = std::move(status);
    phase_stop = true;
    changed.notify_all();
  }

  void Run();
  core::Status RunOnce(SourcePosition& position);
  core::Status RunSnapshot(const SourcePosition& position);
  core::Status ScanSegment(int segment, int total_segments, SourcePosition::Segment resume, RateLimiter& limiter);
  core::Status StartOver();
  core::Status RunStream(const SourcePosition& position);
  core::Status Discover();
  core::Status CheckTable();
  void ReadShards();
  void ReadOnePage(const std::string& shard_id);
  core::Result<core::Value> KeyOf(const core::Value& item) const;
  bool Push(core::Record record);
  void SleepUnlessHalted(std::chrono::nanoseconds duration) const;
  void Fail(core::Status status);
};

DynamoDbSource::DynamoDbSource(SourceOptions options, aws::TableApi& table_api, aws::StreamsApi& streams_api,
                               const core::Clock& clock)
    : options_(std::move(options)), table_api_(table_api), streams_api_(streams_api), clock_(clock) {}

DynamoDbSource::~DynamoDbSource() { Stop(); }

core::Status DynamoDbSource::Start(std::optional<std::string> saved_position, core::BoundedQueue<core::Record>* out) {
  if (state_) return core::Status::Internal("DynamoDbSource::Start called twice");
  if (out == nullptr) return core::Status::InvalidArgument("DynamoDbSource::Start: no output queue");
  if (options_.table.empty()) return core::Status::InvalidArgument("source: table is empty");
  if (options_.segments < 1) return core::Status::InvalidArgument("source: snapshot.segments must be at least 1");
  if (options_.page_limit < 1) return core::Status::InvalidArgument("source: snapshot.page_limit must be at least 1");
  if (options_.max_concurrent_shards < 1) {
    return core::Status::InvalidArgument("source: stream.max_concurrent_shards must be at least 1");
  }
  if (options_.max_idle_poll_ms < 1) return core::Status::InvalidArgument("source: stream.max_idle_poll_ms must be at least 1");

  auto state = std::make_unique<State>(options_, table_api_, streams_api_, clock_);
  state->out = out;
  if (saved_position && !saved_position->empty()) {
    auto parsed = SourcePosition::Parse(*saved_position);
    if (!parsed.ok()) return parsed.status().WithContext("table " + options_.table);
    state->start_position = std::move(parsed).value();
  }

  auto description = DescribeWithStream(table_api_, options_.table);
  if (!description.ok() && description.status().code() == core::StatusCode::kInvalidArgument &&
      options_.enable_stream && stream_enabler_) {
    auto current = table_api_.DescribeTable(options_.table);
    if (current.ok() && !current->stream_enabled) {
      spdlog::info("source {}: enabling a NEW_AND_OLD_IMAGES stream (stream.enable_stream)", options_.table);
      DDB2PG_RETURN_IF_ERROR(stream_enabler_(options_.table).WithContext("enabling the stream of " + options_.table));
      for (int attempt = 0; attempt < 300; ++attempt) {  // the stream appears within seconds
        description = DescribeWithStream(table_api_, options_.table);
        if (description.ok()) break;
        clock_.SleepFor(milliseconds(100));
      }
    }
  }
  if (!description.ok()) return description.status();
  state->table = description.value();
  for (const char* key_type : {"HASH", "RANGE"}) {
    for (const auto& element : state->table.key_schema) {
      if (element.key_type == key_type) state->key_names.push_back(element.attribute_name);
    }
  }
  if (state->key_names.empty()) return core::Status::Internal("table " + options_.table + " has no key schema");
  if (options_.decode_attributes) {
    std::vector<std::string> names = *options_.decode_attributes;
    names.insert(names.end(), state->key_names.begin(), state->key_names.end());
    state->decode_only = std::make_shared<const aws::AttributeSelection>(std::move(names));
  }
  state->stream_arn = state->table.latest_stream_arn;

  const SourcePosition& position = state->start_position;
  if (!position.stream_arn().empty() && position.stream_arn() != state->stream_arn) {
    std::string message = "the stream of table ";
    message += options_.table;
    message += " changed since the saved position (pinned ";
    message += position.stream_arn();
    message += ", now ";
    message += state->stream_arn;
    message += "): the stream was disabled and re-enabled, changes in between are lost";
    if (options_.on_trimmed == TrimmedPolicy::kStop) return DataLost(std::move(message), options_.on_trimmed);
    spdlog::warn("source {}: {}", options_.table, DataLost(message, options_.on_trimmed).message());
    state->reset_at_start = true;
  }

  // Shards are listed before the Scan begins: every shard open now holds (or will hold, in its
  // descendants) the changes made during the scan, so each must still be readable afterwards.
  auto shards = ListAllShards(streams_api_, state->stream_arn);
  if (!shards.ok()) return shards.status();
  const bool snapshot_runs =
      options_.snapshot_enabled && (state->reset_at_start || !position.snapshot_complete());
  if (snapshot_runs) {
    for (const auto& shard : *shards) {
      if (shard.ending_sequence_number.empty()) state->watch_shards.insert(shard.shard_id);
    }
  }
  state->start_latest = !options_.snapshot_enabled && options_.stream_start_at == StreamStartAt::kLatest &&
                        position.shard_sequence_numbers().empty() && position.finished_shards().empty();

  state_ = std::move(state);
  main_thread_ = std::thread([this] {
    core::SetCurrentThreadName("source");
    Run();
  });
  return core::Status::Ok();
}

void DynamoDbSource::Stop() {
  if (!state_) return;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    state_->stopped = true;
    state_->changed.notify_all();
  }
  state_->out->Close();
  if (main_thread_.joinable()) main_thread_.join();
}

core::Status DynamoDbSource::WaitForError() {
  if (!state_) return core::Status::Ok();
  std::unique_lock lock(state_->mutex);
  state_->changed.wait(lock, [&] { return !state_->fatal.ok() || state_->stopped; });
  return state_->fatal;
}

core::Status DynamoDbSource::status() const {
  if (!state_) return core::Status::Ok();
  std::lock_guard lock(state_->mutex);
  return state_->fatal;
}

SourceProgress DynamoDbSource::progress() const {
  SourceProgress progress;
  if (!state_) return progress;
  const State& state = *state_;
  progress.snapshot_items = state.snapshot_items.load();
  progress.stream_records = state.stream_records.load();
  progress.segments_done = state.segments_done.load();
  progress.item_count_estimate = state.table.item_count;
  std::lock_guard lock(state.mutex);
  progress.snapshot_complete = state.snapshot_complete;
  progress.segments_total = state.segments_total;
  if (state.snapshot_started != SteadyTime{}) {
    const SteadyTime end = state.snapshot_finished != SteadyTime{} ? state.snapshot_finished : clock_.Monotonic();
    const double seconds = std::chrono::duration<double>(end - state.snapshot_started).count();
    if (seconds > 0) progress.snapshot_items_per_second = static_cast<double>(progress.snapshot_items) / seconds;
  }
  progress.shards_finished = static_cast<int>(state.finished.size());
  for (const auto& [shard_id, shard] : state.shards) {
    if (shard.status == State::ShardStatus::kWaiting) ++progress.shards_waiting;
    if (shard.status == State::ShardStatus::kReady || shard.status == State::ShardStatus::kBusy) ++progress.shards_active;
    progress.shards.push_back({shard_id, shard.parent, shard.last_sequence_number, shard.last_change_time_ms,
                               shard.status == State::ShardStatus::kDone});
  }
  return progress;
}


void DynamoDbSource::Run() { state_->Run(); }

// ---------------------------------------------------------------------------------------------
// Shared helpers.

void DynamoDbSource::State::SleepUnlessHalted(std::chrono::nanoseconds duration) const {
  // Through the injected clock, in short steps, so a stop is noticed promptly.
  constexpr std::chrono::nanoseconds kStep = milliseconds(20);
  while (duration.count() > 0 && !Halted()) {
    const auto step = std::min(duration, kStep);
    clock.SleepFor(step);
    duration -= step;
  }
}

bool DynamoDbSource::State::Push(core::Record record) {
  if (stopping) return false;
  return out->Push(std::move(record));  // blocks while full: the pipeline's backpressure
}

void DynamoDbSource::State::Fail(core::Status status) {
  spdlog::error("source {}: {}", options.table, status.ToString());
  out->Close();  // wakes the consumer: it drains, then reads status()
  {
    std::lock_guard lock(mutex);
    if (fatal.ok()) fatal = std::move(status);
    stopping = true;
    changed.notify_all();
  }
}

core::Result<core::Value> DynamoDbSource::State::KeyOf(const core::Value& item) const {
  core::Value key = core::Value::MakeMap();
  for (const auto& name : key_names) {
    const core::Value* value = item.Find(name);
    if (value == nullptr) {
      return core::Status::Internal("table " + options.table + ": a scanned item has no key attribute " + name);
    }
    key.Set(name, *value);
  }
  return key;
}

// ---------------------------------------------------------------------------------------------
// The main thread.

void DynamoDbSource::State::Run() {
  SourcePosition position = start_position;
  core::Status status;
  if (reset_at_start) {
    status = StartOver();
    position = SourcePosition();
    position.set_stream_arn(stream_arn);
  } else if (position.stream_arn().empty()) {
    core::Record marker;
    marker.metadata.table = options.table;
    marker.position = {SourcePosition::kStreamPartition, stream_arn, false};
    if (!Push(std::move(marker))) return;
    position.set_stream_arn(stream_arn);
  }
  while (status.ok()) {
    status = RunOnce(position);
    if (stopping) return;
    if (status.code() != core::StatusCode::kTrimmedData || options.on_trimmed != TrimmedPolicy::kResnapshot) break;
    spdlog::warn("source {}: {}", options.table, status.message());
    status = StartOver();
    position = SourcePosition();
    position.set_stream_arn(stream_arn);
  }
  if (!stopping) Fail(status.ok() ? core::Status::Internal("source ended without an error") : status);
}

// on_trimmed=resnapshot: pins the table's current stream, lists its shards (before the scan, as
// at Start) and pushes the reset marker, so the folded position starts over with it.
core::Status DynamoDbSource::State::StartOver() {
  auto description = DescribeWithStream(table_api, options.table);
  if (!description.ok()) return description.status().WithContext("re-snapshot");
  auto listing = ListAllShards(streams_api, description->latest_stream_arn);
  if (!listing.ok()) return listing.status().WithContext("re-snapshot");
  {
    std::lock_guard lock(mutex);
    table = description.value();
    stream_arn = table.latest_stream_arn;
    watch_shards.clear();
    for (const auto& shard : *listing) {
      if (shard.ending_sequence_number.empty()) watch_shards.insert(shard.shard_id);
    }
    shards.clear();
    finished.clear();
    first_discovery = true;
    stream_closing = false;
    snapshot_complete = false;
    start_latest = false;
    snapshot_items = 0;
    segments_done = 0;
  }
  core::Record marker;
  marker.metadata.table = options.table;
  marker.position = {SourcePosition::kResetPartition, stream_arn, false};
  if (!Push(std::move(marker))) return core::Status::Cancelled("stopping");
  return core::Status::Ok();
}

core::Status DynamoDbSource::State::RunOnce(SourcePosition& position) {
  if (options.snapshot_enabled && !position.snapshot_complete()) {
    DDB2PG_RETURN_IF_ERROR(RunSnapshot(position));
    core::Record marker;
    marker.metadata.table = options.table;
    marker.position = {SourcePosition::kSnapshotPartition, "", true};
    if (!Push(std::move(marker))) return core::Status::Cancelled("stopping");
    position.set_snapshot_complete(true);
    {
      std::lock_guard lock(mutex);
      snapshot_complete = true;
      snapshot_finished = clock.Monotonic();
    }
    spdlog::info("source {}: snapshot complete, {} items; reading the stream", options.table, snapshot_items.load());
  } else {
    std::lock_guard lock(mutex);
    snapshot_complete = position.snapshot_complete();
  }
  return RunStream(position);
}

// ---------------------------------------------------------------------------------------------
// Snapshot.

core::Status DynamoDbSource::State::RunSnapshot(const SourcePosition& position) {
  std::vector<SourcePosition::Segment> resume = position.segments();
  if (resume.empty()) resume.resize(static_cast<size_t>(options.segments));
  const int total = static_cast<int>(resume.size());
  if (!position.segments().empty() && total != options.segments) {
    spdlog::info("source {}: resuming the snapshot with its saved {} segments (snapshot.segments is {})",
                 options.table, total, options.segments);
  }
  int already_done = 0;
  for (const auto& segment : resume) already_done += segment.done ? 1 : 0;
  {
    std::lock_guard lock(mutex);
    segments_total = total;
    segments_done = already_done;
    phase_status = core::Status::Ok();
    phase_stop = false;
    snapshot_started = clock.Monotonic();
    snapshot_finished = SteadyTime{};
  }
  if (position.segments().empty()) {
    // Declare the segment count before any item: a position folded from a prefix of the queue
    // must know TotalSegments even when some segments have emitted nothing yet, or a restart
    // would scan with another TotalSegments, which partitions the table differently and emits
    // items twice.
    core::Record marker;
    marker.metadata.table = options.table;
    marker.position = {SourcePosition::SegmentPartition(total - 1), "", false};
    if (!Push(std::move(marker))) return core::Status::Cancelled("stopping");
  }
  RateLimiter limiter(options.max_items_per_second);
  std::vector<std::thread> threads;
  threads.reserve(resume.size());
  for (int segment = 0; segment < total; ++segment) {
    if (resume[static_cast<size_t>(segment)].done) continue;
    threads.emplace_back([this, segment, total, &resume, &limiter] {
      core::SetCurrentThreadName("scan-" + std::to_string(segment));
      core::Status status = ScanSegment(segment, total, resume[static_cast<size_t>(segment)], limiter);
      if (!status.ok()) PhaseError(std::move(status));
    });
  }
  for (auto& thread : threads) thread.join();
  if (stopping) return core::Status::Cancelled("stopping");
  std::lock_guard lock(mutex);
  return phase_status;
}

core::Status DynamoDbSource::State::ScanSegment(int segment, int total_segments, SourcePosition::Segment resume,
                                                RateLimiter& limiter) {
  const std::string partition = SourcePosition::SegmentPartition(segment);
  aws::ScanRequest request;
  request.table_name = options.table;
  request.segment = segment;
  request.total_segments = total_segments;
  request.limit = options.page_limit;
  request.consistent_read = options.consistent_read;
  request.decode_only = decode_only;
  // Resuming after the last key emitted is exact even when items were added or deleted since:
  // ExclusiveStartKey need not exist, and Scan continues after it in the segment's key order.
  request.exclusive_start_key = std::move(resume.last_key);
  while (!Halted()) {
    auto page = table_api.Scan(request);
    if (!page.ok()) {
      if (RetryLater(page.status())) {
        spdlog::warn("source {}: Scan segment {}: {}; retrying", options.table, segment, page.status().ToString());
        SleepUnlessHalted(kRetryDelay);
        continue;
      }
      return page.status().WithContext("Scan " + options.table + " segment " + std::to_string(segment));
    }
    const int64_t scan_time_ms = core::ToEpochMillis(clock.Now());
    const bool last_page = !page->last_evaluated_key.has_value();
    const size_t count = page->items.size();
    for (size_t i = 0; i < count; ++i) {
      auto key = KeyOf(page->items[i]);
      if (!key.ok()) return key.status();
      core::Record record;
      record.operation = core::Operation::kSnapshot;
      record.position = {partition, SourcePosition::KeyOffset(*key), last_page && i + 1 == count};
      record.key = std::move(key).value();
      record.after = std::move(page->items[i]);
      record.metadata.table = options.table;
      record.metadata.change_time_ms = scan_time_ms;
      if (!Push(std::move(record))) return core::Status::Cancelled("stopping");
      ++snapshot_items;
    }
    if (count == 0) {  // the page still moves the segment on
      core::Record marker;
      marker.metadata.table = options.table;
      marker.position = {partition, last_page ? "" : SourcePosition::KeyOffset(*page->last_evaluated_key), last_page};
      if (!Push(std::move(marker))) return core::Status::Cancelled("stopping");
    }
    if (last_page) {
      ++segments_done;
      return core::Status::Ok();
    }
    request.exclusive_start_key = std::move(page->last_evaluated_key);
    SleepUnlessHalted(limiter.Reserve(static_cast<int64_t>(count), clock.Monotonic()));
  }
  return core::Status::Cancelled("stopping");
}

// ---------------------------------------------------------------------------------------------
// Stream.

core::Status DynamoDbSource::State::RunStream(const SourcePosition& position) {
  {
    std::lock_guard lock(mutex);
    phase_status = core::Status::Ok();
    phase_stop = false;
    shards.clear();
    finished = position.finished_shards();
    for (const auto& [shard_id, sequence_number] : position.shard_sequence_numbers()) {
      shards[shard_id].last_sequence_number = sequence_number;
    }
    first_discovery = true;
    discovery_requested = false;
  }
  core::Status status = Discover();
  if (!status.ok()) return status;
  std::vector<std::thread> readers;
  for (int i = 0; i < options.max_concurrent_shards; ++i) {
    readers.emplace_back([this, i] {
      core::SetCurrentThreadName("shard-" + std::to_string(i));
      ReadShards();
    });
  }

  const auto interval = milliseconds(std::max(options.discovery_interval_ms, 1));
  while (status.ok()) {
    {
      std::unique_lock lock(mutex);
      changed.wait_for(lock, interval, [&] { return Halted() || discovery_requested; });
      if (Halted()) break;
      discovery_requested = false;
    }
    status = CheckTable();
    if (status.ok()) status = Discover();
  }
  {
    std::lock_guard lock(mutex);
    phase_stop = true;
    changed.notify_all();
  }
  for (auto& reader : readers) reader.join();
  if (stopping) return core::Status::Cancelled("stopping");
  if (!status.ok()) return status;
  std::lock_guard lock(mutex);
  return phase_status;
}

// A disabled or replaced stream is drained first (its records are still valid), then reported.
core::Status DynamoDbSource::State::CheckTable() {
  auto description = table_api.DescribeTable(options.table);
  if (!description.ok()) {
    if (RetryLater(description.status())) return core::Status::Ok();  // next round
    return description.status().WithContext("DescribeTable " + options.table);
  }
  std::lock_guard lock(mutex);
  table.item_count = description->item_count;
  if (!description->stream_enabled || description->latest_stream_arn != stream_arn) {
    if (!stream_closing) {
      stream_closing = true;
      stream_closing_reason = "the stream " + stream_arn + " of table " + options.table +
                              (description->stream_enabled ? " was replaced by " + description->latest_stream_arn
                                                           : std::string(" was disabled")) +
                              ": changes made while it was off are lost";
      spdlog::warn("source {}: {}; reading the old stream to its end", options.table, stream_closing_reason);
    }
  }
  return core::Status::Ok();
}

core::Status DynamoDbSource::State::Discover() {
  auto listing = ListAllShards(streams_api, stream_arn);
  if (!listing.ok()) {
    if (RetryLater(listing.status())) return core::Status::Ok();
    return listing.status();
  }
  std::lock_guard lock(mutex);
  std::set<std::string> listed;
  for (const auto& description : *listing) {
    listed.insert(description.shard_id);
    if (finished.count(description.shard_id) != 0) continue;
    auto [it, added] = shards.try_emplace(description.shard_id);
    State::Shard& shard = it->second;
    shard.parent = description.parent_shard_id;
    shard.ending_known = !description.ending_sequence_number.empty();
    if (!shard.listed && first_discovery && start_latest && shard.last_sequence_number.empty()) {
      if (shard.ending_known) {
        // stream_start_at latest: history is not wanted; a closed shard counts as read.
        shard.status = ShardStatus::kDone;
        finished.insert(description.shard_id);
      } else {
        shard.start_latest = true;
      }
    }
    shard.listed = true;
  }
  first_discovery = false;

  // A shard we still had to read that left the stream was trimmed with its unread changes.
  for (auto& [shard_id, shard] : shards) {
    if (shard.status == ShardStatus::kDone || listed.count(shard_id) != 0) continue;
    std::string message = "shard " + shard_id + " of " + stream_arn + " was trimmed before it was read";
    if (!shard.last_sequence_number.empty()) message += " past sequence number " + shard.last_sequence_number;
    return DataLost(std::move(message), options.on_trimmed);
  }
  for (const auto& shard_id : watch_shards) {
    if (listed.count(shard_id) == 0 && finished.count(shard_id) == 0) {
      return DataLost("shard " + shard_id + ", open when the snapshot began, was trimmed before the stream was read",
                      options.on_trimmed);
    }
  }

  // Lineage: a shard becomes readable once its parent is fully read, or gone from the stream
  // (trimmed after 24 h: whatever it held is older than anything we still need).
  const auto now = clock.Monotonic();
  bool all_done = true;
  for (auto& [shard_id, shard] : shards) {
    if (shard.status != ShardStatus::kDone) all_done = false;
    if (shard.status != ShardStatus::kWaiting) continue;
    const bool parent_finished = shard.parent.empty() || finished.count(shard.parent) != 0 ||
                                 (shards.count(shard.parent) == 0 && listed.count(shard.parent) == 0);
    if (parent_finished) {
      shard.status = ShardStatus::kReady;
      shard.due = now;
    }
  }
  changed.notify_all();
  if (stream_closing && all_done) return DataLost(stream_closing_reason, options.on_trimmed);
  return core::Status::Ok();
}

void DynamoDbSource::State::ReadShards() {
  for (;;) {
    std::string shard_id;
    {
      std::unique_lock lock(mutex);
      for (;;) {
        if (Halted()) return;
        const auto now = clock.Monotonic();
        auto next = shards.end();
        for (auto it = shards.begin(); it != shards.end(); ++it) {
          if (it->second.status == ShardStatus::kReady && (next == shards.end() || it->second.due < next->second.due)) {
            next = it;
          }
        }
        if (next != shards.end() && next->second.due <= now) {
          next->second.status = ShardStatus::kBusy;
          shard_id = next->first;
          break;
        }
        const auto wait = next == shards.end() ? std::chrono::nanoseconds(milliseconds(100))
                                               : std::min<std::chrono::nanoseconds>(next->second.due - now, milliseconds(100));
        changed.wait_for(lock, wait);
      }
    }
    ReadOnePage(shard_id);
  }
}

// One GetRecords call on a shard this thread holds (status kBusy: nobody else touches it).
void DynamoDbSource::State::ReadOnePage(const std::string& shard_id) {
  std::string iterator;
  std::string last_sequence_number;
  bool start_at_latest = false;
  bool ending_known = false;
  milliseconds idle_backoff{0};
  {
    std::lock_guard lock(mutex);
    const Shard& shard = shards.at(shard_id);
    iterator = shard.iterator;
    last_sequence_number = shard.last_sequence_number;
    start_at_latest = shard.start_latest;
    ending_known = shard.ending_known;
    idle_backoff = shard.idle_backoff;
  }
  // Hands the shard back to the readers, due after `delay`.
  auto release = [&](milliseconds delay, const std::string& next_iterator) {
    std::lock_guard lock(mutex);
    Shard& shard = shards.at(shard_id);
    shard.iterator = next_iterator;
    shard.last_sequence_number = last_sequence_number;
    shard.idle_backoff = idle_backoff;
    shard.status = ShardStatus::kReady;
    shard.due = clock.Monotonic() + delay;
    changed.notify_all();
  };
  auto handle_error = [&](const core::Status& status, const std::string& operation) {
    if (status.code() == core::StatusCode::kTrimmedData) {
      PhaseError(DataLost("shard " + shard_id + ": " + status.message(), options.on_trimmed));
    } else if (RetryLater(status)) {
      spdlog::warn("source {}: {} {}: {}; retrying", options.table, operation, shard_id, status.ToString());
      release(kRetryDelay, "");
    } else {
      PhaseError(status.WithContext(operation + " " + shard_id));
    }
  };

  if (iterator.empty()) {
    // After the last record read (also after ExpiredIterator); else where this shard starts.
    const aws::ShardIteratorType type = !last_sequence_number.empty() ? aws::ShardIteratorType::kAfterSequenceNumber
                                        : start_at_latest              ? aws::ShardIteratorType::kLatest
                                                                       : aws::ShardIteratorType::kTrimHorizon;
    auto fresh = streams_api.GetShardIterator(stream_arn, shard_id, type, last_sequence_number);
    if (!fresh.ok()) return handle_error(fresh.status(), "GetShardIterator");
    iterator = std::move(fresh).value();
  }

  auto page = streams_api.GetRecords(iterator, options.get_records_limit, decode_only.get());
  if (!page.ok()) {
    if (page.status().code() == core::StatusCode::kExpiredIterator) {
      spdlog::info("source {}: shard {}: iterator expired; resuming after {}", options.table, shard_id,
                   last_sequence_number.empty() ? std::string("its start") : last_sequence_number);
      return release(milliseconds(0), "");
    }
    return handle_error(page.status(), "GetRecords");
  }

  int64_t last_change_time_ms = 0;
  for (auto& change : page->records) {
    core::Record record;
    record.operation = OperationOf(change.event_name);
    if (record.operation == core::Operation::kMarker) {
      return PhaseError(core::Status::Internal("shard " + shard_id + ": unknown eventName \"" + change.event_name +
                                               "\" at sequence number " + change.sequence_number));
    }
    record.key = std::move(change.keys);
    record.before = std::move(change.old_image);
    record.after = std::move(change.new_image);
    record.metadata.table = options.table;
    record.metadata.shard_id = shard_id;
    record.metadata.sequence_number = change.sequence_number;
    record.metadata.change_time_ms = change.approximate_creation_time_ms;
    record.metadata.ttl_delete = record.operation == core::Operation::kDelete && change.user_identity_type == "Service" &&
                                 change.user_identity_principal_id == "dynamodb.amazonaws.com";
    record.position = {shard_id, change.sequence_number, false};
    if (!Push(std::move(record))) return;
    last_sequence_number = change.sequence_number;
    last_change_time_ms = change.approximate_creation_time_ms;
    ++stream_records;
  }
  if (last_change_time_ms != 0) {
    std::lock_guard lock(mutex);
    shards.at(shard_id).last_change_time_ms = last_change_time_ms;
  }

  if (!page->next_shard_iterator) {
    // The shard is closed and fully read: its marker goes out before any child is opened.
    core::Record marker;
    marker.metadata.table = options.table;
    marker.metadata.shard_id = shard_id;
    marker.position = {shard_id, last_sequence_number, true};
    if (!Push(std::move(marker))) return;
    std::lock_guard lock(mutex);
    Shard& shard = shards.at(shard_id);
    shard.status = ShardStatus::kDone;
    shard.iterator.clear();
    shard.last_sequence_number = last_sequence_number;
    finished.insert(shard_id);
    const auto now = clock.Monotonic();
    for (auto& [child_id, child] : shards) {
      if (child.status == ShardStatus::kWaiting && child.parent == shard_id) {
        child.status = ShardStatus::kReady;
        child.due = now;
      }
    }
    discovery_requested = true;  // look for children now
    changed.notify_all();
    return;
  }
  milliseconds delay{0};
  if (ending_known || page->records.size() >= kBacklogPageRecords) {
    idle_backoff = milliseconds(0);  // a backlog, or a closed shard being drained: re-poll at once
  } else if (!page->records.empty()) {
    // At the shard's tip: a short pause lets the next call carry a few changes instead of one,
    // which keeps CPU per change low at a steady write rate for a few ms of latency.
    idle_backoff = milliseconds(0);
    delay = std::min(kNearTipPollDelay, milliseconds(options.max_idle_poll_ms));
  } else {
    idle_backoff = idle_backoff.count() == 0
                       ? kInitialIdleBackoff
                       : std::min(idle_backoff * 2, milliseconds(options.max_idle_poll_ms));
    delay = idle_backoff;
  }
  release(delay, *page->next_shard_iterator);
}

}  // namespace ddb2pg::source
