// Encoding a Value as DynamoDB JSON ({"S":"x"}, {"N":"5"}, {"M":{...}}, ...).
//
// Used for request bodies (keys, items, ExclusiveStartKey) and for the raw item kept with a
// dead letter. Decoding lives in aws/attribute_codec.h (it needs the fast parser).
#pragma once

#include <string>

#include "core/json_writer.h"
#include "core/value.h"

namespace ddb2pg::core {

// Writes one AttributeValue object, e.g. {"S":"abc"}.
void WriteAttributeValue(JsonWriter& writer, const Value& value);
// Writes a map's attributes as a JSON object of AttributeValues, e.g. {"id":{"S":"abc"}} — the
// shape of Item, Key and ExclusiveStartKey. `item` must be a map.
void WriteItem(JsonWriter& writer, const Value& item);
// The same, as a new string.
std::string ItemToJson(const Value& item);

}  // namespace ddb2pg::core
