// Shared set-up for the sink's integration tests: a fresh PostgreSQL schema per test, table
// specs shaped like SCENARIO.md's profile / appearance_settings, and row builders.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "model/row.h"
#include "model/pipeline_spec.h"
#include "integration/sink/leased_sink.h"
#include "sink/postgres_sink.h"
#include "support/test_env.h"

namespace ddb2pg::sink::testing {

using model::ColumnKind;
using model::ColumnSpec;
using model::ColumnType;
using model::Row;
using model::RowAction;
using model::TableSpec;

inline ColumnSpec Column(std::string name, ColumnKind kind, int length = 0) {
  ColumnSpec column;
  column.name = std::move(name);
  column.type.kind = kind;
  column.type.length = length;
  return column;
}

// SCENARIO.md's profile: 13 columns, key id.
inline TableSpec ProfileSpec(const std::string& schema) {
  TableSpec table;
  table.schema = schema;
  table.name = "profile";
  table.columns = {Column("id", ColumnKind::kUuid),           Column("user_id", ColumnKind::kUuid),
                   Column("created_at", ColumnKind::kTimestamptz), Column("name", ColumnKind::kText),
                   Column("handle", ColumnKind::kText),       Column("image_url", ColumnKind::kText),
                   Column("bio", ColumnKind::kVarchar, 210),  Column("location", ColumnKind::kVarchar, 48),
                   Column("rep_score", ColumnKind::kReal),    Column("website", ColumnKind::kText),
                   Column("birthdate", ColumnKind::kTimestamptz), Column("deleted", ColumnKind::kBoolean),
                   Column("deleted_at", ColumnKind::kTimestamptz)};
  table.columns[11].default_sql = "FALSE";
  table.key_columns = {"id"};
  return table;
}

inline TableSpec AppearanceSpec(const std::string& schema) {
  TableSpec table;
  table.schema = schema;
  table.name = "appearance_settings";
  table.columns = {Column("id", ColumnKind::kUuid),       Column("mode", ColumnKind::kText),
                   Column("colorway", ColumnKind::kText), Column("theme", ColumnKind::kText),
                   Column("deleted", ColumnKind::kBoolean), Column("deleted_at", ColumnKind::kTimestamptz),
                   Column("profile_id", ColumnKind::kUuid)};
  table.key_columns = {"profile_id"};
  return table;
}

// "00000000-0000-4000-8000-<n as 12 digits>".
inline std::string Uuid(int n) {
  std::string digits = std::to_string(n);
  return "00000000-0000-4000-8000-" + std::string(12 - digits.size(), '0') + digits;
}

// A profile row; `name` NULL when nullopt.
inline Row Profile(int n, std::optional<std::string> name, RowAction action = RowAction::kUpsert,
                   bool deleted = false, const std::string& deleted_at = "") {
  Row row;
  row.action = action;
  row.AppendCell(Uuid(n));
  row.AppendCell(Uuid(n));
  row.AppendCell("2024-09-05T17:16:20.382266Z");
  if (name) {
    row.AppendCell(*name);
  } else {
    row.AppendNull();
  }
  row.AppendCell("handle" + std::to_string(n));
  row.AppendCell("https://example.com/" + std::to_string(n) + ".png");
  row.AppendCell("bio of " + std::to_string(n));
  row.AppendCell("Berlin");
  row.AppendCell("5");
  row.AppendNull();
  row.AppendCell("1990-08-22");
  row.AppendCell(deleted ? "true" : "false");
  if (deleted_at.empty()) {
    row.AppendNull();
  } else {
    row.AppendCell(deleted_at);
  }
  return row;
}

class SinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conninfo_ = ddb2pg::testing::PostgresConninfo();
    schema_ = ddb2pg::testing::UniqueName("sink");
    db_ = std::make_unique<ddb2pg::testing::PgTestConnection>(conninfo_);
    db_->Exec("CREATE SCHEMA " + schema_);
    profile_ = ProfileSpec(schema_);
    appearance_ = AppearanceSpec(schema_);
  }
  void TearDown() override {
    db_->Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    if (Scalar("SELECT to_regclass('ddb2pg.dead_letters') IS NOT NULL") == "t") {
      db_->Exec("DELETE FROM ddb2pg.checkpoints WHERE id LIKE '" + schema_ + "%'");
      db_->Exec("DELETE FROM ddb2pg.partitions WHERE checkpoint_id LIKE '" + schema_ + "%'");
      db_->Exec("DELETE FROM ddb2pg.dead_letters WHERE pipeline LIKE '" + schema_ + "%'");
    }
  }

  void CreateProfile() {
    db_->Exec("CREATE TABLE " + schema_ +
              ".profile (id UUID PRIMARY KEY, user_id UUID, created_at TIMESTAMPTZ, name TEXT, handle TEXT, "
              "image_url TEXT, bio VARCHAR(210), location VARCHAR(48), rep_score REAL, website TEXT, "
              "birthdate TIMESTAMPTZ, deleted BOOLEAN DEFAULT FALSE, deleted_at TIMESTAMPTZ)");
  }
  void CreateAppearance() {
    db_->Exec("CREATE TABLE " + schema_ +
              ".appearance_settings (id UUID, mode TEXT, colorway TEXT, theme TEXT, deleted BOOLEAN, "
              "deleted_at TIMESTAMPTZ, profile_id UUID PRIMARY KEY)");
  }

  PostgresSinkOptions Options(const std::string& suffix = "") {
    PostgresSinkOptions options;
    options.conninfo = conninfo_;
    options.checkpoint_id = schema_ + suffix;
    options.application_name = schema_;
    return options;
  }

  // A batch of `rows` for `table` (profile when nullptr) that moves the partition to `position`.
  PositionedBatch MakeBatch(std::vector<Row> rows, const std::string& position, const TableSpec* table = nullptr) {
    PositionedBatch batch;
    batch.tables.push_back({table == nullptr ? &profile_ : table, std::move(rows)});
    batch.position = position;
    batch.records = static_cast<int64_t>(batch.tables[0].rows.size());
    return batch;
  }

  std::string Scalar(const std::string& sql) { return db_->Scalar(sql); }
  // The committed position of LeasedSink's partition.
  std::string Checkpoint(const std::string& suffix = "") {
    return Scalar("SELECT coalesce(position, '<null>') FROM ddb2pg.partitions WHERE checkpoint_id = '" + schema_ +
                  suffix + "' AND partition_id = '" + LeasedSink::kPartition + "'");
  }
  std::string CountProfiles() { return Scalar("SELECT count(*) FROM " + schema_ + ".profile"); }

  std::string conninfo_;
  std::string schema_;
  std::unique_ptr<ddb2pg::testing::PgTestConnection> db_;
  TableSpec profile_;
  TableSpec appearance_;
};

}  // namespace ddb2pg::sink::testing
