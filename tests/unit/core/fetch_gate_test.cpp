// FetchGate: at most N slots are held at once; a cancelled wait takes none.
#include "core/fetch_gate.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace ddb2pg::core {
namespace {

TEST(FetchGate, NeverMoreThanItsSlotsAtOnce) {
  FetchGate gate(2);
  std::atomic<bool> never{false};
  std::atomic<int> inside{0}, most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        FetchGate::Slot slot(&gate, never);
        ASSERT_TRUE(slot.held());
        const int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        --inside;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(most.load(), 2);
  EXPECT_GE(most.load(), 1);
}

TEST(FetchGate, ACancelledWaitTakesNoSlotAndAnEarlyReleaseFreesOne) {
  FetchGate gate(1);
  std::atomic<bool> never{false}, cancelled{true};
  FetchGate::Slot first(&gate, never);
  ASSERT_TRUE(first.held());
  FetchGate::Slot second(&gate, cancelled);  // would wait forever: cancelled instead
  EXPECT_FALSE(second.held());
  first.Release();
  FetchGate::Slot third(&gate, never);
  EXPECT_TRUE(third.held());
  FetchGate::Slot unbounded(nullptr, never);
  EXPECT_TRUE(unbounded.held()) << "no gate: no bound";
}

// Each waiter notes its turn and declines the slot, so one Release shows the whole order.
std::function<bool()> Note(std::vector<std::string>& order, std::string name) {
  return [&order, name] {
    order.push_back(name);
    return false;
  };
}

TEST(FetchGate, AFreedSlotGoesToReadersWithABacklogBeforeIdlePolls) {
  FetchGate gate(1, std::chrono::hours(1));
  ASSERT_TRUE(gate.TryAcquire([] { return true; }));
  std::vector<std::string> order;
  EXPECT_FALSE(gate.TryAcquire(Note(order, "idle-1"), false));
  EXPECT_FALSE(gate.TryAcquire(Note(order, "backlog-1"), true));
  EXPECT_FALSE(gate.TryAcquire(Note(order, "idle-2"), false));
  EXPECT_FALSE(gate.TryAcquire(Note(order, "backlog-2"), true));
  gate.Release();
  EXPECT_EQ(order, (std::vector<std::string>{"backlog-1", "backlog-2", "idle-1", "idle-2"}));
}

TEST(FetchGate, AnIdlePollThatWaitedItsPatienceGoesFirst) {
  FetchGate gate(1, std::chrono::milliseconds(0));  // every idle waiter has waited long enough
  ASSERT_TRUE(gate.TryAcquire([] { return true; }));
  std::vector<std::string> order;
  EXPECT_FALSE(gate.TryAcquire(Note(order, "backlog-1"), true));
  EXPECT_FALSE(gate.TryAcquire(Note(order, "idle-1"), false));
  EXPECT_FALSE(gate.TryAcquire(Note(order, "backlog-2"), true));
  gate.Release();
  EXPECT_EQ(order, (std::vector<std::string>{"idle-1", "backlog-1", "backlog-2"}));
}

TEST(FetchGate, WhenEveryIdlePollIsPastItsPatienceIdleAndUrgentWaitersTakeTurns) {
  FetchGate gate(1, std::chrono::milliseconds(0));
  ASSERT_TRUE(gate.TryAcquire([] { return true; }));
  std::vector<std::string> order;
  for (const char* name : {"idle-1", "idle-2", "idle-3"}) EXPECT_FALSE(gate.TryAcquire(Note(order, name), false));
  for (const char* name : {"backlog-1", "backlog-2"}) EXPECT_FALSE(gate.TryAcquire(Note(order, name), true));
  gate.Release();
  EXPECT_EQ(order, (std::vector<std::string>{"idle-1", "backlog-1", "idle-2", "backlog-2", "idle-3"}))
      << "the backlogs starve behind idle waiters that are all past their patience";
}

}  // namespace
}  // namespace ddb2pg::core
