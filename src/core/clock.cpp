#include "core/clock.h"

#include <condition_variable>
#include <mutex>

#include <thread>

namespace ddb2pg::core {

const SystemClock& SystemClock::Instance() {
  static const SystemClock* instance = new SystemClock();
  return *instance;
}

std::chrono::system_clock::time_point SystemClock::Now() const { return std::chrono::system_clock::now(); }

std::chrono::steady_clock::time_point SystemClock::Monotonic() const { return std::chrono::steady_clock::now(); }

namespace {
std::mutex g_sleep_mutex;
std::condition_variable g_sleep_wake;
bool g_sleep_stopped = false;
}  // namespace

void SystemClock::SleepFor(std::chrono::nanoseconds duration) const {
  std::unique_lock lock(g_sleep_mutex);
  g_sleep_wake.wait_for(lock, duration, [] { return g_sleep_stopped; });
}

void SystemClock::StopSleeping() {
  {
    std::lock_guard lock(g_sleep_mutex);
    g_sleep_stopped = true;
  }
  g_sleep_wake.notify_all();
}

void SystemClock::AllowSleeping() {
  std::lock_guard lock(g_sleep_mutex);
  g_sleep_stopped = false;
}

}  // namespace ddb2pg::core
