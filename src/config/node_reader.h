// NodeReader: typed, strict reading of yaml-cpp nodes for the configuration loader.
//
// Every reader substitutes ${ENV} in scalars first (config/env_substitution.h), then converts.
// Problems are reported to the Diagnostics with the node's position and the dotted path of the
// key ("sources.users.snapshot.segments"), and reading goes on: a reader that fails leaves its
// output unchanged and returns false. Values of keys marked secret never appear in messages
// (and no reader echoes string values).
//
// Thread-safety: none; one loader owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/diagnostics.h"

namespace ddb2pg::config {

class NodeReader {
 public:
  NodeReader(Diagnostics& diagnostics, EnvLookup env)
      : diagnostics_(diagnostics), env_(std::move(env)) {}

  Diagnostics& diagnostics() { return diagnostics_; }

  // "a.b" from "a" and "b"; just "b" at the top level.
  static std::string Join(const std::string& path, std::string_view key);
  // How a path reads in messages: "sources.users" or "the top level".
  static std::string Describe(const std::string& path);

  // True when `node` is a mapping; reports it otherwise ("PATH: expected a mapping").
  // Reports every key not in `known` (with a suggestion when one is close) and every repeated
  // key; those do not make it return false.
  bool CheckMap(const YAML::Node& node, const std::string& path,
                const std::vector<std::string_view>& known);

  // The scalar's text after ${ENV} substitution; nullopt (reported) when the node is not a
  // scalar or substitution fails. A YAML null reads as "".
  std::optional<std::string> Text(const YAML::Node& node, const std::string& path);

  // Readers of `map[key]`. A missing key (or a null value) leaves `out` unchanged and returns
  // true, unless `required`, which reports "PATH: missing required key 'KEY'" at the map.
  bool String(const YAML::Node& map, std::string_view key, const std::string& path,
              std::string* out, bool required = false);
  bool Int(const YAML::Node& map, std::string_view key, const std::string& path, int* out,
           int64_t min, int64_t max);
  // A byte count: an integer with an optional unit B, kB, KiB, MB, MiB, GB, GiB.
  bool Bytes(const YAML::Node& map, std::string_view key, const std::string& path, int* out,
             int64_t min, int64_t max);
  bool Double(const YAML::Node& map, std::string_view key, const std::string& path, double* out,
              double min, double max);
  // true/false, yes/no, on/off, any case.
  bool Bool(const YAML::Node& map, std::string_view key, const std::string& path, bool* out);
  // One of `choices` (exact, lower case; the input is matched case-insensitively).
  bool Choice(const YAML::Node& map, std::string_view key, const std::string& path,
              std::string* out, const std::vector<std::string_view>& choices);

  // Parsers of already-substituted text, for callers that read a node themselves.
  static std::optional<bool> ParseBool(std::string_view text);
  static std::optional<int64_t> ParseInt(std::string_view text);
  static std::optional<int64_t> ParseBytes(std::string_view text);

 private:
  // map[key] when present and not null.
  std::optional<YAML::Node> Get(const YAML::Node& map, std::string_view key,
                                const std::string& path, bool required);
  // The scalar reader the typed ones share: map[key]'s text through `parse` (returning
  // std::optional<T>) into *out. Absent: true, *out unchanged. Refused: reports "PATH.KEY:
  // expected <expected>, got '<text>'<hint(lowered text)>" and returns false.
  template <typename T, typename Parse, typename Hint>
  bool Parsed(const YAML::Node& map, std::string_view key, const std::string& path, T* out,
              const Parse& parse, const std::string& expected, const Hint& hint);

  Diagnostics& diagnostics_;
  EnvLookup env_;
};

// "'a', 'b'" style list for messages: "a, b, c".
std::string JoinNames(const std::vector<std::string_view>& names);
// The entry of `candidates` closest to `word` by edit distance, when it is close enough to be a
// plausible typo; empty otherwise.
std::string ClosestName(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace ddb2pg::config
