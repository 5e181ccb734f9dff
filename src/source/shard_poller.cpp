#include "source/shard_poller.h"

#include <algorithm>

#include "core/thread_name.h"

namespace ddb2pg::source {

ShardPoller::ShardPoller(ShardPollerOptions options, const core::Clock& clock)
    : options_(options), clock_(clock), budget_(options.max_get_records_per_second) {}

ShardPoller::~ShardPoller() {
  {
    std::lock_guard lock(mutex_);
    shutdown_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void ShardPoller::StartThreadsLocked() {
  // Started on first use: a runner that reads no stream (or a test source) costs no thread.
  if (!threads_.empty()) return;
  const int count = std::max(1, options_.threads);
  for (int i = 0; i < count; ++i) {
    threads_.emplace_back([this, i] {
      core::SetCurrentThreadName("shards-" + std::to_string(i));
      Work();
    });
  }
}

void ShardPoller::MakeReadyLocked(uint64_t id, Entry& entry, TimePoint now) {
  entry.state = State::kReady;
  if (entry.task->Urgent()) {
    ready_.push_back(id);
  } else {
    idle_ready_.emplace_back(id, now);
  }
}

uint64_t ShardPoller::TakeReadyLocked(TimePoint now) {
  const auto live = [&](uint64_t id) {
    auto found = entries_.find(id);
    return found != entries_.end() && found->second.state == State::kReady;
  };
  // Stale ids (removed tasks) are skipped: ids are never reused.
  while (!idle_ready_.empty() && !live(idle_ready_.front().first)) idle_ready_.pop_front();
  while (!ready_.empty() && !live(ready_.front())) ready_.pop_front();
  // A quiet poll past its patience goes first, but never twice in a row while a backlog waits:
  // with more quiet shards than the GetRecords ceiling serves each second, every quiet poll is
  // past its patience, and the backlogs would otherwise never run.
  const bool idle_aged = !idle_ready_.empty() && now - idle_ready_.front().second >=
                                                     std::chrono::milliseconds(options_.idle_patience_ms);
  const bool take_idle = !idle_ready_.empty() && (ready_.empty() || (idle_aged && !aged_idle_went_last_));
  aged_idle_went_last_ = take_idle && !ready_.empty();
  uint64_t id = 0;
  if (take_idle) {
    id = idle_ready_.front().first;
    idle_ready_.pop_front();
  } else if (!ready_.empty()) {
    id = ready_.front();
    ready_.pop_front();
  }
  return id;
}

void ShardPoller::Add(Task* task, uint64_t* id) {
  std::lock_guard lock(mutex_);
  StartThreadsLocked();
  *id = next_id_++;
  Entry& entry = entries_[*id];
  entry.task = task;
  MakeReadyLocked(*id, entry, clock_.Monotonic());
  wake_.notify_one();
}

void ShardPoller::Remove(uint64_t id) {
  std::unique_lock lock(mutex_);
  auto found = entries_.find(id);
  if (found == entries_.end()) return;
  if (found->second.state == State::kRunning) {
    // The worker erases it once the step ends (a busy task would otherwise be picked again
    // before this thread got the lock back).
    found->second.removing = true;
    finished_.wait(lock, [&] { return entries_.find(id) == entries_.end(); });
    return;
  }
  if (found->second.state == State::kTimed) timed_.erase(found->second.timed);
  // A stale id left in ready_ is skipped by the workers (ids are never reused).
  entries_.erase(found);
}

bool ShardPoller::Wake(uint64_t id) {
  std::lock_guard lock(mutex_);
  auto found = entries_.find(id);
  if (found == entries_.end()) return false;
  Entry& entry = found->second;
  switch (entry.state) {
    case State::kParked:
      MakeReadyLocked(id, entry, clock_.Monotonic());
      wake_.notify_one();
      return true;
    case State::kRunning:
      entry.woken = true;
      return true;
    case State::kEnded:
      return false;
    case State::kReady:
    case State::kTimed:
      return true;  // it will try the gate again anyway
  }
  return false;
}

int ShardPoller::tasks() const {
  std::lock_guard lock(mutex_);
  int live = 0;
  for (const auto& [id, entry] : entries_) live += entry.state != State::kEnded ? 1 : 0;
  return live;
}

void ShardPoller::Work() {
  std::unique_lock lock(mutex_);
  while (!shutdown_) {
    const TimePoint now = clock_.Monotonic();
    while (!timed_.empty() && timed_.begin()->first <= now) {
      const uint64_t id = timed_.begin()->second;
      timed_.erase(timed_.begin());
      MakeReadyLocked(id, entries_[id], now);
    }
    const uint64_t id = TakeReadyLocked(now);
    if (id == 0) {
      // One idle worker watches the earliest time; the others sleep until woken. (All of them
      // waking at every due time cost more than the polls themselves at 1,000 shards.)
      const TimePoint due = timed_.empty() ? TimePoint::max() : timed_.begin()->first;
      if (timer_deadline_ <= due) {
        wake_.wait(lock);
      } else {
        timer_deadline_ = due;
        wake_.wait_until(lock, due);
        if (timer_deadline_ == due) timer_deadline_ = TimePoint::max();
      }
      continue;
    }
    // Due tasks left over, or a time nobody watches while this worker steps: wake one more idle
    // worker (each passes the word on).
    if (AnyReadyLocked() || (!timed_.empty() && timed_.begin()->first < timer_deadline_)) wake_.notify_one();
    Entry* entry = &entries_[id];
    entry->state = State::kRunning;
    entry->woken = false;
    Task* task = entry->task;
    const bool wants_get_records = task->WantsGetRecords();
    lock.unlock();
    if (wants_get_records) {
      // The runner's ceiling: the wait is this thread's, so the pool as a whole keeps to it.
      auto wait = budget_.Reserve(1, clock_.Monotonic());
      while (wait.count() > 0) {
        const auto step = std::min<std::chrono::nanoseconds>(wait, std::chrono::milliseconds(20));
        std::this_thread::sleep_for(step);
        wait -= step;
        std::lock_guard check(mutex_);
        if (shutdown_) break;
      }
    }
    const Next next = task->Step();
    lock.lock();
    entry = &entries_[id];  // Remove() waits for kRunning to end, so the entry is still there
    if (entry->removing) {
      entries_.erase(id);
      finished_.notify_all();
      continue;
    }
    switch (next.kind) {
      case Next::Kind::kNow:
        MakeReadyLocked(id, *entry, clock_.Monotonic());
        break;
      case Next::Kind::kAt:
        entry->state = State::kTimed;
        entry->timed = timed_.emplace(next.at, id);
        break;
      case Next::Kind::kGate:
        if (entry->woken) {
          MakeReadyLocked(id, *entry, clock_.Monotonic());
        } else {
          entry->state = State::kParked;
        }
        break;
      case Next::Kind::kEnd:
        entry->state = State::kEnded;
        break;
    }
  }
}

}  // namespace ddb2pg::source
