#include "pipeline/lane.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace ddb2pg::pipeline {
Lane::Lane(int index, RecordSource& source, std::unique_ptr<Sink> sink,
           std::vector<const processor::MappingPlan*> plans, Metrics& metrics, const std::string& source_name,
           LaneOptions options, const core::Clock& clock)
    : index_(index),
      source_(source),
      sink_(std::move(sink)),
      metrics_(metrics),
      source_name_(source_name),
      options_(options),
      clock_(clock),
      queue_(options.queue_capacity, options.queue_max_bytes,
             [](const core::Record& record) { return record.ApproxBytes(); }),
      fetch_gate_(options.fetch_slots),
      builder_(plans, metrics, source_name) {
  commits_counter_ = &metrics.Commits(source_name);
  commit_latency_ = &metrics.CommitLatency(source_name);
  lag_ = &metrics.EndToEndLag(source_name);
  for (const auto* plan : plans) {
    rows_written_.push_back(&metrics.RowsWritten(plan->spec().name));
    direct_writes_.push_back(&metrics.TableWrites(plan->spec().name, "direct_copy"));
    staged_writes_.push_back(&metrics.TableWrites(plan->spec().name, "staged"));
    dead_letters_.push_back(&metrics.DeadLetters(plan->spec().name));
    skipped_.push_back(&metrics.RecordsSkipped(plan->spec().name));
  }
  committer_ = std::make_unique<Committer>(*sink_, clock_, options_.reconnect_backoff_max, stop_requested_, metrics_,
                                           [this](const BuiltBatch& batch, const CommitResult& result, double seconds) {
                                             OnCommitted(batch, result, seconds);
                                           });
}

Lane::~Lane() {
  if (committer_) committer_->Stop();
  for (auto& [id, slot] : slots_) {
    if (slot.reader) slot.reader->Stop();
  }
}

void Lane::Assign(ClaimedPartition lease, const std::string& stream_arn) {
  std::lock_guard lock(mutex_);
  held_.push_back(lease.id);
  control_.push_back({Control::Kind::kAssign, std::move(lease), stream_arn, ""});
}

void Lane::Release(const std::string& partition_id, const std::string& why) {
  std::lock_guard lock(mutex_);
  ClaimedPartition lease;
  lease.id = partition_id;
  control_.push_back({Control::Kind::kRelease, std::move(lease), "", why});
}

void Lane::Drop(const std::string& partition_id) {
  std::lock_guard lock(mutex_);
  ClaimedPartition lease;
  lease.id = partition_id;
  control_.push_back({Control::Kind::kDrop, std::move(lease), "", "lease lost"});
}

std::vector<LaneEvent> Lane::TakeEvents() {
  std::lock_guard lock(mutex_);
  std::vector<LaneEvent> taken;
  taken.swap(events_);
  return taken;
}

std::vector<std::string> Lane::Held() const {
  std::lock_guard lock(mutex_);
  return held_;
}

LaneProgress Lane::progress() const {
  std::lock_guard lock(mutex_);
  LaneProgress p = progress_;
  p.partitions = static_cast<int>(held_.size());
  for (const auto& id : held_) p.segments += id.starts_with("scan/") ? 1 : 0;
  p.oldest_uncommitted_read = batch_first_read_;
  if (committer_->reconnecting()) p.connected = false;
  if (auto in_flight = committer_->in_flight_first_read()) p.oldest_uncommitted_read = in_flight;
  return p;
}

core::Status Lane::TakeSourceError() {
  std::lock_guard lock(mutex_);
  return std::exchange(source_error_, core::Status::Ok());
}

std::string Lane::Committed(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = committed_.find(id);
  return it == committed_.end() ? std::string() : it->second;
}

void Lane::Emit(LaneEvent event) {
  std::lock_guard lock(mutex_);
  committed_.erase(event.lease.id);
  held_.erase(std::remove(held_.begin(), held_.end(), event.lease.id), held_.end());
  events_.push_back(std::move(event));
}

void Lane::StartReader(Slot& slot) {
  slot.tag = next_tag_++;
  tag_owner_[slot.tag] = slot.lease.id;
  slot.done_read = false;
  slot.reader = source_.Open(slot.lease, slot.stream_arn, slot.tag, &queue_, &fetch_gate_);
}

void Lane::RemoveSlot(const std::string& id, LaneEvent::Kind kind, const std::string& why) {
  auto it = slots_.find(id);
  if (it == slots_.end()) return;
  if (it->second.reader) it->second.reader->Stop();
  tag_owner_.erase(it->second.tag);
  Emit({kind, {id, it->second.lease.epoch}, why});
  slots_.erase(it);
}

void Lane::HandleControl() {
  std::vector<Control> control;
  std::vector<std::string> finished;
  {
    std::lock_guard lock(mutex_);
    control.swap(control_);
  }
  for (auto& item : control) {
    switch (item.kind) {
      case Control::Kind::kAssign: {
        Slot& slot = slots_[item.lease.id];
        if (slot.reader) slot.reader->Stop();
        tag_owner_.erase(slot.tag);
        {
          std::lock_guard lock(mutex_);
          committed_[item.lease.id] = item.lease.position;
        }
        slot.flushed = item.lease.position;
        slot.lease = std::move(item.lease);
        slot.stream_arn = item.stream_arn;
        StartReader(slot);
        break;
      }
      case Control::Kind::kRelease:
        if (slots_.count(item.lease.id) == 0) break;
        // At a batch boundary: what was read is committed first; the rest is read by the next owner.
        if (Flush().ok()) committer_->WaitIdle();
        if (committer_->problem_pending()) {
          std::lock_guard lock(mutex_);
          control_.push_back(std::move(item));  // after the problem is handled
          break;
        }
        RemoveSlot(item.lease.id, LaneEvent::Kind::kReleased, item.why);
        break;
      case Control::Kind::kDrop:
        if (slots_.count(item.lease.id) == 0) break;
        {
          const bool touched = builder_.Touches(item.lease.id);
          RemoveSlot(item.lease.id, LaneEvent::Kind::kLost, item.why);
          if (touched) RewindAll();
        }
        break;
    }
  }
  // Partitions whose final record is committed leave the lane. The commits name them
  // (newly_done_): a lane holding hundreds of shards does not look at each on every loop.
  {
    std::vector<std::string> done;
    {
      std::lock_guard lock(mutex_);
      done.swap(newly_done_);
    }
    for (const auto& id : done) {
      if (slots_.count(id) != 0 && Committed(id) == kDonePosition) {
        RemoveSlot(id, LaneEvent::Kind::kFinished, "read to its end");
      }
    }
  }
}

bool Lane::ReaderCatchingUp() const {
  if (ReadingASegment()) return true;
  for (const auto& [id, slot] : slots_) {
    if (!slot.done_read && slot.reader && slot.reader->catching_up()) return true;
  }
  return false;
}

bool Lane::ReadingASegment() const {
  for (const auto& [id, slot] : slots_) {
    if (slot.lease.kind == PartitionKind::kSegment && !slot.done_read) return true;
  }
  return false;
}

core::Status Lane::Flush() {
  batch_deadline_.reset();
  if (builder_.empty()) return core::Status::Ok();
  if (committer_->problem_pending()) return core::Status::Ok();  // handled next: the batch is read again
  BuiltBatch built = builder_.Take([this](const std::string& id) {
    auto it = slots_.find(id);
    return it == slots_.end() ? std::string() : it->second.flushed;
  });
  for (const auto& advance : built.advances) {
    auto it = slots_.find(advance.id);
    if (it != slots_.end() && !advance.position.empty()) it->second.flushed = advance.position;
  }
  {
    std::lock_guard lock(mutex_);
    built.first_read = batch_first_read_;
    batch_first_read_.reset();
  }
  (void)committer_->Submit(std::move(built));  // false: a problem came first; the rewind reads it again
  return core::Status::Ok();
}

void Lane::RewindAll() {
  builder_.Clear();
  batch_deadline_.reset();
  for (auto& [id, slot] : slots_) {
    if (slot.reader) slot.reader->Stop();
    tag_owner_.erase(slot.tag);
    const std::string committed = Committed(id);
    slot.flushed = committed;
    slot.lease.position = committed;
    StartReader(slot);
  }
  std::lock_guard lock(mutex_);
  batch_first_read_.reset();
}

core::Status Lane::HandleProblem(CommitProblem problem) {
  if (!problem.error.ok()) return problem.error;
  for (const auto& id : problem.lost) {
    spdlog::warn("lane {}: the lease of partition {} was lost (another runner took it over); its uncommitted "
                 "records are left to the new owner",
                 index_, id);
    RemoveSlot(id, LaneEvent::Kind::kLost, "lease lost at commit");
  }
  if (!problem.rewind.empty()) {
    // Commits lost in a server crash may cover partitions beyond this batch: every partition of
    // the lane goes back to what is stored (the committer is idle; the sink is ours meanwhile).
    std::vector<std::string> ids;
    for (const auto& [id, slot] : slots_) ids.push_back(id);
    auto stored = sink_->ReadPositions(ids);
    if (!stored.ok()) return stored.status().WithContext("reading the stored positions after a reconnect");
    std::vector<std::string> lost;
    for (const auto& [id, slot] : slots_) {
      auto it = stored->find(id);
      if (it == stored->end() || it->second.epoch != slot.lease.epoch) {
        lost.push_back(id);
        continue;
      }
      std::lock_guard lock(mutex_);
      committed_[id] = it->second.done ? kDonePosition : it->second.position;
      if (it->second.done) newly_done_.push_back(id);
    }
    for (const auto& id : lost) RemoveSlot(id, LaneEvent::Kind::kLost, "lease lost while reconnecting");
  }
  RewindAll();
  return core::Status::Ok();
}

void Lane::OnCommitted(const BuiltBatch& built, const CommitResult& result, double seconds) {
  const model::Batch& batch = built.batch;
  commit_latency_->Observe(seconds);
  commits_counter_->Increment();
  const int64_t now_ms = core::ToEpochMillis(clock_.Now());
  for (int64_t change_ms : built.change_times) lag_->Observe(std::max<int64_t>(0, now_ms - change_ms) / 1000.0);
  metrics_.LastCommitTime(source_name_).Set(static_cast<double>(now_ms) / 1000.0);
  // What the sink says it wrote: rows PostgreSQL rejected were dead-lettered or skipped instead.
  int64_t rows = 0;
  int64_t rejected_letters = 0, rejected_skipped = 0;
  for (size_t i = 0; i < batch.tables.size() && i < rows_written_.size(); ++i) {
    const bool counted = i < result.tables.size();
    const int64_t written = counted ? result.tables[i].rows_written : static_cast<int64_t>(batch.tables[i].rows.size());
    rows += written;
    rows_written_[i]->Increment(static_cast<double>(written));
    if (counted) {
      if (written > 0) (result.tables[i].copied_directly ? direct_writes_ : staged_writes_)[i]->Increment();
      dead_letters_[i]->Increment(static_cast<double>(result.tables[i].dead_lettered));
      skipped_[i]->Increment(static_cast<double>(result.tables[i].skipped));
      rejected_letters += result.tables[i].dead_lettered;
      rejected_skipped += result.tables[i].skipped;
    }
  }
  std::lock_guard lock(mutex_);
  for (const auto& advance : built.advances) {
    auto it = committed_.find(advance.id);
    if (it == committed_.end()) continue;
    if (advance.done) {
      if (it->second != kDonePosition) newly_done_.push_back(advance.id);
      it->second = kDonePosition;
    } else if (!advance.position.empty()) {
      it->second = advance.position;
    }
  }
  progress_.records_committed += batch.records;
  progress_.snapshot_records += built.snapshot_records;
  progress_.rows_committed += rows;
  progress_.dead_letters += static_cast<int64_t>(batch.dead_letters.size()) + rejected_letters;
  progress_.skipped += rejected_skipped;
  progress_.commits += 1;
  progress_.last_commit_unix_ms = now_ms;
  if (batch.max_change_time_ms > 0) progress_.last_lag_ms = std::max<int64_t>(0, now_ms - batch.max_change_time_ms);
}

core::Status Lane::Run() {
  {
    auto backoff = std::chrono::milliseconds(100);
    while (true) {
      core::Status opened = sink_->Open();
      if (opened.ok()) break;
      if (!opened.retryable()) return opened.WithContext("PostgreSQL");
      metrics_.Errors("connection").Increment();
      if (stop_requested_) return core::Status::Ok();
      spdlog::warn("lane {}: PostgreSQL unavailable ({}); retrying in {} ms", index_, opened.message(),
                   backoff.count());
      clock_.SleepFor(backoff);
      backoff = std::min(backoff * 2, options_.reconnect_backoff_max);
    }
  }
  {
    std::lock_guard lock(mutex_);
    progress_.connected = true;
  }
  committer_->Start("pg-commit-" + std::to_string(index_));

  core::Status result = core::Status::Ok();
  constexpr size_t kPopMax = 256;
  std::vector<core::Record> popped;
  popped.reserve(kPopMax);
  auto last_reader_check = clock_.Monotonic();
  while (result.ok() && !stop_requested_) {
    if (auto problem = committer_->TakeProblem()) {
      result = HandleProblem(std::move(*problem));
      if (!result.ok()) break;
    }
    HandleControl();
    auto wait = std::chrono::milliseconds(50);
    if (batch_deadline_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*batch_deadline_ - clock_.Monotonic());
      wait = std::clamp(left, std::chrono::milliseconds(0), wait);
    }
    popped.clear();
    queue_.PopMany(&popped, kPopMax, wait);
    for (auto& record : popped) {
      auto owner = tag_owner_.find(record.reader_tag);
      if (owner == tag_owner_.end()) continue;  // from a reader stopped since: read again elsewhere
      Slot& slot = slots_.at(owner->second);
      result = builder_.Add(record, slot.lease);
      if (!result.ok()) break;
      if (record.position.partition_done) slot.done_read = true;
      if (builder_.empty() || !batch_first_read_) {
        std::lock_guard lock(mutex_);
        if (!batch_first_read_) batch_first_read_ = clock_.Monotonic();
      }
      if (!batch_deadline_) batch_deadline_ = clock_.Monotonic() + options_.batch_max_delay;
      if (builder_.Full(options_.batch_max_rows, options_.batch_max_bytes)) (void)Flush();
    }
    if (!result.ok()) break;
    if (batch_deadline_ && clock_.Monotonic() >= *batch_deadline_) (void)Flush();
    // A quiet stream commits at once: with nothing more queued, no commit in flight and no
    // reader of the lane catching up, waiting out batch_max_delay would only add lag. A busy lane
    // still fills its batches (its queue is seldom empty, while one commit is in flight the next
    // batch grows, and a lane of hundreds of shards whose pages trickle in between fetches waits
    // for them instead of committing a few hundred records at a time). Snapshot batches keep
    // their delay: Scan pages come in bursts with gaps between them.
    if (!builder_.empty() && !builder_.has_snapshot_records() && queue_.size() == 0 &&
        !committer_->in_flight_first_read() && !ReaderCatchingUp()) {
      (void)Flush();
    }
    // Every segment of the lane read to its end: no Scan page will grow the batch any more, so
    // waiting out batch_max_delay would only hold back the snapshot's end.
    if (!builder_.empty() && builder_.has_snapshot_records() && queue_.size() == 0 && !ReadingASegment()) {
      (void)Flush();
    }
    if (clock_.Monotonic() - last_reader_check > std::chrono::milliseconds(200)) {
      last_reader_check = clock_.Monotonic();
      std::vector<std::string> failed;
      for (auto& [id, slot] : slots_) {
        if (!slot.reader) continue;
        if (const int64_t skipped = slot.reader->skipped_before_watermark(); skipped > slot.before_watermark_counted) {
          metrics_.StreamRecordsBeforeWatermark(source_name_).Increment(
              static_cast<double>(skipped - slot.before_watermark_counted));
          slot.before_watermark_counted = skipped;
        }
        core::Status status = slot.reader->status();
        if (status.ok()) continue;
        if (status.code() != core::StatusCode::kTrimmedData) {
          result = status;
          break;
        }
        {
          std::lock_guard lock(mutex_);
          if (source_error_.ok()) source_error_ = status;
        }
        failed.push_back(id);
      }
      for (const auto& id : failed) RemoveSlot(id, LaneEvent::Kind::kLost, "trimmed");
    }
  }
  // Whatever was read is committed, also on a kStop mapping error (the batch holds only records
  // before the failing one); nothing after a failed commit.
  (void)Flush();
  committer_->WaitIdle();
  if (auto problem = committer_->TakeProblem(); problem && !problem->error.ok() && result.ok()) {
    result = problem->error;
  }
  committer_->Stop();
  for (auto& [id, slot] : slots_) {
    if (slot.reader) slot.reader->Stop();
  }
  sink_->Close();
  {
    std::lock_guard lock(mutex_);
    progress_.connected = false;
  }
  return result;
}

}  // namespace ddb2pg::pipeline
