// Issue 17 acceptance: `ddb2pg preview` on live items of the reference scenario. It prints the
// rows and dead-letter reasons the case files (tests/cases/processor/reference_*.yaml) expect,
// and PostgreSQL receives nothing: no table appears, and it even works with PostgreSQL down.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>

#include "app/sample_data.h"
#include "aws/attribute_codec.h"
#include "../pipeline/pipeline_fixture.h"

namespace ddb2pg::testing {
namespace {

std::string RunCapture(const std::string& command, int* exit_code) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  while (pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pipe != nullptr ? pclose(pipe) : -1;
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

// What preview printed for one pipeline of one item.
struct PrintedOutcome {
  std::string action;  // upsert, soft_delete, hard_delete, dead_letter, skip, stop, none
  std::string reason;
  std::map<std::string, std::optional<std::string>> row;
};

// preview --format json: key text ("id" attribute) → pipeline → outcome.
std::map<std::string, std::map<std::string, PrintedOutcome>> ParsePreview(const std::string& json, size_t* items) {
  std::map<std::string, std::map<std::string, PrintedOutcome>> out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  *items = 0;
  simdjson::dom::array all = doc["items"];
  for (simdjson::dom::element item : all) {
    ++*items;
    const std::string_view id = item["key"]["id"];
    simdjson::dom::array pipelines = item["pipelines"];
    for (simdjson::dom::element pipeline : pipelines) {
      PrintedOutcome outcome;
      outcome.action = std::string(std::string_view(pipeline["action"]));
      if (auto reason = pipeline["reason"]; !reason.error()) outcome.reason = std::string(std::string_view(reason));
      if (auto row = pipeline["row"]; !row.error()) {
        simdjson::dom::object cells = row;
        for (auto field : cells) {
          if (field.value.is_null()) {
            outcome.row[std::string(field.key)] = std::nullopt;
          } else {
            outcome.row[std::string(field.key)] = std::string(std::string_view(field.value));
          }
        }
      }
      out[std::string(id)][std::string(std::string_view(pipeline["pipeline"]))] = std::move(outcome);
    }
  }
  return out;
}

class Preview : public PipelineFixture {
 protected:
  std::string Env(const std::string& database_url) const {
    std::string env;
    for (const auto& assignment : ChildEnvironment()) {
      const std::string name = assignment.substr(0, assignment.find('='));
      const std::string value = name == "DATABASE_URL" ? database_url : assignment.substr(assignment.find('=') + 1);
      env += name + "='" + value + "' ";
    }
    return env;
  }

  std::string PreviewOut(const std::string& args, int* code, const std::string& database_url = "") {
    const std::string config_path = ScratchDir() + "/" + key_ + ".yaml";
    std::ofstream(config_path) << ConfigText();
    return RunCapture(Env(database_url.empty() ? pg_conninfo_ : database_url) + DDB2PG_BINARY + " preview -c " +
                          config_path + " " + args + " 2>" + ScratchDir() + "/" + key_ + "-preview.err",
                      code);
  }

  // Nothing of ddb2pg's in this test's database: no table in its schema, no ddb2pg schema.
  void ExpectPostgresUntouched() {
    EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM pg_tables WHERE schemaname IN ('" + schema_ + "', 'ddb2pg')"), "0");
    EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ddb2pg'"), "0");
  }

  void PutOnly(const core::Value& item) {
    for (const auto& id : written_) {
      ASSERT_TRUE(ddb_->DeleteItem("users", core::Value::MakeMap({{"id", core::Value::String(id)}})).ok());
    }
    written_.clear();
    ASSERT_TRUE(ddb_->PutItem("users", item).ok()) << item.DebugString();
    written_.push_back(*item.Find("id")->scalar_text());
  }

  std::vector<std::string> written_;
};

// Every create/snapshot/update case of the reference case files, as a live item: preview prints
// the expected row, or a dead-letter reason containing the expected error.
TEST_F(Preview, PrintsTheRowsAndReasonsTheReferenceCaseFilesExpect) {
  int cases_checked = 0, reasons_checked = 0;
  // The pipelines of examples/users.yaml and their case files.
  for (const char* name : {"profile", "appearance_settings", "notification_settings"}) {
    const std::string file = std::string(name) == "notification_settings" ? "reference_notifications_map"
                             : std::string(name) == "profile"             ? "reference_profile"
                                                                          : "reference_appearance";
    const YAML::Node doc = YAML::LoadFile(std::string(DDB2PG_SOURCE_DIR) + "/tests/cases/processor/" + file + ".yaml");
    std::vector<std::string> columns;
    for (const auto& column : doc["table"]["columns"]) columns.push_back(column[0].as<std::string>());
    for (const auto& c : doc["cases"]) {
      const std::string case_name = c["name"].as<std::string>();
      const std::string op = c["op"] ? c["op"].as<std::string>() : "create";
      if (op != "create" && op != "snapshot" && op != "update") continue;  // preview --from scan reads items
      auto item = aws::ParseItemJson(c["item"] ? c["item"].as<std::string>() : doc["item"].as<std::string>());
      ASSERT_TRUE(item.ok()) << case_name;
      if (c["set"]) {
        auto set = aws::ParseItemJson(c["set"].as<std::string>());
        ASSERT_TRUE(set.ok()) << case_name;
        for (const auto& [attribute, value] : set->map()) item->Set(attribute, value);
      }
      std::vector<std::string> remove;
      if (c["remove"]) remove = c["remove"].as<std::vector<std::string>>();
      core::Value::Map kept;
      for (const auto& [attribute, value] : item->map()) {
        if (std::find(remove.begin(), remove.end(), attribute) == remove.end()) kept.emplace_back(attribute, value);
      }
      const core::Value live = core::Value::MakeMap(std::move(kept));
      const core::Value* id = live.Find("id");
      if (id == nullptr || id->scalar_text() == nullptr || id->type() != core::ValueType::kString) {
        continue;  // not storable: `id` is the table's string key
      }
      PutOnly(live);
      int code = -1;
      const std::string json = PreviewOut("--format json --limit 10 --pipeline " + std::string(name), &code);
      ASSERT_EQ(code, 0) << case_name << ": " << json << ReadFile(ScratchDir() + "/" + key_ + "-preview.err");
      size_t items = 0;
      auto printed = ParsePreview(json, &items);
      ASSERT_EQ(items, 1u) << case_name << ": " << json;
      const PrintedOutcome& outcome = printed.at(*id->scalar_text()).at(name);
      SCOPED_TRACE(file + ".yaml case " + case_name);
      if (c["error"]) {
        EXPECT_EQ(outcome.action, "dead_letter");
        // DynamoDB stores numbers in canonical form (1E+50 comes back as 1000…0): number texts
        // in the reason are compared as "N <number>".
        const std::regex number("N [-+0-9.Ee]+");
        const std::string want = std::regex_replace(c["error"].as<std::string>(), number, "N <number>");
        const std::string got = std::regex_replace(outcome.reason, number, "N <number>");
        EXPECT_NE(got.find(want), std::string::npos) << outcome.reason;
        ++reasons_checked;
      } else if (c["row"]) {
        EXPECT_EQ(outcome.action, c["action"] ? c["action"].as<std::string>() : "upsert") << outcome.reason;
        const YAML::Node row = c["row"];
        ASSERT_EQ(row.size(), columns.size());
        ASSERT_EQ(outcome.row.size(), columns.size()) << json;
        for (size_t i = 0; i < columns.size(); ++i) {
          const std::optional<std::string> want =
              row[i].IsNull() ? std::nullopt : std::optional<std::string>(row[i].as<std::string>());
          EXPECT_EQ(outcome.row.at(columns[i]), want) << "column " << columns[i];
        }
      } else if (c["no_row"]) {
        EXPECT_EQ(outcome.action, "none");
      }
      ++cases_checked;
    }
  }
  EXPECT_GE(cases_checked, 20);
  EXPECT_GE(reasons_checked, 8);
  ExpectPostgresUntouched();
}

// Sample items of the scenario (app::SampleData, what `ddb2pg generate` writes): a good one gives
// three rows, each bad kind the dead-letter reason its case file names; the table format shows
// the same; nothing reaches PostgreSQL, which may even be down.
TEST_F(Preview, SampleItemsGiveThreeRowsOrTheirDeadLetterReasonsAndNothingIsWritten) {
  app::SampleData data(17);
  struct Want {
    app::BadKind kind;
    std::map<std::string, std::string> reasons;  // pipeline → expected reason text (from the case files)
  };
  const std::vector<Want> wants = {
      {app::BadKind::kNone, {}},
      {app::BadKind::kNameAsNumber, {}},  // becomes its text (reference_profile: name_as_number_becomes_its_text)
      {app::BadKind::kIdNotUuid,
       {{"profile", "is not a UUID"}, {"appearance_settings", "is not a UUID"}, {"notification_settings", "is not a UUID"}}},
      {app::BadKind::kRepScoreNotNumber, {{"profile", "column rep_score (REAL): S \"five\" is not a number"}}},
      {app::BadKind::kBioTooLong, {{"profile", "column bio (VARCHAR(210)): value has 211 characters"}}},
      {app::BadKind::kUnparseableDate, {{"profile", "column created_at (TIMESTAMPTZ): S \"yesterday-ish\" is not an ISO-8601 timestamp"}}},
      {app::BadKind::kAppearanceAsString, {{"appearance_settings", "not a map (expression: appearance.mode)"}}},
  };
  std::map<std::string, const Want*> by_id;
  std::map<std::string, core::Value> items;
  for (const auto& want : wants) {
    core::Value item = data.MakeItem(data.NewId(), 1, want.kind);
    const std::string id = *item.Find("id")->scalar_text();
    ASSERT_TRUE(ddb_->PutItem("users", item).ok());
    by_id[id] = &want;
    items[id] = std::move(item);
  }

  int code = -1;
  const std::string json = PreviewOut("--format json --limit 50", &code);
  ASSERT_EQ(code, 0) << json << ReadFile(ScratchDir() + "/" + key_ + "-preview.err");
  size_t count = 0;
  auto printed = ParsePreview(json, &count);
  ASSERT_EQ(count, wants.size()) << json;
  for (const auto& [id, want] : by_id) {
    SCOPED_TRACE(std::string("item ") + app::BadKindName(want->kind) + " " + id);
    ASSERT_EQ(printed.count(id), 1u) << json;
    const auto& pipelines = printed.at(id);
    ASSERT_EQ(pipelines.size(), 3u);
    for (const auto& [pipeline, outcome] : pipelines) {
      auto reason = want->reasons.find(pipeline);
      if (reason != want->reasons.end()) {
        EXPECT_EQ(outcome.action, "dead_letter") << pipeline;
        EXPECT_NE(outcome.reason.find(reason->second), std::string::npos) << pipeline << ": " << outcome.reason;
      } else {
        EXPECT_EQ(outcome.action, "upsert") << pipeline << ": " << outcome.reason;
        const std::string key_column = pipeline == "profile" ? "id" : "profile_id";
        EXPECT_EQ(outcome.row.at(key_column), std::optional<std::string>(id)) << pipeline;
      }
    }
    if (want->reasons.count("profile") == 0) {
      const core::Value& item = items.at(id);
      const auto& row = pipelines.at("profile").row;
      EXPECT_EQ(row.at("handle"), std::optional<std::string>(*item.Find("handle")->scalar_text()));
      EXPECT_EQ(row.at("name"), std::optional<std::string>(*item.Find("name")->scalar_text()));
      EXPECT_EQ(row.at("deleted"), std::optional<std::string>("false"));
    }
  }

  // The table format, with PostgreSQL unreachable: the same reasons, one line each.
  const std::string table = PreviewOut("--limit 50", &code, "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1");
  ASSERT_EQ(code, 0) << table << ReadFile(ScratchDir() + "/" + key_ + "-preview.err");
  EXPECT_NE(table.find("profile → " + schema_ + ".profile: dead_letter: column bio (VARCHAR(210)): value has 211 characters"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("7 items: "), std::string::npos) << table;
  EXPECT_NE(table.find("nothing was written"), std::string::npos) << table;

  // An unknown pipeline is named, with the ones that exist.
  const std::string unknown = PreviewOut("--pipeline profiles", &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(ReadFile(ScratchDir() + "/" + key_ + "-preview.err").find("--pipeline profiles: no such pipeline"), std::string::npos);

  ExpectPostgresUntouched();
}

// --from stream: the newest changes, deletes included (soft delete rows).
TEST_F(Preview, FromStreamShowsTheNewestChangesIncludingDeletes) {
  app::SampleData data(18);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    core::Value item = data.MakeItem(data.NewId(), 1);
    ids.push_back(*item.Find("id")->scalar_text());
    ASSERT_TRUE(ddb_->PutItem("users", item).ok());
  }
  ASSERT_TRUE(ddb_->DeleteItem("users", core::Value::MakeMap({{"id", core::Value::String(ids[0])}})).ok());
  int code = -1;
  const std::string json = PreviewOut("--from stream --limit 3 --format json --pipeline profile", &code);
  ASSERT_EQ(code, 0) << json << ReadFile(ScratchDir() + "/" + key_ + "-preview.err");
  size_t count = 0;
  auto printed = ParsePreview(json, &count);
  ASSERT_EQ(count, 3u) << json;  // the newest three: puts of ids[3], ids[4], the delete of ids[0]
  ASSERT_EQ(printed.count(ids[0]), 1u) << json;
  EXPECT_EQ(printed.at(ids[0]).at("profile").action, "soft_delete") << json;
  EXPECT_EQ(printed.at(ids[0]).at("profile").row.at("deleted"), std::optional<std::string>("true"));
  EXPECT_EQ(printed.count(ids[4]), 1u) << json;
  EXPECT_EQ(printed.count(ids[1]), 0u) << json;
  ExpectPostgresUntouched();
}

}  // namespace
}  // namespace ddb2pg::testing
