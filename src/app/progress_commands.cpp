#include "app/progress_commands.h"

#include <fmt/format.h>

#include "core/clock.h"
#include "sink/system/pg_lease_store.h"
#include "source/dynamodb_record_source.h"

namespace ddb2pg::app {
namespace {

sink::PgLeaseStore StoreOf(const Wiring& wiring, const SourceWiring& source) {
  return sink::PgLeaseStore(sink::PgLeaseStoreOptions{wiring.conninfo, source.checkpoint_id, "",
                                                      std::chrono::milliseconds(wiring.config.runtime.lease_ttl_ms),
                                                      source.config->stream.during_snapshot});
}

// The sources holding `pipeline` (all when unset); kNotFound naming the configured ones.
core::Result<std::vector<SourceWiring*>> SourcesOf(Wiring& wiring, const std::optional<std::string>& pipeline) {
  std::vector<SourceWiring*> out;
  std::string names;
  for (auto& source : wiring.sources) {
    bool has = !pipeline;
    for (const auto* plan : source.plans) {
      names += (names.empty() ? "" : ", ") + plan->spec().name;
      has = has || plan->spec().name == *pipeline;
    }
    if (has) out.push_back(&source);
  }
  if (out.empty() && pipeline) {
    return core::Status::NotFound("no pipeline " + *pipeline + " in " + wiring.config.path + " (its pipelines: " +
                                  names + ")");
  }
  return out;
}

}  // namespace

core::Status Resnapshot(Wiring& wiring, const std::optional<std::string>& pipeline, std::FILE* out) {
  DDB2PG_ASSIGN_OR_RETURN(auto sources, SourcesOf(wiring, pipeline));
  for (SourceWiring* source : sources) {
    const std::string& name = source->config->name;
    sink::PgLeaseStore store = StoreOf(wiring, *source);
    DDB2PG_RETURN_IF_ERROR(store.Open());
    DDB2PG_ASSIGN_OR_RETURN(auto stored, store.StoredCheckpoint());
    if (!stored) {
      std::fprintf(out, "source %s: no progress stored yet: `ddb2pg run` snapshots the table\n", name.c_str());
      continue;
    }
    std::vector<pipeline::PipelineInfo> pipelines = PipelinesOf(*source);
    if (pipeline) std::erase_if(pipelines, [&](const auto& p) { return p.name != *pipeline; });

    // A replaced stream (disabled and enabled again): its positions mean nothing, and every
    // pipeline of the source missed the changes in between.
    source::DynamoDbRecordSource reader(ToSourceOptions(*source->config, source->plans), *source->table,
                                        *source->streams, core::SystemClock::Instance());
    DDB2PG_ASSIGN_OR_RETURN(auto layout, reader.Describe());
    std::optional<pipeline::CheckpointSeed> reseed;
    if (layout.stream_arn != stored->stream_arn) {
      if (pipeline && pipelines.size() != source->plans.size()) {
        return core::Status::FailedPrecondition(
            "source " + name + ": the stream was replaced (" + stored->stream_arn + " → " + layout.stream_arn +
            "): every pipeline of the source missed the changes in between; re-snapshot them all (leave out "
            "--pipeline)");
      }
      DDB2PG_ASSIGN_OR_RETURN(auto seed, reader.Seed(layout, std::nullopt));
      reseed = std::move(seed);
      std::fprintf(out, "source %s: the stream was replaced: reading the new one from its start (%s)\n", name.c_str(),
                   layout.stream_arn.c_str());
    }
    DDB2PG_RETURN_IF_ERROR(store.Resnapshot(pipelines, reseed));
    std::string names;
    for (const auto& p : pipelines) names += (names.empty() ? "" : ", ") + p.name;
    std::fprintf(out,
                 "source %s: re-snapshot of %s scheduled (%d Scan segments, beside the stream); when it ends, rows "
                 "whose items no longer exist are removed (on_delete: hard) or marked deleted (soft). A running "
                 "`ddb2pg run` picks it up now, otherwise the next one does; `ddb2pg status` shows how far it is\n",
                 name.c_str(), names.c_str(), reseed ? reseed->total_segments : stored->total_segments);
  }
  return core::Status::Ok();
}

core::Status Reset(Wiring& wiring, const std::optional<std::string>& pipeline, bool yes, std::FILE* out) {
  std::vector<SourceWiring*> sources;
  if (pipeline) {
    // A pipeline no longer in the file is looked for in every source's stored progress.
    for (auto& source : wiring.sources) {
      sink::PgLeaseStore store = StoreOf(wiring, source);
      DDB2PG_RETURN_IF_ERROR(store.Open());
      DDB2PG_ASSIGN_OR_RETURN(auto stored, store.Pipelines());
      for (const auto& p : stored) {
        if (p.pipeline == *pipeline) sources.push_back(&source);
      }
    }
    if (sources.empty()) {
      return core::Status::NotFound("no stored progress of pipeline " + *pipeline + " (`ddb2pg status` lists them)");
    }
  } else {
    for (auto& source : wiring.sources) sources.push_back(&source);
  }
  for (SourceWiring* source : sources) {
    const std::string what = pipeline ? "pipeline " + *pipeline + " of source " + source->config->name
                                      : "source " + source->config->name + " (every pipeline, stream position and "
                                                                           "Scan)";
    if (!yes) {
      return core::Status::InvalidArgument("`reset` forgets the progress of " + what +
                                           ": the next `ddb2pg run` reads the table again (the target rows stay and "
                                           "are reconciled). Add --yes to do it");
    }
    sink::PgLeaseStore store = StoreOf(wiring, *source);
    DDB2PG_RETURN_IF_ERROR(store.Open());
    DDB2PG_RETURN_IF_ERROR(store.Forget(pipeline));  // refused while a runner is live
    std::fprintf(out, "forgot the progress of %s; the next `ddb2pg run` %s\n", what.c_str(),
                 pipeline ? "backfills its table (if it is in the file)" : "snapshots the table again");
  }
  return core::Status::Ok();
}

}  // namespace ddb2pg::app
