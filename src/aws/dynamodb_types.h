// Request and response shapes of the DynamoDB and DynamoDB Streams operations ddb2pg uses.
// Plain values; items and keys are core::Value maps.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/value.h"

namespace ddb2pg::aws {

// The top-level attributes of items and stream images to decode; the decoder skips the others
// unread (simdjson on-demand: only their brackets are counted, their content is not validated). The source
// decodes only what its pipelines read plus the key: less CPU, and a third less memory per
// record queued. Keys (Keys, LastEvaluatedKey) are always decoded whole. Immutable; share it.
class AttributeSelection {
 public:
  explicit AttributeSelection(std::vector<std::string> names) : names_(std::move(names)) {
    std::sort(names_.begin(), names_.end());
    names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
  }
  bool Contains(std::string_view name) const { return std::binary_search(names_.begin(), names_.end(), name); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;  // sorted, unique
};

struct KeySchemaElement {
  std::string attribute_name;
  std::string key_type;  // "HASH" or "RANGE"
};

struct AttributeDefinition {
  std::string attribute_name;
  std::string attribute_type;  // "S", "N" or "B"
};

struct TableDescription {
  std::string table_name;
  std::string table_arn;     // TableArn (what an export is requested for)
  std::string table_status;  // CREATING, ACTIVE, UPDATING, DELETING
  std::vector<KeySchemaElement> key_schema;
  std::vector<AttributeDefinition> attribute_definitions;
  int64_t item_count = 0;        // DynamoDB's estimate, refreshed about every 6 h
  int64_t table_size_bytes = 0;
  bool stream_enabled = false;
  std::string stream_view_type;  // NEW_AND_OLD_IMAGES, NEW_IMAGE, OLD_IMAGE, KEYS_ONLY
  std::string latest_stream_arn;
};

struct ScanRequest {
  std::string table_name;
  int segment = 0;
  int total_segments = 1;
  int limit = 1000;  // DynamoDB Local is ~15x faster with a Limit than with 1 MB pages
  std::optional<core::Value> exclusive_start_key;
  bool consistent_read = false;
  std::string projection_expression;  // empty: all attributes
  std::shared_ptr<const AttributeSelection> decode_only;  // null: decode every attribute
  std::vector<std::pair<std::string, std::string>> expression_attribute_names;  // "#n" → "name"
};

struct ScanPage {
  std::vector<core::Value> items;
  std::optional<core::Value> last_evaluated_key;  // absent on the segment's last page
  int64_t scanned_count = 0;
  double consumed_capacity_units = 0;  // when ReturnConsumedCapacity was honoured
  size_t response_bytes = 0;
};

struct CreateTableRequest {
  std::string table_name;
  std::vector<KeySchemaElement> key_schema;
  std::vector<AttributeDefinition> attribute_definitions;
  std::string billing_mode = "PAY_PER_REQUEST";
  std::string stream_view_type;  // empty: no stream
};

// One write of a BatchWriteItem: a put (item set) or a delete (key set).
struct WriteRequest {
  std::optional<core::Value> put_item;
  std::optional<core::Value> delete_key;
};

struct UpdateItemRequest {
  std::string table_name;
  core::Value key;
  std::string update_expression;
  std::vector<std::pair<std::string, std::string>> expression_attribute_names;
  std::vector<std::pair<std::string, core::Value>> expression_attribute_values;
  std::string condition_expression;
};

struct ShardDescription {
  std::string shard_id;
  std::string parent_shard_id;           // empty for a root shard
  std::string starting_sequence_number;
  std::string ending_sequence_number;    // empty while the shard is open
};

struct StreamSummary {
  std::string stream_arn;
  std::string table_name;
  std::string stream_label;
};

struct DescribeStreamRequest {
  std::string stream_arn;
  int limit = 100;
  std::string exclusive_start_shard_id;
  std::string child_shards_of;  // ShardFilter {Type: CHILD_SHARDS, ShardId}; empty: no filter
};

struct StreamDescription {
  std::string stream_arn;
  std::string stream_label;
  std::string stream_status;     // ENABLING, ENABLED, DISABLING, DISABLED
  std::string stream_view_type;
  std::string table_name;
  std::vector<ShardDescription> shards;
  std::string last_evaluated_shard_id;  // non-empty: more shards on the next page
};

enum class ShardIteratorType { kTrimHorizon, kLatest, kAtSequenceNumber, kAfterSequenceNumber };

struct StreamRecord {
  std::string event_id;
  std::string event_name;  // INSERT, MODIFY, REMOVE
  core::Value keys;        // a map
  std::optional<core::Value> new_image;
  std::optional<core::Value> old_image;
  std::string sequence_number;
  int64_t approximate_creation_time_ms = 0;  // ApproximateCreationDateTime
  int64_t size_bytes = 0;
  std::string user_identity_type;          // "Service" for TTL deletes
  std::string user_identity_principal_id;  // "dynamodb.amazonaws.com" for TTL deletes
  bool images_skipped = false;  // older than GetRecords' skip_images_before_ms: no images decoded
};

struct GetRecordsResult {
  std::vector<StreamRecord> records;
  std::optional<std::string> next_shard_iterator;  // absent: the shard is closed and fully read
  size_t response_bytes = 0;
};

}  // namespace ddb2pg::aws
