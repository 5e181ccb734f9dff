// Runs the table-driven mapping cases in tests/cases/processor/*.yaml: one gtest case per case,
// named <file>_<case>.
//
// File format:
//   table:                       # the target of every case in the file (a case may override it)
//     name: profile              # optional
//     columns:                   # in row order: [name, type, expression] or
//       - [id, uuid, id]         #   [name, type, expression, truncate] (VARCHAR overflow policy)
//       - [bio, varchar(210), bio, truncate]
//     key: [id]                  # key columns
//     delete: soft               # soft | hard | ignore (default hard)
//     ttl_delete: soft           # for deletes made by DynamoDB's TTL (default: as delete)
//     deleted_column: deleted    # optional, soft deletes
//     deleted_at_column: deleted_at   # optional; '' for none
//     filter: "operation() != 'delete'"   # optional
//     explode: pronouns          # optional: one row per element (a child table)
//   item: '{"id": {"S": "…"}}'   # optional base item (DynamoDB JSON) for cases without `item`
//   cases:
//     - name: some_case
//       op: create               # snapshot | create | update | delete | marker (default create)
//       ttl: true                # with op: delete, the REMOVE was made by DynamoDB's Time to
//                                #   Live (ttl_delete(), on_ttl_delete); default false
//       item: '{…}'              # the image (for delete: the old image); default the base item
//       set: '{"bio": {"N": "5"}}'  # optional: attributes added to / replacing those of the item
//       remove: [id]             # optional: top-level attributes removed from the item
//       change_time_ms: 1725556580382   # optional (default 1725556580382 = 2024-09-05T17:16:20.382Z)
//       before: '{…}'            # optional, with op: update: the old image
//       # and exactly one expectation:
//       row: [a, ~, "true"]      # cells in column order, ~ for NULL; compared as text
//       action: upsert           # with row: upsert (default) | soft_delete | hard_delete
//       rows:                    # every row MapRows() gives, in order, each its action then
//         - [upsert, a, "0"]     #   its cells (an exploded pipeline; [] for none)
//       error: "substring"       # Map() (or Compile()) fails with a message containing this
//       no_row: true             # Map() gives no row (filtered out, ignored delete, marker)
// The record's key is the item's `id` attribute (when present). now() reads a clock pinned at
// 2025-01-01T00:00:00Z.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "aws/attribute_codec.h"
#include "processor/mapping_plan.h"

namespace ddb2pg::processor {

using model::PipelineSpec;
using model::ColumnSpec;
using model::ColumnType;
using model::OverflowPolicy;
using model::DeletePolicy;
using model::RowAction;
using model::Row;
namespace {

namespace fs = std::filesystem;

struct MappingCase {
  std::string test_name;  // gtest-safe
  std::string file;
  int line = 0;
  std::string load_error;  // set when the case file itself could not be read
  YAML::Node table;
  std::string item_json;
  std::string set_json;
  std::vector<std::string> remove;
  std::string op = "create";
  bool ttl = false;
  int64_t change_time_ms = 1725556580382;
  std::optional<std::vector<std::optional<std::string>>> row;
  std::string action = "upsert";
  std::string before_json;
  // `rows`: each row's action, then its cells.
  std::optional<std::vector<std::vector<std::optional<std::string>>>> rows;
  std::optional<std::string> error;
  bool no_row = false;
};

// gtest prints parameters of failed cases; the name and file say all that is needed.
void PrintTo(const MappingCase& c, std::ostream* os) { *os << c.test_name << " (" << c.file << ":" << c.line << ")"; }

std::string Sanitise(std::string text) {
  for (char& c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return text;
}

std::vector<MappingCase> LoadCases() {
  std::vector<MappingCase> cases;
  const fs::path dir = fs::path(DDB2PG_SOURCE_DIR) / "tests" / "cases" / "processor";
  std::vector<fs::path> files;
  if (fs::exists(dir)) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& path : files) {
    const std::string stem = Sanitise(fs::relative(path, dir).replace_extension().string());
    try {
      YAML::Node root = YAML::LoadFile(path.string());
      const YAML::Node base_item = root["item"];
      for (const YAML::Node& node : root["cases"]) {
        MappingCase c;
        c.file = path.string();
        c.line = node.Mark().line + 1;
        c.test_name = stem + "_" + Sanitise(node["name"].as<std::string>());
        c.table = node["table"] ? node["table"] : root["table"];
        if (node["item"]) c.item_json = node["item"].as<std::string>();
        else if (base_item) c.item_json = base_item.as<std::string>();
        if (node["set"]) c.set_json = node["set"].as<std::string>();
        if (node["remove"]) c.remove = node["remove"].as<std::vector<std::string>>();
        if (node["op"]) c.op = node["op"].as<std::string>();
        if (node["ttl"]) c.ttl = node["ttl"].as<bool>();
        if (node["change_time_ms"]) c.change_time_ms = node["change_time_ms"].as<int64_t>();
        if (node["row"]) {
          std::vector<std::optional<std::string>> cells;
          for (const YAML::Node& cell : node["row"]) {
            if (cell.IsNull()) cells.emplace_back(std::nullopt);
            else cells.emplace_back(cell.as<std::string>());
          }
          c.row = std::move(cells);
        }
        if (node["action"]) c.action = node["action"].as<std::string>();
        if (node["before"]) c.before_json = node["before"].as<std::string>();
        if (node["rows"]) {
          std::vector<std::vector<std::optional<std::string>>> rows;
          for (const YAML::Node& row : node["rows"]) {
            std::vector<std::optional<std::string>> cells;
            for (const YAML::Node& cell : row) {
              if (cell.IsNull()) cells.emplace_back(std::nullopt);
              else cells.emplace_back(cell.as<std::string>());
            }
            rows.push_back(std::move(cells));
          }
          c.rows = std::move(rows);
        }
        if (node["error"]) c.error = node["error"].as<std::string>();
        if (node["no_row"]) c.no_row = node["no_row"].as<bool>();
        cases.push_back(std::move(c));
      }
    } catch (const std::exception& e) {
      MappingCase c;
      c.file = path.string();
      c.test_name = stem + "_LOAD_ERROR";
      c.load_error = e.what();
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

const std::vector<MappingCase>& AllCases() {
  static const std::vector<MappingCase> cases = LoadCases();
  return cases;
}

class PinnedClock : public core::Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1735689600));  // 2025-01-01
  }
  std::chrono::steady_clock::time_point Monotonic() const override { return {}; }
  void SleepFor(std::chrono::nanoseconds) const override {}
};

PipelineSpec SpecFromYaml(const YAML::Node& table) {
  PipelineSpec spec;
  spec.name = "case";
  spec.source = "source";
  spec.table.name = table["name"] ? table["name"].as<std::string>() : "target";
  for (const YAML::Node& column : table["columns"]) {
    ColumnSpec c;
    c.name = column[0].as<std::string>();
    auto type = ColumnType::Parse(column[1].as<std::string>());
    if (!type.ok()) throw std::runtime_error(type.status().message());
    c.type = *type;
    c.expression = column[2].IsNull() ? "" : column[2].as<std::string>();
    if (column.size() > 3) {
      const std::string overflow = column[3].as<std::string>();
      if (overflow == "truncate") c.overflow = OverflowPolicy::kTruncate;
      else if (overflow != "reject") throw std::runtime_error("unknown overflow policy " + overflow);
    }
    c.line = column.Mark().line + 1;
    c.column = column.Mark().column + 1;
    spec.table.columns.push_back(std::move(c));
  }
  spec.table.key_columns = table["key"].as<std::vector<std::string>>();
  const auto parse_policy = [](const std::string& policy) {
    if (policy == "soft") return DeletePolicy::kSoft;
    if (policy == "hard") return DeletePolicy::kHard;
    if (policy == "ignore") return DeletePolicy::kIgnore;
    throw std::runtime_error("unknown delete policy " + policy);
  };
  spec.table.delete_policy = parse_policy(table["delete"] ? table["delete"].as<std::string>() : "hard");
  if (table["ttl_delete"]) spec.table.ttl_delete_policy = parse_policy(table["ttl_delete"].as<std::string>());
  if (table["deleted_column"]) spec.table.deleted_column = table["deleted_column"].as<std::string>();
  if (table["deleted_at_column"]) {
    spec.table.deleted_at_column =
        table["deleted_at_column"].IsNull() ? "" : table["deleted_at_column"].as<std::string>();
  }
  if (table["filter"]) {
    spec.filter = table["filter"].as<std::string>();
    spec.filter_line = table["filter"].Mark().line + 1;
  }
  if (table["explode"]) spec.explode = table["explode"].as<std::string>();
  return spec;
}

std::string Show(const std::vector<std::optional<std::string>>& cells) {
  std::string out = "[";
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out += ", ";
    out += cells[i] ? "\"" + *cells[i] + "\"" : std::string("~");
  }
  return out + "]";
}

std::vector<std::optional<std::string>> CellsOf(const Row& row) {
  std::vector<std::optional<std::string>> cells;
  for (size_t i = 0; i < row.size(); ++i) {
    cells.push_back(row.is_null(i) ? std::nullopt : std::optional<std::string>(row.cell(i)));
  }
  return cells;
}

core::Operation ParseOperation(const std::string& op) {
  if (op == "snapshot") return core::Operation::kSnapshot;
  if (op == "create") return core::Operation::kCreate;
  if (op == "update") return core::Operation::kUpdate;
  if (op == "delete") return core::Operation::kDelete;
  if (op == "marker") return core::Operation::kMarker;
  throw std::runtime_error("unknown op " + op);
}

std::string ActionName(RowAction action) {
  switch (action) {
    case RowAction::kUpsert: return "upsert";
    case RowAction::kSoftDelete: return "soft_delete";
    case RowAction::kHardDelete: return "hard_delete";
    case RowAction::kSnapshotUpsert: return "snapshot_upsert";  // set by the runtime, never by the mapping
  }
  return "?";
}

class MappingCaseTest : public ::testing::TestWithParam<MappingCase> {};

TEST_P(MappingCaseTest, Maps) {
  const MappingCase& c = GetParam();
  ASSERT_TRUE(c.load_error.empty()) << c.file << ": " << c.load_error;
  SCOPED_TRACE(c.file + ":" + std::to_string(c.line));
  const int expectations = (c.row ? 1 : 0) + (c.rows ? 1 : 0) + (c.error ? 1 : 0) + (c.no_row ? 1 : 0);
  ASSERT_EQ(expectations, 1) << "a case needs exactly one of row, rows, error, no_row";

  static const PinnedClock clock;
  auto plan = MappingPlan::Compile(SpecFromYaml(c.table), &clock);
  if (!plan.ok()) {
    ASSERT_TRUE(c.error.has_value()) << "compile failed: " << plan.status().ToString();
    EXPECT_NE(plan.status().message().find(*c.error), std::string::npos)
        << "error \"" << plan.status().message() << "\" lacks \"" << *c.error << "\"";
    return;
  }

  core::Record record;
  record.operation = ParseOperation(c.op);
  record.metadata.change_time_ms = c.change_time_ms;
  record.metadata.ttl_delete = c.ttl;
  if (!c.item_json.empty()) {
    auto item = aws::ParseItemJson(c.item_json);
    ASSERT_TRUE(item.ok()) << "item: " << item.status().ToString();
    core::Value image = std::move(item).value();
    if (!c.set_json.empty()) {
      auto set = aws::ParseItemJson(c.set_json);
      ASSERT_TRUE(set.ok()) << "set: " << set.status().ToString();
      for (const auto& [name, value] : set->map()) image.Set(name, value);
    }
    for (const std::string& name : c.remove) {
      auto& entries = image.map();
      entries.erase(std::remove_if(entries.begin(), entries.end(),
                                   [&](const auto& entry) { return entry.first == name; }),
                    entries.end());
    }
    if (const core::Value* id = image.Find("id")) record.key = core::Value::MakeMap({{"id", *id}});
    if (record.operation == core::Operation::kDelete) record.before = std::move(image);
    else if (record.operation != core::Operation::kMarker) record.after = std::move(image);
  }

  if (!c.before_json.empty()) {
    auto before = aws::ParseItemJson(c.before_json);
    ASSERT_TRUE(before.ok()) << "before: " << before.status().ToString();
    record.before = std::move(before).value();
  }

  if (c.rows || plan->exploded()) {  // every row the record gives, each with its action
    std::vector<Row> rows;
    const core::Status mapped = plan->MapRows(record, &rows);
    std::vector<std::string> shown;
    for (const Row& row : rows) {
      auto cells = CellsOf(row);
      cells.insert(cells.begin(), ActionName(row.action));
      shown.push_back(Show(cells));
    }
    if (c.error) {
      ASSERT_FALSE(mapped.ok()) << "expected an error containing \"" << *c.error << "\", got "
                                << ::testing::PrintToString(shown);
      EXPECT_TRUE(rows.empty()) << "a failed record gives no rows";
      EXPECT_NE(mapped.message().find(*c.error), std::string::npos)
          << "error \"" << mapped.message() << "\" lacks \"" << *c.error << "\"";
      return;
    }
    ASSERT_TRUE(mapped.ok()) << mapped.ToString();
    std::vector<std::string> expected;
    if (c.rows) {
      for (const auto& cells : *c.rows) expected.push_back(Show(cells));
    } else if (c.row) {
      auto cells = *c.row;
      cells.insert(cells.begin(), c.action);
      expected.push_back(Show(cells));
    }
    EXPECT_EQ(shown, expected);
    return;
  }

  auto result = plan->Map(record);
  if (c.error) {
    ASSERT_FALSE(result.ok()) << "expected an error containing \"" << *c.error << "\", got "
                              << (result.ok() && result->has_value() ? Show(CellsOf(**result))
                                                                     : std::string("no row"));
    EXPECT_NE(result.status().message().find(*c.error), std::string::npos)
        << "error \"" << result.status().message() << "\" lacks \"" << *c.error << "\"";
    return;
  }
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  if (c.no_row) {
    EXPECT_FALSE(result->has_value()) << "expected no row";
    return;
  }
  ASSERT_TRUE(result->has_value()) << "expected a row, got none";
  const Row& row = **result;
  EXPECT_EQ(Show(CellsOf(row)), Show(*c.row));
  EXPECT_EQ(ActionName(row.action), c.action);
}

INSTANTIATE_TEST_SUITE_P(Cases, MappingCaseTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<MappingCase>& info) { return info.param.test_name; });

TEST(MappingCases, ThereAreAtLeastSixtyCases) { EXPECT_GE(AllCases().size(), 60u); }

}  // namespace
}  // namespace ddb2pg::processor
