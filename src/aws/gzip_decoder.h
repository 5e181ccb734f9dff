// GzipDecoder: inflates a gzip stream (RFC 1952) fed in pieces, through zlib — DynamoDB export
// data files are gzip'd JSON lines, read from S3 in ranges. Concatenated members (what `cat a.gz
// b.gz` and some writers make) are read as one stream.
//
// Ownership: owns its z_stream (freed in the destructor). Not copyable.
// Thread-safety: one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ddb2pg::aws {

class GzipDecoder {
 public:
  GzipDecoder();
  ~GzipDecoder();
  GzipDecoder(const GzipDecoder&) = delete;
  GzipDecoder& operator=(const GzipDecoder&) = delete;

  // Inflates `compressed` (the next bytes of the stream) and appends what it yields to `out`.
  // kDataError for bytes that are not gzip or fail its CRC.
  core::Status Feed(std::string_view compressed, std::string& out);
  // Call after the last Feed: kDataError when the stream stopped inside a member (a truncated file).
  core::Status Finish() const;

  // The whole of `compressed`, inflated.
  static core::Result<std::string> Inflate(std::string_view compressed);

 private:
  struct Stream;
  std::unique_ptr<Stream> stream_;
  bool inside_member_ = false;  // bytes of a member were fed and its end not yet seen
};

}  // namespace ddb2pg::aws
