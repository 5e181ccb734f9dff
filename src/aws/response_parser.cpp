#include "aws/response_parser.h"

#include <simdjson.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>
#include <cmath>
#include <exception>
#include <utility>

#include "aws/attribute_codec.h"
#include "aws/json_fields.h"

namespace ddb2pg::aws {
namespace {

namespace ondemand = simdjson::ondemand;
using codec_internal::JsonError;
using codec_internal::ReadString;
using core::Status;
using core::Value;

struct ParserState {
  ondemand::parser parser;
  std::string padded;  // a copy of a body given as string_view, with padding capacity
};

// Parsers are pooled rather than one per thread: a parser keeps about 4x the largest document
// it has parsed (its structural index), so one per reader thread (up to 16 shard readers plus
// the scan segments) held ~60 MB at 1 MB pages. Parsing is CPU-bound, so letting at most one
// parse per core run at once costs no speed; a thread that finds every parser busy waits.
class ParserPool {
 public:
  static ParserPool& Instance() {
    // Never destroyed: a thread still parsing during exit must not meet a destroyed mutex.
    static ParserPool* pool = new ParserPool(std::max(2u, std::thread::hardware_concurrency()));
    return *pool;
  }

  std::unique_ptr<ParserState> Acquire() {
    std::unique_lock lock(mutex_);
    returned_.wait(lock, [&] { return !free_.empty() || created_ < max_; });
    if (!free_.empty()) {
      std::unique_ptr<ParserState> state = std::move(free_.back());
      free_.pop_back();
      return state;
    }
    auto state = std::make_unique<ParserState>();  // before counting it: a throw here leaks no slot
    ++created_;
    return state;
  }

  void Release(std::unique_ptr<ParserState> state) {
    {
      std::lock_guard lock(mutex_);
      free_.push_back(std::move(state));
    }
    returned_.notify_one();
  }

 private:
  explicit ParserPool(size_t max) : max_(max) { free_.reserve(max); }  // Release() never allocates

  const size_t max_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<ParserState>> free_;
  size_t created_ = 0;
};

// A parser for the duration of one response.
class ParserLease {
 public:
  ParserLease() : state_(ParserPool::Instance().Acquire()) {}
  ~ParserLease() { ParserPool::Instance().Release(std::move(state_)); }
  ParserLease(const ParserLease&) = delete;
  ParserLease& operator=(const ParserLease&) = delete;
  ParserState& operator*() { return *state_; }

 private:
  std::unique_ptr<ParserState> state_;
};

simdjson::padded_string_view PadCopy(ParserState& state, std::string_view body) {
  std::string& padded = state.padded;
  padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(body.data(), body.size());
  return simdjson::padded_string_view(padded.data(), padded.size(), padded.capacity());
}

simdjson::padded_string_view PadInPlace(std::string& body) {
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  return simdjson::padded_string_view(body.data(), body.size(), body.capacity());
}

Status PathError(const AttributePath& path, std::string_view problem) {
  std::string message = path.ToString();
  message += ": ";
  message += problem;
  return Status::InvalidArgument(std::move(message));
}

Status InternalError(std::string_view operation, const std::exception& e) {
  std::string message(operation);
  message += ": response parsing failed: ";
  message += e.what();
  return Status::Internal(std::move(message));
}

// Decodes an object of AttributeValues (an item, key or image) at `json` into `out`.
// `only`: the top-level attributes to decode (null: all).
Status ReadItem(ondemand::value& json, const AttributePath& path, Value* out,
                const AttributeSelection* only = nullptr) {
  ondemand::object object;
  if (auto error = json.get_object().get(object)) {
    return JsonError(path, error, "expected an object of attributes such as {\"id\": {\"S\": \"x\"}}");
  }
  core::Result<Value> item = DecodeItem(object, path, only);
  if (!item.ok()) return item.status();
  *out = std::move(item).value();
  return Status::Ok();
}

Status ReadStringField(ondemand::value& json, const AttributePath& path, std::string* out) {
  if (auto error = ReadString(json, *out)) return JsonError(path, error, "must be a string");
  return Status::Ok();
}

// Fails when anything but whitespace follows the top-level value.
Status CheckAtEnd(ondemand::document& document, const AttributePath& root) {
  const char* trailing = nullptr;
  if (document.current_location().get(trailing) == simdjson::SUCCESS) {
    return PathError(root, "unexpected content after the response object");
  }
  return Status::Ok();
}

// Starts parsing a response body: `document` over `input`, `top` its root object.
Status OpenResponse(ondemand::parser& parser, simdjson::padded_string_view input, const AttributePath& root,
                    ondemand::document& document, ondemand::object& top) {
  if (auto error = parser.iterate(input).get(document)) return JsonError(root, error, "expected a JSON object");
  if (auto error = document.get_object().get(top)) return JsonError(root, error, "expected a JSON object");
  return Status::Ok();
}

// Calls on_field(key, value) for each field of `object` (a malformed one is `message` at `path`)
// and stops at the first error it returns.
template <typename OnField>
Status ForEachField(ondemand::object& object, const AttributePath& path, const char* message, OnField&& on_field) {
  for (auto field_result : object) {
    if (auto error = field_result.error()) return JsonError(path, error, message);
    ondemand::field& field = field_result.value_unsafe();
    DDB2PG_RETURN_IF_ERROR(on_field(field.key(), field.value()));
  }
  return Status::Ok();
}

// Calls on_element(element, element_path) for each element of the array `value` (not an array:
// "must be an array" at `path`; a malformed element: `bad_element` at its path), stopping at the
// first error it returns.
template <typename OnElement>
Status ForEachElement(ondemand::value& value, const AttributePath& path, const char* bad_element,
                      OnElement&& on_element) {
  ondemand::array array;
  if (auto error = value.get_array().get(array)) return JsonError(path, error, "must be an array");
  size_t index = 0;
  for (auto element_result : array) {
    const AttributePath element_path = path.Index(index++);
    if (auto error = element_result.error()) return JsonError(element_path, error, bad_element);
    DDB2PG_RETURN_IF_ERROR(on_element(element_result.value_unsafe(), element_path));
  }
  return Status::Ok();
}

// Parses a response body: its top-level object's fields go to on_field(key, value) (see
// ForEachField), and nothing but whitespace may follow the object.
template <typename OnField>
Status ParseResponse(ondemand::parser& parser, simdjson::padded_string_view input, const AttributePath& root,
                     OnField&& on_field) {
  ondemand::document document;
  ondemand::object top;
  DDB2PG_RETURN_IF_ERROR(OpenResponse(parser, input, root, document, top));
  DDB2PG_RETURN_IF_ERROR(ForEachField(top, root, "expected a JSON object", on_field));
  return CheckAtEnd(document, root);
}

// ---- Scan ----

Status ParseScan(ondemand::parser& parser, simdjson::padded_string_view input, const AttributeSelection* only,
                 ScanPage* page) {
  static const AttributePath kRoot{nullptr, "Scan", AttributePath::kNoIndex};
  static const AttributePath kItems{nullptr, "Scan: Items", AttributePath::kNoIndex};
  static const AttributePath kLastKey{nullptr, "Scan: LastEvaluatedKey", AttributePath::kNoIndex};
  static const AttributePath kScanned{nullptr, "Scan: ScannedCount", AttributePath::kNoIndex};
  static const AttributePath kCount{nullptr, "Scan: Count", AttributePath::kNoIndex};
  static const AttributePath kCapacity{nullptr, "Scan: ConsumedCapacity", AttributePath::kNoIndex};

  page->response_bytes = input.size();
  return ParseResponse(parser, input, kRoot, [&](const ondemand::raw_json_string key, ondemand::value& value) -> Status {
    if (key == "Items") {
      if (page->items.capacity() == 0) {
        // Count usually precedes Items; otherwise guess from the size (an item is rarely < 64 bytes).
        page->items.reserve(std::min<size_t>(input.size() / 64 + 1, 1000));
      }
      return ForEachElement(value, kItems, "bad item", [&](ondemand::value& element, const AttributePath& item_path) {
        Value item;
        DDB2PG_RETURN_IF_ERROR(ReadItem(element, item_path, &item, only));
        page->items.push_back(std::move(item));
        return Status::Ok();
      });
    } else if (key == "Count") {
      int64_t count = 0;
      if (auto error = value.get_int64().get(count)) return JsonError(kCount, error, "must be an integer");
      if (count > 0 && page->items.empty()) page->items.reserve(static_cast<size_t>(std::min<int64_t>(count, 100000)));
    } else if (key == "ScannedCount") {
      if (auto error = value.get_int64().get(page->scanned_count)) {
        return JsonError(kScanned, error, "must be an integer");
      }
    } else if (key == "LastEvaluatedKey") {
      Value last_key;
      DDB2PG_RETURN_IF_ERROR(ReadItem(value, kLastKey, &last_key));
      page->last_evaluated_key = std::move(last_key);
    } else if (key == "ConsumedCapacity") {
      ondemand::object capacity;
      if (auto error = value.get_object().get(capacity)) return JsonError(kCapacity, error, "must be an object");
      return ForEachField(capacity, kCapacity, "must be an object",
                          [&](const ondemand::raw_json_string capacity_key, ondemand::value& units) -> Status {
                            if (capacity_key != "CapacityUnits") return Status::Ok();
                            if (auto error = units.get_double().get(page->consumed_capacity_units)) {
                              return JsonError(kCapacity.Field("CapacityUnits"), error, "must be a number");
                            }
                            return Status::Ok();
                          });
    }
    return Status::Ok();
  });
}

// ---- GetRecords ----

// The record's ApproximateCreationDateTime in ms, read ahead of the other fields (it may follow the
// images); nullopt when absent or malformed (the full pass then reports it). Leaves `data` rewound.
std::optional<int64_t> PeekCreationTimeMs(ondemand::object& data) {
  std::optional<int64_t> time_ms;
  double seconds = 0;
  auto field = data.find_field_unordered("ApproximateCreationDateTime");
  if (!field.error() && !field.get_double().get(seconds) && std::isfinite(seconds) && seconds >= 0 && seconds <= 1e11) {
    time_ms = std::llround(seconds * 1000.0);
  }
  bool rewound = false;
  if (data.reset().get(rewound)) return std::nullopt;
  return time_ms;
}

// `skip_before_ms`: see ParseGetRecordsResponse; *skipping is true while every record of the page
// so far was older than it.
Status ParseStreamData(ondemand::object data, const AttributePath& path, const AttributeSelection* only,
                       int64_t skip_before_ms, bool* skipping, StreamRecord* record) {
  if (*skipping) {
    // Images of a record that the reader drops unread are not decoded: skipping them in the
    // structural index costs far less than building their Values.
    const std::optional<int64_t> time_ms = PeekCreationTimeMs(data);
    record->images_skipped = time_ms.has_value() && *time_ms < skip_before_ms;
    *skipping = record->images_skipped;
  }
  bool has_keys = false;
  bool has_sequence_number = false;
  DDB2PG_RETURN_IF_ERROR(ForEachField(data, path, "must be an object", [&](const ondemand::raw_json_string key,
                                                                         ondemand::value& value) -> Status {
    if (record->images_skipped && (key == "NewImage" || key == "OldImage")) return Status::Ok();
    if (key == "NewImage") {
      Value image;
      DDB2PG_RETURN_IF_ERROR(ReadItem(value, path.Field("NewImage"), &image, only));
      record->new_image = std::move(image);
    } else if (key == "OldImage") {
      Value image;
      DDB2PG_RETURN_IF_ERROR(ReadItem(value, path.Field("OldImage"), &image, only));
      record->old_image = std::move(image);
    } else if (key == "Keys") {
      DDB2PG_RETURN_IF_ERROR(ReadItem(value, path.Field("Keys"), &record->keys));
      has_keys = true;
    } else if (key == "SequenceNumber") {
      DDB2PG_RETURN_IF_ERROR(ReadStringField(value, path.Field("SequenceNumber"), &record->sequence_number));
      // An empty one would become a position that resumes nowhere (found by fuzzing).
      if (record->sequence_number.empty()) return PathError(path.Field("SequenceNumber"), "is empty");
      has_sequence_number = true;
    } else if (key == "ApproximateCreationDateTime") {
      double seconds = 0;
      if (auto error = value.get_double().get(seconds)) {
        return JsonError(path.Field("ApproximateCreationDateTime"), error, "must be a number (epoch seconds)");
      }
      // Up to year ~5138; keeps the conversion to int64 milliseconds exact and defined.
      if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e11) {
        return PathError(path.Field("ApproximateCreationDateTime"), "is not a plausible epoch time in seconds");
      }
      record->approximate_creation_time_ms = std::llround(seconds * 1000.0);
    } else if (key == "SizeBytes") {
      if (auto error = value.get_int64().get(record->size_bytes)) {
        return JsonError(path.Field("SizeBytes"), error, "must be an integer");
      }
    }
    return Status::Ok();
  }));
  if (!has_keys) return PathError(path, "Keys is missing");
  if (!has_sequence_number) return PathError(path, "SequenceNumber is missing");
  return Status::Ok();
}

Status ParseUserIdentity(ondemand::object identity, const AttributePath& path, StreamRecord* record) {
  return ForEachField(identity, path, "must be an object",
                      [&](const ondemand::raw_json_string key, ondemand::value& value) -> Status {
                        if (key == "type") {
                          return ReadStringField(value, path.Field("type"), &record->user_identity_type);
                        }
                        if (key == "principalId") {
                          return ReadStringField(value, path.Field("principalId"), &record->user_identity_principal_id);
                        }
                        return Status::Ok();
                      });
}

Status ParseRecord(ondemand::value& json, const AttributePath& path, const AttributeSelection* only,
                   int64_t skip_before_ms, bool* skipping, StreamRecord* record) {
  ondemand::object object;
  if (auto error = json.get_object().get(object)) return JsonError(path, error, "expected a record object");
  bool has_data = false;
  DDB2PG_RETURN_IF_ERROR(ForEachField(object, path, "expected a record object", [&](const ondemand::raw_json_string key,
                                                                                 ondemand::value& value) -> Status {
    if (key == "dynamodb") {
      const AttributePath data_path = path.Field("dynamodb");
      ondemand::object data;
      if (auto error = value.get_object().get(data)) return JsonError(data_path, error, "must be an object");
      DDB2PG_RETURN_IF_ERROR(ParseStreamData(data, data_path, only, skip_before_ms, skipping, record));
      has_data = true;
    } else if (key == "eventID") {
      DDB2PG_RETURN_IF_ERROR(ReadStringField(value, path.Field("eventID"), &record->event_id));
    } else if (key == "eventName") {
      const AttributePath name_path = path.Field("eventName");
      DDB2PG_RETURN_IF_ERROR(ReadStringField(value, name_path, &record->event_name));
      const std::string& name = record->event_name;
      if (name != "MODIFY" && name != "INSERT" && name != "REMOVE") {
        return PathError(name_path, "must be INSERT, MODIFY or REMOVE, got \"" + name.substr(0, 40) + "\"");
      }
    } else if (key == "userIdentity") {
      const AttributePath identity_path = path.Field("userIdentity");
      ondemand::object identity;
      if (auto error = value.get_object().get(identity)) {
        return JsonError(identity_path, error, "must be an object");
      }
      return ParseUserIdentity(identity, identity_path, record);
    }
    return Status::Ok();
  }));
  if (record->event_name.empty()) return PathError(path, "eventName is missing");
  if (!has_data) return PathError(path, "dynamodb is missing");
  return Status::Ok();
}

Status ParseGetRecords(ondemand::parser& parser, simdjson::padded_string_view input, const AttributeSelection* only,
                       int64_t skip_before_ms, GetRecordsResult* result) {
  static const AttributePath kRoot{nullptr, "GetRecords", AttributePath::kNoIndex};
  static const AttributePath kRecords{nullptr, "GetRecords: Records", AttributePath::kNoIndex};
  static const AttributePath kIterator{nullptr, "GetRecords: NextShardIterator", AttributePath::kNoIndex};

  result->response_bytes = input.size();
  return ParseResponse(parser, input, kRoot, [&](const ondemand::raw_json_string key, ondemand::value& value) -> Status {
    if (key == "Records") {
      // A record is rarely under 256 bytes of JSON; a page holds at most 1000.
      result->records.reserve(std::min<size_t>(input.size() / 256 + 1, 1000));
      bool skipping = skip_before_ms > 0;
      return ForEachElement(value, kRecords, "expected a record object",
                            [&](ondemand::value& element, const AttributePath& record_path) {
                              return ParseRecord(element, record_path, only, skip_before_ms, &skipping,
                                                 &result->records.emplace_back());
                            });
    } else if (key == "NextShardIterator") {
      bool is_null = false;
      if (auto error = value.is_null().get(is_null)) return JsonError(kIterator, error, "must be a string or null");
      if (!is_null) {
        std::string iterator;
        DDB2PG_RETURN_IF_ERROR(ReadStringField(value, kIterator, &iterator));
        result->next_shard_iterator = std::move(iterator);
      }
    }
    return Status::Ok();
  });
}

template <typename Page, typename Pad, typename Parse>
core::Result<Page> Run(std::string_view operation, Pad pad, Parse parse, const AttributeSelection* only) {
  try {
    ParserLease lease;
    Page page;
    DDB2PG_RETURN_IF_ERROR(parse((*lease).parser, pad(*lease), only, &page));
    return page;
  } catch (const std::exception& e) {
    return InternalError(operation, e);
  }
}

}  // namespace

core::Result<ScanPage> ParseScanResponse(std::string_view body, const AttributeSelection* decode_only) {
  return Run<ScanPage>("Scan", [&](ParserState& state) { return PadCopy(state, body); }, ParseScan, decode_only);
}

core::Result<ScanPage> ParseScanResponse(std::string& body, const AttributeSelection* decode_only) {
  return Run<ScanPage>("Scan", [&](ParserState&) { return PadInPlace(body); }, ParseScan, decode_only);
}

core::Result<GetRecordsResult> ParseGetRecordsResponse(std::string_view body, const AttributeSelection* decode_only,
                                                       int64_t skip_images_before_ms) {
  return Run<GetRecordsResult>(
      "GetRecords", [&](ParserState& state) { return PadCopy(state, body); },
      [&](ondemand::parser& parser, simdjson::padded_string_view input, const AttributeSelection* only,
          GetRecordsResult* result) { return ParseGetRecords(parser, input, only, skip_images_before_ms, result); },
      decode_only);
}

core::Result<GetRecordsResult> ParseGetRecordsResponse(std::string& body, const AttributeSelection* decode_only,
                                                       int64_t skip_images_before_ms) {
  return Run<GetRecordsResult>(
      "GetRecords", [&](ParserState&) { return PadInPlace(body); },
      [&](ondemand::parser& parser, simdjson::padded_string_view input, const AttributeSelection* only,
          GetRecordsResult* result) { return ParseGetRecords(parser, input, only, skip_images_before_ms, result); },
      decode_only);
}

core::Result<StreamDescription> ParseDescribeStreamResponse(std::string_view body, const std::string& context) {
  simdjson::dom::parser parser;
  core::Result<simdjson::dom::object> found = ResponseObject(parser, body, "StreamDescription", context);
  if (!found.ok()) return found.status();
  const simdjson::dom::object stream = *found;
  StreamDescription description;
  description.stream_arn = TextField(stream, "StreamArn");
  description.stream_label = TextField(stream, "StreamLabel");
  description.stream_status = TextField(stream, "StreamStatus");
  description.stream_view_type = TextField(stream, "StreamViewType");
  description.table_name = TextField(stream, "TableName");
  description.last_evaluated_shard_id = TextField(stream, "LastEvaluatedShardId");
  simdjson::dom::array shards;
  if (stream["Shards"].get(shards) == simdjson::SUCCESS) {
    description.shards.reserve(shards.size());
    for (simdjson::dom::element element : shards) {
      simdjson::dom::object shard;
      if (element.get(shard) != simdjson::SUCCESS) continue;
      ShardDescription out;
      out.shard_id = TextField(shard, "ShardId");
      out.parent_shard_id = TextField(shard, "ParentShardId");
      simdjson::dom::object range;
      if (shard["SequenceNumberRange"].get(range) == simdjson::SUCCESS) {
        out.starting_sequence_number = TextField(range, "StartingSequenceNumber");
        out.ending_sequence_number = TextField(range, "EndingSequenceNumber");
      }
      if (out.shard_id.empty()) return Status::Internal(context + ": a shard has no ShardId");
      description.shards.push_back(std::move(out));
    }
  }
  return description;
}

}  // namespace ddb2pg::aws
