// StreamWatermark: where a snapshot's view of the table begins on one stream shard, stored as the
// shard's position until the shard's first record after it is committed.
//
// DynamoDbRecordSource::Seed takes a LATEST iterator on every shard open before the Scan starts
// (docs/consistency.md, "The watermark"): the records before it are changes the Scan already
// reflects and are never read; the records after it are applied. The position text is
// "watermark@<ms>:<iterator>": the runner's wall-clock time when the iterator was taken, and the
// iterator itself, which DynamoDB Streams honours for 15 minutes, so a restart or a takeover
// within that time resumes exactly. After that (or when the service no longer knows the
// iterator), the shard is read from TRIM_HORIZON and records whose ApproximateCreationDateTime is
// older than the watermark's time less kFallbackMarginMs are skipped: the margin covers the
// seconds-rounding of that time and clock skew between the runner and AWS; what it lets through
// is applied behind the snapshot fence, which is correct for any record (only slower).
// A snapshot taken from an export (export_snapshot.h) has no iterator at its hand-off, only the
// export time: "watermark@<export ms>:" (empty iterator) starts straight at that fallback.
// A gap bridged by incremental exports (on_trimmed: incremental_export) hands off at the gap's
// end, a time AWS itself cut the exports at (whole seconds): "exact@<ms>" reads from TRIM_HORIZON
// and skips exactly the records whose ApproximateCreationDateTime is before it, no margin (a
// margin would apply, after the gap's newer rows, changes the gap already holds).
//
// Plain values; thread-safe (stateless).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ddb2pg::source {

class StreamWatermark {
 public:
  static constexpr std::string_view kPrefix = "watermark@";
  // See the header comment: ApproximateCreationDateTime is rounded down to the second, the
  // watermark's time is the runner's clock; 60 s also covers hosts whose clocks drift apart by
  // up to about a minute (SigV4 itself refuses beyond 5 minutes).
  static constexpr int64_t kFallbackMarginMs = 60'000;

  static constexpr std::string_view kExactPrefix = "exact@";

  struct Parsed {
    int64_t taken_ms = 0;  // Unix milliseconds, the runner's clock
    std::string iterator;  // empty: none (an export's hand-off), read from TRIM_HORIZON
    int64_t margin_ms = kFallbackMarginMs;  // 0 for an "exact@" hand-off
  };

  static std::string Position(int64_t taken_ms, const std::string& iterator);
  // A hand-off at exactly `from_ms` (Unix ms): records before it are skipped, none after it.
  static std::string ExactPosition(int64_t from_ms);
  // nullopt: not a watermark (a sequence number, "", LATEST).
  static std::optional<Parsed> Parse(std::string_view position);
  // The oldest ApproximateCreationDateTime (Unix ms) still applied when reading from
  // TRIM_HORIZON instead of the iterator.
  static int64_t FallbackCutoffMs(int64_t taken_ms, int64_t margin_ms = kFallbackMarginMs) {
    return taken_ms - margin_ms;
  }
};

}  // namespace ddb2pg::source
