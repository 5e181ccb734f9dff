// Decoding DynamoDB JSON AttributeValues into core::Value with simdjson's on-demand parser.
//
// Errors never crash: malformed JSON or a wrong shape gives StatusCode::kInvalidArgument whose
// message names the attribute path, e.g. "Item.appearance.mode: expected a string for S".
// Numbers are validated (core::IsValidNumber) and kept as text; B/BS are base64-decoded.
// Encoding lives in core/value_json.h.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/value.h"

namespace ddb2pg::aws {

// One AttributeValue object, e.g. {"S":"x"}; `path` prefixes error messages.
core::Result<core::Value> DecodeAttributeValue(simdjson::ondemand::value json, std::string_view path);
// An object of AttributeValues, e.g. {"id":{"S":"x"},"n":{"N":"1"}} — an Item, Key or image.
core::Result<core::Value> DecodeItem(simdjson::ondemand::object json, std::string_view path);
// A whole JSON document that is one item. Pads internally; `json` need not be padded.
core::Result<core::Value> ParseItemJson(std::string_view json);

}  // namespace ddb2pg::aws
