#include "config/env_substitution.h"

#include <gtest/gtest.h>

#include <map>

namespace ddb2pg::config {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto found = vars.find(name);
    if (found == vars.end()) return std::nullopt;
    return found->second;
  };
}

std::string Expand(std::string_view text, const EnvLookup& env) {
  core::Result<std::string> result = SubstituteEnv(text, env);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? *result : std::string("<error>");
}

TEST(EnvSubstitution, PlainTextIsUnchanged) {
  EXPECT_EQ(Expand("users", FakeEnv({})), "users");
  EXPECT_EQ(Expand("", FakeEnv({})), "");
}

TEST(EnvSubstitution, ReplacesSetVariables) {
  const EnvLookup env = FakeEnv({{"HOST", "db.local"}, {"PORT", "5432"}, {"EMPTY", ""}});
  EXPECT_EQ(Expand("${HOST}", env), "db.local");
  EXPECT_EQ(Expand("postgresql://${HOST}:${PORT}/app", env), "postgresql://db.local:5432/app");
  EXPECT_EQ(Expand("[${EMPTY}]", env), "[]");
}

TEST(EnvSubstitution, DefaultAppliesWhenUnsetOrEmpty) {
  const EnvLookup env = FakeEnv({{"SET", "value"}, {"EMPTY", ""}});
  EXPECT_EQ(Expand("${SET:-fallback}", env), "value");
  EXPECT_EQ(Expand("${UNSET:-fallback}", env), "fallback");
  EXPECT_EQ(Expand("${EMPTY:-fallback}", env), "fallback");
  EXPECT_EQ(Expand("${UNSET:-}", env), "");
  EXPECT_EQ(Expand("${UNSET:-http://127.0.0.1:8000}", env), "http://127.0.0.1:8000");
}

TEST(EnvSubstitution, DoubleDollarEscapes) {
  const EnvLookup env = FakeEnv({{"X", "1"}});
  EXPECT_EQ(Expand("$${X}", env), "${X}");
  EXPECT_EQ(Expand("a$$b", env), "a$b");
  EXPECT_EQ(Expand("$$$${X}", env), "$${X}");
  EXPECT_EQ(Expand("$$${X}", env), "$1");
}

TEST(EnvSubstitution, LoneDollarIsKept) {
  const EnvLookup env = FakeEnv({});
  EXPECT_EQ(Expand("pa$word", env), "pa$word");
  EXPECT_EQ(Expand("cost: 5$", env), "cost: 5$");
}

TEST(EnvSubstitution, UnsetVariableNamesIt) {
  core::Result<std::string> result = SubstituteEnv("${DATABASE_URL}", FakeEnv({}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(),
            "environment variable DATABASE_URL is not set (write ${DATABASE_URL:-} to allow it "
            "to be unset, or ${DATABASE_URL:-default} for a default)");
}

TEST(EnvSubstitution, MalformedReferencesAreErrors) {
  const EnvLookup env = FakeEnv({{"X", "1"}});
  EXPECT_EQ(SubstituteEnv("${X", env).status().message(),
            "unterminated '${' (write '$${' for a literal '${')");
  EXPECT_EQ(SubstituteEnv("${}", env).status().message(),
            "invalid variable reference '${}': expected ${NAME} or ${NAME:-default}");
  EXPECT_EQ(SubstituteEnv("${1X}", env).status().message(),
            "invalid variable reference '${1X}': expected ${NAME} or ${NAME:-default}");
  EXPECT_EQ(SubstituteEnv("${X-default}", env).status().message(),
            "invalid variable reference '${X-default}': expected ${NAME} or ${NAME:-default}");
}

TEST(EnvSubstitution, ValuesAreNotRescanned) {
  const EnvLookup env = FakeEnv({{"A", "${B}"}, {"B", "secret"}});
  EXPECT_EQ(Expand("${A}", env), "${B}");
}

}  // namespace
}  // namespace ddb2pg::config
