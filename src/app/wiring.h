// Wiring: the one place that turns a configuration into concrete objects — resolved AWS
// settings, DynamoDB and Streams clients per source, compiled mapping plans, the PostgreSQL
// conninfo and each source's checkpoint id.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aws/credentials.h"
#include "aws/dynamodb_client.h"
#include "aws/streams_client.h"
#include "config/config.h"
#include "core/status.h"
#include "processor/mapping_plan.h"

namespace ddb2pg::app {

struct SourceWiring {
  const config::SourceConfig* config = nullptr;
  aws::ResolvedAws aws;
  std::shared_ptr<aws::RetryStats> retry_stats;
  std::unique_ptr<aws::DynamoDbClient> table;
  std::unique_ptr<aws::StreamsClient> streams;
  std::vector<const processor::MappingPlan*> plans;  // the pipelines reading this source
  std::string checkpoint_id;                          // row id in ddb2pg.checkpoints
};

struct Wiring {
  config::Config config;
  std::vector<std::unique_ptr<processor::MappingPlan>> plans;  // in config order
  std::string conninfo;
  std::vector<SourceWiring> sources;

  std::vector<const processor::TableSpec*> tables() const;
};

// AWS settings of one source: the config's explicit values, then the SDK chain.
core::Result<aws::ResolvedAws> ResolveSourceAws(const config::SourceConfig& source);

// The libpq conninfo: the config's conninfo/URI with sslmode added when set (empty conninfo:
// libpq's PG* environment variables decide).
std::string PostgresConninfo(const config::PostgresConfig& postgres);

// The checkpoint id of a source: its name, table and the pipelines that read it, so that two
// configurations writing different pipelines into one database never share a checkpoint.
std::string CheckpointId(const config::SourceConfig& source, const std::vector<const processor::MappingPlan*>& plans);

// Compiles every pipeline and builds every source's clients. `with_clients` false skips AWS
// resolution (for offline validation and init-schema).
core::Result<std::unique_ptr<Wiring>> Wire(config::Config config, bool with_clients);

}  // namespace ddb2pg::app
