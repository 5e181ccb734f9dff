// Shared helpers for the AWS client integration tests against DynamoDB Local.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>

#include "aws/credentials.h"
#include "aws/dynamodb_client.h"
#include "aws/retry_policy.h"
#include "aws/streams_client.h"
#include "core/clock.h"
#include "core/value.h"
#include "support/test_env.h"

namespace ddb2pg::aws::integration {

// Credentials for DynamoDB Local: the access key selects an isolated database, so each test
// passes its own unique key. The secret is never checked (only an Authorization header must exist).
inline ResolvedAws LocalAws(const std::string& access_key) {
  ResolvedAws aws;
  aws.credentials.access_key_id = access_key;
  aws.credentials.secret_access_key = "localSECRETnotchecked";
  aws.credentials.source = "test";
  aws.region = "us-east-1";
  aws.dynamodb_endpoint = ddb2pg::testing::DynamoDbEndpoint();
  aws.streams_endpoint = aws.dynamodb_endpoint;
  return aws;
}

inline DynamoDbClient MakeTables(const ResolvedAws& aws) {
  return DynamoDbClient(aws, RetryPolicy(), core::SystemClock::Instance());
}

inline StreamsClient MakeStreams(const ResolvedAws& aws) {
  return StreamsClient(aws, RetryPolicy(), core::SystemClock::Instance());
}

inline CreateTableRequest HashKeyTable(const std::string& name, const std::string& stream_view_type = "") {
  CreateTableRequest request;
  request.table_name = name;
  request.key_schema = {{"id", "HASH"}};
  request.attribute_definitions = {{"id", "S"}};
  request.stream_view_type = stream_view_type;
  return request;
}

// The same value with map attributes sorted by name and set members sorted: DynamoDB keeps
// neither order, so items are compared in this form.
inline core::Value Canonical(const core::Value& value) {
  switch (value.type()) {
    case core::ValueType::kMap: {
      core::Value::Map entries;
      for (const auto& [name, member] : value.map()) entries.emplace_back(name, Canonical(member));
      std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      return core::Value::MakeMap(std::move(entries));
    }
    case core::ValueType::kList: {
      core::Value::List items;
      for (const auto& member : value.list()) items.push_back(Canonical(member));
      return core::Value::MakeList(std::move(items));
    }
    case core::ValueType::kStringSet:
    case core::ValueType::kNumberSet:
    case core::ValueType::kBinarySet: {
      auto members = value.set();
      std::sort(members.begin(), members.end());
      if (value.type() == core::ValueType::kStringSet) return core::Value::StringSet(std::move(members));
      if (value.type() == core::ValueType::kNumberSet) return core::Value::NumberSet(std::move(members));
      return core::Value::BinarySet(std::move(members));
    }
    default:
      return value;
  }
}

}  // namespace ddb2pg::aws::integration
