#include "source/reader_thread.h"

#include "core/thread_name.h"

namespace ddb2pg::source {

void ReaderThread::Start(std::string thread_name) {
  thread_ = std::thread([this, name = std::move(thread_name)] {
    core::SetCurrentThreadName(name);
    core::Status result = Read();
    std::lock_guard lock(mutex_);
    if (!stopping_.load()) status_ = std::move(result);
  });
}

void ReaderThread::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

core::Status ReaderThread::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

bool ReaderThread::Push(core::Record record) {
  record.reader_tag = tag_;
  return out_->PushUnless(std::move(record), stopping_);
}

void ReaderThread::SleepUnlessStopping(std::chrono::nanoseconds duration) const {
  constexpr std::chrono::nanoseconds kStep = std::chrono::milliseconds(20);
  while (duration.count() > 0 && !stopping_.load()) {
    const auto step = std::min(duration, kStep);
    clock_.SleepFor(step);
    duration -= step;
  }
}

}  // namespace ddb2pg::source
