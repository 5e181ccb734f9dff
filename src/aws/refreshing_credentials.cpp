#include "aws/refreshing_credentials.h"

#include <spdlog/spdlog.h>

#include "aws/credential_parsing.h"

namespace ddb2pg::aws {

std::shared_ptr<RefreshingCredentials> RefreshingCredentials::Static(Credentials credentials) {
  std::shared_ptr<RefreshingCredentials> holder(
      new RefreshingCredentials(nullptr, &core::SystemClock::Instance(), RefreshOptions{}));
  holder->provider_name_ = credentials.source;
  holder->current_ = std::make_shared<const Credentials>(std::move(credentials));
  return holder;
}

core::Result<std::shared_ptr<RefreshingCredentials>> RefreshingCredentials::Start(
    std::unique_ptr<CredentialProvider> provider, const core::Clock& clock, RefreshOptions options) {
  std::shared_ptr<RefreshingCredentials> holder(new RefreshingCredentials(std::move(provider), &clock, options));
  if (core::Status status = holder->FetchAndStore(nullptr); !status.ok()) return status;
  holder->refresh_count_ = 0;
  bool expires = false;
  {
    std::lock_guard lock(holder->mutex_);
    expires = holder->current_->expiration.has_value();
  }
  if (expires && options.background) holder->thread_ = std::thread([raw = holder.get()] { raw->RefreshLoop(); });
  return holder;
}

RefreshingCredentials::RefreshingCredentials(std::unique_ptr<CredentialProvider> provider, const core::Clock* clock,
                                             RefreshOptions options)
    : provider_(std::move(provider)), clock_(clock), options_(options) {}

RefreshingCredentials::~RefreshingCredentials() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string RefreshingCredentials::provider_name() const {
  std::lock_guard lock(mutex_);
  return provider_name_;
}

void RefreshingCredentials::Schedule(const Credentials& credentials) {
  if (!credentials.expiration) {
    refresh_at_.reset();
    return;
  }
  const auto now = clock_->Now();
  const auto expiration = *credentials.expiration;
  auto at = expiration - options_.refresh_ahead;
  if (at <= now) at = expiration > now ? now + (expiration - now) / 2 : now;
  refresh_at_ = at;
}

core::Status RefreshingCredentials::FetchAndStore(const Credentials* only_if_current) {
  std::lock_guard fetching(fetch_mutex_);
  if (only_if_current != nullptr) {
    std::lock_guard lock(mutex_);
    if (current_.get() != only_if_current) return core::Status::Ok();  // someone refreshed meanwhile
  }
  core::Result<Credentials> fetched = provider_->Fetch();
  if (!fetched.ok()) return fetched.status();
  const bool first = current_ == nullptr;
  {
    std::lock_guard lock(mutex_);
    provider_name_ = provider_->Name();
    if (fetched->source.empty()) fetched->source = provider_name_;
    Schedule(*fetched);
    current_ = std::make_shared<const Credentials>(std::move(fetched).value());
    if (!first) ++refresh_count_;
    // At start-up too: "does it pick up the role?" is the first question of a deployment.
    spdlog::info("AWS credentials {}: {}{}",
                first ? "resolved" : "refreshed", current_->Describe(),
                current_->expiration ? ", expire " + FormatIso8601(*current_->expiration) : std::string());
  }
  wake_.notify_all();
  return core::Status::Ok();
}

std::shared_ptr<const Credentials> RefreshingCredentials::Current() {
  std::shared_ptr<const Credentials> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot = current_;
    if (provider_ == nullptr || !refresh_at_) return snapshot;
    const auto now = clock_->Now();
    if (now < *refresh_at_) return snapshot;
    const bool expired = snapshot->expiration && now >= *snapshot->expiration;
    if (!expired && options_.background) {
      wake_.notify_all();  // due: the thread refreshes while callers sign with these
      return snapshot;
    }
  }
  // Expired (the background refresh failed or is late), or lazy mode and due: fetch here.
  core::Status status = FetchAndStore(snapshot.get());
  std::lock_guard lock(mutex_);
  if (!status.ok()) {
    spdlog::warn("AWS credentials from {} could not be refreshed: {}", provider_name_, status.ToString());
    refresh_at_ = clock_->Now() + options_.retry_after_failure;
  }
  return current_;
}

core::Result<std::shared_ptr<const Credentials>> RefreshingCredentials::RefreshAfterRejection(
    const std::shared_ptr<const Credentials>& rejected) {
  if (provider_ == nullptr) {
    return core::Status(core::StatusCode::kPermissionDenied,
                        "the credentials from " + provider_name() + " were refused and cannot be refreshed");
  }
  if (core::Status status = FetchAndStore(rejected.get()); !status.ok()) return status;
  std::lock_guard lock(mutex_);
  return current_;
}

void RefreshingCredentials::RefreshLoop() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    if (!refresh_at_) {
      wake_.wait(lock, [&] { return stop_ || refresh_at_.has_value(); });
      continue;
    }
    const auto now = clock_->Now();
    if (now < *refresh_at_) {
      // Waits in real time but re-reads the (possibly fake) clock at least once a second, and
      // whenever Current() sees the credentials are due.
      const auto wait = std::min<std::chrono::system_clock::duration>(*refresh_at_ - now, std::chrono::seconds(1));
      wake_.wait_for(lock, wait);
      continue;
    }
    const Credentials* due = current_.get();
    lock.unlock();
    core::Status status = FetchAndStore(due);
    lock.lock();
    if (!status.ok()) {
      spdlog::warn("AWS credentials from {} could not be refreshed (retrying in {} s): {}", provider_name_,
                   options_.retry_after_failure.count(), status.ToString());
      refresh_at_ = clock_->Now() + options_.retry_after_failure;
    }
  }
}

}  // namespace ddb2pg::aws
