// RefreshingCredentials with a scripted provider (no network): when it refreshes, that readers
// keep the old snapshot while a refresh is in flight, that a rejection refreshes once for many
// callers; and the parsers the providers share (ISO-8601, credential JSON, STS XML, SHA-1 names).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "aws/credential_chain.h"
#include "aws/credential_parsing.h"
#include "aws/refreshing_credentials.h"

namespace ddb2pg::aws {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ManualClock final : public core::Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }
  std::chrono::steady_clock::time_point Monotonic() const override { return std::chrono::steady_clock::now(); }
  void SleepFor(std::chrono::nanoseconds) const override {}
  void Advance(std::chrono::seconds by) {
    std::lock_guard lock(mutex_);
    now_ += by;
  }

 private:
  mutable std::mutex mutex_;
  std::chrono::system_clock::time_point now_ = std::chrono::sys_days(std::chrono::year(2026) / 11 / 28);
};

// Hands out KEY1, KEY2, ... each valid for `lifetime` from the clock's now; can be made to block
// (a slow endpoint) or fail.
class ScriptedProvider final : public CredentialProvider {
 public:
  ScriptedProvider(const core::Clock& clock, std::chrono::seconds lifetime) : clock_(clock), lifetime_(lifetime) {}
  core::Result<Credentials> Fetch() override {
    std::unique_lock lock(mutex_);
    ++calls_;
    blocked_.notify_all();
    released_.wait(lock, [&] { return !block_; });
    if (fail_) return core::Status::Unavailable("scripted: endpoint down");
    Credentials credentials{"KEY" + std::to_string(++issued_), "secret", "token", "scripted", {}, {}};
    credentials.expiration = clock_.Now() + lifetime_;
    return credentials;
  }
  std::string Name() const override { return "scripted"; }
  void Block(bool block) {
    std::lock_guard lock(mutex_);
    block_ = block;
    released_.notify_all();
  }
  void Fail(bool fail) {
    std::lock_guard lock(mutex_);
    fail_ = fail;
  }
  int calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  void WaitForCalls(int count) {
    std::unique_lock lock(mutex_);
    blocked_.wait(lock, [&] { return calls_ >= count; });
  }

 private:
  const core::Clock& clock_;
  std::chrono::seconds lifetime_;
  std::mutex mutex_;
  std::condition_variable released_, blocked_;
  bool block_ = false;
  bool fail_ = false;
  int calls_ = 0;
  int issued_ = 0;
};

TEST(RefreshingCredentials, BackgroundRefreshFiveMinutesAheadWithoutStallingReaders) {
  ManualClock clock;
  auto provider = std::make_unique<ScriptedProvider>(clock, std::chrono::hours(1));
  ScriptedProvider* script = provider.get();
  auto holder = RefreshingCredentials::Start(std::move(provider), clock);
  ASSERT_TRUE(holder.ok()) << holder.status().ToString();
  EXPECT_EQ((*holder)->Current()->access_key_id, "KEY1");
  EXPECT_EQ((*holder)->provider_name(), "scripted");
  clock.Advance(std::chrono::minutes(54));  // 6 min left: not due
  EXPECT_EQ((*holder)->Current()->access_key_id, "KEY1");
  EXPECT_EQ(script->calls(), 1);

  script->Block(true);                     // the refresh endpoint hangs
  clock.Advance(std::chrono::minutes(2));  // 4 min left: due
  EXPECT_EQ((*holder)->Current()->access_key_id, "KEY1");  // wakes the thread, returns at once
  script->WaitForCalls(2);
  for (int i = 0; i < 100; ++i) EXPECT_EQ((*holder)->Current()->access_key_id, "KEY1");  // never blocks
  script->Block(false);
  std::string key = "KEY1";
  for (int i = 0; i < 500 && key == "KEY1"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    key = (*holder)->Current()->access_key_id;
  }
  EXPECT_EQ(key, "KEY2");
  EXPECT_EQ((*holder)->refresh_count(), 1u);
}

TEST(RefreshingCredentials, FailedRefreshKeepsTheOldCredentialsUntilTheyExpire) {
  ManualClock clock;
  auto provider = std::make_unique<ScriptedProvider>(clock, std::chrono::hours(1));
  ScriptedProvider* script = provider.get();
  RefreshOptions options;
  options.background = false;
  auto holder = RefreshingCredentials::Start(std::move(provider), clock, options);
  ASSERT_TRUE(holder.ok());
  script->Fail(true);
  clock.Advance(std::chrono::minutes(56));
  EXPECT_EQ((*holder)->Current()->access_key_id, "KEY1");  // tried, failed, kept
  EXPECT_EQ(script->calls(), 2);
  EXPECT_EQ((*holder)->Current()->access_key_id, "KEY1");  // not again before retry_after_failure
  EXPECT_EQ(script->calls(), 2);
  script->Fail(false);
  clock.Advance(std::chrono::seconds(11));
  EXPECT_EQ((*holder)->Current()->access_key_id, "KEY2");
}

TEST(RefreshingCredentials, RejectionRefreshesOnceForAllHoldersOfTheStaleSnapshot) {
  ManualClock clock;
  auto provider = std::make_unique<ScriptedProvider>(clock, std::chrono::hours(1));
  ScriptedProvider* script = provider.get();
  auto holder = RefreshingCredentials::Start(std::move(provider), clock);
  ASSERT_TRUE(holder.ok());
  auto stale = (*holder)->Current();
  std::vector<std::thread> threads;
  std::atomic<int> new_keys{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto fresh = (*holder)->RefreshAfterRejection(stale);
      if (fresh.ok() && (*fresh)->access_key_id == "KEY2") ++new_keys;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(new_keys.load(), 8);
  EXPECT_EQ(script->calls(), 2);  // the first fetch and one refresh

  auto fixed = RefreshingCredentials::Static(Credentials{"AKIA", "s", "", "config", {}, {}});
  EXPECT_FALSE(fixed->refreshable());
  auto refused = fixed->RefreshAfterRejection(fixed->Current());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), core::StatusCode::kPermissionDenied);
}

TEST(CredentialChainUnit, NotFoundLinksAreListedOtherErrorsStopAndTheWinnerIsKept) {
  ManualClock clock;
  struct Missing final : CredentialProvider {
    explicit Missing(std::string why) : why_(std::move(why)) {}
    core::Result<Credentials> Fetch() override { return core::Status::NotFound(why_); }
    std::string Name() const override { return "missing"; }
    std::string why_;
  };
  std::vector<std::unique_ptr<CredentialProvider>> links;
  links.push_back(std::make_unique<Missing>("no A"));
  links.push_back(std::make_unique<Missing>("no B"));
  CredentialChain empty(std::move(links), {"not in the configuration"}, " (suffix)");
  auto none = empty.Fetch();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), "no AWS credentials: not in the configuration, no A, no B (suffix)");

  links.clear();
  links.push_back(std::make_unique<Missing>("no A"));
  auto scripted = std::make_unique<ScriptedProvider>(clock, std::chrono::hours(1));
  links.push_back(std::move(scripted));
  CredentialChain chain(std::move(links), {}, "");
  EXPECT_EQ(chain.Fetch()->access_key_id, "KEY1");
  EXPECT_EQ(chain.Name(), "scripted");
  EXPECT_EQ(chain.Fetch()->access_key_id, "KEY2");  // asks the winner again, not the whole chain
}

TEST(CredentialParsing, Iso8601XmlJsonAndSha1) {
  auto parsed = ParseIso8601("2026-11-28T21:05:00Z");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(FormatIso8601(*parsed), "2026-11-28T21:05:00Z");
  EXPECT_EQ(FormatIso8601(*ParseIso8601("2026-11-28T21:05:00.123Z")), "2026-11-28T21:05:00Z");
  EXPECT_EQ(FormatIso8601(*ParseIso8601("2026-11-28T23:05:00+02:00")), "2026-11-28T21:05:00Z");
  EXPECT_FALSE(ParseIso8601("2026-11-28 21:05").has_value());
  EXPECT_FALSE(ParseIso8601("2026-02-30T00:00:00Z").has_value());

  EXPECT_EQ(XmlElementText("<a><Code>X&amp;Y</Code></a>", "Code"), std::optional<std::string>("X&Y"));
  EXPECT_EQ(XmlElementText("<a/>", "Code"), std::nullopt);

  auto json = ParseCredentialJson(R"({"AccessKeyId":"ASIA1","SecretAccessKey":"s3cr3t","Token":"t0k","Expiration":"2026-11-28T21:05:00Z"})",
                                  "test", true);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->session_token, "t0k");
  auto missing = ParseCredentialJson(R"({"Code":"AssumeRoleUnauthorizedAccess","SecretAccessKey":"s3cr3t"})", "imds", false);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("Code AssumeRoleUnauthorizedAccess"));
  EXPECT_THAT(missing.status().message(), Not(HasSubstr("s3cr3t")));
  EXPECT_FALSE(ParseCredentialJson(R"({"AccessKeyId":"A","SecretAccessKey":"s"})", "x", true).ok());

  // The AWS CLI names the SSO cache file after the SHA-1 of the session name.
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(UrlEncode("arn:aws:iam::1:role/a b"), "arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b");
}

}  // namespace
}  // namespace ddb2pg::aws
