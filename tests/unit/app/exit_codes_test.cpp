// The exit codes against README.md's table: every StatusCode has its row, the failures the
// issue found (on_error: stop, a row PostgreSQL rejects, a stream without NEW_AND_OLD_IMAGES, a
// table without a unique key) land on the documented code, and the README still says so.
#include "app/exit_codes.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sink/pg_connection.h"

namespace ddb2pg::app {
namespace {

using core::Status;
using core::StatusCode;

int Exit(StatusCode code) { return static_cast<int>(ExitCodeFor(Status(code, "x"))); }

TEST(ExitCodes, EveryStatusCodeHasItsRowOfTheTable) {
  struct Case {
    StatusCode code;
    int exit;
    const char* example;
  };
  const Case cases[] = {
      {StatusCode::kOk, 0, "done"},
      {StatusCode::kInvalidArgument, 2, "--log-format must be text or json"},
      {StatusCode::kNotFound, 3, "table users does not exist"},
      {StatusCode::kFailedPrecondition, 3, "the stream is KEYS_ONLY; ddb2pg needs NEW_AND_OLD_IMAGES"},
      {StatusCode::kPermissionDenied, 4, "credentials refused"},
      {StatusCode::kUnavailable, 4, "connection refused"},
      {StatusCode::kDeadlineExceeded, 4, "retries ran out of time"},
      {StatusCode::kConflict, 5, "another runner took over the checkpoint"},
      {StatusCode::kDataError, 1, "record … (on_error: stop)"},
      {StatusCode::kThrottled, 1, "throttled past the retries"},
      {StatusCode::kExpiredIterator, 1, "iterator expired"},
      {StatusCode::kTrimmedData, 1, "the stream was trimmed past the checkpoint"},
      {StatusCode::kCancelled, 1, "cancelled"},
      {StatusCode::kInternal, 1, "a bug"},
  };
  int covered = 0;
  for (const auto& c : cases) {
    EXPECT_EQ(Exit(c.code), c.exit) << core::StatusCodeName(c.code) << ": " << c.example;
    ++covered;
  }
  // Every enumerator is in the table above (kInternal is the last one).
  EXPECT_EQ(covered, static_cast<int>(StatusCode::kInternal) + 1);
}

TEST(ExitCodes, PostgresErrorsLandOnTheirRow) {
  // A row PostgreSQL rejects under on_error: stop: the data, exit 1 (was 2, "bad configuration").
  EXPECT_EQ(Exit(sink::StatusCodeForSqlState("23514")), 1);  // CHECK violation
  EXPECT_EQ(Exit(sink::StatusCodeForSqlState("23502")), 1);  // NOT NULL violation
  EXPECT_EQ(Exit(sink::StatusCodeForSqlState("22P02")), 1);  // text the type refuses
  EXPECT_EQ(Exit(sink::StatusCodeForSqlState("21000")), 1);  // a row affected twice
  // The table does not fit: no unique key for ON CONFLICT, missing table or column: checks, 3.
  EXPECT_EQ(Exit(sink::StatusCodeForSqlState("42P10")), 3);
  EXPECT_EQ(Exit(sink::StatusCodeForSqlState("42P01")), 3);
  EXPECT_EQ(Exit(sink::StatusCodeForSqlState("42703")), 3);
  // Unreachable or refused: 4.
  EXPECT_EQ(Exit(sink::StatusCodeForSqlState("")), 4);
  EXPECT_EQ(Exit(sink::StatusCodeForSqlState("08006")), 4);
  EXPECT_EQ(Exit(sink::StatusCodeForSqlState("57P01")), 4);
  EXPECT_EQ(Exit(sink::StatusCodeForSqlState("28P01")), 4);
  EXPECT_EQ(Exit(sink::StatusCodeForSqlState("42501")), 4);
  EXPECT_TRUE(sink::IsRowError("23514"));
  EXPECT_TRUE(sink::IsRowError("54000"));
  EXPECT_FALSE(sink::IsRowError("42P10"));
  EXPECT_FALSE(sink::IsRowError("40001"));
}

TEST(ExitCodes, TheReadmeDocumentsTheSameTable) {
  std::ifstream in(std::string(DDB2PG_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in) << "README.md not found";
  std::stringstream text;
  text << in.rdbuf();
  std::string readme = text.str();
  for (auto& c : readme) {
    if (c == '\n') c = ' ';
  }
  const size_t table = readme.find("Exit codes: ");
  ASSERT_NE(table, std::string::npos);
  const std::string line = readme.substr(table, 600);
  for (const char* row : {"0 ok", "1 failed while running", "2 bad command line or configuration",
                          "3 checks found problems", "4 DynamoDB or PostgreSQL unreachable",
                          "5 fenced: another runner took this runner's checkpoint over"}) {
    EXPECT_NE(line.find(row), std::string::npos) << "README.md's exit codes lack \"" << row << "\": " << line;
  }
  EXPECT_NE(line.find("NEW_AND_OLD_IMAGES"), std::string::npos) << line;  // a row of 3
  EXPECT_NE(line.find("on_error: stop"), std::string::npos) << line;      // a row of 1
}

}  // namespace
}  // namespace ddb2pg::app
