// Committer: a lane's commit thread. It commits the batches its lane hands over, in order, one in
// flight while the lane maps the next, each with the advances of the partitions it covers.
//
// A lost connection is reconnected with backoff; then the stored partitions tell what happened:
// the batch's positions → it landed; the positions before it → commit again; anything else →
// commits acknowledged by a server that then crashed were lost (synchronous_commit = off): the
// lane must rewind those partitions to the stored positions (CommitProblem::rewind). The lost
// commits may cover partitions beyond the batch in flight, so every partition this committer has
// committed (and not finished) is checked against its last committed position too. A partition
// whose lease is gone → CommitProblem::lost. Either stops commits until the lane took the problem.
//
// Thread-safety: Submit/WaitIdle/TakeProblem/Stop from the lane's mapper thread; the callback
// runs on the commit thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "core/clock.h"
#include "pipeline/batch_builder.h"
#include "pipeline/metrics.h"
#include "pipeline/sink.h"

namespace ddb2pg::pipeline {

struct CommitProblem {
  std::vector<std::string> lost;                 // leases gone: drop these partitions
  std::map<std::string, std::string> rewind;     // id → stored position to read again from
  core::Status error;                            // not Ok: fatal for the lane
};

class Committer {
 public:
  // Called on the commit thread after each commit, with what the sink wrote (empty `tables` when a
  // reconnect found the batch had already landed: count the batch as built then).
  using OnCommitted = std::function<void(const BuiltBatch& batch, const CommitResult& result, double seconds)>;

  Committer(Sink& sink, const core::Clock& clock, std::chrono::milliseconds reconnect_backoff_max,
            const std::atomic<bool>& stopping, Metrics& metrics, OnCommitted on_committed);
  ~Committer();

  void Start(std::string thread_name);
  // Waits while a batch is in flight; false (batch not taken) while a problem is pending.
  bool Submit(BuiltBatch batch);
  // Waits until nothing is in flight or a problem is pending.
  void WaitIdle();
  std::optional<CommitProblem> TakeProblem();
  bool problem_pending();
  // True while the committer is reconnecting to PostgreSQL (nothing can commit).
  bool reconnecting() const { return reconnecting_.load(); }
  // When the first record of the batch in flight was read; none when nothing is in flight.
  std::optional<std::chrono::steady_clock::time_point> in_flight_first_read();
  void Stop();

 private:
  void Loop();
  // Commits one batch, reconnecting; nullopt when it landed.
  std::optional<CommitProblem> CommitNow(const BuiltBatch& flight, CommitResult* written);
  core::Status Reopen();
  // Notes the advances of a batch that landed (the commit thread's own record).
  void NoteCommitted(const std::vector<PartitionAdvance>& advances);

  Sink& sink_;
  const core::Clock& clock_;
  const std::chrono::milliseconds reconnect_backoff_max_;
  const std::atomic<bool>& stopping_;
  Metrics& metrics_;
  OnCommitted on_committed_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<BuiltBatch> in_flight_;
  std::optional<CommitProblem> problem_;
  bool stop_ = false;
  std::atomic<bool> reconnecting_{false};
  // What this committer last committed per partition, finished ones excepted: a server crash may
  // lose it while the batch in flight covers other partitions. The commit thread's alone.
  struct LastCommitted {
    std::string position;
    int64_t epoch = 0;
  };
  std::map<std::string, LastCommitted> last_committed_;
  std::thread thread_;
};

}  // namespace ddb2pg::pipeline
