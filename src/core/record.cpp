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

}  // namespace ddb2pg::core
