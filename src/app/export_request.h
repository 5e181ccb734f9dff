// RequestExport: the export a source's snapshot is taken from when ddb2pg requests it
// (snapshot.from: export with snapshot.export.s3_bucket), made or found before the source's
// runtime starts, on that source's thread.
//
//   1. A source already seeded keeps what it has: the manifest stored when its export completed
//      (its unread data files are still read from it), or none when it was seeded by a Scan.
//   2. Otherwise the export time (now, whole seconds) is stored first, unless one is stored
//      (ExportRequestSql::Begin): a restart or a second runner derives the same ClientToken from it
//      and gets the same export. A stored ARN is polled rather than requested again.
//   3. ExportTableToPointInTime, then DescribeExport with backoff (ExportRequester); every poll is
//      stored (status) and passed to `on_progress` (the status page).
//
// Returns the manifest URI (s3://bucket/…/manifest-summary.json), "" for a source seeded without
// an export, kCancelled once `stop` turns true, kFailedPrecondition for point-in-time recovery off
// (naming the fix) or an export that FAILED.
// Thread-safety: one call per source at a time; `on_progress` is called on the caller's thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "app/wiring.h"
#include "core/status.h"
#include "source/export_requester.h"

namespace ddb2pg::app {

core::Result<std::string> RequestExport(const SourceWiring& source, const std::string& conninfo,
                                        const std::function<void(const std::string& progress)>& on_progress,
                                        const std::atomic<bool>& stop, source::ExportRequesterOptions options = {});

// One line for an export's state: "<status> <arn>, export time <UTC>, <n> items, <bytes>, <polls> polls".
std::string ExportProgressLine(const std::string& status, const std::string& arn, int64_t export_time_ms,
                               int64_t items, int64_t bytes, int polls);

}  // namespace ddb2pg::app
