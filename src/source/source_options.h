// SourceOptions: how the DynamoDB source reads one table (snapshot, then stream).
//
// Mirrors config::SnapshotSettings / StreamSettings; src/app copies those into this struct. Both
// start from core/option_defaults.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/option_defaults.h"

namespace ddb2pg::source {

// Where the stream starts when there is no snapshot and no saved stream progress.
enum class StreamStartAt {
  kTrimHorizon,  // every change still in the stream (up to 24 h back)
  kLatest,       // only changes after Start() (open shards at LATEST, closed shards skipped)
};

// What to do when data was lost upstream: TrimmedDataAccessException, a shard that held
// unread changes was trimmed, or the table's stream ARN is not the pinned one any more.
enum class TrimmedPolicy {
  kStop,        // fatal error; an operator decides (e.g. drops the checkpoint to re-snapshot)
  kResnapshot,  // push a reset marker (the position starts over), scan the table again, then
                // read the new stream from TRIM_HORIZON. Rows deleted in the table while data
                // was lost are not deleted from the target: that needs a truncate by the sink.
};

struct SourceOptions {
  std::string table;  // the DynamoDB table (required)

  // --- snapshot ---
  bool snapshot_enabled = true;     // false: start from the stream only (see stream_start_at)
  int segments = core::defaults::kScanSegments;  // parallel Scan segments = threads; a saved position keeps its own count
  // Scan Limit; DynamoDB Local is ~15x faster with one than without. 500 ~ 1 MB of 2 KB items:
  // same speed as 1000 here, and each segment thread's parser and response buffers stay half the
  // size (snapshot peak RSS 62 → 50 MB).
  int page_limit = core::defaults::kScanPageLimit;
  double max_items_per_second = core::defaults::kMaxItemsPerSecond;  // snapshot read-rate limit over all segments; 0: unlimited
  bool consistent_read = core::defaults::kScanConsistentRead;  // strongly consistent Scan (2x the read capacity)
  // Eventually consistent Scan only: the wait between taking the watermark and the first Scan.
  int watermark_settle_ms = core::defaults::kWatermarkSettleMs;

  // The top-level item attributes to decode from Scan items and stream images, besides the key
  // (the union of what the source's pipelines read: MappingPlan::ImageAttributes); the others
  // are skipped unread. nullopt: decode every attribute.
  std::optional<std::vector<std::string>> decode_attributes;

  // --- stream ---
  StreamStartAt stream_start_at = StreamStartAt::kTrimHorizon;  // only without snapshot
  int poll_interval_ms = core::defaults::kPollIntervalMs;  // after a partial page (the tip); backlogs are read back to back
  // Empty pages in a row double the wait from poll_interval_ms up to this (source/shard_reader.h).
  int idle_poll_ceiling_ms = core::defaults::kIdlePollCeilingMs;
  int get_records_limit = core::defaults::kGetRecordsLimit;  // GetRecords Limit (the service maximum)
  TrimmedPolicy on_trimmed = TrimmedPolicy::kStop;
  // Opt-in: when the table has no stream, enable NEW_AND_OLD_IMAGES through the enabler passed
  // to DynamoDbRecordSource::SetStreamEnabler (TableApi is read-only). Off: Start() fails naming the fix.
  bool enable_stream = false;
};

}  // namespace ddb2pg::source
