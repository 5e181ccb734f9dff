// ${NAME} and ${NAME:-default} substitution in configuration values.
//
// `${NAME}` is the variable's value (an error when it is unset); `${NAME:-default}` is the value,
// or `default` when the variable is unset or empty (as in the shell); `$$` is one literal `$`.
// A `$` followed by anything else is kept as is, so "pa$word" needs no escaping. The default is
// literal text up to the closing brace (no nesting).
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"
#include "core/status.h"

namespace ddb2pg::config {

// Errors are kInvalidArgument without a position (the caller adds the file, line and column),
// e.g. "environment variable DATABASE_URL is not set (write ${DATABASE_URL:-} to allow it to be
// unset)". The variable's value never appears in an error.
core::Result<std::string> SubstituteEnv(std::string_view text, const EnvLookup& env);

}  // namespace ddb2pg::config
