#include "app/wiring.h"

namespace ddb2pg::app {

std::vector<const processor::TableSpec*> Wiring::tables() const {
  std::vector<const processor::TableSpec*> out;
  for (const auto& plan : plans) out.push_back(&plan->spec().table);
  return out;
}

core::Result<aws::ResolvedAws> ResolveSourceAws(const config::SourceConfig& source) {
  aws::AwsSettings settings;
  settings.access_key_id = source.access_key_id;
  settings.secret_access_key = source.secret_access_key;
  settings.session_token = source.session_token;
  settings.profile = source.profile;
  settings.region = source.region;
  settings.endpoint = source.endpoint;
  settings.streams_endpoint = source.streams_endpoint;
  auto resolved = aws::ResolveAws(settings);
  if (!resolved.ok()) return resolved.status().WithContext("source " + source.name);
  return resolved;
}

std::string PostgresConninfo(const config::PostgresConfig& postgres) {
  std::string conninfo = postgres.conninfo;
  if (postgres.sslmode.empty() || conninfo.find("sslmode") != std::string::npos) return conninfo;
  const bool uri = conninfo.starts_with("postgres://") || conninfo.starts_with("postgresql://");
  if (uri) {
    conninfo += conninfo.find('?') == std::string::npos ? "?" : "&";
    conninfo += "sslmode=" + postgres.sslmode;
  } else {
    if (!conninfo.empty()) conninfo += ' ';
    conninfo += "sslmode=" + postgres.sslmode;
  }
  return conninfo;
}

std::string CheckpointId(const config::SourceConfig& source, const std::vector<const processor::MappingPlan*>& plans) {
  std::string id = source.name + ":" + source.table + ":";
  for (size_t i = 0; i < plans.size(); ++i) {
    if (i > 0) id += ',';
    id += plans[i]->spec().name;
  }
  return id;
}

core::Result<std::unique_ptr<Wiring>> Wire(config::Config config, bool with_clients) {
  auto wiring = std::make_unique<Wiring>();
  wiring->config = std::move(config);
  for (const auto& spec : wiring->config.pipelines) {
    auto plan = processor::MappingPlan::Compile(spec);
    if (!plan.ok()) return plan.status().WithContext(wiring->config.path + ": pipeline " + spec.name);
    wiring->plans.push_back(std::make_unique<processor::MappingPlan>(std::move(plan).value()));
  }
  wiring->conninfo = PostgresConninfo(wiring->config.postgres);
  for (const auto& source : wiring->config.sources) {
    SourceWiring sw;
    sw.config = &source;
    for (const auto& plan : wiring->plans) {
      if (plan->spec().source == source.name) sw.plans.push_back(plan.get());
    }
    if (sw.plans.empty()) continue;  // a source no pipeline reads is not read
    sw.checkpoint_id = CheckpointId(source, sw.plans);
    if (with_clients) {
      DDB2PG_ASSIGN_OR_RETURN(sw.aws, ResolveSourceAws(source));
      sw.retry_stats = std::make_shared<aws::RetryStats>();
      aws::CurlTransportOptions transport;
      transport.ca_file = sw.aws.ca_bundle;  // AWS_CA_BUNDLE
      sw.table = std::make_unique<aws::DynamoDbClient>(sw.aws, aws::RetryPolicy(), core::SystemClock::Instance(),
                                                       aws::CurlTransportFactory(transport), sw.retry_stats);
      sw.streams = std::make_unique<aws::StreamsClient>(sw.aws, aws::RetryPolicy(), core::SystemClock::Instance(),
                                                        aws::CurlTransportFactory(transport), sw.retry_stats);
    }
    wiring->sources.push_back(std::move(sw));
  }
  return wiring;
}

}  // namespace ddb2pg::app
