// CountingStreamsProxy: a reverse proxy on 127.0.0.1 in front of DynamoDB Local that forwards
// every request unchanged and notes when each DynamoDB Streams call arrived: GetRecords per shard
// (read from DynamoDB Local's shard iterator, "<stream arn>|<n>|base64(<shard id>|...)"; an
// iterator of another form counts under "?"), and DescribeStream. Point ddb2pg's
// AWS_ENDPOINT_URL_DYNAMODB at url(). For the polling-cost test and bench/run's section 4.
// Thread-safety: the counters are locked; calls arrive on TinyHttpServer's connection threads.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "../aws/tiny_http_forward.h"
#include "core/base64.h"

namespace ddb2pg::testing {

class CountingStreamsProxy {
 public:
  using Clock = std::chrono::steady_clock;

  explicit CountingStreamsProxy(std::string upstream)
      : upstream_(std::move(upstream)), server_([this](const TinyRequest& request) { return Forward(request); }) {}

  std::string url() const { return server_.url(); }

  // GetRecords calls per shard id that arrived in [from, to).
  std::map<std::string, int> GetRecordsBetween(Clock::time_point from, Clock::time_point to) const {
    std::lock_guard lock(mutex_);
    std::map<std::string, int> out;
    for (const auto& [at, shard] : get_records_) {
      if (at >= from && at < to) ++out[shard];
    }
    return out;
  }

  int DescribeStreamBetween(Clock::time_point from, Clock::time_point to) const {
    std::lock_guard lock(mutex_);
    int count = 0;
    for (const auto& at : describe_stream_) count += at >= from && at < to ? 1 : 0;
    return count;
  }

 private:
  // The shard id inside a DynamoDB Local shard iterator, or "?".
  static std::string ShardOf(const std::string& body) {
    const std::string field = "\"ShardIterator\"";
    size_t at = body.find(field);
    if (at == std::string::npos) return "?";
    at = body.find('"', body.find(':', at + field.size()) + 1);
    const size_t end = body.find('"', at + 1);
    if (at == std::string::npos || end == std::string::npos) return "?";
    const std::string iterator = body.substr(at + 1, end - at - 1);
    const size_t last_bar = iterator.rfind('|');
    if (last_bar == std::string::npos) return "?";
    const auto decoded = core::Base64Decode(iterator.substr(last_bar + 1));
    if (!decoded || decoded->rfind("shardId-", 0) != 0) return "?";
    return decoded->substr(0, decoded->find('|'));
  }

  TinyResponse Forward(const TinyRequest& request) {
    const auto target = request.headers.find("x-amz-target");
    if (target != request.headers.end()) {
      std::lock_guard lock(mutex_);
      if (target->second == "DynamoDBStreams_20120810.GetRecords") {
        get_records_.emplace_back(Clock::now(), ShardOf(request.body));
      } else if (target->second == "DynamoDBStreams_20120810.DescribeStream") {
        describe_stream_.push_back(Clock::now());
      }
    }
    return ForwardTinyRequest(upstream_, request);
  }

  std::string upstream_;
  mutable std::mutex mutex_;
  std::vector<std::pair<Clock::time_point, std::string>> get_records_;
  std::vector<Clock::time_point> describe_stream_;
  TinyHttpServer server_;  // last: its threads stop before the state above goes
};

}  // namespace ddb2pg::testing
