#include "core/json_writer.h"

namespace ddb2pg::core {

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(text.data() + run_start, text.size() - run_start);
  out += '"';
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (need_comma_) *out_ += ',';
}

JsonWriter& JsonWriter::Open(char bracket) {
  BeforeValue();
  *out_ += bracket;
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::Close(char bracket) {
  *out_ += bracket;
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::BeginObject() { return Open('{'); }
JsonWriter& JsonWriter::EndObject() { return Close('}'); }
JsonWriter& JsonWriter::BeginArray() { return Open('['); }
JsonWriter& JsonWriter::EndArray() { return Close(']'); }

JsonWriter& JsonWriter::Key(std::string_view key) {
  if (need_comma_) *out_ += ',';
  AppendJsonString(*out_, key);
  *out_ += ':';
  after_key_ = true;
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(*out_, value);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::RawNumber(std::string_view text) {
  BeforeValue();
  *out_ += text;
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) { return RawNumber(std::to_string(value)); }

JsonWriter& JsonWriter::Bool(bool value) { return RawNumber(value ? "true" : "false"); }

JsonWriter& JsonWriter::Null() { return RawNumber("null"); }

}  // namespace ddb2pg::core
