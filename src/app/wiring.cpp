#include "app/wiring.h"

#include "aws/refreshing_credentials.h"
#include "aws/s3_addressing.h"
#include "aws/uri_encoding.h"
#include "sink/sql_text.h"

#include <cctype>
#include <set>
#include <mutex>
#include <optional>
#include <exception>

namespace ddb2pg::app {

std::vector<const model::TableSpec*> Wiring::tables() const {
  std::vector<const model::TableSpec*> out;
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

namespace {

bool IsUri(const std::string& conninfo) {
  return conninfo.starts_with("postgres://") || conninfo.starts_with("postgresql://");
}

// A value for a key=value conninfo: as is when plain, else single-quoted with \ and ' escaped,
// as libpq reads it.
std::string ConninfoValue(const std::string& value) {
  if (value.find_first_of(" \t\n\\'") == std::string::npos) return value;
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

// Adds key=value unless the conninfo already names the key.
void AddSetting(std::string& conninfo, const std::string& key, const std::string& value) {
  if (value.empty() || conninfo.find(key) != std::string::npos) return;
  if (IsUri(conninfo)) {
    conninfo += conninfo.find('?') == std::string::npos ? "?" : "&";
    conninfo += key + "=" + aws::UriEncode(value, /*keep_slash=*/true);
  } else {
    if (!conninfo.empty()) conninfo += ' ';
    conninfo += key + "=" + ConninfoValue(value);
  }
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host.starts_with("127.") || host == "::1" || host == "[::1]";
}

}  // namespace

std::string PostgresConninfo(const config::PostgresConfig& postgres) {
  std::string conninfo = postgres.conninfo;
  AddSetting(conninfo, "sslmode", postgres.sslmode);
  AddSetting(conninfo, "sslrootcert", postgres.sslrootcert);
  return conninfo;
}

aws::CredentialsSupplier AwsChainCredentials() {
  // The chain is resolved once, on the first connection; temporary credentials (a role, IMDS,
  // SSO …) are then refreshed ahead of expiry in the background, like the DynamoDB clients'.
  struct Resolved {
    std::mutex mutex;
    std::optional<aws::ResolvedAws> aws;
  };
  auto state = std::make_shared<Resolved>();
  return [state]() -> core::Result<aws::Credentials> {
    std::lock_guard lock(state->mutex);
    if (!state->aws) {
      aws::AwsSettings settings;
      // ResolveAws also resolves a region and endpoints, which are not used here: an explicit
      // region keeps a profile without one from failing the credentials lookup.
      settings.region = "us-east-1";
      auto resolved = aws::ResolveAws(settings);
      if (!resolved.ok()) return resolved.status();
      state->aws = std::move(resolved).value();
    }
    if (state->aws->credential_source) {
      auto current = state->aws->credential_source->Current();
      if (current != nullptr) return *current;
    }
    return state->aws->credentials;
  };
}

sink::PgPasswordSupplier PostgresPasswordSupplier(const config::PostgresConfig& postgres,
                                                  aws::CredentialsSupplier credentials, const core::Clock& clock) {
  if (postgres.auth != "iam") return {};
  auto token = std::make_shared<aws::RdsAuthToken>(std::move(credentials), clock);
  return [token, region = postgres.region](const sink::PgEndpoint& endpoint) -> core::Result<std::string> {
    aws::RdsAuthTarget target;
    target.host = endpoint.host;
    target.user = endpoint.user;
    target.region = region.empty() ? aws::RdsAuthToken::RegionFromHost(endpoint.host) : region;
    if (target.region.empty()) {
      auto chain = aws::ResolveAws(aws::AwsSettings{});
      if (!chain.ok()) {
        return core::Status::InvalidArgument("postgres.auth: iam needs the database's AWS region: host " +
                                             endpoint.host + " is not an RDS endpoint name; set postgres.region (" +
                                             chain.status().message() + ")");
      }
      target.region = chain->region;
    }
    try {
      target.port = std::stoi(endpoint.port);
    } catch (const std::exception&) {
      return core::Status::InvalidArgument("postgres.auth: iam: port '" + endpoint.port + "' is not a number");
    }
    return token->Generate(target);
  };
}

std::vector<std::string> PostgresWarnings(const std::string& conninfo) {
  std::vector<std::string> warnings;
  auto endpoint = sink::PgConnection::ResolveEndpoint(conninfo);
  if (!endpoint.ok()) return warnings;
  const std::string& sslmode = endpoint->sslmode;
  if (sslmode == "verify-ca" || sslmode == "verify-full") return warnings;
  // hostaddr, when set, is where libpq connects; either may list several comma-separated
  // targets, and a socket directory is this machine.
  const std::string& targets = endpoint->hostaddr.empty() ? endpoint->host : endpoint->hostaddr;
  std::string remote;
  for (size_t start = 0; start < targets.size() && remote.empty();) {
    const size_t comma = targets.find(',', start);
    const size_t end = comma == std::string::npos ? targets.size() : comma;
    const std::string host = targets.substr(start, end - start);
    if (!host.empty() && host.front() != '/' && host.front() != '@' && !IsLoopback(host)) remote = host;
    start = end + 1;
  }
  if (remote.empty()) return warnings;
  warnings.push_back("postgres: host " + remote + " is not on this machine and sslmode is " + sslmode +
                     ", which does not check the server's certificate: set postgres.sslmode: verify-full and "
                     "postgres.sslrootcert (the CA bundle; for RDS see docs/postgres-tls-iam.md)");
  return warnings;
}

std::string CheckpointId(const config::SourceConfig& source) { return source.name + ":" + source.table; }

std::vector<pipeline::PipelineInfo> PipelinesOf(const SourceWiring& source) {
  std::vector<pipeline::PipelineInfo> out;
  for (const auto* plan : source.plans) {
    const model::PipelineSpec& spec = plan->spec();
    pipeline::PipelineInfo info;
    info.name = spec.name;
    info.target = sink::QualifiedName(spec.table);
    // What decides the rows, one fact a line (a change is reported as the lines that differ).
    std::string key;
    for (const auto& column : spec.table.key_columns) key += (key.empty() ? "" : ",") + column;
    info.mapping = "table " + info.target + "\nkey " + key + "\nfilter " + spec.filter + "\n";
    // Only when set, so that the stored mapping of a plain pipeline reads as before.
    if (!spec.explode.empty()) info.mapping += "explode " + spec.explode + "\n";
    for (const auto& column : spec.table.columns) {
      info.mapping += "column " + column.name + " " + column.type.ToSql() + " <- " + column.expression + "\n";
    }
    info.on_change = spec.on_change;
    info.backfill_segments = source.config->snapshot.enabled ? std::max(1, source.config->snapshot.segments) : 0;
    out.push_back(std::move(info));
  }
  return out;
}

source::SourceOptions ToSourceOptions(const config::SourceConfig& config,
                                      const std::vector<const processor::MappingPlan*>& plans) {
  source::SourceOptions options;
  // Decode only what some pipeline reads (plus the key, added by the source), unless one of
  // them reads the image whole.
  std::set<std::string> attributes;
  bool all = false;
  for (const auto* plan : plans) {
    auto read = plan->ImageAttributes();
    if (!read) {
      all = true;
      break;
    }
    attributes.insert(read->begin(), read->end());
  }
  if (!all) options.decode_attributes = std::vector<std::string>(attributes.begin(), attributes.end());
  options.table = config.table;
  options.snapshot_enabled = config.snapshot.enabled;
  options.segments = config.snapshot.segments;
  options.page_limit = config.snapshot.page_limit;
  options.max_items_per_second = config.snapshot.max_items_per_second;
  options.consistent_read = config.snapshot.consistent_read;
  options.stream_start_at =
      config.stream.start_at == "latest" ? source::StreamStartAt::kLatest : source::StreamStartAt::kTrimHorizon;
  options.poll_interval_ms = config.stream.poll_interval_ms;
  options.idle_poll_ceiling_ms = config.stream.idle_poll_ceiling_ms;
  options.on_trimmed =
      config.stream.on_trimmed == "resnapshot" ? source::TrimmedPolicy::kResnapshot : source::TrimmedPolicy::kStop;
  options.enable_stream = config.stream.enable_stream;
  return options;
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
  sink::PgConnection::InstallPasswordSupplier(
      PostgresPasswordSupplier(wiring->config.postgres, AwsChainCredentials(), core::SystemClock::Instance()));
  for (const auto& source : wiring->config.sources) {
    SourceWiring sw;
    sw.config = &source;
    for (const auto& plan : wiring->plans) {
      if (plan->spec().source == source.name) sw.plans.push_back(plan.get());
    }
    if (sw.plans.empty()) continue;  // a source no pipeline reads is not read
    sw.checkpoint_id = CheckpointId(source);
    if (with_clients) {
      DDB2PG_ASSIGN_OR_RETURN(sw.aws, ResolveSourceAws(source));
      sw.retry_stats = std::make_shared<aws::RetryStats>();
      aws::CurlTransportOptions transport;
      transport.ca_file = sw.aws.ca_bundle;  // AWS_CA_BUNDLE
      sw.table = std::make_unique<aws::DynamoDbClient>(sw.aws, aws::RetryPolicy(), core::SystemClock::Instance(),
                                                       aws::CurlTransportFactory(transport), sw.retry_stats);
      sw.streams = std::make_unique<aws::StreamsClient>(sw.aws, aws::RetryPolicy(), core::SystemClock::Instance(),
                                                        aws::CurlTransportFactory(transport), sw.retry_stats);
      const bool bridge = source.stream.on_trimmed == "incremental_export";
      if (source.snapshot.from == "export" || bridge) {
        sw.s3 = std::make_unique<aws::S3Client>(sw.aws, aws::ResolveS3Endpoint(aws::ProcessEnvironment()),
                                                aws::RetryPolicy(), core::SystemClock::Instance(),
                                                aws::CurlTransportFactory(transport), sw.retry_stats);
      }
      if ((source.snapshot.from == "export" || bridge) && !source.snapshot.export_bucket.empty()) {
        sw.exports = std::make_unique<aws::ExportClient>(sw.aws, aws::RetryPolicy(), core::SystemClock::Instance(),
                                                         aws::CurlTransportFactory(transport), sw.retry_stats);
      }
    }
    wiring->sources.push_back(std::move(sw));
  }
  return wiring;
}

}  // namespace ddb2pg::app
