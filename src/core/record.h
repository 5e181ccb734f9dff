// Record: one change (or one snapshot row) flowing from a source to the sinks.
//
// A plain value, as in Conduit's OpenCDC record: the operation, the item's key, the images
// before and after the change, metadata about where and when it happened, and the source
// position it advances. Every record ends acknowledged (its effect committed together with its
// position) or rejected (dead-lettered, skipped or stopping the pipeline, by policy).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/value.h"

namespace ddb2pg::core {

enum class Operation : uint8_t {
  kSnapshot,  // an item read by the initial Scan
  kCreate,    // stream INSERT
  kUpdate,    // stream MODIFY
  kDelete,    // stream REMOVE
  kMarker,    // carries no data, only a position (a shard finished, a snapshot segment ended)
};

// "snapshot", "create", "update", "delete", "marker".
std::string_view OperationName(Operation op);

// The step a record moves its source's position forward: within `partition` (a snapshot segment
// or a stream shard), the opaque `offset` reached once this record is committed. The source
// owns the meaning of both; the runtime only folds them, in order, into the checkpoint.
struct Position {
  std::string partition;
  std::string offset;
  bool partition_done = false;  // nothing more will come from this partition

  bool operator==(const Position&) const = default;
};

struct RecordMetadata {
  std::string table;            // source table name
  std::string shard_id;         // stream shard; empty for snapshot records
  std::string sequence_number;  // stream sequence number; empty for snapshot records
  int64_t change_time_ms = 0;   // ApproximateCreationDateTime, or the Scan time for a snapshot
  bool ttl_delete = false;      // REMOVE issued by DynamoDB's TTL (principal dynamodb.amazonaws.com)
};

struct Record {
  Operation operation = Operation::kMarker;
  Value key;                  // a map of the key attributes
  std::optional<Value> before;  // OldImage, when the stream carries it
  std::optional<Value> after;   // NewImage, or the scanned item
  RecordMetadata metadata;
  Position position;
  // Runtime bookkeeping, not data: which partition reader produced the record, so a lane can
  // discard what a stopped reader left in its queue. 0: untagged.
  uint64_t reader_tag = 0;

  // The image processors read: `after` for snapshot/create/update, `before` for delete (so a
  // soft delete can still map its columns); nullptr when the record has neither.
  const Value* image() const;
  // Roughly the memory the record holds (its images, key and position): the unit of the lane
  // queue's byte budget, so a few 400 KB items cannot fill memory the way 512 of them would.
  size_t ApproxBytes() const;
};

}  // namespace ddb2pg::core
