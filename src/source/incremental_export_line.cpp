#include "source/incremental_export_line.h"

#include <simdjson.h>

#include <charconv>
#include <utility>

#include "aws/attribute_codec.h"

namespace ddb2pg::source {
namespace {

// WriteTimestampMicros as {"N":"…"} (what AWS writes) or a bare number.
bool ReadMicros(simdjson::ondemand::value value, int64_t& micros) {
  simdjson::ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return false;
  if (type == simdjson::ondemand::json_type::number) return value.get_int64().get(micros) == simdjson::SUCCESS;
  simdjson::ondemand::object object;
  std::string_view digits;
  if (value.get_object().get(object) != simdjson::SUCCESS ||
      object.find_field("N").get_string().get(digits) != simdjson::SUCCESS) {
    return false;
  }
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), micros);
  return error == std::errc() && end == digits.data() + digits.size();
}

}  // namespace

core::Result<core::Record> IncrementalExportLine::Decode(std::string_view line, size_t capacity,
                                                         const std::vector<std::string>& key_names,
                                                         const aws::AttributeSelection* decode_only,
                                                         const std::string& table, const std::string& where) {
  const auto bad = [&](const std::string& what) {
    return core::Status::DataError(where + ": " + what +
                                   " (expected an incremental export line: {\"Metadata\":{\"WriteTimestampMicros\":…},"
                                   "\"Keys\":{…},\"NewImage\":{…},\"OldImage\":{…}})");
  };
  thread_local simdjson::ondemand::parser parser;
  simdjson::ondemand::document document;
  simdjson::ondemand::object root;
  if (parser.iterate(simdjson::padded_string_view(line.data(), line.size(), capacity)).get(document) !=
          simdjson::SUCCESS ||
      document.get_object().get(root) != simdjson::SUCCESS) {
    return bad("not a JSON object");
  }
  core::Record record;
  record.metadata.table = table;
  bool have_keys = false, have_time = false;
  for (auto field_result : root) {
    simdjson::ondemand::field field;
    std::string_view name;
    if (std::move(field_result).get(field) != simdjson::SUCCESS || field.unescaped_key().get(name) != simdjson::SUCCESS) {
      return bad("malformed JSON");
    }
    if (name == "Metadata") {
      simdjson::ondemand::object metadata;
      simdjson::ondemand::value micros_value;
      int64_t micros = 0;
      if (field.value().get_object().get(metadata) != simdjson::SUCCESS ||
          metadata.find_field_unordered("WriteTimestampMicros").get(micros_value) != simdjson::SUCCESS ||
          !ReadMicros(micros_value, micros)) {
        return bad("Metadata has no WriteTimestampMicros");
      }
      record.metadata.change_time_ms = micros / 1000;
      have_time = true;
      continue;
    }
    const bool keys = name == "Keys", new_image = name == "NewImage", old_image = name == "OldImage";
    if (!keys && !new_image && !old_image) continue;  // a field a later format adds
    simdjson::ondemand::object object;
    if (field.value().get_object().get(object) != simdjson::SUCCESS) return bad(std::string(name) + " is not an object");
    const aws::AttributePath path{nullptr, name};
    auto decoded = aws::DecodeItem(object, path, keys ? nullptr : decode_only);
    if (!decoded.ok()) return core::Status::DataError(where + ": " + decoded.status().message());
    if (keys) {
      record.key = std::move(decoded).value();
      have_keys = true;
    } else if (new_image) {
      record.after = std::move(decoded).value();
    } else {
      record.before = std::move(decoded).value();
    }
  }
  if (!have_keys) return bad("no Keys");
  if (!have_time) return bad("no Metadata");
  for (const auto& key_name : key_names) {
    if (record.key.Find(key_name) == nullptr) return bad("Keys has no key attribute " + key_name);
  }
  record.operation = !record.after ? core::Operation::kDelete
                     : record.before ? core::Operation::kUpdate
                                     : core::Operation::kCreate;
  return record;
}

}  // namespace ddb2pg::source
