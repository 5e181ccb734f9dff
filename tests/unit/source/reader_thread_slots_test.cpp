// ReaderThreadSlots with real threads: never more than `max` running, the first `max` started at
// once and the rest as others end, a queued start taken back never runs, and every start runs once.
#include "source/reader_thread_slots.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <thread>
#include <vector>

namespace ddb2pg::source {
namespace {

// A gate the test opens: work started on the slots waits on it.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool open = false;
  void Wait() {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return open; });
  }
  void Open() {
    std::lock_guard lock(mutex);
    open = true;
    changed.notify_all();
  }
};

TEST(ReaderThreadSlots, AtMostMaxRunAndTheRestStartAsOthersEnd) {
  ReaderThreadSlots slots(3);
  Gate gate;
  std::atomic<int> running{0}, most{0}, finished{0};
  std::mutex order_mutex;
  std::vector<int> order;
  std::vector<std::thread> threads(10);
  std::mutex threads_mutex;
  for (int i = 0; i < 10; ++i) {
    slots.Start([&, i](std::function<void()> release) {
      {
        std::lock_guard order_lock(order_mutex);
        order.push_back(i);
      }
      std::lock_guard lock(threads_mutex);
      threads[static_cast<size_t>(i)] = std::thread([&, release] {
        const int now = ++running;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        gate.Wait();
        --running;
        ++finished;
        release();
      });
    });
  }
  EXPECT_EQ(slots.running(), 3);
  EXPECT_EQ(slots.queued(), 7);
  {
    std::lock_guard order_lock(order_mutex);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));  // the others wait for a slot
  }
  gate.Open();
  for (int i = 0; i < 10; ++i) {
    // Started by an ending thread, possibly after this loop reached it: wait for it to exist.
    for (;;) {
      std::thread thread;
      {
        std::lock_guard lock(threads_mutex);
        if (threads[static_cast<size_t>(i)].joinable()) thread = std::move(threads[static_cast<size_t>(i)]);
      }
      if (thread.joinable()) {
        thread.join();
        break;
      }
      std::this_thread::yield();
    }
  }
  EXPECT_EQ(finished.load(), 10);
  EXPECT_LE(most.load(), 3);
  EXPECT_EQ(slots.running(), 0);
  std::sort(order.begin(), order.end());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));  // each started once
}

TEST(ReaderThreadSlots, AQueuedStartTakenBackNeverRuns) {
  ReaderThreadSlots slots(1);
  Gate gate;
  std::thread first;
  slots.Start([&](std::function<void()> release) {
    first = std::thread([&, release] {
      gate.Wait();
      release();
    });
  });
  std::atomic<bool> ran{false};
  const uint64_t second = slots.Start([&](std::function<void()> release) {
    ran = true;
    release();
  });
  EXPECT_EQ(slots.queued(), 1);
  EXPECT_TRUE(slots.Cancel(second));
  EXPECT_EQ(slots.queued(), 0);
  gate.Open();
  first.join();
  EXPECT_FALSE(ran.load());
  EXPECT_EQ(slots.running(), 0);
}

}  // namespace
}  // namespace ddb2pg::source
