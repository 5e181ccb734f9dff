// Issue 27 acceptance: the mapping language end to end through the runtime on the real servers.
// Computed text (concat), exact arithmetic (repScore * 2), an array column from a list (TEXT[] <-
// tags), the whole item and a catch-all of every attribute but the key (JSONB <- item(),
// item_except('id')), and an exploded child table (one row per element of `tags`, keyed by the
// item's id and the element's index; once with hard deletes, once soft). Inserts, updates that add and remove list elements, and
// deletes end equal to what the rules say, and audit triggers on both tables show every change
// applied once. Then a child row no change removes is swept by `resnapshot --pipeline`.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "app/progress_commands.h"
#include "app/wiring.h"
#include "in_process_run.h"
#include "pipeline_fixture.h"

namespace ddb2pg::testing {
namespace {

class MappingLanguage : public PipelineFixture {
 protected:
  void TearDown() override { run_.Stop(); }

  struct Person {
    std::string name, handle, score;  // score: repScore as DynamoDB N text
    std::vector<std::string> tags;
    std::string note;
  };

  void Put(const std::string& id, const Person& p) {
    core::Value item = core::Value::MakeMap();
    item.Set("id", core::Value::String(id));
    item.Set("name", core::Value::String(p.name));
    item.Set("handle", core::Value::String(p.handle));
    item.Set("repScore", core::Value::Number(p.score));
    core::Value::List tags;
    for (const auto& tag : p.tags) tags.push_back(core::Value::String(tag));
    item.Set("tags", core::Value::MakeList(std::move(tags)));
    item.Set("note", core::Value::String(p.note));
    ASSERT_TRUE(ddb_->PutItem("users", item).ok());
    people_[id] = p;
    for (size_t i = 0; i < p.tags.size(); ++i) last_tag_[id + "/" + std::to_string(i)] = p.tags[i];
  }
  void Delete(const std::string& id) {
    ASSERT_TRUE(ddb_->DeleteItem("users", core::Value::MakeMap({{"id", core::Value::String(id)}})).ok());
    people_.erase(id);
  }

  // What the rules say each row holds: id → "display|score|tags|doc name|rest has id|rest note".
  std::map<std::string, std::string> Expected() const {
    std::map<std::string, std::string> out;
    for (const auto& [id, p] : people_) {
      std::string tags = "{";
      for (size_t i = 0; i < p.tags.size(); ++i) tags += (i > 0 ? "," : "") + p.tags[i];
      tags += "}";
      out[id] = p.name + " @" + p.handle + "|" + doubled_.at(p.score) + "|" + tags + "|" + p.name + "|false|" + p.note;
    }
    return out;
  }
  std::map<std::string, std::string> Actual() const {
    std::map<std::string, std::string> out;
    for (const auto& row : pg_->Query("SELECT id::text, display || '|' || score::text || '|' || tags::text || '|' || "
                                      "(doc->>'name') || '|' || (rest ? 'id')::text || '|' || (rest->>'note') FROM " +
                                      schema_ + ".people")) {
      out[*row[0]] = row[1].value_or("NULL");
    }
    return out;
  }
  // The child table: "id/position" → "tag|note", one per element of each item's tags.
  std::map<std::string, std::string> ExpectedTags() const {
    std::map<std::string, std::string> out;
    for (const auto& [id, p] : people_) {
      for (size_t i = 0; i < p.tags.size(); ++i) out[id + "/" + std::to_string(i)] = p.tags[i] + "|" + p.note;
    }
    return out;
  }
  std::map<std::string, std::string> ActualTags() const {
    std::map<std::string, std::string> out;
    for (const auto& row : pg_->Query("SELECT id::text || '/' || position::text, tag || '|' || note FROM " + schema_ +
                                      ".people_tags")) {
      out[*row[0]] = row[1].value_or("NULL");
    }
    return out;
  }
  // The soft-deleting child table keeps every row it ever had: "id/position" → "tag|deleted",
  // deleted once the position is gone from the item (or the item is), with the last tag it held.
  std::map<std::string, std::string> ExpectedKept() const {
    std::map<std::string, std::string> out;
    const auto now = ExpectedTags();
    for (const auto& [key, tag] : last_tag_) out[key] = tag + "|" + (now.count(key) > 0 ? "false" : "true");
    return out;
  }
  std::map<std::string, std::string> ActualKept() const {
    std::map<std::string, std::string> out;
    for (const auto& row : pg_->Query("SELECT id::text || '/' || position::text, tag || '|' || deleted::text || "
                                      "CASE WHEN deleted = (deleted_at IS NULL) THEN '|bad deleted_at' ELSE '' END "
                                      "FROM " + schema_ + ".people_tags_kept")) {
      out[*row[0]] = row[1].value_or("NULL");
    }
    return out;
  }
  bool WaitUntilTagsAsExpected(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ActualTags() == ExpectedTags() &&
          pg_->Scalar("SELECT phase FROM ddb2pg.pipelines WHERE pipeline = 'people_tags'") == "streaming") {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }
  bool WaitUntilAsExpected(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Actual() == Expected() && ActualTags() == ExpectedTags() && ActualKept() == ExpectedKept()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

  InProcessRun run_;
  std::map<std::string, Person> people_;
  std::map<std::string, std::string> last_tag_;  // "id/position" → the last tag it held, ever
  // repScore * 2, exactly (no float on the way): 38 significant digits stay.
  const std::map<std::string, std::string> doubled_ = {
      {"12.5", "25"}, {"7", "14"}, {"0.1", "0.2"}, {"12345678901234567890.123456789", "24691357802469135780.246913578"},
      {"-3.25", "-6.5"}};
};

TEST_F(MappingLanguage, ComputedTextArithmeticArraysWholeItemsAndAChildTableEndAsTheRulesSayEachChangeAppliedOnce) {
  const std::string a = "00000000-0000-4000-8000-00000000000a";
  const std::string b = "00000000-0000-4000-8000-00000000000b";
  const std::string c = "00000000-0000-4000-8000-00000000000c";
  Put(a, {"Ada Lovelace", "ada", "12.5", {"math", "poetry"}, "first"});
  Put(b, {"Alan Turing", "alan", "12345678901234567890.123456789", {}, "second"});

  pg_->Exec("CREATE TABLE " + schema_ + ".people (id UUID PRIMARY KEY, display TEXT, score NUMERIC, tags TEXT[], "
            "doc JSONB, rest JSONB)");
  pg_->Exec("CREATE TABLE " + schema_ + ".people_log (xid BIGINT DEFAULT txid_current(), op TEXT, id UUID, "
            "display TEXT, tags TEXT[])");
  pg_->Exec("CREATE FUNCTION " + schema_ + ".log_people() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO " +
            schema_ + ".people_log (op, id, display, tags) VALUES (TG_OP, coalesce(NEW.id, OLD.id), NEW.display, "
            "NEW.tags); RETURN NULL; END $$");
  pg_->Exec("CREATE TRIGGER log_people AFTER INSERT OR UPDATE OR DELETE ON " + schema_ +
            ".people FOR EACH ROW EXECUTE FUNCTION " + schema_ + ".log_people()");
  // The child table and its audit: a row per write of an element's row, with the values it left.
  pg_->Exec("CREATE TABLE " + schema_ + ".people_tags (id UUID, position INTEGER, tag TEXT, note TEXT, "
            "PRIMARY KEY (id, position))");
  pg_->Exec("CREATE TABLE " + schema_ + ".people_tags_kept (id UUID, position INTEGER, tag TEXT, deleted BOOLEAN, "
            "deleted_at TIMESTAMPTZ, PRIMARY KEY (id, position))");
  pg_->Exec("CREATE TABLE " + schema_ + ".people_tags_log (xid BIGINT DEFAULT txid_current(), op TEXT, id UUID, "
            "position INTEGER, tag TEXT, note TEXT)");
  pg_->Exec("CREATE FUNCTION " + schema_ + ".log_people_tags() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'DELETE' THEN INSERT INTO " + schema_ + ".people_tags_log (op, id, position, tag, note) "
            "VALUES (TG_OP, OLD.id, OLD.position, OLD.tag, OLD.note); ELSE INSERT INTO " + schema_ +
            ".people_tags_log (op, id, position, tag, note) VALUES (TG_OP, NEW.id, NEW.position, NEW.tag, NEW.note); "
            "END IF; RETURN NULL; END $$");
  pg_->Exec("CREATE TRIGGER log_people_tags AFTER INSERT OR UPDATE OR DELETE ON " + schema_ +
            ".people_tags FOR EACH ROW EXECUTE FUNCTION " + schema_ + ".log_people_tags()");
  const std::string config_text =
      "version: 1\nsources:\n  users:\n    table: users\npostgres:\n  url: ''\npipelines:\n"
      "  - name: people\n    source: users\n    table: " + schema_ + ".people\n    key: id\n    on_delete: hard\n"
      "    columns:\n"
      "      id: UUID <- id\n"
      "      display: TEXT <- concat(name, ' @', handle)\n"
      "      score: NUMERIC <- repScore * 2\n"
      "      tags: TEXT[] <- tags\n"
      "      doc: JSONB <- item()\n"
      "      rest: JSONB <- item_except('id')\n"
      // The child table: one row per tag; an update that drops tags deletes their rows.
      "  - name: people_tags\n    source: users\n    table: " + schema_ + ".people_tags\n"
      "    key: [id, position]\n    explode: tags\n    on_delete: hard\n"
      "    columns:\n"
      "      id: UUID <- id\n"
      "      position: INTEGER <- index\n"
      "      tag: TEXT <- element\n"
      "      note: TEXT <- note\n"
      // The same, soft: dropped tags and deleted items leave their rows marked deleted.
      "  - name: people_tags_kept\n    source: users\n    table: " + schema_ + ".people_tags_kept\n"
      "    key: [id, position]\n    explode: tags\n    on_delete: soft\n"
      "    columns:\n"
      "      id: UUID <- id\n"
      "      position: INTEGER <- index\n"
      "      tag: TEXT <- element\n"
      "      deleted: BOOLEAN <- null\n"
      "      deleted_at: TIMESTAMPTZ <- null\n";
  run_.Start(LoadConfig(config_text));
  WaitForSeed();
  ASSERT_TRUE(WaitUntilAsExpected(std::chrono::seconds(60)))
      << ::testing::PrintToString(Actual()) << " vs " << ::testing::PrintToString(Expected()) << "; tags "
      << ::testing::PrintToString(ActualTags()) << " vs " << ::testing::PrintToString(ExpectedTags()) << "; kept "
      << ::testing::PrintToString(ActualKept()) << " vs " << ::testing::PrintToString(ExpectedKept());

  // After the snapshot: an insert, updates that add and remove list elements, a delete.
  Put(c, {"Grace Hopper", "grace", "7", {"navy"}, "third"});
  Put(a, {"Ada Lovelace", "ada", "0.1", {"math", "poetry", "engines"}, "first, again"});
  Put(b, {"Alan Turing", "alan", "-3.25", {"codes"}, "second, again"});
  Put(a, {"Ada King", "ada", "12.5", {"engines"}, "renamed"});
  Delete(c);
  EXPECT_TRUE(WaitUntilAsExpected(std::chrono::seconds(60)))
      << ::testing::PrintToString(Actual()) << " vs " << ::testing::PrintToString(Expected()) << "; tags "
      << ::testing::PrintToString(ActualTags()) << " vs " << ::testing::PrintToString(ExpectedTags()) << "; kept "
      << ::testing::PrintToString(ActualKept()) << " vs " << ::testing::PrintToString(ExpectedKept());
  std::this_thread::sleep_for(std::chrono::seconds(1));  // a replay would show itself by now
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();

  // Nothing applied twice: no two writes of one row with the same content. (Changes of one key
  // within one batch collapse to its last, which is the exactly-once effect, not a loss.) The
  // items there before the start were written once, by the snapshot.
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM (SELECT id, op, display, tags FROM " + schema_ +
                        ".people_log GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) AS twice"),
            "0");
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".people_log WHERE op = 'INSERT' AND id IN ('" + a +
                        "', '" + b + "')"),
            "2");
  EXPECT_EQ(pg_->Scalar("SELECT string_agg(op, ',' ORDER BY xid) FROM " + schema_ + ".people_log WHERE id = '" + a +
                        "' AND op = 'INSERT'"),
            "INSERT");
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".people"), "2");
  // The child table likewise: every write of an element's row carries the note of the change
  // that made it, so a change applied twice would show two equal writes (deletes included: each
  // logs the row it removed). The snapshot inserted a's two tags once. a's tag at position 1
  // (there since the snapshot) was deleted exactly once by the update that dropped it; a's
  // position 2 and c's tag were deleted once, or never written at all when their insert and
  // their removal fell into one batch (a key's last change in a batch is the one applied).
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM (SELECT id, op, position, tag, note FROM " + schema_ +
                        ".people_tags_log GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1) AS twice"),
            "0");
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".people_tags_log WHERE op = 'INSERT' AND id = '" + a +
                        "' AND note = 'first'"),
            "2");
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM " + schema_ + ".people_tags_log WHERE op = 'DELETE' AND id = '" + a +
                        "' AND position = 1"),
            "1");
  for (const auto& [id, position] : {std::pair{a, 2}, std::pair{c, 0}}) {
    const std::string inserted = pg_->Scalar("SELECT count(*) FROM " + schema_ + ".people_tags_log WHERE op <> "
                                             "'DELETE' AND id = '" + id + "' AND position = " +
                                             std::to_string(position));
    const std::string deleted = pg_->Scalar("SELECT count(*) FROM " + schema_ + ".people_tags_log WHERE op = "
                                            "'DELETE' AND id = '" + id + "' AND position = " + std::to_string(position));
    EXPECT_EQ(deleted, inserted == "0" ? "0" : "1") << id << "/" << position;
  }
  EXPECT_EQ(pg_->Scalar("SELECT string_agg(id::text || '/' || position || '=' || tag, ',' ORDER BY id, position) "
                        "FROM " + schema_ + ".people_tags"),
            a + "/0=engines," + b + "/0=codes");
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.dead_letters"), "0");

  // A child row that no change will remove (as one whose removing change was dead-lettered would
  // be): `resnapshot --pipeline people_tags` reads the table again into that table alone and
  // removes it at the snapshot's end, keeping every live element's row.
  pg_->Exec("INSERT INTO " + schema_ + ".people_tags VALUES ('" + a + "', 7, 'ghost', 'never removed')");
  {
    auto wired = app::Wire(LoadConfig(config_text), true);
    ASSERT_TRUE(wired.ok()) << wired.status().ToString();
    const core::Status scheduled = app::Resnapshot(**wired, std::string("people_tags"), stdout);
    ASSERT_TRUE(scheduled.ok()) << scheduled.ToString();
  }
  run_.Start(LoadConfig(config_text));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline &&
         pg_->Scalar("SELECT phase FROM ddb2pg.pipelines WHERE pipeline = 'people_tags'") != "streaming") {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();
  EXPECT_EQ(pg_->Scalar("SELECT phase || ' ' || swept FROM ddb2pg.pipelines WHERE pipeline = 'people_tags'"),
            "streaming 1");
  EXPECT_EQ(ActualTags(), ExpectedTags());
  EXPECT_EQ(Actual(), Expected());
}

// The snapshot fence for child rows: a slow Scan (about 3 s) while the stream adds and drops
// elements and deletes items. The stream's child rows (upserts and removals) fence their keys,
// so no scanned row of an older list survives, and no deleted item's rows come back.
TEST_F(MappingLanguage, ChildRowsBesideASlowSnapshotEndAsTheListsWithNoStaleOrResurrectedRow) {
  constexpr int kItems = 300;
  auto id_of = [](int i) {
    char id[40];
    std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i);
    return std::string(id);
  };
  for (int i = 0; i < kItems; ++i) {
    Person p{"n", "h", "7", {}, "before"};
    for (int t = 0; t < i % 4; ++t) p.tags.push_back("t" + std::to_string(t));
    Put(id_of(i), p);
  }
  pg_->Exec("CREATE TABLE " + schema_ + ".people_tags (id UUID, position INTEGER, tag TEXT, note TEXT, "
            "PRIMARY KEY (id, position))");
  const std::string config_text =
      "version: 1\nsources:\n  users:\n    table: users\n    snapshot:\n      segments: 2\n"
      "      max_items_per_second: 100\npostgres:\n  url: ''\npipelines:\n"
      "  - name: people_tags\n    source: users\n    table: " + schema_ + ".people_tags\n"
      "    key: [id, position]\n    explode: tags\n    on_delete: hard\n"
      "    columns:\n"
      "      id: UUID <- id\n"
      "      position: INTEGER <- index\n"
      "      tag: TEXT <- element\n"
      "      note: TEXT <- note\n";
  run_.Start(LoadConfig(config_text));
  WaitForSeed();
  // While the Scan runs: every third item's list grows or shrinks, every tenth item goes.
  for (int i = 0; i < kItems; i += 3) {
    Person p{"n", "h", "7", {}, "during"};
    for (int t = 0; t < (i * 7) % 5; ++t) p.tags.push_back("u" + std::to_string(t));
    Put(id_of(i), p);
  }
  for (int i = 5; i < kItems; i += 10) Delete(id_of(i));
  const std::string phase = pg_->Scalar("SELECT phase FROM ddb2pg.pipelines WHERE pipeline = 'people_tags'");
  EXPECT_TRUE(WaitUntilTagsAsExpected(std::chrono::seconds(90)))
      << ::testing::PrintToString(ActualTags()) << " vs " << ::testing::PrintToString(ExpectedTags());
  run_.Stop();
  ASSERT_TRUE(run_.result().ok()) << run_.result().ToString();
  EXPECT_EQ(phase, "snapshot") << "the changes were meant to meet the Scan; it ended before them";
  EXPECT_EQ(pg_->Scalar("SELECT phase FROM ddb2pg.pipelines WHERE pipeline = 'people_tags'"), "streaming");
  EXPECT_EQ(pg_->Scalar("SELECT count(*) FROM ddb2pg.dead_letters"), "0");
}

}  // namespace
}  // namespace ddb2pg::testing
