#include "core/value_json.h"

#include "core/base64.h"

namespace ddb2pg::core {

void WriteAttributeValue(JsonWriter& writer, const Value& value) {
  writer.BeginObject().Key(TypeDescriptor(value.type()));
  switch (value.type()) {
    case ValueType::kNull: writer.Bool(true); break;
    case ValueType::kBool: writer.Bool(value.as_bool()); break;
    case ValueType::kString: writer.String(value.as_string()); break;
    case ValueType::kNumber: writer.String(value.number_text()); break;
    case ValueType::kBinary: writer.String(Base64Encode(value.binary())); break;
    case ValueType::kMap: WriteItem(writer, value); break;
    case ValueType::kList:
      writer.BeginArray();
      for (const auto& item : value.list()) WriteAttributeValue(writer, item);
      writer.EndArray();
      break;
    case ValueType::kStringSet:
    case ValueType::kNumberSet:
      writer.BeginArray();
      for (const auto& item : value.set()) writer.String(item);
      writer.EndArray();
      break;
    case ValueType::kBinarySet:
      writer.BeginArray();
      for (const auto& item : value.set()) writer.String(Base64Encode(item));
      writer.EndArray();
      break;
  }
  writer.EndObject();
}

void WriteItem(JsonWriter& writer, const Value& item) {
  writer.BeginObject();
  for (const auto& [name, value] : item.map()) {
    writer.Key(name);
    WriteAttributeValue(writer, value);
  }
  writer.EndObject();
}

std::string ItemToJson(const Value& item) {
  std::string out;
  JsonWriter writer(&out);
  WriteItem(writer, item);
  return out;
}

}  // namespace ddb2pg::core
