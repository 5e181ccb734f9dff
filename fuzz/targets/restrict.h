// Shared by the response-parser targets: an item cut down to an AttributeSelection, which is what
// a parse with `decode_only` must give for an item that a full parse accepts.
#pragma once

#include "aws/dynamodb_types.h"
#include "core/value.h"

namespace ddb2pg::fuzz {

inline core::Value Restrict(const core::Value& item, const aws::AttributeSelection& only) {
  if (!item.is_map()) return item;
  core::Value::Map kept;
  for (const auto& [name, value] : item.map()) {
    if (only.Contains(name)) kept.emplace_back(name, value);
  }
  return core::Value::MakeMap(std::move(kept));
}

}  // namespace ddb2pg::fuzz
