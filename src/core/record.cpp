#include "core/record.h"

namespace ddb2pg::core {

std::string_view OperationName(Operation op) {
  switch (op) {
    case Operation::kSnapshot: return "snapshot";
    case Operation::kCreate: return "create";
    case Operation::kUpdate: return "update";
    case Operation::kDelete: return "delete";
    case Operation::kMarker: return "marker";
  }
  return "unknown";
}

const Value* Record::image() const {
  if (operation == Operation::kDelete) {
    if (before) return &*before;
    return after ? &*after : nullptr;
  }
  if (after) return &*after;
  return nullptr;
}

size_t Record::ApproxBytes() const {
  size_t bytes = sizeof(Record) + key.ApproxBytes() + position.partition.size() + position.offset.size() +
                 metadata.table.size() + metadata.shard_id.size() + metadata.sequence_number.size();
  if (before) bytes += before->ApproxBytes();
  if (after) bytes += after->ApproxBytes();
  return bytes;
}

}  // namespace ddb2pg::core
