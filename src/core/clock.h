// Clock: the one way code reads time or sleeps, so tests can replace it.
//
// The SigV4 signer signs at Now(), retries sleep through SleepFor(), deadlines use Monotonic().
// Thread-safety: implementations must be safe to call from any thread.
#pragma once

#include <chrono>

namespace ddb2pg::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
  virtual std::chrono::steady_clock::time_point Monotonic() const = 0;
  virtual void SleepFor(std::chrono::nanoseconds duration) const = 0;
};

// The real clock. A process-wide instance; never destroyed.
class SystemClock final : public Clock {
 public:
  static const SystemClock& Instance();
  std::chrono::system_clock::time_point Now() const override;
  std::chrono::steady_clock::time_point Monotonic() const override;
  // Sleeps, unless StopSleeping() was called: then it returns at once (also mid-sleep).
  void SleepFor(std::chrono::nanoseconds duration) const override;

  // Process-wide, for shutdown (SIGTERM): every sleep in progress or to come returns at once, so
  // backoffs and polls end promptly; callers check their own stop flags after waking.
  static void StopSleeping();
  static void AllowSleeping();  // undoes StopSleeping (tests)
};

// Milliseconds since the Unix epoch.
inline int64_t ToEpochMillis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace ddb2pg::core
