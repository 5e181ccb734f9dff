// FetchGate: at most N slots are held at once; a cancelled wait takes none.
#include "core/fetch_gate.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ddb2pg::core
