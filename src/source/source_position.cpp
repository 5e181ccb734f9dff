#include "source/source_position.h"

#include <simdjson.h>

#include <charconv>

#include "core/base64.h"
#include "core/json_writer.h"
#include "core/value_json.h"

namespace ddb2pg::source {
namespace {

core::Status Invalid(std::string message) {
  return core::Status::InvalidArgument("source position: " + message);
}

core::Result<core::Value> KeyFromObject(simdjson::dom::object object, const std::string& path) {
  core::Value key = core::Value::MakeMap();
  for (auto field : object) {
    std::string name(field.key);
    std::string where = path;
    where += '.';
    where += name;
    simdjson::dom::object attribute;
    if (field.value.get(attribute) != simdjson::SUCCESS || attribute.size() != 1) {
      return Invalid(where + ": expected one AttributeValue like {\"S\":\"…\"}");
    }
    auto type_and_text = *attribute.begin();
    std::string_view text;
    if (type_and_text.value.get(text) != simdjson::SUCCESS) {
      return Invalid(where + ": expected a string value");
    }
    if (type_and_text.key == "S") {
      key.Set(name, core::Value::String(std::string(text)));
    } else if (type_and_text.key == "N") {
      if (!core::IsValidNumber(text)) return Invalid(where + ": not a DynamoDB number");
      key.Set(name, core::Value::Number(std::string(text)));
    } else if (type_and_text.key == "B") {
      auto bytes = core::Base64Decode(text);
      if (!bytes) return Invalid(where + ": invalid base64");
      key.Set(name, core::Value::Binary(std::move(*bytes)));
    } else {
      std::string message = where;
      message += ": key attributes are S, N or B, not ";
      message += type_and_text.key;
      return Invalid(message);
    }
  }
  return key;
}

bool ParseSegmentIndex(std::string_view partition, int* index) {
  constexpr std::string_view kPrefix = "scan/";
  if (partition.size() <= kPrefix.size() || partition.substr(0, kPrefix.size()) != kPrefix) return false;
  auto [end, error] = std::from_chars(partition.data() + kPrefix.size(), partition.data() + partition.size(), *index);
  return error == std::errc() && end == partition.data() + partition.size() && *index >= 0 && *index < 1000000;
}

}  // namespace

core::Result<core::Value> ParseKeyJson(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return Invalid("key is not valid JSON");
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) return Invalid("key is not a JSON object");
  return KeyFromObject(object, "key");
}

std::string SourcePosition::SegmentPartition(int segment) { return "scan/" + std::to_string(segment); }

std::string SourcePosition::KeyOffset(const core::Value& key) { return core::ItemToJson(key); }

bool SourcePosition::empty() const {
  return stream_arn_.empty() && !snapshot_complete_ && segments_.empty() && shard_sequence_numbers_.empty() &&
         finished_shards_.empty();
}

void SourcePosition::set_segment_count(int count) { segments_.resize(static_cast<size_t>(count)); }

void SourcePosition::set_shard_sequence_number(const std::string& shard_id, const std::string& sequence_number) {
  shard_sequence_numbers_[shard_id] = sequence_number;
}

void SourcePosition::set_shard_finished(const std::string& shard_id) {
  shard_sequence_numbers_.erase(shard_id);
  finished_shards_.insert(shard_id);
}

core::Status SourcePosition::Fold(const core::Position& position) {
  const std::string& partition = position.partition;
  if (partition.empty()) return Invalid("a record position has no partition");
  // Serialize() writes these as JSON strings, which Parse() reads back only when they are UTF-8:
  // a position that could not be read back would stop the next start.
  if (!simdjson::validate_utf8(partition.data(), partition.size())) {
    return Invalid("a record position's partition is not valid UTF-8");
  }
  if (!simdjson::validate_utf8(position.offset.data(), position.offset.size())) {
    return Invalid("partition " + partition + ": the offset is not valid UTF-8");
  }
  if (partition == kStreamPartition) {
    if (position.offset.empty()) return Invalid("the stream marker carries no ARN");
    stream_arn_ = position.offset;
    return core::Status::Ok();
  }
  if (partition == kResetPartition) {
    *this = SourcePosition();
    stream_arn_ = position.offset;
    return core::Status::Ok();
  }
  if (partition == kSnapshotPartition) {
    if (position.partition_done) {
      snapshot_complete_ = true;
      segments_.clear();  // no longer needed once the whole snapshot is done
    }
    return core::Status::Ok();
  }
  int segment = 0;
  if (ParseSegmentIndex(partition, &segment)) {
    if (snapshot_complete_) return core::Status::Ok();  // a late marker of a finished snapshot
    if (static_cast<size_t>(segment) >= segments_.size()) segments_.resize(static_cast<size_t>(segment) + 1);
    Segment& state = segments_[static_cast<size_t>(segment)];
    if (!position.offset.empty()) {
      auto key = ParseKeyJson(position.offset);
      if (!key.ok()) return key.status().WithContext("segment " + partition);
      state.last_key = std::move(key).value();
    }
    if (position.partition_done) state.done = true;
    return core::Status::Ok();
  }
  // Anything else is a shard id.
  if (finished_shards_.count(partition) != 0) return core::Status::Ok();
  if (position.partition_done) {
    set_shard_finished(partition);
  } else {
    if (position.offset.empty()) return Invalid("shard " + partition + ": a record without a sequence number");
    shard_sequence_numbers_[partition] = position.offset;
  }
  return core::Status::Ok();
}

std::string SourcePosition::Serialize() const {
  std::string out;
  core::JsonWriter writer(&out);
  writer.BeginObject().Key("v").Int(kVersion);
  if (!stream_arn_.empty()) writer.Key("arn").String(stream_arn_);
  if (snapshot_complete_) writer.Key("snapshot_complete").Bool(true);
  if (!segments_.empty()) {
    writer.Key("segments").BeginArray();
    for (const Segment& segment : segments_) {
      writer.BeginObject();
      if (segment.done) writer.Key("done").Bool(true);
      if (segment.last_key) {
        writer.Key("k");
        core::WriteItem(writer, *segment.last_key);
      }
      writer.EndObject();
    }
    writer.EndArray();
  }
  if (!shard_sequence_numbers_.empty()) {
    writer.Key("shards").BeginObject();
    for (const auto& [shard_id, sequence_number] : shard_sequence_numbers_) writer.Key(shard_id).String(sequence_number);
    writer.EndObject();
  }
  if (!finished_shards_.empty()) {
    writer.Key("finished").BeginArray();
    for (const auto& shard_id : finished_shards_) writer.String(shard_id);
    writer.EndArray();
  }
  writer.EndObject();
  return out;
}

core::Result<SourcePosition> SourcePosition::Parse(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text).get(root) != simdjson::SUCCESS) {
    return Invalid("not valid JSON (expected a ddb2pg DynamoDB source position like {\"v\":1,...})");
  }
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) return Invalid("not a JSON object");
  int64_t version = 0;
  if (object["v"].get(version) != simdjson::SUCCESS) {
    return Invalid("no version field \"v\": not written by the ddb2pg DynamoDB source");
  }
  if (version != kVersion) {
    return Invalid("version " + std::to_string(version) + " is not supported (this ddb2pg reads version " +
                   std::to_string(kVersion) + ")");
  }
  SourcePosition position;
  for (auto field : object) {
    const std::string_view name = field.key;
    if (name == "v") continue;
    if (name == "arn") {
      std::string_view arn;
      if (field.value.get(arn) != simdjson::SUCCESS) return Invalid("\"arn\" must be a string");
      position.stream_arn_ = std::string(arn);
    } else if (name == "snapshot_complete") {
      bool complete = false;
      if (field.value.get(complete) != simdjson::SUCCESS) return Invalid("\"snapshot_complete\" must be a boolean");
      position.snapshot_complete_ = complete;
    } else if (name == "segments") {
      simdjson::dom::array segments;
      if (field.value.get(segments) != simdjson::SUCCESS) return Invalid("\"segments\" must be an array");
      int index = 0;
      for (auto element : segments) {
        const std::string path = "segments[" + std::to_string(index++) + "]";
        simdjson::dom::object segment_object;
        if (element.get(segment_object) != simdjson::SUCCESS) return Invalid(path + " must be an object");
        Segment segment;
        bool done = false;
        if (segment_object["done"].get(done) == simdjson::SUCCESS) segment.done = done;
        simdjson::dom::object key_object;
        auto key_field = segment_object["k"];
        if (key_field.error() == simdjson::SUCCESS) {
          if (key_field.get(key_object) != simdjson::SUCCESS) return Invalid(path + ".k must be an object");
          auto key = KeyFromObject(key_object, path + ".k");
          if (!key.ok()) return key.status();
          segment.last_key = std::move(key).value();
        }
        position.segments_.push_back(std::move(segment));
      }
    } else if (name == "shards") {
      simdjson::dom::object shards;
      if (field.value.get(shards) != simdjson::SUCCESS) return Invalid("\"shards\" must be an object");
      for (auto shard : shards) {
        std::string_view sequence_number;
        if (shard.value.get(sequence_number) != simdjson::SUCCESS) {
          return Invalid("shards." + std::string(shard.key) + " must be a sequence number string");
        }
        position.shard_sequence_numbers_[std::string(shard.key)] = std::string(sequence_number);
      }
    } else if (name == "finished") {
      simdjson::dom::array finished;
      if (field.value.get(finished) != simdjson::SUCCESS) return Invalid("\"finished\" must be an array");
      for (auto element : finished) {
        std::string_view shard_id;
        if (element.get(shard_id) != simdjson::SUCCESS) return Invalid("\"finished\" must hold shard id strings");
        position.finished_shards_.insert(std::string(shard_id));
      }
    } else {
      return Invalid("unknown field \"" + std::string(name) + "\"");
    }
  }
  return position;
}

}  // namespace ddb2pg::source
