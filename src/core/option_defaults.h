// The default of every tunable option, in one place.
//
// config/ fills a key the file leaves out from here (docs/config.md lists the same values), and
// the option structs of source/, sink/ and pipeline/ start from here, so code that builds
// options by hand, the tests and the daemon all agree. Change a default here and nowhere else.
#pragma once

namespace ddb2pg::core::defaults {

// sources.*.snapshot
inline constexpr int kScanSegments = 4;             // parallel Scan segments
inline constexpr int kScanPageLimit = 500;          // Scan Limit: ~1 MB of 2 KB items, as AWS pages are
inline constexpr double kMaxItemsPerSecond = 0;     // snapshot read-rate limit; 0: unlimited
// Strongly consistent Scan: every write acknowledged before the stream's watermark is in the
// Scan, which the watermark rule needs (docs/consistency.md). Costs twice the read capacity.
inline constexpr bool kScanConsistentRead = true;
// With consistent_read: false, the Scan's first request waits this long after the watermark so
// that writes acknowledged just before it have reached every replica.
inline constexpr int kWatermarkSettleMs = 1000;

// sources.*.stream
inline constexpr int kPollIntervalMs = 250;         // at a shard's tip: ≤ 4 GetRecords calls/s per shard
// A shard that keeps coming back empty waits twice as long each time, up to this: the most a
// first change after a quiet spell waits to be read (besides the runner's GetRecords ceiling).
inline constexpr int kIdlePollCeilingMs = 1000;
// While a Scan segment of the runner is being read, a quiet shard backs off up to this many times
// idle_poll_ceiling_ms: the Scan's pages and the stream's backlog get the CPU and the GetRecords
// budget that 1,000 quiet shards would otherwise spend on empty pages. A change on such a shard
// then waits up to 4 s, during a snapshot that the replica is not yet current without anyway.
inline constexpr int kIdlePollCeilingFactorWhileScanning = 4;
inline constexpr int kGetRecordsLimit = 1000;       // the service maximum
inline constexpr int kDiscoveryIntervalMs = 10000;  // new shards listed at most this often (and on shard end)
// Every shard listed this often (the pages grow with the stream's shards): what finds shards
// trimmed before they were read, and any shard the incremental listings missed.
inline constexpr int kShardFullListingMs = 600000;

// postgres.*
inline constexpr int kBatchMaxRows = 10000;
inline constexpr int kBatchMaxBytes = 16 * 1024 * 1024;
inline constexpr int kBatchMaxDelayMs = 100;        // a quiet stream still commits within this
inline constexpr bool kBinaryCopy = true;           // postgres.copy_format: binary
inline constexpr int kCommitTimeoutMs = 30000;      // a commit waiting longer is cancelled, the connection re-made

// metrics.*
inline constexpr const char* kMetricsListen = "127.0.0.1:9187";  // /metrics, /healthz, /readyz: loopback until opened
inline constexpr const char* kStatusListen = "";    // the status page: on metrics.listen while that is loopback
inline constexpr bool kStatusExposed = false;       // the status page never on a non-loopback address unless asked

// runtime.*
inline constexpr int kLanes = 0;                    // 0: the number of CPUs
inline constexpr int kLeaseTtlMs = 10000;
// A DynamoDB stream keeps 24 h of changes; an export snapshot older than this (24 h less an hour
// to read the oldest records before they are trimmed) cannot be bridged by the stream.
inline constexpr int64_t kExportMaxAgeMs = int64_t{23} * 3600 * 1000;
inline constexpr int kHeartbeatMs = 1000;
inline constexpr int kStallMs = 30000;              // records waiting this long uncommitted: /readyz 503
// Scan reader threads running at once in a runner, over every source (more segments wait their turn).
inline constexpr int kMaxScanThreads = 16;
inline constexpr int kFetchSlots = 2;               // source pages a lane's readers hold at once
// GetRecords calls a second over every shard a runner reads (every source): bounds the bill of
// many idle shards. 1,000 quiet shards at idle_poll_ceiling_ms 1000 need 1,000.
inline constexpr double kMaxGetRecordsPerSecond = 1000;
inline constexpr int kStreamReaderThreads = 16;     // the threads that read every stream shard of a runner
inline constexpr int kQueueMaxRecords = 512;        // records read but not yet mapped, per runner (shared by lanes)
inline constexpr int kQueueMaxBytes = 32 * 1024 * 1024;  // the same in bytes: 400 KB items stay bounded

}  // namespace ddb2pg::core::defaults
