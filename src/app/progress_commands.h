// The commands that act on stored progress: `ddb2pg resnapshot` (read the table again into some
// or all pipelines' tables beside the stream, then remove the rows of items that no longer
// exist) and `ddb2pg reset` (forget a pipeline's or a source's progress). Both write only to
// ddb2pg's own tables; a running `ddb2pg run` picks a re-snapshot up, otherwise the next one does.
//
// Thread-safety: one call at a time (command-line use).
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include "app/wiring.h"

namespace ddb2pg::app {

// `pipeline`: only that pipeline (else every pipeline of every source). `wiring` has clients
// (a replaced stream is found with DescribeTable). Says what it scheduled on `out`.
core::Status Resnapshot(Wiring& wiring, const std::optional<std::string>& pipeline, std::FILE* out);

// Without `yes` nothing is done (kInvalidArgument says what would be forgotten). `pipeline` may
// name a pipeline no longer in the file (its stored progress is found by name). No runner may
// be running the source.
core::Status Reset(Wiring& wiring, const std::optional<std::string>& pipeline, bool yes, std::FILE* out);

}  // namespace ddb2pg::app
