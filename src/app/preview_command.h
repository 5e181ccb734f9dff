// `ddb2pg preview`: reads live items (one Scan page, or the stream's latest records) and prints,
// per item, the row each pipeline would write and every dead-letter reason — without touching
// PostgreSQL, so a mapping can be tried before `init-schema` (what the Conduit deployment's
// `log` destination and stream inspector were used for).
//
// It uses the wired DynamoDB / Streams clients and the compiled MappingPlans directly, not the
// pipeline runtime: no checkpoint, no batching, no database connection.
// Thread-safety: single-threaded; one call per command.
#pragma once

#include <cstdio>
#include <string>

#include "app/wiring.h"
#include "core/status.h"

namespace ddb2pg::app {

enum class PreviewFrom { kScan, kStream };
enum class PreviewFormat { kTable, kJson };

struct PreviewOptions {
  std::string pipeline;                     // empty: every pipeline
  int limit = 10;                           // items (Scan) or records (stream) per source
  PreviewFrom from = PreviewFrom::kScan;
  PreviewFormat format = PreviewFormat::kTable;
};

// Reads and maps; writes the report to `out`. Errors: an unknown pipeline (InvalidArgument
// naming it and the ones that exist), DynamoDB errors (with the operation and table).
core::Status RunPreview(Wiring& wiring, const PreviewOptions& options, std::FILE* out);

}  // namespace ddb2pg::app
