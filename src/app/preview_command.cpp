#include "app/preview_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>

#include "core/json_writer.h"
#include "core/record.h"
#include "core/value_json.h"
#include "processor/mapping_plan.h"

namespace ddb2pg::app {
namespace {

// Bounds on what `--from stream` reads: GetRecords pages per shard, and records per page.
constexpr int kMaxStreamPagesPerShard = 50;
constexpr int kStreamPageLimit = 1000;

// What one pipeline makes of one record.
struct Outcome {
  const processor::MappingPlan* plan = nullptr;
  std::optional<model::Row> row;  // set: the row it would write
  std::string reason;                 // non-empty: why the record cannot be mapped
};

struct PreviewItem {
  std::string source;
  core::Record record;
  std::vector<Outcome> outcomes;
};

std::string_view ActionName(model::RowAction action) {
  switch (action) {
    case model::RowAction::kUpsert: return "upsert";
    case model::RowAction::kSoftDelete: return "soft_delete";
    case model::RowAction::kHardDelete: return "hard_delete";
    case model::RowAction::kSnapshotUpsert: return "upsert";  // a snapshot row, upserted unless fenced
  }
  return "upsert";
}

// What the runtime does with a record this pipeline cannot map (its on_error).
std::string_view FailureName(model::ErrorPolicy policy) {
  switch (policy) {
    case model::ErrorPolicy::kDeadLetter: return "dead_letter";
    case model::ErrorPolicy::kSkip: return "skip";
    case model::ErrorPolicy::kStop: return "stop";
  }
  return "dead_letter";
}

// Item text is user data: control characters are shown escaped so that one cell stays one line
// and cannot move the terminal's cursor.
std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string KeyText(const core::Value& key) {
  std::string out;
  if (!key.is_map()) return Printable(key.DebugString());
  for (const auto& [name, value] : key.map()) {
    if (!out.empty()) out += ", ";
    const std::string* text = value.scalar_text();
    out += name + "=" + (text != nullptr ? *text : value.DebugString());
  }
  return Printable(out);
}

core::Operation OperationOf(const std::string& event_name) {
  if (event_name == "INSERT") return core::Operation::kCreate;
  if (event_name == "MODIFY") return core::Operation::kUpdate;
  if (event_name == "REMOVE") return core::Operation::kDelete;
  return core::Operation::kMarker;
}

// Sequence numbers are decimal strings of varying length: compare as numbers.
bool SequenceBefore(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

core::Result<std::vector<core::Record>> ReadScanPage(SourceWiring& source, int limit) {
  auto described = source.table->DescribeTable(source.config->table);
  if (!described.ok()) return described.status().WithContext("DescribeTable " + source.config->table);
  aws::ScanRequest request;
  request.table_name = source.config->table;
  request.limit = limit;
  auto page = source.table->Scan(request);
  if (!page.ok()) return page.status().WithContext("Scan " + source.config->table);
  std::vector<core::Record> records;
  for (auto& item : page->items) {
    core::Record record;
    record.operation = core::Operation::kSnapshot;
    record.metadata.table = source.config->table;
    record.key = core::Value::MakeMap();
    for (const auto& element : described->key_schema) {
      if (const core::Value* part = item.Find(element.attribute_name)) record.key.Set(element.attribute_name, *part);
    }
    record.after = std::move(item);
    records.push_back(std::move(record));
  }
  return records;
}

// The newest `limit` records of the stream's open shards (all shards when none is open), read
// from each shard's trim horizon up to its end (at most kMaxStreamPagesPerShard pages).
core::Result<std::vector<core::Record>> LatestStreamRecords(SourceWiring& source, int limit) {
  const std::string& table = source.config->table;
  auto described = source.table->DescribeTable(table);
  if (!described.ok()) return described.status().WithContext("DescribeTable " + table);
  if (described->latest_stream_arn.empty() || !described->stream_enabled) {
    return core::Status::NotFound("table " + table + " has no stream enabled (preview --from scan reads its items)");
  }
  aws::DescribeStreamRequest request;
  request.stream_arn = described->latest_stream_arn;
  auto stream = source.streams->DescribeAllShards(request);
  if (!stream.ok()) return stream.status().WithContext("DescribeStream " + table);
  std::vector<const aws::ShardDescription*> shards;
  for (const auto& shard : stream->shards) {
    if (shard.ending_sequence_number.empty()) shards.push_back(&shard);
  }
  if (shards.empty()) {
    for (const auto& shard : stream->shards) shards.push_back(&shard);
  }
  std::vector<aws::StreamRecord> newest;
  for (const auto* shard : shards) {
    auto iterator = source.streams->GetShardIterator(request.stream_arn, shard->shard_id,
                                                     aws::ShardIteratorType::kTrimHorizon, "");
    if (!iterator.ok()) return iterator.status().WithContext("GetShardIterator " + shard->shard_id);
    std::deque<aws::StreamRecord> last;
    std::optional<std::string> next = *iterator;
    for (int page_number = 0; next && page_number < kMaxStreamPagesPerShard; ++page_number) {
      auto page = source.streams->GetRecords(*next, kStreamPageLimit);
      if (!page.ok()) return page.status().WithContext("GetRecords " + shard->shard_id);
      for (auto& change : page->records) {
        last.push_back(std::move(change));
        if (static_cast<int>(last.size()) > limit) last.pop_front();
      }
      if (page->records.empty()) break;  // caught up with the shard's newest record
      next = page->next_shard_iterator;
    }
    for (auto& change : last) newest.push_back(std::move(change));
  }
  std::sort(newest.begin(), newest.end(), [](const aws::StreamRecord& a, const aws::StreamRecord& b) {
    if (a.approximate_creation_time_ms != b.approximate_creation_time_ms) {
      return a.approximate_creation_time_ms < b.approximate_creation_time_ms;
    }
    return SequenceBefore(a.sequence_number, b.sequence_number);
  });
  if (static_cast<int>(newest.size()) > limit) newest.erase(newest.begin(), newest.end() - limit);
  std::vector<core::Record> records;
  for (auto& change : newest) {
    core::Record record;
    record.operation = OperationOf(change.event_name);
    if (record.operation == core::Operation::kMarker) continue;
    record.key = std::move(change.keys);
    record.before = std::move(change.old_image);
    record.after = std::move(change.new_image);
    record.metadata.table = table;
    record.metadata.sequence_number = change.sequence_number;
    record.metadata.change_time_ms = change.approximate_creation_time_ms;
    records.push_back(std::move(record));
  }
  return records;
}

void PrintTable(const std::vector<PreviewItem>& items, std::FILE* out) {
  size_t rows = 0, failures = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    std::fprintf(out, "item %zu/%zu  source %s  %s  key %s%s%s\n", i + 1, items.size(), item.source.c_str(),
                 std::string(core::OperationName(item.record.operation)).c_str(), KeyText(item.record.key).c_str(),
                 item.record.metadata.sequence_number.empty() ? "" : "  sequence ",
                 item.record.metadata.sequence_number.c_str());
    for (const auto& outcome : item.outcomes) {
      const auto& spec = outcome.plan->spec();
      const std::string target = spec.table.schema + "." + spec.table.name;
      if (!outcome.reason.empty()) {
        ++failures;
        std::fprintf(out, "  %s → %s: %s: %s\n", spec.name.c_str(), target.c_str(),
                     std::string(FailureName(spec.on_error)).c_str(), Printable(outcome.reason).c_str());
        continue;
      }
      if (!outcome.row) {
        std::fprintf(out, "  %s → %s: no row (filtered, or a delete this pipeline ignores)\n", spec.name.c_str(),
                     target.c_str());
        continue;
      }
      ++rows;
      std::fprintf(out, "  %s → %s: %s\n", spec.name.c_str(), target.c_str(),
                   std::string(ActionName(outcome.row->action)).c_str());
      size_t width = 0;
      for (const auto& column : spec.table.columns) width = std::max(width, column.name.size());
      for (size_t c = 0; c < spec.table.columns.size() && c < outcome.row->size(); ++c) {
        const std::string value = outcome.row->is_null(c) ? "NULL" : Printable(outcome.row->cell(c));
        std::fprintf(out, "    %-*s  %s\n", static_cast<int>(width), spec.table.columns[c].name.c_str(), value.c_str());
      }
    }
  }
  std::fprintf(out, "%zu item%s: %zu row%s, %zu that cannot be mapped; nothing was written\n", items.size(),
               items.size() == 1 ? "" : "s", rows, rows == 1 ? "" : "s", failures);
}

void PrintJson(const std::vector<PreviewItem>& items, std::FILE* out) {
  std::string text;
  core::JsonWriter json(&text);
  json.BeginObject().Key("items").BeginArray();
  for (const auto& item : items) {
    json.BeginObject();
    json.Key("source").String(item.source);
    json.Key("operation").String(core::OperationName(item.record.operation));
    if (!item.record.metadata.sequence_number.empty()) {
      json.Key("sequence_number").String(item.record.metadata.sequence_number);
    }
    if (item.record.key.is_map() && !item.record.key.map().empty()) {
      json.Key("key").BeginObject();
      for (const auto& [name, value] : item.record.key.map()) {
        const std::string* scalar = value.scalar_text();
        json.Key(name).String(scalar != nullptr ? *scalar : value.DebugString());
      }
      json.EndObject();
    }
    json.Key("pipelines").BeginArray();
    for (const auto& outcome : item.outcomes) {
      const auto& spec = outcome.plan->spec();
      json.BeginObject().Key("pipeline").String(spec.name);
      json.Key("table").String(spec.table.schema + "." + spec.table.name);
      if (!outcome.reason.empty()) {
        json.Key("action").String(FailureName(spec.on_error));
        json.Key("reason").String(outcome.reason);
      } else if (!outcome.row) {
        json.Key("action").String("none");
      } else {
        json.Key("action").String(ActionName(outcome.row->action));
        json.Key("row").BeginObject();
        for (size_t c = 0; c < spec.table.columns.size() && c < outcome.row->size(); ++c) {
          json.Key(spec.table.columns[c].name);
          if (outcome.row->is_null(c)) {
            json.Null();
          } else {
            json.String(outcome.row->cell(c));
          }
        }
        json.EndObject();
      }
      json.EndObject();
    }
    json.EndArray().EndObject();
  }
  json.EndArray().EndObject();
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), out);
}

}  // namespace

core::Status RunPreview(Wiring& wiring, const PreviewOptions& options, std::FILE* out) {
  if (options.limit < 1 || options.limit > 1000) {
    return core::Status::InvalidArgument("--limit must be between 1 and 1000, not " + std::to_string(options.limit));
  }
  if (!options.pipeline.empty()) {
    bool known = false;
    std::string names;
    for (const auto& plan : wiring.plans) {
      known = known || plan->spec().name == options.pipeline;
      names += (names.empty() ? "" : ", ") + plan->spec().name;
    }
    if (!known) {
      return core::Status::InvalidArgument("--pipeline " + options.pipeline + ": no such pipeline in " +
                                           wiring.config.path + " (it has: " + names + ")");
    }
  }
  std::vector<PreviewItem> items;
  for (auto& source : wiring.sources) {
    std::vector<const processor::MappingPlan*> plans;
    for (const auto* plan : source.plans) {
      if (options.pipeline.empty() || plan->spec().name == options.pipeline) plans.push_back(plan);
    }
    if (plans.empty()) continue;
    auto records = options.from == PreviewFrom::kScan ? ReadScanPage(source, options.limit)
                                                      : LatestStreamRecords(source, options.limit);
    if (!records.ok()) return records.status().WithContext("source " + source.config->name);
    for (auto& record : *records) {
      PreviewItem item;
      item.source = source.config->name;
      item.record = std::move(record);
      for (const auto* plan : plans) {
        Outcome outcome;
        outcome.plan = plan;
        std::vector<model::Row> rows;
        const core::Status mapped = plan->MapRows(item.record, &rows);
        if (!mapped.ok()) {
          // The same text the runtime stores in ddb2pg.dead_letters.reason.
          outcome.reason = mapped.message();
        }
        if (rows.empty()) item.outcomes.push_back(std::move(outcome));
        for (auto& row : rows) {  // an exploded pipeline: one outcome per element's row
          Outcome one;
          one.plan = plan;
          one.row = std::move(row);
          item.outcomes.push_back(std::move(one));
        }
      }
      items.push_back(std::move(item));
    }
  }
  if (options.format == PreviewFormat::kJson) {
    PrintJson(items, out);
  } else {
    PrintTable(items, out);
  }
  return core::Status::Ok();
}

}  // namespace ddb2pg::app
