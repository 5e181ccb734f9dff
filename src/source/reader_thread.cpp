#include "source/reader_thread.h"

#include <functional>

#include "core/thread_name.h"

namespace ddb2pg::source {

void ReaderThread::Start(std::string thread_name) {
  auto body = [this, name = std::move(thread_name)](const std::function<void()>& release) {
    core::SetCurrentThreadName(name);
    core::Status result = stopping_.load() ? core::Status::Ok() : Read();
    {
      std::lock_guard lock(mutex_);
      if (!stopping_.load()) status_ = std::move(result);
    }
    if (release) release();
  };
  if (slots_ == nullptr) {
    std::lock_guard lock(thread_mutex_);
    thread_ = std::thread(body, std::function<void()>());
    return;
  }
  ticket_ = slots_->Start([this, body](std::function<void()> release) {
    std::lock_guard lock(thread_mutex_);
    thread_ = std::thread(body, std::move(release));
  });
}

void ReaderThread::Stop() {
  stopping_ = true;
  // Queued: it never starts. Being started: wait until its thread exists, to join it.
  if (slots_ != nullptr && ticket_.load() != 0) slots_->Cancel(ticket_.load());
  std::lock_guard lock(thread_mutex_);
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
