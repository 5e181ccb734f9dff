#include "app/export_request.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "sink/system/export_request_sql.h"

namespace ddb2pg::app {
namespace {

std::string Bytes(int64_t bytes) {
  if (bytes >= int64_t{1} << 30) return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1 << 30));
  if (bytes >= int64_t{1} << 20) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
  return fmt::format("{} bytes", bytes);
}

}  // namespace

std::string ExportProgressLine(const std::string& status, const std::string& arn, int64_t export_time_ms,
                               int64_t items, int64_t bytes, int polls) {
  std::string line = fmt::format("{} {}, export time {:%Y-%m-%dT%H:%M:%SZ}", status.empty() ? "REQUESTING" : status,
                                 arn.empty() ? "(no ARN yet)" : arn,
                                 fmt::gmtime(static_cast<std::time_t>(export_time_ms / 1000)));
  if (items >= 0) line += fmt::format(", {} items", items);
  if (bytes >= 0) line += ", " + Bytes(bytes) + " billed";
  line += fmt::format(", {} poll(s)", polls);
  return line;
}

core::Result<std::string> RequestExport(const SourceWiring& source, const std::string& conninfo,
                                        const std::function<void(const std::string& progress)>& on_progress,
                                        const std::atomic<bool>& stop, source::ExportRequesterOptions options) {
  const config::SourceConfig& config = *source.config;
  const std::string& cp = source.checkpoint_id;
  DDB2PG_ASSIGN_OR_RETURN(auto db, sink::PgConnection::Connect(conninfo, "ddb2pg export " + config.name));
  DDB2PG_ASSIGN_OR_RETURN(sink::StoredExport stored, sink::ExportRequestSql::Load(*db, cp));
  if (!stored.manifest.empty()) return stored.manifest;
  if (stored.seeded) {
    if (stored.export_time_ms == 0) return std::string();  // seeded by a Scan: no export to read
    return core::Status::FailedPrecondition("source " + config.name + ": its stored export " + stored.export_arn +
                                            " has no manifest although the source is seeded; `ddb2pg reset` starts "
                                            "it over");
  }
  auto table = source.table->DescribeTable(config.table);
  if (!table.ok()) return table.status().WithContext("DescribeTable " + config.table + " (to request its export)");
  if (table->table_arn.empty()) return core::Status::Internal("DescribeTable " + config.table + " returned no TableArn");

  // Whole seconds: what ExportTableToPointInTime takes, and so what the manifest will say.
  const int64_t now_ms = core::ToEpochMillis(core::SystemClock::Instance().Now()) / 1000 * 1000;
  DDB2PG_ASSIGN_OR_RETURN(const int64_t export_time_ms, sink::ExportRequestSql::Begin(*db, cp, now_ms));
  aws::ExportRequest request;
  request.table_arn = table->table_arn;
  request.export_time_ms = export_time_ms;
  request.client_token = source::ExportRequester::ClientToken(cp, request.table_arn, export_time_ms);
  request.s3_bucket = config.snapshot.export_bucket;
  request.s3_prefix = config.snapshot.export_prefix;
  if (export_time_ms != now_ms) {
    spdlog::info("source {}: resuming the export requested for {} ms ({})", config.name, export_time_ms,
                 stored.export_arn.empty() ? "asking again with the same client token" : stored.export_arn);
  }

  std::string started_arn = stored.export_arn;  // the export started, once DynamoDB names it
  auto record = [&](const aws::ExportDescription& description, int polls) {
    started_arn = description.export_arn;
    sink::StoredExport progress;
    progress.export_arn = description.export_arn;
    progress.status = description.export_status;
    if (description.export_status == "COMPLETED" && !description.export_manifest.empty()) {
      progress.manifest = "s3://" + description.s3_bucket + "/" + description.export_manifest;
    }
    progress.items = description.export_status == "COMPLETED" ? description.item_count : -1;
    progress.bytes = description.billed_size_bytes > 0 ? description.billed_size_bytes : -1;
    progress.polls = stored.polls + polls;
    if (auto written = sink::ExportRequestSql::Record(*db, cp, progress); !written.ok()) {
      spdlog::warn("source {}: recording the export's progress: {}", config.name, written.ToString());
    }
    if (on_progress) {
      on_progress(ExportProgressLine(progress.status, progress.export_arn, export_time_ms, progress.items,
                                     progress.bytes, progress.polls));
    }
  };
  source::ExportRequester requester(*source.exports, core::SystemClock::Instance(), options);
  auto done = requester.Run(request, record, stop, stored.export_arn);
  if (!done.ok()) {
    core::Status status = done.status();
    if (status.code() == core::StatusCode::kFailedPrecondition && started_arn.empty()) {
      // Refused before it started (point-in-time recovery off): the next start asks afresh.
      if (auto forgot = sink::ExportRequestSql::ForgetUnstarted(*db, cp); !forgot.ok()) {
        spdlog::warn("source {}: {}", config.name, forgot.ToString());
      }
    } else if (status.code() == core::StatusCode::kFailedPrecondition) {
      status = core::Status::FailedPrecondition(status.message() +
                                                "; `ddb2pg reset` forgets this export, and the next start requests "
                                                "a new one");
    }
    return status.WithContext("source " + config.name + ": the export of " + config.table);
  }
  return "s3://" + done->s3_bucket + "/" + done->export_manifest;
}

}  // namespace ddb2pg::app
