// A clock that stands at one instant, so that now() and SigV4 dates make inputs reproducible.
#pragma once

#include <chrono>

#include "core/clock.h"

namespace ddb2pg::fuzz {

class FixedClock final : public core::Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1440938160));  // 2015-08-30T12:36:00Z
  }
  std::chrono::steady_clock::time_point Monotonic() const override { return {}; }
  void SleepFor(std::chrono::nanoseconds) const override {}
};

}  // namespace ddb2pg::fuzz
