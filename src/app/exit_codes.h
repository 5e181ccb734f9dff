// ddb2pg's exit codes (documented in README.md and `ddb2pg --help`).
#pragma once

#include "core/status.h"

namespace ddb2pg::app {

enum class ExitCode : int {
  kOk = 0,               // done, or stopped cleanly by SIGINT/SIGTERM
  kFailed = 1,           // the pipeline failed while running (the reason is printed), e.g. a record
                         // or row refused under on_error: stop (kDataError)
  kUsage = 2,            // bad command line or configuration file
  kCheckFailed = 3,      // validate / start-up checks found problems (table, stream, schema)
  kUnreachable = 4,      // DynamoDB or PostgreSQL unreachable, or credentials refused
  kFenced = 5,           // another runner took the checkpoint over, or a runner of an earlier
                         // release still runs it (another configuration stands by instead)
};

// The exit code a failed Status maps to. No default: a new StatusCode must choose its row of
// the README's table (tests/unit/app/exit_codes_test.cpp checks them all).
inline ExitCode ExitCodeFor(const core::Status& status) {
  switch (status.code()) {
    case core::StatusCode::kOk: return ExitCode::kOk;
    case core::StatusCode::kInvalidArgument: return ExitCode::kUsage;
    case core::StatusCode::kNotFound:
    case core::StatusCode::kFailedPrecondition: return ExitCode::kCheckFailed;
    case core::StatusCode::kUnavailable:
    case core::StatusCode::kPermissionDenied:
    case core::StatusCode::kDeadlineExceeded: return ExitCode::kUnreachable;
    case core::StatusCode::kConflict: return ExitCode::kFenced;
    case core::StatusCode::kDataError:
    case core::StatusCode::kThrottled:
    case core::StatusCode::kExpiredIterator:
    case core::StatusCode::kTrimmedData:
    case core::StatusCode::kCancelled:
    case core::StatusCode::kInternal: return ExitCode::kFailed;
  }
  return ExitCode::kFailed;
}

}  // namespace ddb2pg::app
