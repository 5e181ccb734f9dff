// JsonWriter: appends compact JSON to a string. No DOM, no allocation beyond the output.
//
// simdjson (our parser) has no serializer, and the requests we send are small and regular, so a
// minimal writer is all that is needed. The caller is responsible for well-formed nesting;
// commas are inserted automatically.
//
// Thread-safety: one writer per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ddb2pg::core {

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  // Writes `text` as-is: the caller guarantees it is a valid JSON number.
  JsonWriter& RawNumber(std::string_view text);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();

 private:
  void BeforeValue();
  JsonWriter& Open(char bracket);   // { or [
  JsonWriter& Close(char bracket);  // } or ]

  std::string* out_;
  bool need_comma_ = false;
  bool after_key_ = false;
};

// Appends `text` as a quoted JSON string with the escapes RFC 8259 requires.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace ddb2pg::core
