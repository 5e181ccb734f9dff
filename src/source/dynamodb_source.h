// DynamoDbSource: one DynamoDB table as a stream of core::Records — a parallel snapshot, then
// every change from DynamoDB Streams in shard-lineage order, resumable from an exact position.
//
// Hand-off (docs/consistency.md): Start() checks the stream (NEW_AND_OLD_IMAGES), pins its ARN
// and lists its shards before the Scan begins; only after every segment is done are the shards
// read, from TRIM_HORIZON (or the saved sequence number), so every change made during the scan
// arrives after the scanned rows. The target is eventually equal to the table.
//
// Output: records go to ONE queue in an order where folding their core::Position in queue order
// (SourcePosition::Fold) is always correct; see source_position.h for what each position means.
// Per item, changes arrive in modification order: a child shard is read only after its parent's
// final marker was pushed. Snapshot segments and unrelated shards interleave freely.
//
// Ownership: the source borrows the APIs, the clock and the queue; all must outlive it (Stop()
// or destruction joins every thread). The source closes the queue when it stops: on Stop(), and
// on a fatal error (consumers drain what is left, get nullopt, then read status()).
//
// Thread-safety: Start() once, from one thread. Stop(), WaitForError(), status() and progress()
// are safe from any thread, also concurrently with the reader threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "aws/dynamodb_api.h"
#include "core/bounded_queue.h"
#include "core/clock.h"
#include "core/record.h"
#include "core/status.h"
#include "source/source_options.h"
#include "source/source_position.h"

namespace ddb2pg::source {

struct ShardProgress {
  std::string shard_id;
  std::string parent_shard_id;
  std::string last_sequence_number;  // last emitted; empty: none yet
  int64_t last_change_time_ms = 0;   // ApproximateCreationDateTime of the last record; 0: none
  bool finished = false;
};

struct SourceProgress {
  // Snapshot.
  bool snapshot_complete = false;
  int segments_total = 0;
  int segments_done = 0;
  int64_t snapshot_items = 0;        // items emitted by this run's Scan
  int64_t item_count_estimate = 0;   // DescribeTable ItemCount (refreshed by AWS about every 6 h)
  double snapshot_items_per_second = 0;  // this run's average
  // Stream.
  int64_t stream_records = 0;        // change records emitted by this run
  int shards_active = 0;             // being read (eligible: parents finished)
  int shards_waiting = 0;            // discovered, parent not finished yet
  int shards_finished = 0;           // fully read (this run or before, per the position)
  std::vector<ShardProgress> shards; // shards known to this run
};

class DynamoDbSource {
 public:
  // Enables NEW_AND_OLD_IMAGES on a table (src/app wires it to UpdateTable). Used only with
  // options.enable_stream.
  using StreamEnabler = std::function<core::Status(const std::string& table_name)>;

  DynamoDbSource(SourceOptions options, aws::TableApi& table_api, aws::StreamsApi& streams_api,
                 const core::Clock& clock);
  ~DynamoDbSource();  // Stop()s
  DynamoDbSource(const DynamoDbSource&) = delete;
  DynamoDbSource& operator=(const DynamoDbSource&) = delete;

  void SetStreamEnabler(StreamEnabler enabler) { stream_enabler_ = std::move(enabler); }

  // Validates and starts the reader threads; returns once they run. `saved_position` is a
  // SourcePosition::Serialize() string (nullopt: fresh start). Errors (nothing started):
  //   kInvalidArgument: unparsable position; the table has no stream or not NEW_AND_OLD_IMAGES
  //                     (the message names the fix); bad options.
  //   kNotFound:        the table does not exist.
  //   kTrimmedData:     the saved position's stream ARN is not the table's stream any more and
  //                     on_trimmed is stop (with resnapshot the source starts over instead).
  //   others:           from DescribeTable / DescribeStream.
  core::Status Start(std::optional<std::string> saved_position, core::BoundedQueue<core::Record>* out);

  // Stops promptly: signals every thread, closes the output queue (wakes a producer blocked on a
  // full queue), joins. Records already in the queue stay there. Safe to call twice.
  void Stop();

  // Blocks until a fatal error (returned) or Stop() (returns Ok).
  core::Status WaitForError();
  // The fatal error so far; Ok while healthy. Fatal: lost data (trimmed, ARN changed, a shard
  // with unread changes gone) under on_trimmed=stop, or a non-retryable API error.
  core::Status status() const;
  SourceProgress progress() const;

 private:
  struct State;  // everything the threads share; defined in the .cpp

  void Run();  // the main thread: snapshot, then stream; loops on resnapshot

  SourceOptions options_;
  aws::TableApi& table_api_;
  aws::StreamsApi& streams_api_;
  const core::Clock& clock_;
  StreamEnabler stream_enabler_;
  std::unique_ptr<State> state_;
  std::thread main_thread_;
};

}  // namespace ddb2pg::source
