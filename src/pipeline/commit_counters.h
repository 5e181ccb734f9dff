// CommitCounters: what has been committed so far — by one lane (LaneProgress), by a source's
// runtime (RuntimeProgress) or as the status page shows a source (app's SourceStatus). One set
// of fields, so the three views add up and are copied field by field in one place.
//
// A plain value; not synchronised.
#pragma once

#include <cstdint>

namespace ddb2pg::pipeline {

struct CommitCounters {
  int64_t records_committed = 0;
  int64_t rows_committed = 0;
  int64_t dead_letters = 0;
  int64_t skipped = 0;
  int64_t commits = 0;
  int64_t last_commit_unix_ms = 0;

  // Adds `other`'s counts; the newest commit time of the two.
  void Add(const CommitCounters& other) {
    records_committed += other.records_committed;
    rows_committed += other.rows_committed;
    dead_letters += other.dead_letters;
    skipped += other.skipped;
    commits += other.commits;
    if (other.last_commit_unix_ms > last_commit_unix_ms) last_commit_unix_ms = other.last_commit_unix_ms;
  }
};

}  // namespace ddb2pg::pipeline
