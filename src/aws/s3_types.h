// The plain values S3Client's calls take and return.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ddb2pg::aws {

// An inclusive byte range of an object, as in the HTTP Range header "bytes=first-last".
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;
};

struct S3ObjectInfo {
  std::string key;
  uint64_t size = 0;          // bytes of the whole object
  std::string etag;           // without the quotes S3 puts around it
  std::string last_modified;  // as S3 wrote it (ISO 8601 in listings, RFC 1123 in headers)
};

struct S3Object {
  std::string body;     // the bytes asked for: the whole object, or the range
  S3ObjectInfo info;    // size is the whole object's, also for a range (from Content-Range)
};

struct S3ListPage {
  std::vector<S3ObjectInfo> objects;
  bool is_truncated = false;
  std::string next_continuation_token;  // non-empty when is_truncated
};

}  // namespace ddb2pg::aws
