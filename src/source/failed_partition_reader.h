// FailedPartitionReader: a PartitionReader that could not start (its export manifest could not be
// read, its data file is not listed): it reads nothing and reports why through status(), as a
// reader that failed while reading does, so the lane handles both alike.
// Thread-safety: immutable; safe from any thread.
#pragma once

#include <utility>

#include "pipeline/record_source.h"

namespace ddb2pg::source {

class FailedPartitionReader final : public pipeline::PartitionReader {
 public:
  explicit FailedPartitionReader(core::Status failure) : failure_(std::move(failure)) {}
  void Stop() override {}
  core::Status status() const override { return failure_; }
  int64_t records() const override { return 0; }

 private:
  const core::Status failure_;
};

}  // namespace ddb2pg::source
