// Wiring: turns a configuration into what every command shares — resolved AWS settings, the
// DynamoDB, Streams, S3 and export clients per source, compiled mapping plans, the PostgreSQL
// conninfo and password supplier, and each source's checkpoint id. Only src/app names concrete
// types: the commands assemble their runtime objects from a Wiring — `run` its record sources,
// lease stores and sinks (run_pipelines.cpp), the admin commands their lease stores and readers
// (progress_commands.cpp), `generate` its client (cli.cpp). Owns the clients and plans it builds;
// not thread-safe to build, read-only afterwards.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aws/credentials.h"
#include "aws/dynamodb_client.h"
#include "aws/export_client.h"
#include "aws/rds_auth_token.h"
#include "aws/s3_client.h"
#include "aws/streams_client.h"
#include "config/config.h"
#include "core/status.h"
#include "pipeline/lease_store.h"
#include "processor/mapping_plan.h"
#include "sink/pg_connection.h"
#include "source/source_options.h"

namespace ddb2pg::app {

struct SourceWiring {
  const config::SourceConfig* config = nullptr;
  aws::ResolvedAws aws;
  std::shared_ptr<aws::RetryStats> retry_stats;
  std::unique_ptr<aws::DynamoDbClient> table;
  std::unique_ptr<aws::StreamsClient> streams;
  // snapshot.from: export or stream.on_trimmed: incremental_export only (AWS_ENDPOINT_URL_S3, same credentials)
  std::unique_ptr<aws::S3Client> s3;
  // snapshot.export.s3_bucket only (the DynamoDB endpoint): the snapshot's export when from: export,
  // and the incremental exports of on_trimmed: incremental_export
  std::unique_ptr<aws::ExportClient> exports;
  std::vector<const processor::MappingPlan*> plans;  // the pipelines reading this source
  std::string checkpoint_id;                          // row id in ddb2pg.checkpoints
};

struct Wiring {
  config::Config config;
  std::vector<std::unique_ptr<processor::MappingPlan>> plans;  // in config order
  std::string conninfo;
  std::vector<SourceWiring> sources;

  std::vector<const model::TableSpec*> tables() const;
};

// AWS settings of one source: the config's explicit values, then the SDK chain.
core::Result<aws::ResolvedAws> ResolveSourceAws(const config::SourceConfig& source);

// The libpq conninfo: the config's conninfo/URI with sslmode and sslrootcert added when set and
// not already in it (empty conninfo: libpq's PG* environment variables decide).
std::string PostgresConninfo(const config::PostgresConfig& postgres);

// postgres.auth iam: the password supplier every new PostgreSQL connection asks for a fresh RDS
// IAM token (region: postgres.region, else from the RDS host name, else the AWS chain's), signed
// with credentials from `credentials` (asked once per token). Empty for auth password.
sink::PgPasswordSupplier PostgresPasswordSupplier(const config::PostgresConfig& postgres,
                                                  aws::CredentialsSupplier credentials, const core::Clock& clock);

// The credentials for RDS IAM tokens: the AWS SDK chain (aws::ResolveAws without explicit
// settings: AWS_* variables, then the AWS_PROFILE or default profile), resolved per call.
aws::CredentialsSupplier AwsChainCredentials();

// Warnings `validate` prints about the PostgreSQL connection: a host that is not on this machine
// reached with an sslmode below verify-ca (the server's certificate is not checked).
std::vector<std::string> PostgresWarnings(const std::string& conninfo);

// The checkpoint id of a source: "<name>:<table>". Its pipelines share it and each has a
// progress of its own in it (sink::PipelineRegistry); an earlier release's id also named the
// pipelines and is carried over (PgLeaseStore).
std::string CheckpointId(const config::SourceConfig& source);

// The pipelines of a source as the lease store keeps their progress: name, target table and the
// mapping text whose change is detected.
std::vector<pipeline::PipelineInfo> PipelinesOf(const SourceWiring& source);

// The DynamoDB source's options: the config's, decoding only what some pipeline reads.
source::SourceOptions ToSourceOptions(const config::SourceConfig& config,
                                      const std::vector<const processor::MappingPlan*>& plans);

// Compiles every pipeline and builds every source's clients. `with_clients` false skips AWS
// resolution (for offline validation and init-schema). Installs the process-wide PostgreSQL
// password supplier of postgres.auth (sink::PgConnection::InstallPasswordSupplier; cleared for
// auth password).
core::Result<std::unique_ptr<Wiring>> Wire(config::Config config, bool with_clients);

}  // namespace ddb2pg::app
