// Scripted, thread-safe fakes of TableApi and StreamsApi for the source's unit tests.
//
// FakeTable: one table keyed by a string attribute "id"; Scan splits the items over segments by
// index and pages them by Limit, resuming after ExclusiveStartKey in key order (like DynamoDB).
// FakeStreams: a stream of shards the test scripts (records, parents, closing), paged
// DescribeStream, iterators "shard|index", injectable ExpiredIterator / TrimmedData.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "aws/dynamodb_api.h"

namespace ddb2pg::source::testing {

inline core::Value Key(const std::string& id) { return core::Value::MakeMap({{"id", core::Value::String(id)}}); }

inline core::Value Item(const std::string& id, int version) {
  return core::Value::MakeMap(
      {{"id", core::Value::String(id)}, {"version", core::Value::Number(std::to_string(version))}});
}

class FakeTable final : public aws::TableApi {
 public:
  FakeTable() {
    description_.table_name = "users";
    description_.table_status = "ACTIVE";
    description_.key_schema = {{"id", "HASH"}};
    description_.attribute_definitions = {{"id", "S"}};
    description_.stream_enabled = true;
    description_.stream_view_type = "NEW_AND_OLD_IMAGES";
    description_.latest_stream_arn = "arn:aws:dynamodb:local:000:table/users/stream/1";
  }

  void SetDescription(aws::TableDescription description) {
    std::lock_guard lock(mutex_);
    description_ = std::move(description);
  }
  aws::TableDescription description() {
    std::lock_guard lock(mutex_);
    return description_;
  }
  // Items are kept sorted by id: the order Scan returns them in, per segment.
  void Put(const std::string& id, int version) {
    std::lock_guard lock(mutex_);
    items_[id] = version;
  }
  int scan_calls() {
    std::lock_guard lock(mutex_);
    return scan_calls_;
  }

  core::Result<aws::TableDescription> DescribeTable(const std::string& table_name) override {
    std::lock_guard lock(mutex_);
    if (table_name != description_.table_name) {
      return core::Status::NotFound("DescribeTable " + table_name + ": ResourceNotFoundException");
    }
    aws::TableDescription description = description_;
    description.item_count = static_cast<int64_t>(items_.size());
    return description;
  }

  core::Result<aws::ScanPage> Scan(const aws::ScanRequest& request) override {
    std::lock_guard lock(mutex_);
    ++scan_calls_;
    std::vector<std::string> segment_ids;
    int index = 0;
    for (const auto& [id, version] : items_) {
      if (index++ % request.total_segments == request.segment) segment_ids.push_back(id);
    }
    auto it = segment_ids.begin();
    if (request.exclusive_start_key) {
      const std::string& after = request.exclusive_start_key->Find("id")->as_string();
      it = std::upper_bound(segment_ids.begin(), segment_ids.end(), after);
    }
    aws::ScanPage page;
    for (; it != segment_ids.end() && static_cast<int>(page.items.size()) < request.limit; ++it) {
      page.items.push_back(Item(*it, items_.at(*it)));
    }
    if (it != segment_ids.end()) page.last_evaluated_key = Key(page.items.back().Find("id")->as_string());
    page.scanned_count = static_cast<int64_t>(page.items.size());
    return page;
  }

 private:
  std::mutex mutex_;
  aws::TableDescription description_;
  std::map<std::string, int> items_;
  int scan_calls_ = 0;
};

class FakeStreams final : public aws::StreamsApi {
 public:
  struct IteratorCall {
    std::string shard_id;
    aws::ShardIteratorType type;
    std::string sequence_number;
  };

  explicit FakeStreams(std::string arn = "arn:aws:dynamodb:local:000:table/users/stream/1") : arn_(std::move(arn)) {}

  // Adds a shard; listed in insertion order unless `front` (to script out-of-order listings).
  void AddShard(const std::string& shard_id, const std::string& parent = "", bool front = false) {
    std::lock_guard lock(mutex_);
    shards_[shard_id].parent = parent;
    if (front) {
      order_.insert(order_.begin(), shard_id);
    } else {
      order_.push_back(shard_id);
    }
  }
  // Appends a change; returns its sequence number (global, zero-padded, increasing).
  std::string AddRecord(const std::string& shard_id, const std::string& event_name, const std::string& id,
                        int version) {
    std::lock_guard lock(mutex_);
    aws::StreamRecord record;
    record.event_name = event_name;
    record.keys = Key(id);
    if (event_name != "REMOVE") record.new_image = Item(id, version);
    if (event_name != "INSERT") record.old_image = Item(id, version - 1);
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%021d", ++sequence_);
    record.sequence_number = buffer;
    record.approximate_creation_time_ms = 1700000000000 + sequence_;
    shards_.at(shard_id).records.push_back(record);
    return record.sequence_number;
  }
  void CloseShard(const std::string& shard_id) {
    std::lock_guard lock(mutex_);
    Shard& shard = shards_.at(shard_id);
    shard.closed = true;
    shard.ending = shard.records.empty() ? "0" : shard.records.back().sequence_number;
  }
  void RemoveShard(const std::string& shard_id) {  // trimmed after 24 h
    std::lock_guard lock(mutex_);
    shards_.erase(shard_id);
    order_.erase(std::find(order_.begin(), order_.end(), shard_id));
  }
  void ExpireNextGetRecords(const std::string& shard_id, int after_calls) {
    std::lock_guard lock(mutex_);
    shards_.at(shard_id).expire_after_calls = after_calls;
  }
  void TrimNextGetRecords(const std::string& shard_id) {
    std::lock_guard lock(mutex_);
    shards_.at(shard_id).trim = true;
  }
  void set_page_size(int records) {
    std::lock_guard lock(mutex_);
    page_size_ = records;
  }
  std::vector<IteratorCall> iterator_calls() {
    std::lock_guard lock(mutex_);
    return iterator_calls_;
  }
  int describe_calls() {
    std::lock_guard lock(mutex_);
    return describe_calls_;
  }
  // false: DescribeStream ignores ShardFilter and lists every shard (DynamoDB Local 1.25.1).
  void set_child_filter(bool honoured) {
    std::lock_guard lock(mutex_);
    child_filter_ = honoured;
  }

  core::Result<aws::StreamDescription> DescribeStream(const aws::DescribeStreamRequest& request) override {
    std::lock_guard lock(mutex_);
    ++describe_calls_;
    if (request.stream_arn != arn_) return core::Status::NotFound("DescribeStream: no stream " + request.stream_arn);
    aws::StreamDescription description;
    description.stream_arn = arn_;
    description.stream_status = "ENABLED";
    description.stream_view_type = "NEW_AND_OLD_IMAGES";
    if (!request.child_shards_of.empty() && child_filter_) {
      for (const auto& id : order_) {
        const Shard& shard = shards_.at(id);
        if (shard.parent != request.child_shards_of) continue;
        aws::ShardDescription child;
        child.shard_id = id;
        child.parent_shard_id = shard.parent;
        child.starting_sequence_number = "1";
        child.ending_sequence_number = shard.ending;
        description.shards.push_back(child);
      }
      return description;
    }
    auto it = order_.begin();
    if (!request.exclusive_start_shard_id.empty()) {
      it = std::find(order_.begin(), order_.end(), request.exclusive_start_shard_id);
      if (it != order_.end()) ++it;
    }
    const int limit = std::min(request.limit, 100);
    for (; it != order_.end() && static_cast<int>(description.shards.size()) < limit; ++it) {
      const Shard& shard = shards_.at(*it);
      aws::ShardDescription shard_description;
      shard_description.shard_id = *it;
      shard_description.parent_shard_id = shard.parent;
      shard_description.starting_sequence_number = "1";
      shard_description.ending_sequence_number = shard.ending;
      description.shards.push_back(shard_description);
    }
    if (it != order_.end()) description.last_evaluated_shard_id = description.shards.back().shard_id;
    return description;
  }

  core::Result<std::string> GetShardIterator(const std::string& stream_arn, const std::string& shard_id,
                                             aws::ShardIteratorType type, const std::string& sequence_number) override {
    std::lock_guard lock(mutex_);
    iterator_calls_.push_back({shard_id, type, sequence_number});
    if (stream_arn != arn_) return core::Status::NotFound("GetShardIterator: no stream " + stream_arn);
    auto found = shards_.find(shard_id);
    if (found == shards_.end()) return core::Status::NotFound("GetShardIterator: no shard " + shard_id);
    const auto& records = found->second.records;
    size_t index = 0;
    switch (type) {
      case aws::ShardIteratorType::kTrimHorizon: index = 0; break;
      case aws::ShardIteratorType::kLatest: index = records.size(); break;
      case aws::ShardIteratorType::kAtSequenceNumber:
      case aws::ShardIteratorType::kAfterSequenceNumber: {
        index = records.size() + 1;
        for (size_t i = 0; i < records.size(); ++i) {
          if (records[i].sequence_number == sequence_number) index = i;
        }
        if (index > records.size()) return core::Status::InvalidArgument("no sequence number " + sequence_number);
        if (type == aws::ShardIteratorType::kAfterSequenceNumber) ++index;
        break;
      }
    }
    return shard_id + "|" + std::to_string(index);
  }

  // Returns the full images whatever `decode_only` says (the decoder's skipping is tested in aws).
  core::Result<aws::GetRecordsResult> GetRecords(const std::string& shard_iterator, int limit,
                                                 const aws::AttributeSelection* /*decode_only*/ = nullptr,
                                                 int64_t /*skip_images_before_ms*/ = 0) override {
    std::lock_guard lock(mutex_);
    const auto bar = shard_iterator.find('|');
    const std::string shard_id = shard_iterator.substr(0, bar);
    size_t index = std::stoul(shard_iterator.substr(bar + 1));
    auto found = shards_.find(shard_id);
    if (found == shards_.end()) return core::Status::NotFound("GetRecords: no shard " + shard_id);
    Shard& shard = found->second;
    ++shard.get_records_calls;
    if (shard.trim) {
      shard.trim = false;
      return core::Status(core::StatusCode::kTrimmedData, "GetRecords: TrimmedDataAccessException: trimmed");
    }
    if (shard.expire_after_calls > 0 && shard.get_records_calls == shard.expire_after_calls + 1) {
      return core::Status(core::StatusCode::kExpiredIterator, "GetRecords: ExpiredIteratorException: expired");
    }
    aws::GetRecordsResult result;
    const size_t page = static_cast<size_t>(std::min(limit, page_size_));
    while (index < shard.records.size() && result.records.size() < page) result.records.push_back(shard.records[index++]);
    if (!(shard.closed && index >= shard.records.size())) result.next_shard_iterator = shard_id + "|" + std::to_string(index);
    return result;
  }

 private:
  struct Shard {
    std::string parent;
    std::vector<aws::StreamRecord> records;
    bool closed = false;
    std::string ending;
    int get_records_calls = 0;
    int expire_after_calls = 0;
    bool trim = false;
  };

  std::mutex mutex_;
  std::string arn_;
  std::map<std::string, Shard> shards_;
  std::vector<std::string> order_;
  int sequence_ = 0;
  int page_size_ = 1000;
  std::vector<IteratorCall> iterator_calls_;
  int describe_calls_ = 0;
  bool child_filter_ = true;
};

}  // namespace ddb2pg::source::testing
