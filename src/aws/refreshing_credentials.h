// RefreshingCredentials: the credentials every AWS client signs with, kept fresh.
//
// Holds the current credentials as an immutable snapshot (shared_ptr<const Credentials>); a
// reader takes the snapshot under a short lock and never waits for the network while it is
// valid. Temporary credentials are refreshed by a background thread `refresh_ahead` (5 minutes,
// as the SDKs do) before they expire; when the credentials live shorter than that, at half of
// their remaining life. A failed background refresh is logged (provider and reason, never a
// secret) and retried after `retry_after_failure`, keeping the old credentials meanwhile. Only
// when the snapshot has already expired does Current() fetch synchronously.
//
// A request refused with ExpiredTokenException / UnrecognizedClientException calls
// RefreshAfterRejection(snapshot): the first caller fetches new credentials, callers holding the
// same stale snapshot get the new one without a second fetch.
//
// Ownership: owns the provider and the refresh thread; the destructor stops and joins it. `clock`
// must outlive the holder.
// Thread-safety: every method is safe from many threads at once; fetches are serialized.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "aws/credential_provider.h"
#include "core/clock.h"

namespace ddb2pg::aws {

struct RefreshOptions {
  std::chrono::seconds refresh_ahead{300};       // refresh this long before expiry
  std::chrono::seconds retry_after_failure{10};  // wait after a failed background refresh
  bool background = true;                        // false: refresh only lazily, in Current()
};

class RefreshingCredentials {
 public:
  // Credentials that never change (explicit keys); no thread, no provider.
  static std::shared_ptr<RefreshingCredentials> Static(Credentials credentials);
  // Fetches the first credentials now (their error is returned as is) and, when they expire,
  // starts the refresh thread.
  static core::Result<std::shared_ptr<RefreshingCredentials>> Start(std::unique_ptr<CredentialProvider> provider,
                                                                    const core::Clock& clock,
                                                                    RefreshOptions options = {});
  ~RefreshingCredentials();
  RefreshingCredentials(const RefreshingCredentials&) = delete;
  RefreshingCredentials& operator=(const RefreshingCredentials&) = delete;

  // The credentials to sign with now.
  std::shared_ptr<const Credentials> Current();
  // New credentials after AWS refused `rejected`; an error when the provider fails or cannot
  // refresh (static credentials: FailedPrecondition-like InvalidArgument).
  core::Result<std::shared_ptr<const Credentials>> RefreshAfterRejection(
      const std::shared_ptr<const Credentials>& rejected);

  // Whether a provider can supply new credentials (false for Static()).
  bool refreshable() const { return provider_ != nullptr; }
  // How many times credentials were replaced after the first fetch.
  uint64_t refresh_count() const { return refresh_count_.load(); }
  // The provider that supplied them, e.g. "instance metadata (http://169.254.169.254, role r)".
  std::string provider_name() const;

 private:
  RefreshingCredentials(std::unique_ptr<CredentialProvider> provider, const core::Clock* clock, RefreshOptions options);
  core::Status FetchAndStore(const Credentials* only_if_current);
  void Schedule(const Credentials& credentials);  // sets refresh_at_; mutex_ held
  void RefreshLoop();

  std::unique_ptr<CredentialProvider> provider_;
  const core::Clock* clock_;
  RefreshOptions options_;

  std::mutex fetch_mutex_;  // one Fetch() at a time; taken before mutex_
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<const Credentials> current_;                           // guarded by mutex_
  std::optional<std::chrono::system_clock::time_point> refresh_at_;      // guarded by mutex_
  bool stop_ = false;                                                     // guarded by mutex_
  std::string provider_name_;                                             // guarded by mutex_
  std::atomic<uint64_t> refresh_count_{0};
  std::thread thread_;
};

}  // namespace ddb2pg::aws
