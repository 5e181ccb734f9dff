// ObjectStoreApi: the narrow read interface to S3 that the export snapshot reads through.
// S3Client implements it over HTTP; unit tests of the source implement it with fakes.
//
// Errors: retryable failures are retried inside the implementation up to its deadline; what
// comes back is final for the caller (kNotFound for a missing object).
// Thread-safety: implementations are safe to call from several threads at once.
#pragma once

#include <optional>
#include <string>

#include "aws/s3_types.h"
#include "core/status.h"

namespace ddb2pg::aws {

class ObjectStoreApi {
 public:
  virtual ~ObjectStoreApi() = default;
  // The object, or `range` of it (S3Object::info.size is the whole object's either way).
  virtual core::Result<S3Object> GetObject(const std::string& bucket, const std::string& key,
                                           std::optional<ByteRange> range = std::nullopt) = 0;
  virtual core::Result<S3ObjectInfo> HeadObject(const std::string& bucket, const std::string& key) = 0;
};

}  // namespace ddb2pg::aws
