#include "source/reader_thread_slots.h"

#include <algorithm>

namespace ddb2pg::source {

uint64_t ReaderThreadSlots::Start(Launch launch) {
  std::unique_lock lock(mutex_);
  const uint64_t ticket = next_ticket_++;
  if (running_ >= max_) {
    queue_.push_back({ticket, std::move(launch)});
    return ticket;
  }
  ++running_;
  launching_.insert(ticket);
  lock.unlock();
  LaunchWithSlot({ticket, std::move(launch)});
  return ticket;
}

void ReaderThreadSlots::LaunchWithSlot(Pending pending) {
  pending.launch([this] { Release(); });
  std::lock_guard lock(mutex_);
  launching_.erase(pending.ticket);
  launched_.notify_all();
}

void ReaderThreadSlots::Release() {
  std::unique_lock lock(mutex_);
  if (queue_.empty()) {
    --running_;
    return;
  }
  // The slot passes to the next start, launched from this (ending) thread.
  Pending next = std::move(queue_.front());
  queue_.pop_front();
  launching_.insert(next.ticket);
  lock.unlock();
  LaunchWithSlot(std::move(next));
}

bool ReaderThreadSlots::Cancel(uint64_t ticket) {
  std::unique_lock lock(mutex_);
  auto queued = std::find_if(queue_.begin(), queue_.end(), [&](const Pending& p) { return p.ticket == ticket; });
  if (queued != queue_.end()) {
    queue_.erase(queued);
    return true;
  }
  launched_.wait(lock, [&] { return launching_.count(ticket) == 0; });
  return false;
}

int ReaderThreadSlots::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

int ReaderThreadSlots::queued() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(queue_.size());
}

}  // namespace ddb2pg::source
