#include "core/clock.h"

#include <thread>

namespace ddb2pg::core {

const SystemClock& SystemClock::Instance() {
  static const SystemClock* instance = new SystemClock();
  return *instance;
}

std::chrono::system_clock::time_point SystemClock::Now() const { return std::chrono::system_clock::now(); }

std::chrono::steady_clock::time_point SystemClock::Monotonic() const { return std::chrono::steady_clock::now(); }

void SystemClock::SleepFor(std::chrono::nanoseconds duration) const { std::this_thread::sleep_for(duration); }

}  // namespace ddb2pg::core
