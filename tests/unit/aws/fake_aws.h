// Fakes for the AWS client unit tests: a scripted HttpTransport and a Clock that never sleeps.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "aws/aws_client.h"
#include "aws/credentials.h"
#include "aws/http_transport.h"
#include "core/clock.h"
#include "core/status.h"

namespace ddb2pg::aws::testing {

// Time stands still until someone sleeps; SleepFor advances both clocks and records the sleep.
class FakeClock final : public core::Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    std::lock_guard lock(mutex_);
    return std::chrono::system_clock::time_point(std::chrono::seconds(1767225600)) + elapsed_;  // 2026-01-01
  }
  std::chrono::steady_clock::time_point Monotonic() const override {
    std::lock_guard lock(mutex_);
    return std::chrono::steady_clock::time_point(std::chrono::hours(1)) + elapsed_;
  }
  void SleepFor(std::chrono::nanoseconds duration) const override {
    std::lock_guard lock(mutex_);
    elapsed_ += duration;
    sleeps_.push_back(duration);
  }
  // Moves time on without a sleep (a slow request).
  void Advance(std::chrono::nanoseconds duration) {
    std::lock_guard lock(mutex_);
    elapsed_ += duration;
  }
  std::vector<std::chrono::nanoseconds> sleeps() const {
    std::lock_guard lock(mutex_);
    return sleeps_;
  }
  std::chrono::nanoseconds total_slept() const {
    std::lock_guard lock(mutex_);
    std::chrono::nanoseconds total{0};
    for (auto sleep : sleeps_) total += sleep;
    return total;
  }

 private:
  mutable std::mutex mutex_;
  mutable std::chrono::nanoseconds elapsed_{0};
  mutable std::vector<std::chrono::nanoseconds> sleeps_;
};

inline core::Result<HttpResponse> Reply(long status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.headers = {{"content-type", "application/x-amz-json-1.0"}};
  response.body = std::move(body);
  return response;
}

inline core::Result<HttpResponse> AwsErrorReply(long status, const std::string& type, const std::string& message) {
  return Reply(status, R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + type + R"(","message":")" + message +
                           R"("})");
}

// What every transport the factory made shares: the script of replies and the requests seen.
// Replies are taken in order; when none is scripted, `responder` answers (a test failure if unset).
class FakeAws {
 public:
  using Responder = std::function<core::Result<HttpResponse>(const HttpRequest&)>;

  void Script(core::Result<HttpResponse> reply) {
    std::lock_guard lock(mutex_);
    script_.push_back(std::move(reply));
  }
  void SetResponder(Responder responder) {
    std::lock_guard lock(mutex_);
    responder_ = std::move(responder);
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  size_t request_count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }
  int transports_made() const { return transports_made_.load(); }
  bool concurrent_use_seen() const { return concurrent_use_seen_.load(); }

  core::Result<HttpResponse> Handle(const HttpRequest& request) {
    Responder responder;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      if (!script_.empty()) {
        auto reply = std::move(script_.front());
        script_.pop_front();
        return reply;
      }
      responder = responder_;
    }
    if (!responder) return core::Status::Internal("FakeAws: no reply scripted");
    return responder(request);
  }

  // A TransportFactory whose transports all answer from this script.
  TransportFactory Factory() {
    return [this]() -> std::unique_ptr<HttpTransport> {
      transports_made_.fetch_add(1);
      return std::make_unique<Transport>(*this);
    };
  }

 private:
  // Flags use by two threads at once: HttpTransport is not thread-safe, so the client must never
  // do that.
  class Transport final : public HttpTransport {
   public:
    explicit Transport(FakeAws& aws) : aws_(aws) {}
    core::Result<HttpResponse> Send(const HttpRequest& request) override {
      if (in_use_.exchange(true)) aws_.concurrent_use_seen_ = true;
      auto reply = aws_.Handle(request);
      in_use_ = false;
      return reply;
    }

   private:
    FakeAws& aws_;
    std::atomic<bool> in_use_{false};
  };

  mutable std::mutex mutex_;
  std::deque<core::Result<HttpResponse>> script_;
  Responder responder_;
  std::vector<HttpRequest> requests_;
  std::atomic<int> transports_made_{0};
  std::atomic<bool> concurrent_use_seen_{false};
};

inline const char* kTestSecret = "SECRETabc123";
inline const char* kTestToken = "TOKENxyz789";

inline ResolvedAws TestAws() {
  ResolvedAws aws;
  aws.credentials.access_key_id = "AKIDTEST";
  aws.credentials.secret_access_key = kTestSecret;
  aws.credentials.session_token = kTestToken;
  aws.credentials.source = "test";
  aws.region = "us-east-1";
  aws.dynamodb_endpoint = "http://dynamodb.test:8000";
  aws.streams_endpoint = "http://streams.test:8000/";
  return aws;
}

inline std::string HeaderValue(const HttpRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < key.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(key[i])) != std::tolower(static_cast<unsigned char>(name[i]))) {
        same = false;
      }
    }
    if (same) return value;
  }
  return {};
}

}  // namespace ddb2pg::aws::testing
