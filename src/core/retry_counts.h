// RetryCounts: how many retries a client made, by the kind of error that caused them. The AWS
// clients' aws::RetryStats implements it; pipeline::Metrics reads it at each scrape
// (ddb2pg_aws_retries_total), so the pipeline layer needs no AWS code.
//
// Implementations must be safe to read from any thread while the client counts.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace ddb2pg::core {

// How many StatusCodes there are (kInternal is the last).
inline constexpr size_t kStatusCodeCount = static_cast<size_t>(StatusCode::kInternal) + 1;

class RetryCounts {
 public:
  virtual ~RetryCounts() = default;
  virtual uint64_t retries(StatusCode cause) const = 0;
};

}  // namespace ddb2pg::core
