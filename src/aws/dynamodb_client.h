// DynamoDbClient: the DynamoDB operations ddb2pg uses — the TableApi the source reads through
// (DescribeTable, Scan) plus the writes and table management that tests, tools and `ddb2pg`
// sub-commands need.
//
// Every call retries throttling and unavailability inside (RetryPolicy) and returns a final
// Status; messages read "<Operation> <table>: <ErrorType>: <message>" (aws_error.h).
// Thread-safety: every method is safe from many threads at once (see AwsClient).
#pragma once

#include <chrono>
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
#include "core/value.h"

namespace ddb2pg::aws {

class DynamoDbClient final : public TableApi {
 public:
  // Talks to aws.dynamodb_endpoint with aws.credentials in aws.region. `clock` must outlive the
  // client. A null `stats` gives the client counters of its own.
  DynamoDbClient(const ResolvedAws& aws, RetryPolicy retry, const core::Clock& clock,
                 TransportFactory transports = CurlTransportFactory(), std::shared_ptr<RetryStats> stats = nullptr);

  // TableApi.
  core::Result<TableDescription> DescribeTable(const std::string& table_name) override;
  // One page of one segment, with ReturnConsumedCapacity TOTAL.
  core::Result<ScanPage> Scan(const ScanRequest& request) override;

  // `item` must be a map holding the key attributes.
  core::Status PutItem(const std::string& table_name, const core::Value& item);
  // Writes in chunks of 25 (the service's limit), re-sending the items DynamoDB returns as
  // UnprocessedItems with backoff until all are written or the retry deadline passes (then
  // kDeadlineExceeded saying how many items are left). Chunks are sent one after another.
  core::Status BatchWriteItem(const std::string& table_name, const std::vector<WriteRequest>& writes);
  core::Status UpdateItem(const UpdateItemRequest& request);
  core::Status DeleteItem(const std::string& table_name, const core::Value& key);

  // Returns the new table's description (status CREATING, or ACTIVE on DynamoDB Local). A
  // non-empty stream_view_type enables a stream.
  core::Result<TableDescription> CreateTable(const CreateTableRequest& request);
  // Enables (with `stream_view_type`) or disables the table's stream.
  core::Result<TableDescription> UpdateStream(const std::string& table_name, bool enabled,
                                              const std::string& stream_view_type);
  core::Status DeleteTable(const std::string& table_name);

  // Polls DescribeTable every `poll_interval` until the table is ACTIVE; kDeadlineExceeded after
  // `timeout`. Sleeps through the client's clock.
  core::Result<TableDescription> WaitForTableActive(const std::string& table_name,
                                                    std::chrono::milliseconds timeout = std::chrono::minutes(5),
                                                    std::chrono::milliseconds poll_interval =
                                                        std::chrono::milliseconds(500));

  RetryStats& retry_stats() const { return client_.retry_stats(); }

 private:
  // PutItem / DeleteItem: {"TableName": table_name, field: item}.
  core::Status CallWithItem(AwsOperation operation, const std::string& table_name, const char* field,
                            const core::Value& item);
  core::Status WriteChunk(const std::string& table_name, std::string request_items_json, size_t items);

  AwsClient client_;
};

}  // namespace ddb2pg::aws
