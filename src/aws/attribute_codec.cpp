#include "aws/attribute_codec.h"

#include <cstring>
#include <exception>
#include <iterator>
#include <utility>
#include <vector>

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

simdjson::error_code ReadString(ondemand::value& json, std::string& out) {
  // The raw token runs from the opening quote to the next structural character, so it may carry
  // trailing whitespace. Without a backslash the bytes between the quotes are the string itself
  // (stage 1 has validated UTF-8 and the quotes), which saves simdjson's scalar unescaping copy
  // (the on-demand layer is compiled for the baseline target here) and a second copy.
  std::string_view token = json.raw_json_token();
  if (token.empty() || token.front() != '"') return simdjson::INCORRECT_TYPE;
  size_t end = token.size();
  while (end > 1 && (token[end - 1] == ' ' || token[end - 1] == '\n' || token[end - 1] == '\r' ||
                     token[end - 1] == '\t')) {
    --end;
  }
  if (end >= 2 && token[end - 1] == '"') {
    std::string_view body = token.substr(1, end - 2);
    if (std::memchr(body.data(), '\\', body.size()) == nullptr) {
      ondemand::raw_json_string consumed;
      if (auto error = json.get_raw_json_string().get(consumed)) return error;
      out.assign(body.data(), body.size());
      return simdjson::SUCCESS;
    }
  }
  std::string_view unescaped;
  if (auto error = json.get_string().get(unescaped)) return error;
  out.assign(unescaped.data(), unescaped.size());
  return simdjson::SUCCESS;
}

}  // namespace codec_internal

namespace {

using codec_internal::JsonError;
using codec_internal::ReadString;

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

// Reads an object key; like ReadString, copies straight from the input when it has no escapes.
simdjson::error_code ReadKey(ondemand::field& field, std::string& out) {
  const char* raw = field.key().raw();
  const char* p = raw;
  while (*p != '"' && *p != '\\') ++p;
  if (*p == '"') {
    out.assign(raw, static_cast<size_t>(p - raw));
    return simdjson::SUCCESS;
  }
  std::string_view unescaped;
  if (auto error = field.unescaped_key().get(unescaped)) return error;
  out.assign(unescaped.data(), unescaped.size());
  return simdjson::SUCCESS;
}

// The recursive decoder. Container entries are gathered on scratch stacks shared by all depths
// (a nested container pushes above its parent's entries and pops back before the parent pushes
// again), so every Map/List/set is built once at its final size instead of growing by doubling.
class Decoder {
 public:
  Status DecodeValue(ondemand::value json, const AttributePath& path, int depth, Value* out);
  Status DecodeMap(ondemand::object json, const AttributePath& path, int depth, Value* out);

 private:
  Status DecodeList(ondemand::value json, const AttributePath& path, int depth, Value* out);
  Status DecodeSet(ondemand::value json, TypeKey type, const AttributePath& path, Value* out);

  template <typename T>
  struct Truncate {
    std::vector<T>& stack;
    size_t size;
    ~Truncate() { stack.resize(size); }
  };

  std::vector<std::pair<std::string, Value>> entries_;
  std::vector<Value> items_;
  std::vector<std::string> elements_;
};

Status Decoder::DecodeMap(ondemand::object json, const AttributePath& path, int depth, Value* out) {
  if (depth >= kMaxAttributeDepth) {
    return PathError(path, "maps and lists are nested deeper than " + std::to_string(kMaxAttributeDepth) +
                               " levels");
  }
  const size_t base = entries_.size();
  Truncate<std::pair<std::string, Value>> truncate{entries_, base};
  std::string name;
  for (auto field_result : json) {
    ondemand::field field;
    if (auto error = std::move(field_result).get(field)) return JsonError(path, error, "expected an object");
    if (auto error = ReadKey(field, name)) return JsonError(path, error, "bad attribute name");
    Value value;
    DDB2PG_RETURN_IF_ERROR(DecodeValue(field.value(), path.Field(name), depth + 1, &value));
    entries_.emplace_back(std::move(name), std::move(value));
    name.clear();
  }
  Value::Map map(std::make_move_iterator(entries_.begin() + static_cast<ptrdiff_t>(base)),
                 std::make_move_iterator(entries_.end()));
  *out = Value::MakeMap(std::move(map));
  return Status::Ok();
}

Status Decoder::DecodeList(ondemand::value json, const AttributePath& path, int depth, Value* out) {
  if (depth >= kMaxAttributeDepth) {
    return PathError(path, "maps and lists are nested deeper than " + std::to_string(kMaxAttributeDepth) +
                               " levels");
  }
  ondemand::array array;
  if (auto error = json.get_array().get(array)) return JsonError(path, error, "L must be an array");
  const size_t base = items_.size();
  Truncate<Value> truncate{items_, base};
  size_t index = 0;
  for (auto element_result : array) {
    ondemand::value element;
    if (auto error = std::move(element_result).get(element)) return JsonError(path, error, "L must be an array");
    Value value;
    DDB2PG_RETURN_IF_ERROR(DecodeValue(element, path.Index(index), depth + 1, &value));
    items_.push_back(std::move(value));
    ++index;
  }
  Value::List list(std::make_move_iterator(items_.begin() + static_cast<ptrdiff_t>(base)),
                   std::make_move_iterator(items_.end()));
  *out = Value::MakeList(std::move(list));
  return Status::Ok();
}

Status Decoder::DecodeSet(ondemand::value json, TypeKey type, const AttributePath& path, Value* out) {
  const std::string_view name = TypeKeyName(type);
  ondemand::array array;
  if (auto error = json.get_array().get(array)) {
    return JsonError(path, error, std::string(name) + " must be an array of strings");
  }
  const size_t base = elements_.size();
  Truncate<std::string> truncate{elements_, base};
  size_t index = 0;
  std::string text;
  for (auto element_result : array) {
    ondemand::value element;
    if (auto error = std::move(element_result).get(element)) {
      return JsonError(path, error, std::string(name) + " must be an array of strings");
    }
    if (auto error = ReadString(element, text)) {
      return JsonError(path.Index(index), error, std::string(name) + " elements must be strings");
    }
    if (type == TypeKey::kNS) {
      if (!core::IsValidNumber(text)) {
        return PathError(path.Index(index), "NS element " + Excerpt(text) + " is not a DynamoDB number");
      }
      elements_.push_back(std::move(text));
    } else if (type == TypeKey::kBS) {
      std::optional<std::string> bytes = core::Base64Decode(text);
      if (!bytes) return PathError(path.Index(index), "BS element is not valid base64");
      elements_.push_back(std::move(*bytes));
    } else {
      elements_.push_back(std::move(text));
    }
    text.clear();
    ++index;
  }
  Value::Elements items(std::make_move_iterator(elements_.begin() + static_cast<ptrdiff_t>(base)),
                        std::make_move_iterator(elements_.end()));
  switch (type) {
    case TypeKey::kSS: *out = Value::StringSet(std::move(items)); break;
    case TypeKey::kNS: *out = Value::NumberSet(std::move(items)); break;
    default: *out = Value::BinarySet(std::move(items)); break;
  }
  return Status::Ok();
}

Status Decoder::DecodeValue(ondemand::value json, const AttributePath& path, int depth, Value* out) {
  ondemand::object object;
  if (auto error = json.get_object().get(object)) {
    return JsonError(path, error, "expected an AttributeValue object such as {\"S\": \"text\"}");
  }
  TypeKey seen = TypeKey::kUnknown;
  for (auto field_result : object) {
    ondemand::field field;
    if (auto error = std::move(field_result).get(field)) return JsonError(path, error, "expected an object");
    TypeKey type = MatchRawTypeKey(field.key().raw());
    if (type == TypeKey::kUnknown) {
      // Slow path: an escaped spelling of a type key, or a name that is not a type at all.
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return JsonError(path, error, "bad type key");
      type = MatchTypeName(key);
      if (type == TypeKey::kUnknown) {
        return PathError(path, "unknown AttributeValue type " + Excerpt(key) +
                                   " (expected one of S, N, B, BOOL, NULL, M, L, SS, NS, BS)");
      }
    }
    if (seen != TypeKey::kUnknown) {
      std::string problem = "AttributeValue has more than one type key (";
      problem += TypeKeyName(seen);
      problem += " and ";
      problem += TypeKeyName(type);
      problem += ')';
      return PathError(path, problem);
    }
    seen = type;
    ondemand::value payload = field.value();
    switch (type) {
      case TypeKey::kS: {
        std::string text;
        if (auto error = ReadString(payload, text)) return JsonError(path, error, "S must be a string");
        *out = Value::String(std::move(text));
        break;
      }
      case TypeKey::kN: {
        std::string text;
        if (auto error = ReadString(payload, text)) {
          return JsonError(path, error, "N must be a string holding a number");
        }
        if (!core::IsValidNumber(text)) return PathError(path, "N " + Excerpt(text) + " is not a DynamoDB number");
        *out = Value::Number(std::move(text));
        break;
      }
      case TypeKey::kB: {
        std::string text;
        if (auto error = ReadString(payload, text)) return JsonError(path, error, "B must be a base64 string");
        std::optional<std::string> bytes = core::Base64Decode(text);
        if (!bytes) return PathError(path, "B is not valid base64");
        *out = Value::Binary(std::move(*bytes));
        break;
      }
      case TypeKey::kBool: {
        bool flag = false;
        if (auto error = payload.get_bool().get(flag)) return JsonError(path, error, "BOOL must be true or false");
        *out = Value::Bool(flag);
        break;
      }
      case TypeKey::kNull: {
        bool flag = false;
        if (auto error = payload.get_bool().get(flag)) return JsonError(path, error, "NULL must be true");
        if (!flag) return PathError(path, "NULL must be true");
        *out = Value::Null();
        break;
      }
      case TypeKey::kM: {
        ondemand::object map;
        if (auto error = payload.get_object().get(map)) return JsonError(path, error, "M must be an object");
        DDB2PG_RETURN_IF_ERROR(DecodeMap(map, path, depth, out));
        break;
      }
      case TypeKey::kL:
        DDB2PG_RETURN_IF_ERROR(DecodeList(payload, path, depth, out));
        break;
      case TypeKey::kSS:
      case TypeKey::kNS:
      case TypeKey::kBS:
        DDB2PG_RETURN_IF_ERROR(DecodeSet(payload, type, path, out));
        break;
      case TypeKey::kUnknown:
        break;
    }
  }
  if (seen == TypeKey::kUnknown) {
    return PathError(path, "empty AttributeValue: expected one type key (S, N, B, BOOL, NULL, M, L, SS, NS, BS)");
  }
  return Status::Ok();
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
    Value out;
    DDB2PG_RETURN_IF_ERROR(LocalDecoder().DecodeValue(json, root, 0, &out));
    return out;
  } catch (const std::exception& e) {
    return InternalError(e);
  }
}

core::Result<Value> DecodeItem(ondemand::object json, const AttributePath& path) {
  try {
    Value out;
    DDB2PG_RETURN_IF_ERROR(LocalDecoder().DecodeMap(json, path, 0, &out));
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
    Value out;
    DDB2PG_RETURN_IF_ERROR(LocalDecoder().DecodeMap(object, root, 0, &out));
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
