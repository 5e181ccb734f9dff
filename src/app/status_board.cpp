#include "app/status_board.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/version.h"
#include "core/json_writer.h"
#include "sink/pg_connection.h"
#include "sink/system/pipeline_registry.h"
#include "sink/system/system_status.h"

namespace ddb2pg::app {
namespace {

constexpr auto kSampleInterval = std::chrono::seconds(1);
constexpr size_t kHistorySamples = 300;  // five minutes at one sample per second
constexpr size_t kEtaSamples = 10;       // the snapshot rate behind the ETA: the last ten seconds
constexpr auto kDeadLetterPoll = std::chrono::seconds(2);
constexpr int64_t kViewerGoneMs = 10'000;  // no Json() for this long: nobody is looking

// Each of `fields` of `value` as "key": "text".
template <typename T>
void WriteTextFields(core::JsonWriter& json, const T& value,
                     std::initializer_list<std::pair<const char*, std::string T::*>> fields) {
  for (const auto& [key, member] : fields) json.Key(key).String(value.*member);
}

int64_t SteadyMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t UnixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Cuts `text` to at most `max` bytes without splitting a UTF-8 sequence.
std::string Excerpt(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "…";
}

void Number(core::JsonWriter& json, double value, int decimals) {
  if (!std::isfinite(value)) {
    json.Null();
    return;
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  json.RawNumber(buffer);
}

}  // namespace

StatusBoard::StatusBoard(std::string conninfo, std::vector<std::string> pipelines, std::vector<std::string> checkpoints)
    : conninfo_(std::move(conninfo)), pipelines_(std::move(pipelines)), checkpoints_(std::move(checkpoints)) {}

StatusBoard::~StatusBoard() { Stop(); }

void StatusBoard::StartDeadLetterReader() {
  std::lock_guard lock(mutex_);
  if (reader_.joinable() || stopping_) return;
  reader_ = std::thread([this] { ReadDeadLetters(); });
}

void StatusBoard::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (reader_.joinable()) reader_.join();
}

void StatusBoard::Update(std::vector<SourceStatus> sources) {
  const auto now = std::chrono::steady_clock::now();
  const int64_t unix_ms = UnixMillisNow();
  std::lock_guard lock(mutex_);
  if (sources_.size() != sources.size()) {
    sources_.assign(sources.size(), SourceTrack{});
    for (size_t i = 0; i < sources.size(); ++i) {
      sources_[i].sampled = sources[i];
      sources_[i].sampled_at = now;
    }
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    SourceTrack& track = sources_[i];
    track.last = std::move(sources[i]);
    if (now - track.sampled_at < kSampleInterval) continue;
    const double seconds = std::chrono::duration<double>(now - track.sampled_at).count();
    Sample sample;
    sample.unix_ms = unix_ms;
    sample.rows_per_second = (track.last.committed.rows_committed - track.sampled.committed.rows_committed) / seconds;
    sample.snapshot_items_per_second =
        (track.last.snapshot_items_read - track.sampled.snapshot_items_read) / seconds;
    const uint64_t commits = track.last.commit_count - track.sampled.commit_count;
    if (commits > 0) {
      sample.commit_latency_ms =
          (track.last.commit_seconds_total - track.sampled.commit_seconds_total) / static_cast<double>(commits) * 1000;
    }
    track.history.push_back(sample);
    if (track.history.size() > kHistorySamples) track.history.pop_front();
    track.sampled = track.last;
    track.sampled_at = now;
  }
}

std::string StatusBoard::Json() const {
  const int64_t previous = last_viewed_ms_.exchange(SteadyMillisNow());
  if (previous == 0 || SteadyMillisNow() - previous > kViewerGoneMs) wake_.notify_all();  // read them now
  std::string out;
  core::JsonWriter json(&out);
  std::lock_guard lock(mutex_);
  json.BeginObject();
  json.Key("version").String(kVersion);
  json.Key("now_ms").Int(UnixMillisNow());
  json.Key("uptime_s").Int(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count());
  json.Key("sources").BeginArray();
  for (const SourceTrack& track : sources_) {
    const SourceStatus& s = track.last;
    json.BeginObject();
    json.Key("name").String(s.name);
    json.Key("table").String(s.table);
    json.Key("checkpoint").String(s.checkpoint);
    json.Key("phase").String(s.phase);
    // Snapshot: items read of the ItemCount estimate, the rate over the last ten seconds, an ETA.
    double items_per_second = 0;
    size_t n = 0;
    for (auto it = track.history.rbegin(); it != track.history.rend() && n < kEtaSamples; ++it, ++n) {
      items_per_second += it->snapshot_items_per_second;
    }
    if (n > 0) items_per_second /= static_cast<double>(n);
    json.Key("snapshot").BeginObject();
    json.Key("complete").Bool(s.snapshot_complete);
    json.Key("items_read").Int(s.snapshot_items_read);
    json.Key("items_estimate").Int(s.snapshot_items_estimate);
    json.Key("segments_done").Int(s.snapshot_segments_done);
    json.Key("segments").Int(s.snapshot_segments);
    json.Key("export").String(s.export_progress);
    json.Key("items_per_s");
    Number(json, items_per_second, 1);
    json.Key("eta_s");
    if (!s.snapshot_complete && items_per_second > 0 && s.snapshot_items_estimate > s.snapshot_items_read) {
      Number(json, (s.snapshot_items_estimate - s.snapshot_items_read) / items_per_second, 0);
    } else {
      json.Null();
    }
    json.EndObject();
    json.Key("shards").BeginObject().Key("active").Int(s.shards_active).Key("finished").Int(s.shards_finished).EndObject();
    json.Key("lag_ms");
    if (s.lag_ms >= 0) {
      json.Int(s.lag_ms);
    } else {
      json.Null();
    }
    json.Key("records_committed").Int(s.committed.records_committed);
    json.Key("rows_committed").Int(s.committed.rows_committed);
    json.Key("dead_letters").Int(s.committed.dead_letters);
    json.Key("skipped").Int(s.committed.skipped);
    json.Key("commits").Int(s.committed.commits);
    json.Key("last_commit_ms").Int(s.committed.last_commit_unix_ms);
    const Sample* newest = track.history.empty() ? nullptr : &track.history.back();
    json.Key("rows_per_s");
    Number(json, newest != nullptr ? newest->rows_per_second : 0, 1);
    // The latency of the most recent second with a commit (the stream commits when it has data).
    json.Key("commit_latency_ms");
    auto with_commit = std::find_if(track.history.rbegin(), track.history.rend(),
                                    [](const Sample& sample) { return sample.commit_latency_ms >= 0; });
    if (with_commit != track.history.rend()) {
      Number(json, with_commit->commit_latency_ms, 1);
    } else {
      json.Null();
    }
    json.Key("history").BeginArray();
    for (const Sample& sample : track.history) {
      json.BeginArray().Int(sample.unix_ms);
      Number(json, sample.rows_per_second, 1);
      if (sample.commit_latency_ms >= 0) {
        Number(json, sample.commit_latency_ms, 1);
      } else {
        json.Null();
      }
      json.EndArray();
    }
    json.EndArray();
    json.EndObject();
  }
  json.EndArray();
  json.Key("dead_letters").BeginObject();
  json.Key("read").Bool(dead_letters_read_);
  json.Key("error").String(dead_letters_error_);
  json.Key("latest").BeginArray();
  for (const DeadLetterView& letter : dead_letters_) {
    json.BeginObject();
    WriteTextFields(json, letter,
                    {{"id", &DeadLetterView::id}, {"pipeline", &DeadLetterView::pipeline},
                     {"key", &DeadLetterView::key}, {"operation", &DeadLetterView::operation},
                     {"reason", &DeadLetterView::reason}, {"item", &DeadLetterView::item_excerpt},
                     {"created_at", &DeadLetterView::created_at}});
    json.EndObject();
  }
  json.EndArray().EndObject();
  // Runners sharing the sources, and every partition with its lease (ddb2pg.runners/partitions).
  json.Key("runners").BeginArray();
  for (const RunnerView& runner : runners_) {
    json.BeginObject();
    WriteTextFields(json, runner,
                    {{"checkpoint", &RunnerView::checkpoint}, {"runner", &RunnerView::runner},
                     {"host", &RunnerView::host}, {"pid", &RunnerView::pid}, {"lanes", &RunnerView::lanes},
                     {"heartbeat_age_s", &RunnerView::heartbeat_age_s}});
    json.Key("standby").Bool(runner.standby);
    json.EndObject();
  }
  json.EndArray();
  json.Key("pipelines").BeginArray();
  for (const PipelineView& view : pipeline_views_) {
    const sink::PipelineProgress& p = view.progress;
    json.BeginObject();
    json.Key("checkpoint").String(view.checkpoint);
    json.Key("pipeline").String(p.pipeline);
    json.Key("target").String(p.target);
    json.Key("phase").String(p.phase);
    json.Key("segments_done").Int(p.segments_done);
    json.Key("segments").Int(p.segments);
    json.Key("reconcile").Bool(p.reconcile);
    json.Key("swept");
    if (p.swept >= 0) {
      json.Int(p.swept);
    } else {
      json.Null();
    }
    json.EndObject();
  }
  json.EndArray();
  json.Key("partitions").BeginArray();
  for (const PartitionView& partition : partitions_) {
    json.BeginObject();
    WriteTextFields(json, partition,
                    {{"checkpoint", &PartitionView::checkpoint}, {"id", &PartitionView::id},
                     {"kind", &PartitionView::kind}, {"state", &PartitionView::state},
                     {"owner", &PartitionView::owner}, {"epoch", &PartitionView::epoch},
                     {"lease", &PartitionView::lease}, {"records", &PartitionView::records},
                     {"age_s", &PartitionView::age_s}, {"lane", &PartitionView::lane}});
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  return out;
}

void StatusBoard::ReadDeadLetters() {
  std::unique_ptr<sink::PgConnection> connection;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const int64_t viewed = last_viewed_ms_.load();
    if (viewed == 0 || SteadyMillisNow() - viewed > kViewerGoneMs) {
      if (connection != nullptr) {  // nobody is looking: no connection held, no query
        lock.unlock();
        connection.reset();
        lock.lock();
        continue;
      }
      wake_.wait_for(lock, kDeadLetterPoll, [&] { return stopping_ || last_viewed_ms_.load() != viewed; });
      continue;
    }
    lock.unlock();
    std::vector<DeadLetterView> letters;
    std::string error;
    if (connection == nullptr || connection->broken()) {
      auto connected = sink::PgConnection::Connect(conninfo_, "ddb2pg status page");
      if (connected.ok()) {
        connection = std::move(connected).value();
      } else {
        connection.reset();
        error = connected.status().message();
      }
    }
    if (connection != nullptr) {
      auto latest = sink::SystemStatus::LatestDeadLetters(*connection, pipelines_, kDeadLettersShown, kItemExcerptChars);
      if (latest.ok()) {
        for (auto& row : *latest) {
          letters.push_back({std::move(row.id), std::move(row.pipeline), std::move(row.key), std::move(row.operation),
                             std::move(row.reason), Excerpt(row.item, kItemExcerptChars), std::move(row.created_at)});
        }
      } else {
        error = latest.status().message();
      }
    }
    std::vector<RunnerView> runners;
    std::vector<PartitionView> partitions;
    std::vector<PipelineView> pipeline_views;
    for (const auto& checkpoint : checkpoints_) {
      if (connection == nullptr) break;
      auto stored = sink::PipelineRegistry::Read(*connection, checkpoint);
      if (!stored.ok()) break;
      for (auto& p : *stored) pipeline_views.push_back({checkpoint, std::move(p)});
    }
    if (connection != nullptr && !checkpoints_.empty()) {
      if (auto found = sink::SystemStatus::Runners(*connection, checkpoints_, 100); found.ok()) {
        runners = std::move(found).value();
      }
      auto held = sink::SystemStatus::Partitions(*connection, checkpoints_,
                                                 sink::SystemStatus::PartitionOrder::kPendingFirst, 200);
      if (held.ok()) partitions = std::move(held).value();
    }
    lock.lock();
    runners_ = std::move(runners);
    partitions_ = std::move(partitions);
    pipeline_views_ = std::move(pipeline_views);
    if (error.empty()) {
      dead_letters_ = std::move(letters);
      dead_letters_read_ = true;
    }
    dead_letters_error_ = error;
    wake_.wait_for(lock, kDeadLetterPoll, [this] { return stopping_; });
  }
}

}  // namespace ddb2pg::app
