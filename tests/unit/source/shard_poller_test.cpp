// ShardPoller: many shard readers on a fixed pool — a busy task cannot starve the others, a task
// parked on a fetch gate runs again when a slot comes free, and Remove() waits out a running step.
#include "source/shard_poller.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "core/fetch_gate.h"

namespace ddb2pg::source {
namespace {

using Next = ShardPoller::Next;

// Waits for `done` (a hang guard, not a timed assertion, ends a broken test).
template <typename Fn>
bool WaitFor(Fn done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Steps forever, always ready again at once: a shard with an endless backlog, or (not urgent) a
// quiet shard whose poll is due again at once (more quiet shards than the ceiling serves).
class BusyTask : public ShardPoller::Task {
 public:
  explicit BusyTask(bool urgent = true) : urgent_(urgent) {}
  Next Step() override {
    steps.fetch_add(1);
    return Next::Now();
  }
  bool WantsGetRecords() const override { return true; }
  bool Urgent() const override { return urgent_; }
  std::atomic<int64_t> steps{0};

 private:
  const bool urgent_;
};

// Ends after `total` steps; notes how often the busy task had run by then.
class CountingTask : public ShardPoller::Task {
 public:
  CountingTask(int total, const BusyTask& busy) : total_(total), busy_(busy) {}
  Next Step() override {
    if (++steps < total_) return Next::Now();
    busy_steps_at_end = busy_.steps.load();
    return Next::End();
  }
  bool WantsGetRecords() const override { return true; }
  std::atomic<int> steps{0};
  std::atomic<int64_t> busy_steps_at_end{-1};

 private:
  const int total_;
  const BusyTask& busy_;
};

TEST(ShardPoller, OneBusyShardOnOneThreadDoesNotStarveTheOthers) {
  ShardPoller poller(ShardPollerOptions{1, 0});
  BusyTask busy;
  uint64_t busy_id = 0;
  poller.Add(&busy, &busy_id);
  std::vector<std::unique_ptr<CountingTask>> quiet;
  std::deque<uint64_t> ids;  // stable addresses: Add writes each id in place
  for (int i = 0; i < 50; ++i) {
    quiet.push_back(std::make_unique<CountingTask>(20, busy));
    ids.push_back(0);
    poller.Add(quiet.back().get(), &ids.back());
  }
  EXPECT_TRUE(WaitFor([&] {
    for (const auto& task : quiet) {
      if (task->steps.load() < 20) return false;
    }
    return true;
  })) << "a shard with a backlog kept the only thread";
  // Round robin: each quiet task's 20 steps took about 20 turns of the busy one, not thousands.
  for (const auto& task : quiet) EXPECT_LE(task->busy_steps_at_end.load(), 2 * 20 + 2);
  for (uint64_t id : ids) poller.Remove(id);
  poller.Remove(busy_id);
  EXPECT_EQ(poller.tasks(), 0);
}

// Takes a slot of a gate for one step and keeps it until told to give it back.
class GatedTask : public ShardPoller::Task {
 public:
  GatedTask(core::FetchGate& gate, ShardPoller& poller) : gate_(gate), poller_(poller) {}
  Next Step() override {
    if (!gate_.TryAcquire([this] { return poller_.Wake(id); })) {
      parked.fetch_add(1);
      return Next::Gate();
    }
    holding = true;
    return Next::End();
  }
  bool WantsGetRecords() const override { return true; }
  uint64_t id = 0;
  std::atomic<bool> holding{false};
  std::atomic<int> parked{0};

 private:
  core::FetchGate& gate_;
  ShardPoller& poller_;
};

TEST(ShardPoller, ATaskParkedOnAFullFetchGateRunsWhenASlotIsReleased) {
  ShardPoller poller(ShardPollerOptions{2, 0});
  core::FetchGate gate(1);
  GatedTask first(gate, poller);
  poller.Add(&first, &first.id);
  ASSERT_TRUE(WaitFor([&] { return first.holding.load(); }));
  GatedTask second(gate, poller);
  poller.Add(&second, &second.id);
  ASSERT_TRUE(WaitFor([&] { return second.parked.load() > 0; }));
  EXPECT_FALSE(second.holding.load()) << "the gate had no free slot";
  gate.Release();  // the first task's page is delivered
  EXPECT_TRUE(WaitFor([&] { return second.holding.load(); })) << "the released slot woke the parked task";
  poller.Remove(first.id);
  poller.Remove(second.id);
}

TEST(ShardPoller, AReleasedSlotSkipsAWaiterThatWasRemoved) {
  ShardPoller poller(ShardPollerOptions{2, 0});
  core::FetchGate gate(1);
  GatedTask holder(gate, poller);
  poller.Add(&holder, &holder.id);
  ASSERT_TRUE(WaitFor([&] { return holder.holding.load(); }));
  GatedTask gone(gate, poller);
  poller.Add(&gone, &gone.id);
  ASSERT_TRUE(WaitFor([&] { return gone.parked.load() > 0; }));
  GatedTask waiting(gate, poller);
  poller.Add(&waiting, &waiting.id);
  ASSERT_TRUE(WaitFor([&] { return waiting.parked.load() > 0; }));
  poller.Remove(gone.id);  // its reader stopped: its waiter must pass the slot on
  gate.Release();
  EXPECT_TRUE(WaitFor([&] { return waiting.holding.load(); }));
  poller.Remove(holder.id);
  poller.Remove(waiting.id);
}

// Blocks in its step until released (an AWS call in flight), then asks for `after`.
class BlockingTask : public ShardPoller::Task {
 public:
  explicit BlockingTask(Next after = Next::Now()) : after_(after) {}
  Next Step() override {
    std::unique_lock lock(mutex);
    running = true;
    changed.notify_all();
    changed.wait(lock, [&] { return released; });
    stepped_after_release = true;
    return after_;
  }
  bool WantsGetRecords() const override { return false; }
  void WaitUntilRunning() {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return running; });
  }
  void Release() {
    {
      std::lock_guard lock(mutex);
      released = true;
    }
    changed.notify_all();
  }
  std::mutex mutex;
  std::condition_variable changed;
  bool running = false;
  bool released = false;
  bool stepped_after_release = false;
  uint64_t id = 0;

 private:
  const Next after_;
};

TEST(ShardPoller, RemoveWaitsForTheStepInProgress) {
  ShardPoller poller(ShardPollerOptions{2, 0});
  BlockingTask task;
  poller.Add(&task, &task.id);
  task.WaitUntilRunning();
  bool stepped_when_removed = false;
  std::thread remover([&] {
    poller.Remove(task.id);
    std::lock_guard lock(task.mutex);
    stepped_when_removed = task.stepped_after_release;
  });
  task.Release();
  remover.join();
  EXPECT_TRUE(stepped_when_removed) << "Remove returned only after the step ended";
}

// One step, noted in a shared order; a quiet poll or a shard with a backlog.
class NotedTask : public ShardPoller::Task {
 public:
  NotedTask(std::string name, bool urgent, std::vector<std::string>& order, std::mutex& mutex)
      : name_(std::move(name)), urgent_(urgent), order_(order), mutex_(mutex) {}
  Next Step() override {
    std::lock_guard lock(mutex_);
    order_.push_back(name_);
    ran = true;
    return Next::End();
  }
  bool WantsGetRecords() const override { return false; }
  bool Urgent() const override { return urgent_; }
  std::atomic<bool> ran{false};
  uint64_t id = 0;

 private:
  const std::string name_;
  const bool urgent_;
  std::vector<std::string>& order_;
  std::mutex& mutex_;
};

TEST(ShardPoller, ShardsWithABacklogRunBeforeQuietPolls) {
  ShardPoller poller(ShardPollerOptions{1, 0, 60000});
  BlockingTask keeper(Next::End());  // holds the only thread while the others become ready
  poller.Add(&keeper, &keeper.id);
  keeper.WaitUntilRunning();
  std::vector<std::string> order;
  std::mutex mutex;
  NotedTask quiet1("quiet-1", false, order, mutex), backlog1("backlog-1", true, order, mutex),
      quiet2("quiet-2", false, order, mutex), backlog2("backlog-2", true, order, mutex);
  for (NotedTask* task : {&quiet1, &backlog1, &quiet2, &backlog2}) poller.Add(task, &task->id);
  keeper.Release();
  ASSERT_TRUE(WaitFor([&] { return quiet1.ran.load() && quiet2.ran.load() && backlog1.ran.load() && backlog2.ran.load(); }));
  EXPECT_EQ(order, (std::vector<std::string>{"backlog-1", "backlog-2", "quiet-1", "quiet-2"}));
  for (NotedTask* task : {&quiet1, &backlog1, &quiet2, &backlog2}) poller.Remove(task->id);
  poller.Remove(keeper.id);
}

TEST(ShardPoller, ABusyShardDelaysAQuietPollByItsPatienceNotForEver) {
  std::vector<std::string> order;
  std::mutex mutex;
  {
    // A patience longer than the test: the busy shard keeps the only thread to itself.
    ShardPoller poller(ShardPollerOptions{1, 0, 600000});
    BusyTask busy;
    uint64_t busy_id = 0;
    poller.Add(&busy, &busy_id);
    NotedTask quiet("quiet", false, order, mutex);
    poller.Add(&quiet, &quiet.id);
    const int64_t from = busy.steps.load();
    ASSERT_TRUE(WaitFor([&] { return busy.steps.load() > from + 2000; }));
    EXPECT_FALSE(quiet.ran.load()) << "a quiet poll ran while a backlog was ready and its patience had not run out";
    poller.Remove(quiet.id);
    poller.Remove(busy_id);
  }
  {
    ShardPoller poller(ShardPollerOptions{1, 0, 20});
    BusyTask busy;
    uint64_t busy_id = 0;
    poller.Add(&busy, &busy_id);
    NotedTask quiet("quiet", false, order, mutex);
    poller.Add(&quiet, &quiet.id);
    EXPECT_TRUE(WaitFor([&] { return quiet.ran.load(); })) << "the quiet poll waited past its patience";
    poller.Remove(quiet.id);
    poller.Remove(busy_id);
  }
}

TEST(ShardPoller, WhenEveryQuietPollIsPastItsPatienceTheBacklogStillGetsTurns) {
  ShardPoller poller(ShardPollerOptions{1, 0, 0});  // every quiet poll is past its patience at once
  BusyTask busy;
  BusyTask quiet(/*urgent=*/false);
  uint64_t busy_id = 0, quiet_id = 0;
  poller.Add(&quiet, &quiet_id);
  poller.Add(&busy, &busy_id);
  ASSERT_TRUE(WaitFor([&] { return quiet.steps.load() > 1000 && busy.steps.load() > 1000; }))
      << "quiet " << quiet.steps.load() << ", busy " << busy.steps.load() << ": one kind starved the other";
  poller.Remove(quiet_id);
  poller.Remove(busy_id);
}

}  // namespace
}  // namespace ddb2pg::source
