// The narrow read interfaces the source depends on. DynamoDbClient and StreamsClient implement
// them over HTTP; unit tests of the source implement them with scripted fakes.
//
// Errors: retryable failures are retried inside the implementation up to its deadline; what
// comes back is final for the caller. Streams-specific failures come back as
// StatusCode::kExpiredIterator and StatusCode::kTrimmedData.
// Thread-safety: implementations are safe to call from several threads at once.
#pragma once

#include <string>

#include "aws/dynamodb_types.h"
#include "core/status.h"

namespace ddb2pg::aws {

class TableApi {
 public:
  virtual ~TableApi() = default;
  virtual core::Result<TableDescription> DescribeTable(const std::string& table_name) = 0;
  virtual core::Result<ScanPage> Scan(const ScanRequest& request) = 0;
};

class StreamsApi {
 public:
  virtual ~StreamsApi() = default;
  virtual core::Result<StreamDescription> DescribeStream(const DescribeStreamRequest& request) = 0;
  virtual core::Result<std::string> GetShardIterator(const std::string& stream_arn, const std::string& shard_id,
                                                     ShardIteratorType type,
                                                     const std::string& sequence_number) = 0;
  // `decode_only`: the image attributes to decode (null: all); Keys are always whole.
  // `skip_images_before_ms` (0: none): the page's leading records older than it come without
  // images (StreamRecord::images_skipped; see ParseGetRecordsResponse) — for a reader that drops them.
  virtual core::Result<GetRecordsResult> GetRecords(const std::string& shard_iterator, int limit,
                                                    const AttributeSelection* decode_only = nullptr,
                                                    int64_t skip_images_before_ms = 0) = 0;
};

}  // namespace ddb2pg::aws
