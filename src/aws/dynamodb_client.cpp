#include "aws/dynamodb_client.h"

#include <simdjson.h>

#include <algorithm>

#include "aws/json_fields.h"
#include "aws/response_parser.h"
#include "core/json_writer.h"
#include "core/value_json.h"

namespace ddb2pg::aws {
namespace {

// BatchWriteItem accepts at most 25 writes per call.
constexpr size_t kBatchWriteLimit = 25;

// Reads {"<field>": {TableName, TableStatus, KeySchema, ...}}: "Table" for DescribeTable,
// "TableDescription" for CreateTable / UpdateTable / DeleteTable.
core::Result<TableDescription> ParseTableDescription(std::string_view body, std::string_view field,
                                                     const std::string& context) {
  simdjson::dom::parser parser;
  core::Result<simdjson::dom::object> found = ResponseObject(parser, body, field, context);
  if (!found.ok()) return found.status();
  const simdjson::dom::object table = *found;
  TableDescription description;
  description.table_name = TextField(table, "TableName");
  description.table_status = TextField(table, "TableStatus");
  description.item_count = IntegerField(table, "ItemCount");
  description.table_size_bytes = IntegerField(table, "TableSizeBytes");
  description.latest_stream_arn = TextField(table, "LatestStreamArn");
  description.table_arn = TextField(table, "TableArn");
  simdjson::dom::array array;
  if (table["KeySchema"].get(array) == simdjson::SUCCESS) {
    for (simdjson::dom::element element : array) {
      simdjson::dom::object key;
      if (element.get(key) != simdjson::SUCCESS) continue;
      description.key_schema.push_back({TextField(key, "AttributeName"), TextField(key, "KeyType")});
    }
  }
  if (table["AttributeDefinitions"].get(array) == simdjson::SUCCESS) {
    for (simdjson::dom::element element : array) {
      simdjson::dom::object definition;
      if (element.get(definition) != simdjson::SUCCESS) continue;
      description.attribute_definitions.push_back(
          {TextField(definition, "AttributeName"), TextField(definition, "AttributeType")});
    }
  }
  simdjson::dom::object stream;
  if (table["StreamSpecification"].get(stream) == simdjson::SUCCESS) {
    bool enabled = false;
    if (stream["StreamEnabled"].get(enabled) == simdjson::SUCCESS) description.stream_enabled = enabled;
    description.stream_view_type = TextField(stream, "StreamViewType");
  }
  return description;
}

void WriteKeySchema(core::JsonWriter& writer, const CreateTableRequest& request) {
  writer.Key("KeySchema").BeginArray();
  for (const auto& element : request.key_schema) {
    writer.BeginObject().Key("AttributeName").String(element.attribute_name);
    writer.Key("KeyType").String(element.key_type).EndObject();
  }
  writer.EndArray();
  writer.Key("AttributeDefinitions").BeginArray();
  for (const auto& definition : request.attribute_definitions) {
    writer.BeginObject().Key("AttributeName").String(definition.attribute_name);
    writer.Key("AttributeType").String(definition.attribute_type).EndObject();
  }
  writer.EndArray();
}

void WriteStreamSpecification(core::JsonWriter& writer, bool enabled, const std::string& view_type) {
  writer.Key("StreamSpecification").BeginObject().Key("StreamEnabled").Bool(enabled);
  if (enabled) writer.Key("StreamViewType").String(view_type);
  writer.EndObject();
}

void WriteExpressionNames(core::JsonWriter& writer,
                          const std::vector<std::pair<std::string, std::string>>& names) {
  if (names.empty()) return;
  writer.Key("ExpressionAttributeNames").BeginObject();
  for (const auto& [placeholder, name] : names) writer.Key(placeholder).String(name);
  writer.EndObject();
}

core::Status RequireMap(const core::Value& value, std::string_view what, const std::string& context) {
  if (value.is_map()) return core::Status::Ok();
  std::string message = context;
  message += ": ";
  message += what;
  message += " must be a map of attributes, got ";
  message += TypeDescriptor(value.type());
  return core::Status::InvalidArgument(std::move(message));
}

// The UnprocessedItems of a BatchWriteItem response, ready to send back as RequestItems (the
// service documents them as the same shape), and how many writes they hold.
struct Unprocessed {
  std::string request_items_json;
  size_t items = 0;
};

core::Result<Unprocessed> ParseUnprocessed(std::string_view body, const std::string& context) {
  simdjson::dom::parser parser;
  const std::optional<simdjson::dom::object> root = ParseObject(parser, body);
  if (!root) return core::Status::Internal(context + ": response is not a JSON object");
  Unprocessed unprocessed;
  simdjson::dom::object items;
  if ((*root)["UnprocessedItems"].get(items) != simdjson::SUCCESS) return unprocessed;
  for (auto field : items) {
    simdjson::dom::array writes;
    if (field.value.get(writes) != simdjson::SUCCESS) {
      return core::Status::Internal(context + ": UnprocessedItems." + std::string(field.key) + " is not an array");
    }
    unprocessed.items += writes.size();
  }
  if (unprocessed.items > 0) unprocessed.request_items_json = simdjson::minify(items);
  return unprocessed;
}

}  // namespace

DynamoDbClient::DynamoDbClient(const ResolvedAws& aws, RetryPolicy retry, const core::Clock& clock,
                               TransportFactory transports, std::shared_ptr<RetryStats> stats)
    : client_(AwsClientConfig{aws.dynamodb_endpoint, aws.credentials, aws.region, aws.credential_source}, std::move(retry), clock,
              std::move(transports), std::move(stats)) {}

core::Result<TableDescription> DynamoDbClient::DescribeTable(const std::string& table_name) {
  std::string body;
  core::JsonWriter(&body).BeginObject().Key("TableName").String(table_name).EndObject();
  DDB2PG_ASSIGN_OR_RETURN(std::string response, client_.Call(AwsOperation::kDescribeTable, table_name, body));
  return ParseTableDescription(response, "Table", CallContext(AwsOperation::kDescribeTable, table_name));
}

core::Result<ScanPage> DynamoDbClient::Scan(const ScanRequest& request) {
  const std::string context = CallContext(AwsOperation::kScan, request.table_name);
  std::string body;
  core::JsonWriter writer(&body);
  writer.BeginObject().Key("TableName").String(request.table_name);
  if (request.total_segments > 1) {
    writer.Key("Segment").Int(request.segment).Key("TotalSegments").Int(request.total_segments);
  }
  if (request.limit > 0) writer.Key("Limit").Int(request.limit);
  if (request.exclusive_start_key.has_value()) {
    DDB2PG_RETURN_IF_ERROR(RequireMap(*request.exclusive_start_key, "ExclusiveStartKey", context));
    writer.Key("ExclusiveStartKey");
    core::WriteItem(writer, *request.exclusive_start_key);
  }
  if (request.consistent_read) writer.Key("ConsistentRead").Bool(true);
  if (!request.projection_expression.empty()) {
    writer.Key("ProjectionExpression").String(request.projection_expression);
  }
  WriteExpressionNames(writer, request.expression_attribute_names);
  writer.Key("ReturnConsumedCapacity").String("TOTAL").EndObject();

  DDB2PG_ASSIGN_OR_RETURN(std::string response, client_.Call(AwsOperation::kScan, request.table_name, body));
  core::Result<ScanPage> page = ParseScanResponse(response, request.decode_only.get());
  if (!page.ok()) return page.status().WithContext(context);
  if (page->response_bytes == 0) page->response_bytes = response.size();
  return page;
}

core::Status DynamoDbClient::PutItem(const std::string& table_name, const core::Value& item) {
  return CallWithItem(AwsOperation::kPutItem, table_name, "Item", item);
}

core::Status DynamoDbClient::CallWithItem(AwsOperation operation, const std::string& table_name, const char* field,
                                          const core::Value& item) {
  DDB2PG_RETURN_IF_ERROR(RequireMap(item, field, CallContext(operation, table_name)));
  std::string body;
  core::JsonWriter writer(&body);
  writer.BeginObject().Key("TableName").String(table_name).Key(field);
  core::WriteItem(writer, item);
  writer.EndObject();
  return client_.Call(operation, table_name, std::move(body)).status();
}

core::Status DynamoDbClient::BatchWriteItem(const std::string& table_name, const std::vector<WriteRequest>& writes) {
  const std::string context = CallContext(AwsOperation::kBatchWriteItem, table_name);
  for (size_t begin = 0; begin < writes.size(); begin += kBatchWriteLimit) {
    const size_t end = std::min(writes.size(), begin + kBatchWriteLimit);
    std::string request_items;
    core::JsonWriter writer(&request_items);
    writer.BeginObject().Key(table_name).BeginArray();
    for (size_t i = begin; i < end; ++i) {
      const WriteRequest& write = writes[i];
      if (write.put_item.has_value() == write.delete_key.has_value()) {
        return core::Status::InvalidArgument(context + ": write " + std::to_string(i) +
                                             " must have exactly one of put_item and delete_key");
      }
      if (write.put_item.has_value()) {
        DDB2PG_RETURN_IF_ERROR(RequireMap(*write.put_item, "put_item " + std::to_string(i), context));
        writer.BeginObject().Key("PutRequest").BeginObject().Key("Item");
        core::WriteItem(writer, *write.put_item);
      } else {
        DDB2PG_RETURN_IF_ERROR(RequireMap(*write.delete_key, "delete_key " + std::to_string(i), context));
        writer.BeginObject().Key("DeleteRequest").BeginObject().Key("Key");
        core::WriteItem(writer, *write.delete_key);
      }
      writer.EndObject().EndObject();
    }
    writer.EndArray().EndObject();
    DDB2PG_RETURN_IF_ERROR(WriteChunk(table_name, std::move(request_items), end - begin));
  }
  return core::Status::Ok();
}

core::Status DynamoDbClient::WriteChunk(const std::string& table_name, std::string request_items_json,
                                        size_t items) {
  const std::string context = CallContext(AwsOperation::kBatchWriteItem, table_name);
  // One loop covers both kinds of trouble — a throttled call and a partly processed one — so a
  // chunk never outlives one retry deadline.
  RetryLoop loop(client_.retry_policy(), AwsOperation::kBatchWriteItem, client_.clock(), client_.retry_stats());
  while (true) {
    std::string body = "{\"RequestItems\":";
    body += request_items_json;
    body += '}';
    core::Result<std::string> response = client_.CallOnce(AwsOperation::kBatchWriteItem, table_name, body);
    if (!response.ok()) {
      DDB2PG_RETURN_IF_ERROR(loop.OnFailure(response.status()));
      continue;
    }
    DDB2PG_ASSIGN_OR_RETURN(Unprocessed unprocessed, ParseUnprocessed(*response, context));
    if (unprocessed.items == 0) return core::Status::Ok();
    if (unprocessed.items < items) loop.ResetAttempts();  // progress: only the deadline bounds us
    client_.retry_stats().RecordUnprocessedItems(unprocessed.items);
    items = unprocessed.items;
    request_items_json = std::move(unprocessed.request_items_json);
    DDB2PG_RETURN_IF_ERROR(loop.OnFailure(core::Status::Throttled(
        context + ": " + std::to_string(items) + (items == 1 ? " item" : " items") + " left unprocessed")));
  }
}

core::Status DynamoDbClient::UpdateItem(const UpdateItemRequest& request) {
  const std::string context = CallContext(AwsOperation::kUpdateItem, request.table_name);
  DDB2PG_RETURN_IF_ERROR(RequireMap(request.key, "Key", context));
  std::string body;
  core::JsonWriter writer(&body);
  writer.BeginObject().Key("TableName").String(request.table_name).Key("Key");
  core::WriteItem(writer, request.key);
  writer.Key("UpdateExpression").String(request.update_expression);
  if (!request.condition_expression.empty()) {
    writer.Key("ConditionExpression").String(request.condition_expression);
  }
  WriteExpressionNames(writer, request.expression_attribute_names);
  if (!request.expression_attribute_values.empty()) {
    writer.Key("ExpressionAttributeValues").BeginObject();
    for (const auto& [placeholder, value] : request.expression_attribute_values) {
      writer.Key(placeholder);
      core::WriteAttributeValue(writer, value);
    }
    writer.EndObject();
  }
  writer.EndObject();
  return client_.Call(AwsOperation::kUpdateItem, request.table_name, std::move(body)).status();
}

core::Status DynamoDbClient::DeleteItem(const std::string& table_name, const core::Value& key) {
  return CallWithItem(AwsOperation::kDeleteItem, table_name, "Key", key);
}

core::Result<TableDescription> DynamoDbClient::CreateTable(const CreateTableRequest& request) {
  std::string body;
  core::JsonWriter writer(&body);
  writer.BeginObject().Key("TableName").String(request.table_name);
  WriteKeySchema(writer, request);
  writer.Key("BillingMode").String(request.billing_mode);
  if (request.billing_mode == "PROVISIONED") {
    // The service requires throughput for provisioned tables; the smallest is enough for tests.
    writer.Key("ProvisionedThroughput").BeginObject().Key("ReadCapacityUnits").Int(5);
    writer.Key("WriteCapacityUnits").Int(5).EndObject();
  }
  if (!request.stream_view_type.empty()) WriteStreamSpecification(writer, true, request.stream_view_type);
  writer.EndObject();
  DDB2PG_ASSIGN_OR_RETURN(std::string response,
                          client_.Call(AwsOperation::kCreateTable, request.table_name, std::move(body)));
  return ParseTableDescription(response, "TableDescription", CallContext(AwsOperation::kCreateTable, request.table_name));
}

core::Result<TableDescription> DynamoDbClient::UpdateStream(const std::string& table_name, bool enabled,
                                                            const std::string& stream_view_type) {
  std::string body;
  core::JsonWriter writer(&body);
  writer.BeginObject().Key("TableName").String(table_name);
  WriteStreamSpecification(writer, enabled, stream_view_type);
  writer.EndObject();
  DDB2PG_ASSIGN_OR_RETURN(std::string response, client_.Call(AwsOperation::kUpdateTable, table_name, std::move(body)));
  return ParseTableDescription(response, "TableDescription", CallContext(AwsOperation::kUpdateTable, table_name));
}

core::Status DynamoDbClient::DeleteTable(const std::string& table_name) {
  std::string body;
  core::JsonWriter(&body).BeginObject().Key("TableName").String(table_name).EndObject();
  return client_.Call(AwsOperation::kDeleteTable, table_name, std::move(body)).status();
}

core::Result<TableDescription> DynamoDbClient::WaitForTableActive(const std::string& table_name,
                                                                  std::chrono::milliseconds timeout,
                                                                  std::chrono::milliseconds poll_interval) {
  const core::Clock& clock = client_.clock();
  const auto deadline = clock.Monotonic() + timeout;
  while (true) {
    DDB2PG_ASSIGN_OR_RETURN(TableDescription description, DescribeTable(table_name));
    if (description.table_status == "ACTIVE") return description;
    if (clock.Monotonic() + poll_interval > deadline) {
      return core::Status(core::StatusCode::kDeadlineExceeded,
                          "table " + table_name + " is still " + description.table_status + " after " +
                              std::to_string(timeout.count()) + " ms");
    }
    clock.SleepFor(poll_interval);
  }
}

}  // namespace ddb2pg::aws
