#include "aws/attribute_codec.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <tuple>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/base64.h"

namespace ddb2pg::aws {

namespace ondemand = simdjson::ondemand;
using core::Status;
using core::Value;

std::string AttributePath::ToString() const {
  // Collect the chain root-first; paths are short, so a small vector is fine on this cold path.
  std::vector<const AttributePath*> chain;
  for (const AttributePath* node = this; node != nullptr; node = node->parent) chain.push_back(node);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const AttributePath* node = *it;
    if (node->index != kNoIndex) {
      out += '[';
      out += std::to_string(node->index);
      out += ']';
    } else {
      if (node->parent != nullptr) out += '.';
      out += node->name;
    }
  }
  return out;
}

namespace codec_internal {

Status JsonError(const AttributePath& path, simdjson::error_code error, std::string_view type_problem) {
  std::string message = path.ToString();
  message += ": ";
  if (error == simdjson::INCORRECT_TYPE) {
    message += type_problem;
  } else {
    message += "malformed JSON (simdjson: ";
    message += simdjson::error_message(error);
    message += ')';
  }
  return Status::InvalidArgument(std::move(message));
}

size_t PlainStringLength(const char* raw) {
  // Input is padded (SIMDJSON_PADDING >= 16) and the closing quote is known to exist, so every
  // 16-byte load starting at or before it stays inside the buffer.
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  for (size_t offset = 0;; offset += 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(raw + offset));
    const unsigned quotes = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, quote)));
    const unsigned escapes = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, backslash)));
    if ((quotes | escapes) != 0) {
      const unsigned first = static_cast<unsigned>(__builtin_ctz(quotes | escapes));
      if ((escapes >> first) & 1u) return kEscaped;
      return offset + first;
    }
  }
#else
  const char* p = raw;
  while (*p != '"' && *p != '\\') ++p;
  return *p == '"' ? static_cast<size_t>(p - raw) : kEscaped;
#endif
}

simdjson::error_code ReadStringView(ondemand::value& json, std::string_view& out) {
  // Without a backslash the bytes between the quotes are the string itself (stage 1 has
  // validated UTF-8 and the quotes), which saves simdjson's unescaping copy into the parser's
  // string buffer (a virtual call into the run-time-selected kernel, then our own copy again).
  const std::string_view token = json.raw_json_token();
  if (!token.empty() && token.front() == '"') {
    const size_t length = PlainStringLength(token.data() + 1);
    if (length != kEscaped) {
      ondemand::raw_json_string consumed;
      if (auto error = json.get_raw_json_string().get(consumed)) return error;
      out = std::string_view(token.data() + 1, length);
      return simdjson::SUCCESS;
    }
  }
  return json.get_string().get(out);
}

simdjson::error_code ReadString(ondemand::value& json, std::string& out) {
  std::string_view view;
  if (auto error = ReadStringView(json, view)) return error;
  out = std::string(view);
  return simdjson::SUCCESS;
}

simdjson::error_code ReadKeyView(ondemand::field& field, std::string_view& out) {
  const char* raw = field.key().raw();
  const size_t length = PlainStringLength(raw);
  if (length != kEscaped) {
    out = std::string_view(raw, length);
    return simdjson::SUCCESS;
  }
  return field.unescaped_key().get(out);
}

}  // namespace codec_internal

namespace {

using codec_internal::JsonError;
using codec_internal::ReadKeyView;
using codec_internal::ReadStringView;

enum class TypeKey { kS, kN, kB, kBool, kNull, kM, kL, kSS, kNS, kBS, kUnknown };

// `raw` points just past a key's opening quote; the closing quote is known to exist, and each
// comparison stops at the first mismatch, so this never reads past it.
TypeKey MatchRawTypeKey(const char* raw) {
  switch (raw[0]) {
    case 'S':
      if (raw[1] == '"') return TypeKey::kS;
      if (raw[1] == 'S' && raw[2] == '"') return TypeKey::kSS;
      break;
    case 'N':
      if (raw[1] == '"') return TypeKey::kN;
      if (raw[1] == 'S' && raw[2] == '"') return TypeKey::kNS;
      if (raw[1] == 'U' && raw[2] == 'L' && raw[3] == 'L' && raw[4] == '"') return TypeKey::kNull;
      break;
    case 'B':
      if (raw[1] == '"') return TypeKey::kB;
      if (raw[1] == 'S' && raw[2] == '"') return TypeKey::kBS;
      if (raw[1] == 'O' && raw[2] == 'O' && raw[3] == 'L' && raw[4] == '"') return TypeKey::kBool;
      break;
    case 'M':
      if (raw[1] == '"') return TypeKey::kM;
      break;
    case 'L':
      if (raw[1] == '"') return TypeKey::kL;
      break;
    default:
      break;
  }
  return TypeKey::kUnknown;
}

TypeKey MatchTypeName(std::string_view name) {
  static constexpr std::pair<std::string_view, TypeKey> kNames[] = {
      {"S", TypeKey::kS},       {"N", TypeKey::kN},       {"B", TypeKey::kB},   {"BOOL", TypeKey::kBool},
      {"NULL", TypeKey::kNull}, {"M", TypeKey::kM},       {"L", TypeKey::kL},   {"SS", TypeKey::kSS},
      {"NS", TypeKey::kNS},     {"BS", TypeKey::kBS}};
  for (const auto& [text, key] : kNames) {
    if (text == name) return key;
  }
  return TypeKey::kUnknown;
}

std::string_view TypeKeyName(TypeKey key) {
  switch (key) {
    case TypeKey::kS: return "S";
    case TypeKey::kN: return "N";
    case TypeKey::kB: return "B";
    case TypeKey::kBool: return "BOOL";
    case TypeKey::kNull: return "NULL";
    case TypeKey::kM: return "M";
    case TypeKey::kL: return "L";
    case TypeKey::kSS: return "SS";
    case TypeKey::kNS: return "NS";
    case TypeKey::kBS: return "BS";
    case TypeKey::kUnknown: break;
  }
  return "?";
}

Status PathError(const AttributePath& path, std::string_view problem) {
  std::string message = path.ToString();
  message += ": ";
  message += problem;
  return Status::InvalidArgument(std::move(message));
}

// Quotes at most 40 characters of a rejected scalar for the error message.
std::string Excerpt(std::string_view text) {
  std::string out = "\"";
  out.append(text.substr(0, 40));
  if (text.size() > 40) out += "...";
  out += '"';
  return out;
}

// Remembers the size of the last container decoded under each (hashed) attribute name, so the
// next one — usually the same attribute of the next item in the page — is allocated once at the
// right size. A collision only costs a regrowth or a few spare slots.
class SizeHints {
 public:
  size_t Get(std::string_view name) const { return hints_[Slot(name)]; }
  void Set(std::string_view name, size_t size) {
    hints_[Slot(name)] = static_cast<uint8_t>(size < kMaxHint ? size : kMaxHint);
  }

 private:
  static constexpr size_t kMaxHint = 64;
  static size_t Slot(std::string_view name) {
    if (name.empty()) return 0;
    return (name.size() * 131 + static_cast<unsigned char>(name.front()) * 31 +
            static_cast<unsigned char>(name.back())) & 255;
  }
  uint8_t hints_[256] = {};
};

// The recursive decoder. Each method decodes into `out` (a default, NULL Value) and returns false
// after keeping the error for TakeError(): cheaper on the hot path than returning a Status.
class Decoder {
 public:
  bool DecodeValue(ondemand::value& json, const AttributePath& path, int depth, Value& out);
  bool DecodeMap(ondemand::object& json, const AttributePath& path, int depth, Value& out,
                 const AttributeSelection* only = nullptr);
  Status TakeError() { return std::move(error_); }

 private:
  bool DecodeList(ondemand::value& json, const AttributePath& path, int depth, Value& out);
  bool DecodeSet(ondemand::value& json, TypeKey type, const AttributePath& path, Value& out);
  bool Fail(Status status) {
    error_ = std::move(status);
    return false;
  }
  bool TooDeep(const AttributePath& path) {
    return Fail(PathError(path, "maps and lists are nested deeper than " + std::to_string(kMaxAttributeDepth) +
                                    " levels"));
  }

  Status error_;
  SizeHints hints_;
};

// A name that occurs twice in `map`, or null. JSON allows repeated object keys but DynamoDB never
// sends them, and a map holding one twice is ambiguous (lookups see the first, encoding writes both).
// Cheap for the usual maps: a 256-bit filter on (length, first and last byte) sends a name to the
// full comparison only when an earlier name shares its filter bit.
const std::string* RepeatedName(const Value::Map& map) {
  if (map.size() < 2) return nullptr;
  if (map.size() <= 64) {
    uint64_t seen[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < map.size(); ++i) {
      const std::string& name = map[i].first;
      const unsigned bit_index =
          name.empty() ? 0u
                       : (static_cast<unsigned char>(name.front()) * 7u + static_cast<unsigned char>(name.back()) * 31u +
                          static_cast<unsigned>(name.size())) & 255u;
      uint64_t& word = seen[bit_index >> 6];
      const uint64_t bit = uint64_t{1} << (bit_index & 63u);
      if ((word & bit) != 0) {
        for (size_t j = 0; j < i; ++j) {
          if (map[j].first == name) return &name;
        }
      }
      word |= bit;
    }
    return nullptr;
  }
  std::vector<const std::string*> names;
  names.reserve(map.size());
  for (const auto& entry : map) names.push_back(&entry.first);
  std::sort(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  for (size_t i = 1; i < names.size(); ++i) {
    if (*names[i] == *names[i - 1]) return names[i];
  }
  return nullptr;
}

bool Decoder::DecodeMap(ondemand::object& json, const AttributePath& path, int depth, Value& out,
                        const AttributeSelection* only) {
  if (depth >= kMaxAttributeDepth) return TooDeep(path);
  const size_t hint = hints_.Get(path.name);
  Value::Map map;
  map.reserve(hint != 0 ? hint : 8);
  for (auto field_result : json) {
    if (auto error = field_result.error()) return Fail(JsonError(path, error, "expected an object"));
    ondemand::field& field = field_result.value_unsafe();
    std::string_view name;
    if (auto error = ReadKeyView(field, name)) return Fail(JsonError(path, error, "bad attribute name"));
    if (only != nullptr && !only->Contains(name)) continue;  // on-demand: the unread value is skipped
    // Decoded in place: `map` is this frame's own, so the entry stays put while children decode.
    auto& entry = map.emplace_back(std::piecewise_construct, std::forward_as_tuple(name), std::forward_as_tuple());
    if (!DecodeValue(field.value(), path.Field(entry.first), depth + 1, entry.second)) return false;
  }
  if (const std::string* repeated = RepeatedName(map)) {
    return Fail(PathError(path, "attribute name \"" + *repeated + "\" appears twice"));
  }
  hints_.Set(path.name, map.size());
  out = Value::MakeMap(std::move(map));
  return true;
}

bool Decoder::DecodeList(ondemand::value& json, const AttributePath& path, int depth, Value& out) {
  if (depth >= kMaxAttributeDepth) return TooDeep(path);
  ondemand::array array;
  if (auto error = json.get_array().get(array)) return Fail(JsonError(path, error, "L must be an array"));
  const size_t hint = hints_.Get(path.name);
  Value::List list;
  list.reserve(hint != 0 ? hint : 4);
  size_t index = 0;
  for (auto element_result : array) {
    if (auto error = element_result.error()) {
      return Fail(JsonError(path, error, "L must be an array"));
    }
    ondemand::value& element = element_result.value_unsafe();
    Value& item = list.emplace_back();
    if (!DecodeValue(element, path.Index(index), depth + 1, item)) return false;
    ++index;
  }
  hints_.Set(path.name, list.size());
  out = Value::MakeList(std::move(list));
  return true;
}

bool Decoder::DecodeSet(ondemand::value& json, TypeKey type, const AttributePath& path, Value& out) {
  const std::string_view name = TypeKeyName(type);
  ondemand::array array;
  if (auto error = json.get_array().get(array)) {
    return Fail(JsonError(path, error, std::string(name) + " must be an array of strings"));
  }
  Value::Elements items;
  items.reserve(4);
  size_t index = 0;
  for (auto element_result : array) {
    if (auto error = element_result.error()) {
      return Fail(JsonError(path, error, std::string(name) + " must be an array of strings"));
    }
    ondemand::value& element = element_result.value_unsafe();
    std::string_view text;
    if (auto error = ReadStringView(element, text)) {
      return Fail(JsonError(path.Index(index), error, std::string(name) + " elements must be strings"));
    }
    if (type == TypeKey::kNS) {
      if (!core::IsValidNumber(text)) {
        return Fail(PathError(path.Index(index), "NS element " + Excerpt(text) + " is not a DynamoDB number"));
      }
      items.emplace_back(text);
    } else if (type == TypeKey::kBS) {
      std::optional<std::string> bytes = core::Base64Decode(text);
      if (!bytes) return Fail(PathError(path.Index(index), "BS element is not valid base64"));
      items.push_back(std::move(*bytes));
    } else {
      items.emplace_back(text);
    }
    ++index;
  }
  switch (type) {
    case TypeKey::kSS: out = Value::StringSet(std::move(items)); break;
    case TypeKey::kNS: out = Value::NumberSet(std::move(items)); break;
    default: out = Value::BinarySet(std::move(items)); break;
  }
  return true;
}

bool Decoder::DecodeValue(ondemand::value& json, const AttributePath& path, int depth, Value& out) {
  ondemand::object object;
  if (auto error = json.get_object().get(object)) {
    return Fail(JsonError(path, error, "expected an AttributeValue object such as {\"S\": \"text\"}"));
  }
  TypeKey seen = TypeKey::kUnknown;
  for (auto field_result : object) {
    if (auto error = field_result.error()) return Fail(JsonError(path, error, "expected an object"));
    ondemand::field& field = field_result.value_unsafe();
    TypeKey type = MatchRawTypeKey(field.key().raw());
    if (type == TypeKey::kUnknown) {
      // Slow path: an escaped spelling of a type key, or a name that is not a type at all.
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return Fail(JsonError(path, error, "bad type key"));
      type = MatchTypeName(key);
      if (type == TypeKey::kUnknown) {
        return Fail(PathError(path, "unknown AttributeValue type " + Excerpt(key) +
                                        " (expected one of S, N, B, BOOL, NULL, M, L, SS, NS, BS)"));
      }
    }
    if (seen != TypeKey::kUnknown) {
      std::string problem = "AttributeValue has more than one type key (";
      problem += TypeKeyName(seen);
      problem += " and ";
      problem += TypeKeyName(type);
      problem += ')';
      return Fail(PathError(path, problem));
    }
    seen = type;
    ondemand::value& payload = field.value();
    switch (type) {
      case TypeKey::kS: {
        std::string_view text;
        if (auto error = ReadStringView(payload, text)) return Fail(JsonError(path, error, "S must be a string"));
        out = Value::String(std::string(text));
        break;
      }
      case TypeKey::kN: {
        std::string_view text;
        if (auto error = ReadStringView(payload, text)) {
          return Fail(JsonError(path, error, "N must be a string holding a number"));
        }
        if (!core::IsValidNumber(text)) {
          return Fail(PathError(path, "N " + Excerpt(text) + " is not a DynamoDB number"));
        }
        out = Value::Number(std::string(text));
        break;
      }
      case TypeKey::kB: {
        std::string_view text;
        if (auto error = ReadStringView(payload, text)) {
          return Fail(JsonError(path, error, "B must be a base64 string"));
        }
        std::optional<std::string> bytes = core::Base64Decode(text);
        if (!bytes) return Fail(PathError(path, "B is not valid base64"));
        out = Value::Binary(std::move(*bytes));
        break;
      }
      case TypeKey::kBool: {
        bool flag = false;
        if (auto error = payload.get_bool().get(flag)) {
          return Fail(JsonError(path, error, "BOOL must be true or false"));
        }
        out = Value::Bool(flag);
        break;
      }
      case TypeKey::kNull: {
        bool flag = false;
        if (auto error = payload.get_bool().get(flag)) return Fail(JsonError(path, error, "NULL must be true"));
        if (!flag) return Fail(PathError(path, "NULL must be true"));
        out = Value::Null();
        break;
      }
      case TypeKey::kM: {
        ondemand::object map;
        if (auto error = payload.get_object().get(map)) return Fail(JsonError(path, error, "M must be an object"));
        if (!DecodeMap(map, path, depth, out)) return false;
        break;
      }
      case TypeKey::kL:
        if (!DecodeList(payload, path, depth, out)) return false;
        break;
      case TypeKey::kSS:
      case TypeKey::kNS:
      case TypeKey::kBS:
        if (!DecodeSet(payload, type, path, out)) return false;
        break;
      case TypeKey::kUnknown:
        break;
    }
  }
  if (seen == TypeKey::kUnknown) {
    return Fail(PathError(path, "empty AttributeValue: expected one type key (S, N, B, BOOL, NULL, M, L, SS, NS, BS)"));
  }
  return true;
}

Decoder& LocalDecoder() {
  thread_local Decoder decoder;
  return decoder;
}

struct LocalParser {
  ondemand::parser parser;
  std::string padded;  // a copy of unpadded input, with SIMDJSON_PADDING spare capacity
};

LocalParser& LocalParserState() {
  thread_local LocalParser state;
  return state;
}

Status InternalError(const std::exception& e) {
  std::string message = "attribute decoding failed: ";
  message += e.what();
  return Status::Internal(std::move(message));
}

}  // namespace

core::Result<Value> DecodeAttributeValue(ondemand::value json, std::string_view path) {
  try {
    AttributePath root{nullptr, path, AttributePath::kNoIndex};
    Decoder& decoder = LocalDecoder();
    Value out;
    if (!decoder.DecodeValue(json, root, 0, out)) return decoder.TakeError();
    return out;
  } catch (const std::exception& e) {
    return InternalError(e);
  }
}

core::Result<Value> DecodeItem(ondemand::object json, const AttributePath& path) {
  return DecodeItem(json, path, nullptr);
}

core::Result<Value> DecodeItem(ondemand::object json, const AttributePath& path, const AttributeSelection* only) {
  try {
    Decoder& decoder = LocalDecoder();
    Value out;
    if (!decoder.DecodeMap(json, path, 0, out, only)) return decoder.TakeError();
    return out;
  } catch (const std::exception& e) {
    return InternalError(e);
  }
}

core::Result<Value> DecodeItem(ondemand::object json, std::string_view path) {
  AttributePath root{nullptr, path, AttributePath::kNoIndex};
  return DecodeItem(json, root);
}

core::Result<Value> ParseItemJson(std::string_view json) {
  try {
    LocalParser& state = LocalParserState();
    state.padded.reserve(json.size() + simdjson::SIMDJSON_PADDING);
    state.padded.assign(json.data(), json.size());
    simdjson::padded_string_view input(state.padded.data(), state.padded.size(), state.padded.capacity());
    const AttributePath root{nullptr, "Item", AttributePath::kNoIndex};
    ondemand::document document;
    if (auto error = state.parser.iterate(input).get(document)) {
      return JsonError(root, error, "expected an object");
    }
    ondemand::object object;
    if (auto error = document.get_object().get(object)) {
      return JsonError(root, error, "expected an object of attributes such as {\"id\": {\"S\": \"x\"}}");
    }
    Decoder& decoder = LocalDecoder();
    Value out;
    if (!decoder.DecodeMap(object, root, 0, out)) return decoder.TakeError();
    const char* trailing = nullptr;
    if (document.current_location().get(trailing) == simdjson::SUCCESS) {
      return PathError(root, "unexpected content after the item");
    }
    return out;
  } catch (const std::exception& e) {
    return InternalError(e);
  }
}

}  // namespace ddb2pg::aws
