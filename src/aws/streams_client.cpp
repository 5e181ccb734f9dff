#include "aws/streams_client.h"

#include <simdjson.h>

#include <unordered_set>

#include "aws/json_fields.h"
#include "aws/response_parser.h"
#include "core/json_writer.h"

namespace ddb2pg::aws {
namespace {

// A shard iterator starts with the stream ARN it belongs to, then "|" and opaque state
// ("arn:aws:dynamodb:...:table/t/stream/2024-...|1|AAAA..."): that ARN names a GetRecords call in
// errors. Anything else is named generically.
std::string_view IteratorResource(std::string_view shard_iterator) {
  const auto bar = shard_iterator.find('|');
  if (shard_iterator.starts_with("arn:") && bar != std::string_view::npos) return shard_iterator.substr(0, bar);
  return "(shard iterator)";
}

core::Result<simdjson::dom::object> ParseObject(simdjson::dom::parser& parser, const simdjson::padded_string& body,
                                                const std::string& context) {
  simdjson::dom::object root;
  if (parser.parse(body).get(root) != simdjson::SUCCESS) {
    return core::Status::Internal(context + ": response is not a JSON object");
  }
  return root;
}

}  // namespace

std::string_view ShardIteratorTypeName(ShardIteratorType type) {
  switch (type) {
    case ShardIteratorType::kTrimHorizon: return "TRIM_HORIZON";
    case ShardIteratorType::kLatest: return "LATEST";
    case ShardIteratorType::kAtSequenceNumber: return "AT_SEQUENCE_NUMBER";
    case ShardIteratorType::kAfterSequenceNumber: return "AFTER_SEQUENCE_NUMBER";
  }
  return "TRIM_HORIZON";
}

StreamsClient::StreamsClient(const ResolvedAws& aws, RetryPolicy retry, const core::Clock& clock,
                             TransportFactory transports, std::shared_ptr<RetryStats> stats)
    : client_(AwsClientConfig{aws.streams_endpoint, aws.credentials, aws.region, aws.credential_source}, std::move(retry), clock,
              std::move(transports), std::move(stats)) {}

core::Result<std::vector<StreamSummary>> StreamsClient::ListStreams(const std::string& table_name) {
  const std::string resource = table_name.empty() ? std::string("(all tables)") : table_name;
  const std::string context = CallContext(AwsOperation::kListStreams, resource);
  std::vector<StreamSummary> streams;
  std::string exclusive_start;
  simdjson::dom::parser parser;
  while (true) {
    std::string body;
    core::JsonWriter writer(&body);
    writer.BeginObject();
    if (!table_name.empty()) writer.Key("TableName").String(table_name);
    writer.Key("Limit").Int(100);
    if (!exclusive_start.empty()) writer.Key("ExclusiveStartStreamArn").String(exclusive_start);
    writer.EndObject();
    DDB2PG_ASSIGN_OR_RETURN(std::string response, client_.Call(AwsOperation::kListStreams, resource, std::move(body)));
    const simdjson::padded_string padded(response);
    DDB2PG_ASSIGN_OR_RETURN(simdjson::dom::object root, ParseObject(parser, padded, context));
    simdjson::dom::array array;
    if (root["Streams"].get(array) == simdjson::SUCCESS) {
      for (simdjson::dom::element element : array) {
        simdjson::dom::object stream;
        if (element.get(stream) != simdjson::SUCCESS) continue;
        streams.push_back({TextField(stream, "StreamArn"), TextField(stream, "TableName"),
                           TextField(stream, "StreamLabel")});
      }
    }
    std::string next = TextField(root, "LastEvaluatedStreamArn");
    if (next.empty()) return streams;
    if (next == exclusive_start) {
      return core::Status::Internal(context + ": the service returned LastEvaluatedStreamArn " + next + " twice");
    }
    exclusive_start = std::move(next);
  }
}

core::Result<StreamDescription> StreamsClient::DescribeStream(const DescribeStreamRequest& request) {
  const std::string context = CallContext(AwsOperation::kDescribeStream, request.stream_arn);
  std::string body;
  core::JsonWriter writer(&body);
  writer.BeginObject().Key("StreamArn").String(request.stream_arn);
  if (request.limit > 0) writer.Key("Limit").Int(request.limit);
  if (!request.exclusive_start_shard_id.empty()) {
    writer.Key("ExclusiveStartShardId").String(request.exclusive_start_shard_id);
  }
  if (!request.child_shards_of.empty()) {
    writer.Key("ShardFilter").BeginObject().Key("Type").String("CHILD_SHARDS");
    writer.Key("ShardId").String(request.child_shards_of).EndObject();
  }
  writer.EndObject();
  DDB2PG_ASSIGN_OR_RETURN(std::string response,
                          client_.Call(AwsOperation::kDescribeStream, request.stream_arn, std::move(body)));

  return ParseDescribeStreamResponse(response, context);
}

core::Result<StreamDescription> StreamsClient::DescribeAllShards(const DescribeStreamRequest& request) {
  DescribeStreamRequest page_request = request;
  DDB2PG_ASSIGN_OR_RETURN(StreamDescription all, DescribeStream(page_request));
  // A service that kept answering with the same page would loop forever; one that repeats a
  // shard id is as broken.
  std::unordered_set<std::string> seen_pages;
  while (!all.last_evaluated_shard_id.empty()) {
    if (!seen_pages.insert(all.last_evaluated_shard_id).second) {
      return core::Status::Internal(CallContext(AwsOperation::kDescribeStream, request.stream_arn) +
                                    ": LastEvaluatedShardId " + all.last_evaluated_shard_id + " came back twice");
    }
    page_request.exclusive_start_shard_id = all.last_evaluated_shard_id;
    DDB2PG_ASSIGN_OR_RETURN(StreamDescription page, DescribeStream(page_request));
    for (auto& shard : page.shards) all.shards.push_back(std::move(shard));
    all.last_evaluated_shard_id = std::move(page.last_evaluated_shard_id);
    all.stream_status = std::move(page.stream_status);
  }
  return all;
}

core::Result<std::string> StreamsClient::GetShardIterator(const std::string& stream_arn, const std::string& shard_id,
                                                          ShardIteratorType type,
                                                          const std::string& sequence_number) {
  const std::string context = CallContext(AwsOperation::kGetShardIterator, stream_arn);
  std::string body;
  core::JsonWriter writer(&body);
  writer.BeginObject().Key("StreamArn").String(stream_arn).Key("ShardId").String(shard_id);
  writer.Key("ShardIteratorType").String(ShardIteratorTypeName(type));
  if (type == ShardIteratorType::kAtSequenceNumber || type == ShardIteratorType::kAfterSequenceNumber) {
    if (sequence_number.empty()) {
      return core::Status::InvalidArgument(context + ": shard " + shard_id + ": " +
                                           std::string(ShardIteratorTypeName(type)) + " needs a sequence number");
    }
    writer.Key("SequenceNumber").String(sequence_number);
  }
  writer.EndObject();
  DDB2PG_ASSIGN_OR_RETURN(std::string response,
                          client_.Call(AwsOperation::kGetShardIterator, stream_arn, std::move(body)));
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(response);
  DDB2PG_ASSIGN_OR_RETURN(simdjson::dom::object root, ParseObject(parser, padded, context));
  std::string iterator = TextField(root, "ShardIterator");
  // No iterator: the shard is closed and there is nothing at or after the position asked for.
  if (iterator.empty()) {
    return core::Status::NotFound(context + ": shard " + shard_id + " has no iterator for " +
                                  std::string(ShardIteratorTypeName(type)));
  }
  return iterator;
}

core::Result<GetRecordsResult> StreamsClient::GetRecords(const std::string& shard_iterator, int limit,
                                                         const AttributeSelection* decode_only,
                                                         int64_t skip_images_before_ms) {
  const std::string_view resource = IteratorResource(shard_iterator);
  std::string body;
  core::JsonWriter writer(&body);
  writer.BeginObject().Key("ShardIterator").String(shard_iterator);
  if (limit > 0) writer.Key("Limit").Int(limit);
  writer.EndObject();
  DDB2PG_ASSIGN_OR_RETURN(std::string response, client_.Call(AwsOperation::kGetRecords, resource, std::move(body)));
  core::Result<GetRecordsResult> result = ParseGetRecordsResponse(response, decode_only, skip_images_before_ms);
  if (!result.ok()) return result.status().WithContext(CallContext(AwsOperation::kGetRecords, resource));
  if (result->response_bytes == 0) result->response_bytes = response.size();
  return result;
}

}  // namespace ddb2pg::aws
