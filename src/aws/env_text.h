// Small text helpers the credential and shared-config readers share: ASCII lower-casing and the
// SDKs' rule that an empty environment variable counts as unset.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>

#include "aws/credentials.h"

namespace ddb2pg::aws {

inline std::string ToLower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

// The variable's value, or nullopt when it is unset or empty.
inline std::optional<std::string> Env(const EnvLookup& env, const std::string& name) {
  std::optional<std::string> value = env(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

}  // namespace ddb2pg::aws
