#include "config/env_substitution.h"

namespace ddb2pg::config {
namespace {

bool IsNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

}  // namespace

core::Result<std::string> SubstituteEnv(std::string_view text, const EnvLookup& env) {
  if (text.find('$') == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$' || i + 1 == text.size()) {
      out.push_back(c);
      ++i;
      continue;
    }
    const char next = text[i + 1];
    if (next == '$') {
      out.push_back('$');
      i += 2;
      continue;
    }
    if (next != '{') {
      out.push_back(c);
      ++i;
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return core::Status::InvalidArgument(
          "unterminated '${' (write '$${' for a literal '${')");
    }
    const std::string_view inner = text.substr(i + 2, close - i - 2);
    size_t name_end = 0;
    while (name_end < inner.size() && IsNameChar(inner[name_end])) ++name_end;
    const std::string name(inner.substr(0, name_end));
    if (name.empty() || !IsNameStart(name[0])) {
      std::string message = "invalid variable reference '${";
      message.append(inner);
      message.append("}': expected ${NAME} or ${NAME:-default}");
      return core::Status::InvalidArgument(std::move(message));
    }
    const std::string_view rest = inner.substr(name_end);
    const bool has_default = rest.substr(0, 2) == ":-";
    if (!rest.empty() && !has_default) {
      std::string message = "invalid variable reference '${";
      message.append(inner);
      message.append("}': expected ${NAME} or ${NAME:-default}");
      return core::Status::InvalidArgument(std::move(message));
    }
    const std::optional<std::string> value = env ? env(name) : std::nullopt;
    if (has_default) {
      if (value && !value->empty()) {
        out.append(*value);
      } else {
        out.append(rest.substr(2));
      }
    } else if (value) {
      out.append(*value);
    } else {
      std::string message = "environment variable ";
      message.append(name);
      message.append(" is not set (write ${");
      message.append(name);
      message.append(":-} to allow it to be unset, or ${");
      message.append(name);
      message.append(":-default} for a default)");
      return core::Status::InvalidArgument(std::move(message));
    }
    i = close + 1;
  }
  return out;
}

}  // namespace ddb2pg::config
