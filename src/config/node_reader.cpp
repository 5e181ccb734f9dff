#include "config/node_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>

#include "config/env_substitution.h"
#include "core/text.h"

namespace ddb2pg::config {
namespace {

using core::Lower;
using core::Trim;

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// A short form of a user's value for messages (never used for secret keys).
std::string Quote(std::string_view text) {
  std::string out = "'";
  if (text.size() > 40) {
    out.append(text.substr(0, 40));
    out.append("…");
  } else {
    out.append(text);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

std::string JoinNames(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out.append(", ");
    out.append(name);
  }
  return out;
}

std::string ClosestName(std::string_view word, const std::vector<std::string_view>& candidates) {
  const std::string lower = Lower(word);
  std::string best;
  size_t best_distance = 0;
  for (std::string_view candidate : candidates) {
    const size_t distance = EditDistance(lower, Lower(candidate));
    if (best.empty() || distance < best_distance) {
      best = std::string(candidate);
      best_distance = distance;
    }
  }
  // One edit in short words, two in longer ones: beyond that it is not a typo.
  const size_t allowed = word.size() <= 4 ? 1 : 2;
  if (best.empty() || best_distance > allowed) return {};
  if (best_distance == 0 && best == word) return {};  // an exact match is no suggestion
  return best;
}

std::string NodeReader::Join(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out = path;
  out.push_back('.');
  out.append(key);
  return out;
}

std::string NodeReader::Describe(const std::string& path) {
  return path.empty() ? std::string("the top level") : path;
}

bool NodeReader::CheckMap(const YAML::Node& node, const std::string& path,
                          const std::vector<std::string_view>& known) {
  if (!node.IsMap()) {
    std::string message = path.empty() ? std::string("the file") : path;
    message.append(": expected a mapping of ");
    message.append(JoinNames(known));
    diagnostics_.Error(node.Mark(), std::move(message));
    return false;
  }
  std::map<std::string, int, std::less<>> seen;  // key → 1-based line of its first use
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key_node = it->first;  // a copy: it-> yields a temporary proxy
    if (!key_node.IsScalar()) {
      diagnostics_.Error(key_node.Mark(), "keys in " + Describe(path) + " must be plain names");
      continue;
    }
    const std::string& key = key_node.Scalar();
    auto [where, inserted] = seen.emplace(key, key_node.Mark().line + 1);
    if (!inserted) {
      std::string message = "duplicate key '";
      message.append(key);
      message.append("' in ");
      message.append(Describe(path));
      message.append(" (first at line ");
      message.append(std::to_string(where->second));
      message.push_back(')');
      diagnostics_.Error(key_node.Mark(), std::move(message));
      continue;
    }
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = "unknown key '";
    message.append(key);
    message.append("' in ");
    message.append(Describe(path));
    message.append(" (known: ");
    message.append(JoinNames(known));
    message.push_back(')');
    const std::string suggestion = ClosestName(key, known);
    if (!suggestion.empty()) {
      message.append("; did you mean '");
      message.append(suggestion);
      message.append("'?");
    }
    diagnostics_.Error(key_node.Mark(), std::move(message));
  }
  return true;
}

std::optional<std::string> NodeReader::Text(const YAML::Node& node, const std::string& path) {
  if (node.IsNull()) return std::string();
  if (!node.IsScalar()) {
    diagnostics_.Error(node.Mark(), path + ": expected a single value, not a " +
                                        (node.IsMap() ? "mapping" : "list"));
    return std::nullopt;
  }
  core::Result<std::string> text = SubstituteEnv(node.Scalar(), env_);
  if (!text.ok()) {
    diagnostics_.Error(node.Mark(), path + ": " + text.status().message());
    return std::nullopt;
  }
  return std::move(text).value();
}

std::optional<YAML::Node> NodeReader::Get(const YAML::Node& map, std::string_view key,
                                          const std::string& path, bool required) {
  if (map.IsMap()) {
    const YAML::Node value = map[std::string(key)];
    if (value && !value.IsNull()) return value;
  }
  if (required) {
    std::string message = Describe(path);
    message.append(": missing required key '");
    message.append(key);
    message.push_back('\'');
    diagnostics_.Error(map.Mark(), std::move(message));
  }
  return std::nullopt;
}

bool NodeReader::String(const YAML::Node& map, std::string_view key, const std::string& path,
                        std::string* out, bool required) {
  const std::optional<YAML::Node> node = Get(map, key, path, required);
  if (!node) return !required;
  std::optional<std::string> text = Text(*node, Join(path, key));
  if (!text) return false;
  *out = std::move(*text);
  return true;
}

std::optional<bool> NodeReader::ParseBool(std::string_view text) {
  const std::string lower = Lower(Trim(text));
  if (lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "no" || lower == "off") return false;
  return std::nullopt;
}

std::optional<int64_t> NodeReader::ParseInt(std::string_view text) {
  text = Trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<int64_t> NodeReader::ParseBytes(std::string_view text) {
  text = Trim(text);
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0) return std::nullopt;
  const std::optional<int64_t> number = ParseInt(text.substr(0, digits));
  if (!number) return std::nullopt;
  const std::string unit = Lower(Trim(text.substr(digits)));
  int64_t multiplier = 0;
  if (unit.empty() || unit == "b") multiplier = 1;
  else if (unit == "kb") multiplier = 1000;
  else if (unit == "kib") multiplier = 1024;
  else if (unit == "mb") multiplier = 1000 * 1000;
  else if (unit == "mib") multiplier = 1024 * 1024;
  else if (unit == "gb") multiplier = 1000 * 1000 * 1000;
  else if (unit == "gib") multiplier = int64_t{1024} * 1024 * 1024;
  else return std::nullopt;
  if (*number > INT64_MAX / multiplier) return std::nullopt;
  return *number * multiplier;
}

template <typename T, typename Parse, typename Hint>
bool NodeReader::Parsed(const YAML::Node& map, std::string_view key, const std::string& path, T* out,
                        const Parse& parse, const std::string& expected, const Hint& hint) {
  const std::optional<YAML::Node> node = Get(map, key, path, false);
  if (!node) return true;
  const std::string key_path = Join(path, key);
  const std::optional<std::string> text = Text(*node, key_path);
  if (!text) return false;
  const std::optional<T> value = parse(*text);
  if (!value) {
    diagnostics_.Error(node->Mark(), key_path + ": expected " + expected + ", got " + Quote(*text) + hint(*text));
    return false;
  }
  *out = *value;
  return true;
}

namespace {

std::string NoHint(const std::string&) { return ""; }

std::string Range(int64_t min, int64_t max) { return "from " + std::to_string(min) + " to " + std::to_string(max); }

// `parse`'s value when it is within [min, max], as an int.
template <typename Parse>
auto IntWithin(const Parse& parse, int64_t min, int64_t max) {
  return [=](const std::string& text) -> std::optional<int> {
    const std::optional<int64_t> value = parse(text);
    if (!value || *value < min || *value > max) return std::nullopt;
    return static_cast<int>(*value);
  };
}

}  // namespace

bool NodeReader::Int(const YAML::Node& map, std::string_view key, const std::string& path,
                     int* out, int64_t min, int64_t max) {
  return Parsed(map, key, path, out, IntWithin(&NodeReader::ParseInt, min, max), "an integer " + Range(min, max),
                NoHint);
}

bool NodeReader::Bytes(const YAML::Node& map, std::string_view key, const std::string& path,
                       int* out, int64_t min, int64_t max) {
  return Parsed(map, key, path, out, IntWithin(&NodeReader::ParseBytes, min, max),
                "a size in bytes " + Range(min, max) + " (units B, kB, KiB, MB, MiB, GB, GiB allowed)", NoHint);
}

bool NodeReader::Double(const YAML::Node& map, std::string_view key, const std::string& path,
                        double* out, double min, double max) {
  auto parse = [&](const std::string& text) -> std::optional<double> {
    const std::string_view trimmed = Trim(text);
    double value = 0;
    const auto [end, ec] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), value);
    if (trimmed.empty() || ec != std::errc() || end != trimmed.data() + trimmed.size() || !std::isfinite(value) ||
        value < min || value > max) {
      return std::nullopt;
    }
    return value;
  };
  return Parsed(map, key, path, out, parse,
                "a number " + Range(static_cast<int64_t>(min), static_cast<int64_t>(max)), NoHint);
}

bool NodeReader::Bool(const YAML::Node& map, std::string_view key, const std::string& path,
                      bool* out) {
  return Parsed(map, key, path, out, &NodeReader::ParseBool, "true or false", NoHint);
}

bool NodeReader::Choice(const YAML::Node& map, std::string_view key, const std::string& path,
                        std::string* out, const std::vector<std::string_view>& choices) {
  auto parse = [&](const std::string& text) -> std::optional<std::string> {
    const std::string lower = Lower(Trim(text));
    for (std::string_view choice : choices) {
      if (lower == choice) return std::string(choice);
    }
    return std::nullopt;
  };
  auto hint = [&](const std::string& text) -> std::string {
    const std::string suggestion = ClosestName(Lower(Trim(text)), choices);
    return suggestion.empty() ? "" : "; did you mean '" + suggestion + "'?";
  };
  return Parsed(map, key, path, out, parse, "one of " + JoinNames(choices), hint);
}

}  // namespace ddb2pg::config
