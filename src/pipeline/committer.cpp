#include "pipeline/committer.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/thread_name.h"

namespace ddb2pg::pipeline {

Committer::Committer(Sink& sink, const core::Clock& clock, std::chrono::milliseconds reconnect_backoff_max,
                     const std::atomic<bool>& stopping, Metrics& metrics, OnCommitted on_committed)
    : sink_(sink),
      clock_(clock),
      reconnect_backoff_max_(reconnect_backoff_max),
      stopping_(stopping),
      metrics_(metrics),
      on_committed_(std::move(on_committed)) {}

Committer::~Committer() { Stop(); }

void Committer::Start(std::string thread_name) {
  thread_ = std::thread([this, name = std::move(thread_name)] {
    core::SetCurrentThreadName(name);
    Loop();
  });
}

void Committer::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Committer::Submit(BuiltBatch batch) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !in_flight_ || problem_; });
  if (problem_) return false;
  in_flight_ = std::move(batch);
  lock.unlock();
  changed_.notify_all();
  return true;
}

void Committer::WaitIdle() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !in_flight_ || problem_; });
}

std::optional<std::chrono::steady_clock::time_point> Committer::in_flight_first_read() {
  std::lock_guard lock(mutex_);
  return in_flight_ ? in_flight_->first_read : std::nullopt;
}

bool Committer::problem_pending() {
  std::lock_guard lock(mutex_);
  return problem_.has_value();
}

std::optional<CommitProblem> Committer::TakeProblem() {
  std::lock_guard lock(mutex_);
  std::optional<CommitProblem> taken = std::move(problem_);
  problem_.reset();
  return taken;
}

void Committer::Loop() {
  while (true) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return (in_flight_.has_value() && !problem_) || stop_; });
    if (!in_flight_ || problem_) return;  // stopping with nothing (committable) left
    lock.unlock();
    const auto started = clock_.Monotonic();
    CommitResult written;
    std::optional<CommitProblem> problem = CommitNow(*in_flight_, &written);  // the lane leaves in_flight_ alone
    const double seconds = std::chrono::duration<double>(clock_.Monotonic() - started).count();
    if (!problem) {
      NoteCommitted(in_flight_->advances);
      on_committed_(*in_flight_, written, seconds);
    }
    lock.lock();
    in_flight_.reset();
    problem_ = std::move(problem);
    lock.unlock();
    changed_.notify_all();
  }
}

core::Status Committer::Reopen() {
  auto backoff = std::chrono::milliseconds(100);
  reconnecting_ = true;
  while (true) {
    sink_.Close();
    core::Status opened = sink_.Open();
    if (opened.ok() || !opened.retryable()) {
      reconnecting_ = false;
      return opened;
    }
    metrics_.Errors("connection").Increment();
    if (stopping_.load()) {
      reconnecting_ = false;
      return core::Status::Cancelled("stopped while reconnecting to PostgreSQL");
    }
    spdlog::warn("PostgreSQL unavailable ({}); retrying in {} ms", opened.message(), backoff.count());
    clock_.SleepFor(backoff);
    backoff = std::min(backoff * 2, reconnect_backoff_max_);
  }
}

void Committer::NoteCommitted(const std::vector<PartitionAdvance>& advances) {
  for (const auto& advance : advances) {
    if (advance.done) {
      // Finished: if a crash loses this, the partition is not done in the store and its lease
      // runs out, so a runner claims it again and reads it from the stored position.
      last_committed_.erase(advance.id);
    } else if (!advance.position.empty()) {
      last_committed_[advance.id] = {advance.position, advance.epoch};
    }
  }
}

std::optional<CommitProblem> Committer::CommitNow(const BuiltBatch& flight, CommitResult* written) {
  std::vector<std::string> ids;
  for (const auto& advance : flight.advances) ids.push_back(advance.id);
  const size_t flight_ids = ids.size();
  while (true) {
    auto committed = sink_.Commit(flight.batch, flight.advances);
    if (committed.ok()) {
      if (committed->committed()) {
        *written = std::move(committed).value();
        return std::nullopt;
      }
      metrics_.LeaseEvents("lost").Increment(static_cast<double>(committed->lost.size()));
      return CommitProblem{committed->lost, {}, core::Status::Ok()};
    }
    if (!committed.status().retryable()) {
      metrics_.Errors("commit").Increment();
      return CommitProblem{{}, {}, committed.status().WithContext("commit to PostgreSQL")};
    }
    metrics_.Errors("connection").Increment();
    spdlog::warn("commit failed ({}); reconnecting", committed.status().message());
    core::Status reopened = Reopen();
    if (!reopened.ok()) return CommitProblem{{}, {}, reopened};
    // The partitions committed before, too: the crash may have lost their commits.
    ids.resize(flight_ids);
    for (const auto& [id, last] : last_committed_) {
      if (std::find(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(flight_ids), id) ==
          ids.begin() + static_cast<std::ptrdiff_t>(flight_ids)) {
        ids.push_back(id);
      }
    }
    auto stored = sink_.ReadPositions(ids);
    if (!stored.ok()) {
      if (stored.status().retryable()) continue;
      return CommitProblem{{}, {}, stored.status()};
    }
    CommitProblem problem;
    bool landed = true, before = true;
    for (const auto& advance : flight.advances) {
      auto it = stored->find(advance.id);
      if (it == stored->end() || it->second.epoch != advance.epoch) {
        problem.lost.push_back(advance.id);
        continue;
      }
      const bool at_target = advance.done ? it->second.done
                                          : (advance.position.empty() || it->second.position == advance.position);
      const std::string& previous = flight.before.at(advance.id);
      const bool at_before = !it->second.done && it->second.position == previous;
      landed = landed && at_target;
      before = before && at_before;
      if (!at_target && !at_before) problem.rewind[advance.id] = it->second.position;
    }
    if (!problem.lost.empty()) return problem;
    // A partition outside this batch whose stored position is behind what this committer committed:
    // earlier commits were lost too.
    for (size_t i = flight_ids; i < ids.size(); ++i) {
      const auto it = stored->find(ids[i]);
      const LastCommitted& last = last_committed_.at(ids[i]);
      if (it == stored->end() || it->second.epoch != last.epoch) continue;  // not ours now: the lane learns it
      if (!it->second.done && it->second.position != last.position) problem.rewind[ids[i]] = it->second.position;
    }
    if (problem.rewind.empty()) {
      if (landed) return std::nullopt;  // it had landed before the connection dropped
      if (before) continue;             // it had not: commit again
    }
    for (const auto& [id, position] : problem.rewind) {
      spdlog::warn("partition {}: the stored position is behind this runner's (commits lost in a server crash); "
                   "reading again from the stored position",
                   id);
    }
    metrics_.LeaseEvents("rewind").Increment(static_cast<double>(problem.rewind.size()));
    // The lane reads these again from what is stored: that is now the last committed position.
    for (const auto& [id, position] : problem.rewind) {
      auto last = last_committed_.find(id);
      if (last != last_committed_.end()) last->second.position = position;
    }
    // Every partition of the batch is read again from what is stored.
    for (const auto& advance : flight.advances) {
      if (problem.rewind.count(advance.id) == 0) problem.rewind[advance.id] = stored->at(advance.id).position;
    }
    return problem;
  }
}

}  // namespace ddb2pg::pipeline
