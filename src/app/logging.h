// Log set-up: spdlog to stderr, text (default) or one JSON object per line, with a level.
#pragma once

#include <string>

#include "core/status.h"

namespace ddb2pg::app {

// format: "text" | "json"; level: trace, debug, info, warn, error, off.
core::Status SetUpLogging(const std::string& format, const std::string& level);

}  // namespace ddb2pg::app
