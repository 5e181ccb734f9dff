// Decoding DynamoDB JSON AttributeValues into core::Value with simdjson's on-demand parser.
//
// Errors never crash and never throw: malformed JSON or a wrong shape gives
// StatusCode::kInvalidArgument whose message names the attribute path, e.g.
// "Item.appearance.mode: S must be a string". Shapes rejected: a value that is not an object,
// {} (no type key), two type keys, an unknown type key, a payload of the wrong JSON type
// ({"S":5}), an invalid number, invalid base64, NULL other than true, nesting of M/L deeper than
// kMaxAttributeDepth, and an attribute name repeated within one map or item (DynamoDB never sends
// one; lookups would see the first value while encoding writes both). Numbers are validated
// (core::IsValidNumber) and kept as text; B/BS are base64-decoded. Encoding lives in
// core/value_json.h.
//
// Speed: one forward pass, no DOM, each value decoded in place in its parent container. Strings
// and keys without escapes are copied straight from the input into the Value (simdjson's own
// unescaping copy is skipped); maps and lists are reserved from per-thread size hints learned from
// the previous container of the same attribute name, so a page of similar items allocates each
// container once. Measured (bench/decode_bench.cpp, Release, one core): ~400 MB/s for a 1000-record
// GetRecords page including freeing the result, ~600 MB/s decode alone; glibc malloc/free of the
// Values' strings and vectors is about a third of the time.
// simdjson 3.0.1 compiles On-Demand only for the build target's implementation (here `fallback`,
// as we build without -march), but that layer is scalar navigation over stage 1's index: stage 1
// and string unescaping dispatch at run time (haswell/icelake). Building this decoder for haswell
// or -march=native was measured to change nothing (callgrind instructions per record +0.6 %, CPU
// time within noise), so there is no per-CPU build of it.
//
// Thread-safety: every function may be called from many threads at once (scratch space and
// parsers are per thread). A simdjson value/object passed in must belong to the calling thread.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"
#include "aws/dynamodb_types.h"
#include "core/value.h"

namespace ddb2pg::aws {

// M/L nesting deeper than this is rejected (DynamoDB itself allows 32); it bounds recursion.
inline constexpr int kMaxAttributeDepth = 64;

// A position in a JSON document, chained on the stack as decoding descends and rendered only
// when an error needs it: "GetRecords: Records[3].dynamodb.NewImage.appearance.mode".
// A node refers to its parent and name; both must outlive it (they do on the decoder's stack).
struct AttributePath {
  static constexpr size_t kNoIndex = static_cast<size_t>(-1);

  const AttributePath* parent = nullptr;
  std::string_view name;    // a field name, or the root's label
  size_t index = kNoIndex;  // an array element's position (then `name` is unused)

  AttributePath Field(std::string_view field_name) const { return {this, field_name, kNoIndex}; }
  AttributePath Index(size_t element_index) const { return {this, {}, element_index}; }
  std::string ToString() const;
};

// One AttributeValue object, e.g. {"S":"x"}; `path` prefixes error messages.
core::Result<core::Value> DecodeAttributeValue(simdjson::ondemand::value json, std::string_view path);
// An object of AttributeValues, e.g. {"id":{"S":"x"},"n":{"N":"1"}} — an Item, Key or image.
core::Result<core::Value> DecodeItem(simdjson::ondemand::object json, std::string_view path);
// The same, with a chained path (used by the response parsers to name the record lazily).
core::Result<core::Value> DecodeItem(simdjson::ondemand::object json, const AttributePath& path);
// The same, decoding only the top-level attributes in `only` (null: all); see AttributeSelection.
core::Result<core::Value> DecodeItem(simdjson::ondemand::object json, const AttributePath& path,
                                     const AttributeSelection* only);
// A whole JSON document that is one item. Copies `json` into a per-thread padded buffer.
core::Result<core::Value> ParseItemJson(std::string_view json);

namespace codec_internal {
// Shared with the response parsers; not part of the contract.

inline constexpr size_t kEscaped = static_cast<size_t>(-1);
// `raw` points just past the opening quote of a JSON string in padded simdjson input: the
// string's length when it holds no escape, else kEscaped.
size_t PlainStringLength(const char* raw);
// Reads a JSON string value. The view points into the input or the parser's string buffer and
// lives as long as the document. INCORRECT_TYPE when the value is not a string.
simdjson::error_code ReadStringView(simdjson::ondemand::value& json, std::string_view& out);
simdjson::error_code ReadString(simdjson::ondemand::value& json, std::string& out);
// Reads an object key the same way.
simdjson::error_code ReadKeyView(simdjson::ondemand::field& field, std::string_view& out);
// "malformed JSON (simdjson: ...)", or `type_problem` for INCORRECT_TYPE, prefixed with the path.
core::Status JsonError(const AttributePath& path, simdjson::error_code error, std::string_view type_problem);
}  // namespace codec_internal

}  // namespace ddb2pg::aws
