// Mapping the reference `users` item into its three rows (profile, appearance_settings,
// notification_settings; shared/SCENARIO.md), on one core:
//   BM_MapReferenceItem      — pre-decoded items (core::Value), mapping alone
//   BM_DecodeAndMapPage      — a 1000-record GetRecords page decoded with
//                              aws::ParseGetRecordsResponse, then every record mapped
//   BM_MapNotificationList   — the notification_settings plan of the list-of-names shape alone
//   BM_MapReferenceItemPlus/<extra> — the reference mapping with one more profile column, so that
//                              the difference to BM_MapReferenceItem is that column's cost:
//                              regex_match, regex_extract, regex_replace, item() (JSONB),
//                              item_except('id'), arithmetic (repScore * 2), concat(name, ' @', handle)
//   BM_Regex{Re2,Std}Match   — one literal pattern matched against the reference handles with RE2
//                              (what the expression language uses) and with std::regex
//   BM_Regex{Re2,Std}Backtracking/n — the pattern (a+)+$ on n 'a's and a 'b': RE2 stays linear,
//                              std::regex backtracks exponentially (why the language uses RE2)
//   BM_MapExplodedPronouns   — an exploded pipeline (child table) of the item's pronouns, each
//                              update removing one element (rows_per_item: upserts + removals)
// items_per_second is source items (one item → three rows).
#include <benchmark/benchmark.h>

#include <regex>
#include <utility>
#include <vector>

#include <re2/re2.h>

#include "aws/response_parser.h"
#include "processor/mapping_plan.h"
#include "reference_data.h"

namespace ddb2pg {
namespace {

using model::ColumnSpec;
using model::ColumnType;
using processor::MappingPlan;
using model::PipelineSpec;

ColumnSpec Column(std::string name, std::string_view type, std::string expression) {
  ColumnSpec column;
  column.name = std::move(name);
  column.type = *ColumnType::Parse(type);
  column.expression = std::move(expression);
  return column;
}

PipelineSpec Pipeline(std::string table, std::string key, std::vector<ColumnSpec> columns) {
  PipelineSpec spec;
  spec.name = table;
  spec.source = "users";
  spec.table.name = std::move(table);
  spec.table.key_columns = {std::move(key)};
  spec.table.columns = std::move(columns);
  return spec;
}

const char* const kSettings[] = {"follows", "comments", "quotes",     "likes",
                                 "mentions", "app_wide", "tp_invites", "tp_replies"};

// The three pipelines of examples/users.yaml; `extra`, when given, is one more profile column.
std::vector<MappingPlan> ReferencePlans(const ColumnSpec* extra = nullptr) {
  std::vector<PipelineSpec> specs;
  specs.push_back(Pipeline("profile", "id",
                           {Column("id", "uuid", "id"), Column("user_id", "uuid", "id"),
                            Column("created_at", "timestamptz", "createdAt"), Column("name", "text", "name"),
                            Column("handle", "text", "handle"), Column("image_url", "text", "imageUrl"),
                            Column("bio", "varchar(210)", "bio"), Column("location", "varchar(48)", "location"),
                            Column("rep_score", "real", "repScore"), Column("website", "text", "website"),
                            Column("birthdate", "timestamptz", "birthdate"), Column("deleted", "boolean", "deleted"),
                            Column("deleted_at", "timestamptz", "deletedAt")}));
  if (extra != nullptr) specs.back().table.columns.push_back(*extra);
  specs.push_back(Pipeline("appearance_settings", "profile_id",
                           {Column("id", "uuid", "id"), Column("mode", "text", "appearance.mode"),
                            Column("colorway", "text", "appearance.colorway"),
                            Column("theme", "text", "appearance.theme"),
                            Column("deleted", "boolean", "appearance.deleted"),
                            Column("deleted_at", "timestamptz", "appearance.deletedAt"),
                            Column("profile_id", "uuid", "id")}));
  std::vector<ColumnSpec> notification_columns = {Column("id", "uuid", "id")};
  for (const char* prefix : {"push_", "app_"}) {
    for (const char* setting : kSettings) {
      const std::string name = std::string(prefix) + setting;
      notification_columns.push_back(Column(name, "boolean", "notifications." + name));
    }
  }
  notification_columns.push_back(Column("deleted", "boolean", "notifications.deleted"));
  notification_columns.push_back(Column("deleted_at", "timestamptz", "notifications.deletedAt"));
  notification_columns.push_back(Column("profile_id", "uuid", "id"));
  specs.push_back(Pipeline("notification_settings", "profile_id", std::move(notification_columns)));

  std::vector<MappingPlan> plans;
  for (const auto& spec : specs) {
    auto plan = MappingPlan::Compile(spec);
    if (!plan.ok()) throw std::runtime_error(plan.status().ToString());
    plans.push_back(std::move(plan).value());
  }
  return plans;
}

core::Record UpdateRecord(core::Value new_image, core::Value old_image) {
  core::Record record;
  record.operation = core::Operation::kUpdate;
  record.key = core::Value::MakeMap({{"id", *new_image.Find("id")}});
  record.after = std::move(new_image);
  record.before = std::move(old_image);
  record.metadata.table = "users";
  record.metadata.change_time_ms = 1725556580382;
  return record;
}

void MapAll(const std::vector<MappingPlan>& plans, const core::Record& record, benchmark::State& state) {
  for (const MappingPlan& plan : plans) {
    auto row = plan.Map(record);
    if (!row.ok() || !row->has_value()) {
      state.SkipWithError(row.ok() ? "no row" : row.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(row);
  }
}

void BM_MapReferenceItem(benchmark::State& state) {
  const std::vector<MappingPlan> plans = ReferencePlans();
  std::vector<core::Record> records;
  for (uint64_t seed = 1; seed <= 256; ++seed) {
    records.push_back(UpdateRecord(bench::MakeReferenceItem(seed), bench::MakeReferenceOldImage(seed)));
  }
  size_t next = 0;
  for (auto _ : state) {
    MapAll(plans, records[next], state);
    next = (next + 1) % records.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["rows_per_item"] = 3;
}
BENCHMARK(BM_MapReferenceItem);

struct ExtraColumn {
  const char* label;
  const char* type;
  const char* expression;
};
constexpr ExtraColumn kExtraColumns[] = {
    {"regex_match", "boolean", "regex_match(handle, '^[a-z]+\\.[a-z]+[0-9]*$')"},
    {"regex_extract", "text", "regex_extract(email, '@([a-z.]+)$', 1)"},
    {"regex_replace", "text", "regex_replace(handle, '[0-9]+', '')"},
    {"item", "jsonb", "item()"},
    {"item_except", "jsonb", "item_except('id')"},
    {"arithmetic", "numeric", "repScore * 2"},
    {"concat", "text", "concat(name, ' @', handle)"},
};

void BM_MapReferenceItemPlus(benchmark::State& state) {
  const ExtraColumn& extra = kExtraColumns[state.range(0)];
  state.SetLabel(extra.expression);
  const ColumnSpec column = Column("extra", extra.type, extra.expression);
  const std::vector<MappingPlan> plans = ReferencePlans(&column);
  std::vector<core::Record> records;
  for (uint64_t seed = 1; seed <= 256; ++seed) {
    records.push_back(UpdateRecord(bench::MakeReferenceItem(seed), bench::MakeReferenceOldImage(seed)));
  }
  size_t next = 0;
  for (auto _ : state) {
    MapAll(plans, records[next], state);
    next = (next + 1) % records.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_MapReferenceItemPlus)->DenseRange(0, std::size(kExtraColumns) - 1);

std::vector<std::string> ReferenceHandles() {
  std::vector<std::string> handles;
  for (uint64_t seed = 1; seed <= 256; ++seed) handles.push_back(bench::MakeReferenceItem(seed).Find("handle")->as_string());
  return handles;
}

constexpr const char* kHandlePattern = "^[a-z]+\\.[a-z]+[0-9]*$";

void BM_RegexRe2Match(benchmark::State& state) {
  const std::vector<std::string> handles = ReferenceHandles();
  const RE2 pattern(kHandlePattern);
  size_t next = 0, matched = 0;
  for (auto _ : state) {
    matched += RE2::PartialMatch(handles[next], pattern) ? 1 : 0;
    next = (next + 1) % handles.size();
  }
  benchmark::DoNotOptimize(matched);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RegexRe2Match);

void BM_RegexStdMatch(benchmark::State& state) {
  const std::vector<std::string> handles = ReferenceHandles();
  const std::regex pattern(kHandlePattern);
  size_t next = 0, matched = 0;
  for (auto _ : state) {
    matched += std::regex_search(handles[next], pattern) ? 1 : 0;
    next = (next + 1) % handles.size();
  }
  benchmark::DoNotOptimize(matched);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RegexStdMatch);

void BM_RegexRe2Backtracking(benchmark::State& state) {
  const std::string text = std::string(static_cast<size_t>(state.range(0)), 'a') + "b";
  const RE2 pattern("(a+)+$");
  for (auto _ : state) benchmark::DoNotOptimize(RE2::PartialMatch(text, pattern));
}
BENCHMARK(BM_RegexRe2Backtracking)->Arg(16)->Arg(20)->Arg(24);

void BM_RegexStdBacktracking(benchmark::State& state) {
  const std::string text = std::string(static_cast<size_t>(state.range(0)), 'a') + "b";
  const std::regex pattern("(a+)+$");
  for (auto _ : state) benchmark::DoNotOptimize(std::regex_search(text, pattern));
}
BENCHMARK(BM_RegexStdBacktracking)->Arg(16)->Arg(20)->Arg(24)->Unit(benchmark::kMillisecond);

void BM_DecodeAndMapPage(benchmark::State& state) {
  const std::vector<MappingPlan> plans = ReferencePlans();
  const std::string page = bench::MakeGetRecordsPageJson(1000);
  int64_t items = 0;
  for (auto _ : state) {
    auto result = aws::ParseGetRecordsResponse(page);
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
    for (aws::StreamRecord& stream_record : result->records) {
      core::Record record;
      record.operation = core::Operation::kUpdate;
      record.key = std::move(stream_record.keys);
      record.after = std::move(stream_record.new_image);
      record.before = std::move(stream_record.old_image);
      record.metadata.change_time_ms = stream_record.approximate_creation_time_ms;
      MapAll(plans, record, state);
      ++items;
    }
  }
  state.SetItemsProcessed(items);
  state.SetBytesProcessed(static_cast<int64_t>(page.size()) * static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DecodeAndMapPage)->Unit(benchmark::kMillisecond);

void BM_MapNotificationList(benchmark::State& state) {
  std::vector<ColumnSpec> columns = {Column("id", "uuid", "id")};
  const char* const kNames[] = {"Follows", "Comments", "Quotes", "Likes",
                                "Mentions", "AppWide", "TeaPartyInvites", "TeaPartyReply"};
  for (const char* prefix : {"push_", "app_"}) {
    for (size_t i = 0; i < 8; ++i) {
      columns.push_back(Column(std::string(prefix) + kSettings[i], "boolean",
                               std::string("contains(notifications, '") + kNames[i] + "', true)"));
    }
  }
  columns.push_back(Column("deleted", "boolean", "deleted"));
  columns.push_back(Column("deleted_at", "timestamptz", "deletedAt"));
  columns.push_back(Column("profile_id", "uuid", "id"));
  std::vector<MappingPlan> plans;
  plans.push_back(std::move(MappingPlan::Compile(Pipeline("notification_settings", "profile_id", columns))).value());

  core::Value item = bench::MakeReferenceItem(1);
  item.Set("notifications", core::Value::MakeList({core::Value::String("Follows"), core::Value::String("Comments"),
                                                   core::Value::String("TeaPartyInvites"),
                                                   core::Value::String("TeaPartyReply")}));
  const core::Record record = UpdateRecord(item, item);
  for (auto _ : state) MapAll(plans, record, state);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_MapNotificationList);

// An exploded pipeline: the reference item's `pronouns` (one or two maps) into a child table,
// keyed by the item's id and the element's index. Each update's old image has one pronoun more
// than its new one, so every record also gives a removal (the diff of old and new elements).
void BM_MapExplodedPronouns(benchmark::State& state) {
  PipelineSpec spec = Pipeline("profile_pronouns", "profile_id",
                               {Column("profile_id", "uuid", "id"), Column("position", "integer", "index"),
                                Column("subject", "text", "element.subject"), Column("object", "text", "element.object"),
                                Column("possessive", "text", "element.possessive")});
  spec.table.key_columns = {"profile_id", "position"};
  spec.table.delete_policy = model::DeletePolicy::kHard;
  spec.explode = "pronouns";
  const MappingPlan plan = std::move(MappingPlan::Compile(spec)).value();
  std::vector<core::Record> records;
  for (uint64_t seed = 1; seed <= 256; ++seed) {
    core::Value old_image = bench::MakeReferenceItem(seed);
    for (auto& [name, value] : old_image.map()) {
      if (name == "pronouns") value.list().push_back(value.list().front());
    }
    records.push_back(UpdateRecord(bench::MakeReferenceItem(seed), std::move(old_image)));
  }
  size_t next = 0;
  int64_t rows_made = 0;
  std::vector<model::Row> rows;
  for (auto _ : state) {
    rows.clear();
    const core::Status mapped = plan.MapRows(records[next], &rows);
    if (!mapped.ok()) {
      state.SkipWithError(mapped.ToString().c_str());
      return;
    }
    rows_made += static_cast<int64_t>(rows.size());
    benchmark::DoNotOptimize(rows);
    next = (next + 1) % records.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["rows_per_item"] =
      benchmark::Counter(static_cast<double>(rows_made) / static_cast<double>(std::max<int64_t>(1, state.iterations())));
}
BENCHMARK(BM_MapExplodedPronouns);

}  // namespace
}  // namespace ddb2pg

BENCHMARK_MAIN();
