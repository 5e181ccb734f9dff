// Readers of one field of a simdjson DOM object, for the control-plane responses (DescribeTable,
// DescribeStream, credentials…; the hot paths use the on-demand parser in response_parser).
//
// Thread-safety: stateless functions.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ddb2pg::aws {

// The JSON object `body`, parsed by `parser` (the result lives as long as the parser, not the
// body); nullopt when `body` is not a JSON object.
inline std::optional<simdjson::dom::object> ParseObject(simdjson::dom::parser& parser, std::string_view body) {
  simdjson::dom::object object;
  if (parser.parse(simdjson::padded_string(body)).get(object) != simdjson::SUCCESS) return std::nullopt;
  return object;
}

// The object at `field` of the JSON object `body` (see ParseObject); kInternal "<context>: response
// has no <field> object" otherwise.
inline core::Result<simdjson::dom::object> ResponseObject(simdjson::dom::parser& parser, std::string_view body,
                                                        std::string_view field, const std::string& context) {
  const std::optional<simdjson::dom::object> root = ParseObject(parser, body);
  simdjson::dom::object object;
  if (!root || (*root)[field].get(object) != simdjson::SUCCESS) {
    return core::Status::Internal(context + ": response has no " + std::string(field) + " object");
  }
  return object;
}

// The string at `key`; "" when absent or not a string.
inline std::string TextField(simdjson::dom::object object, std::string_view key) {
  std::string_view text;
  if (object[key].get(text) != simdjson::SUCCESS) return {};
  return std::string(text);
}

// The string at `key`; nullopt when absent or not a string (so that "" and absent differ).
inline std::optional<std::string> TextFieldIfPresent(simdjson::dom::object object, std::string_view key) {
  std::string_view text;
  if (object[key].get(text) != simdjson::SUCCESS) return std::nullopt;
  return std::string(text);
}

// The number at `key` as an integer (a real is truncated); `absent` when absent or not a number.
inline int64_t IntegerField(simdjson::dom::object object, std::string_view key, int64_t absent = 0) {
  simdjson::dom::element element;
  if (object[key].get(element) != simdjson::SUCCESS) return absent;
  int64_t integer = 0;
  if (element.get(integer) == simdjson::SUCCESS) return integer;
  double real = 0;
  if (element.get(real) == simdjson::SUCCESS) return static_cast<int64_t>(real);
  return absent;
}

}  // namespace ddb2pg::aws
