#include "sink/sql_text.h"

#include <cstdint>

namespace ddb2pg::sink {

std::string QuoteIdentifier(std::string_view name) {
  std::string quoted;
  quoted.reserve(name.size() + 2);
  quoted.push_back('"');
  for (char c : name) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

std::string QualifiedName(const model::TableSpec& table) {
  std::string name = QuoteIdentifier(table.schema);
  name.push_back('.');
  name.append(QuoteIdentifier(table.name));
  return name;
}

std::string DisplayName(const model::TableSpec& table) {
  std::string name = table.schema;
  name.push_back('.');
  name.append(table.name);
  return name;
}

std::string QuotedList(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& name : names) {
    if (!list.empty()) list.append(", ");
    list.append(QuoteIdentifier(name));
  }
  return list;
}

std::string SqlTypeName(const model::ColumnType& type) { return type.ToSql(); }

std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    AppendArrayElement(out, SanitizeText(values[i]));
  }
  out += '}';
  return out;
}

void AppendArrayElement(std::string& out, std::string_view value, bool is_null) {
  if (is_null) {
    out.append("NULL");
    return;
  }
  out.push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string SanitizeText(std::string_view text) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string clean;
  clean.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<uint8_t>(text[i]);
    if (byte == 0) {
      ++i;
      continue;
    }
    if (byte < 0x80) {
      clean.push_back(static_cast<char>(byte));
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t min_code = 0;
    if ((byte & 0xE0) == 0xC0) {
      length = 2;
      min_code = 0x80;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      min_code = 0x800;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      min_code = 0x10000;
    }
    bool valid = length != 0 && i + length <= text.size();
    uint32_t code = 0;
    if (valid) {
      code = byte & (0x7F >> length);
      for (size_t k = 1; k < length; ++k) {
        const auto next = static_cast<uint8_t>(text[i + k]);
        if ((next & 0xC0) != 0x80) {
          valid = false;
          break;
        }
        code = (code << 6) | (next & 0x3F);
      }
    }
    // Overlong forms, surrogates and code points past U+10FFFF are invalid too.
    if (valid && (code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))) valid = false;
    if (valid) {
      clean.append(text.substr(i, length));
      i += length;
    } else {
      clean.append(kReplacement);
      ++i;
    }
  }
  return clean;
}

}  // namespace ddb2pg::sink
