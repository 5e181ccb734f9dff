// StreamsClient: the DynamoDB Streams operations — the StreamsApi the stream reader uses
// (DescribeStream, GetShardIterator, GetRecords) plus ListStreams and DescribeAllShards.
//
// Every call retries throttling and unavailability inside (RetryPolicy) and returns a final
// Status; kExpiredIterator and kTrimmedData come back as themselves, never retried. Messages
// read "<Operation> <stream ARN>: <ErrorType>: <message>"; GetRecords names the stream ARN the
// iterator belongs to (the iterator itself is long and opaque, so it is left out).
// Thread-safety: every method is safe from many threads at once (see AwsClient).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aws/aws_client.h"
#include "aws/credentials.h"
#include "aws/dynamodb_api.h"
#include "aws/dynamodb_types.h"
#include "aws/retry_policy.h"
#include "core/clock.h"
#include "core/status.h"

namespace ddb2pg::aws {

class StreamsClient final : public StreamsApi {
 public:
  // Talks to aws.streams_endpoint with aws.credentials in aws.region (signing service
  // "dynamodb"). `clock` must outlive the client. A null `stats` gives the client its own.
  StreamsClient(const ResolvedAws& aws, RetryPolicy retry, const core::Clock& clock,
                TransportFactory transports = CurlTransportFactory(), std::shared_ptr<RetryStats> stats = nullptr);

  // Every stream (of `table_name` when non-empty), following LastEvaluatedStreamArn over all pages.
  core::Result<std::vector<StreamSummary>> ListStreams(const std::string& table_name);

  // StreamsApi. One page of shards (at most request.limit, ≤ 100); ShardFilter CHILD_SHARDS
  // when request.child_shards_of is set.
  core::Result<StreamDescription> DescribeStream(const DescribeStreamRequest& request) override;
  // `sequence_number` is used by the AT_/AFTER_SEQUENCE_NUMBER types only.
  core::Result<std::string> GetShardIterator(const std::string& stream_arn, const std::string& shard_id,
                                             ShardIteratorType type, const std::string& sequence_number) override;
  // limit ≤ 1000; 0 leaves it to the service.
  core::Result<GetRecordsResult> GetRecords(const std::string& shard_iterator, int limit,
                                            const AttributeSelection* decode_only = nullptr,
                                            int64_t skip_images_before_ms = 0) override;

  // Every shard of the stream: DescribeStream from request.exclusive_start_shard_id, following
  // LastEvaluatedShardId until the last page. The result's last_evaluated_shard_id is empty.
  core::Result<StreamDescription> DescribeAllShards(const DescribeStreamRequest& request);

  RetryStats& retry_stats() const { return client_.retry_stats(); }

 private:
  AwsClient client_;
};

// "TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER".
std::string_view ShardIteratorTypeName(ShardIteratorType type);

}  // namespace ddb2pg::aws
