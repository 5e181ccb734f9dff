#include "processor/plan_checker.h"

#include <gtest/gtest.h>

namespace ddb2pg::processor {
namespace {

model::PipelineSpec OneColumn(const std::string& expression) {
  model::PipelineSpec spec;
  spec.name = "p";
  spec.source = "s";
  spec.table.name = "t";
  spec.table.columns.resize(2);
  spec.table.columns[0].name = "id";
  spec.table.columns[0].expression = "id";
  spec.table.columns[1].name = "c";
  spec.table.columns[1].expression = expression;
  spec.table.key_columns = {"id"};
  spec.table.delete_policy = model::DeletePolicy::kHard;
  return spec;
}

TEST(PlanChecker, SaysWhichExpressionsCanBeNull) {
  const PlanChecker checker;
  EXPECT_TRUE(checker.CanBeNull("profile.name"));
  EXPECT_TRUE(checker.CanBeNull("upper(if(exists(x), x, y))"));
  EXPECT_FALSE(checker.CanBeNull("coalesce(appearance.mode, 'light')"));
  EXPECT_FALSE(checker.CanBeNull("operation()"));
  EXPECT_FALSE(checker.CanBeNull("ttl_delete()"));
  EXPECT_FALSE(checker.CanBeNull("upper("));  // does not parse: Check reports it, not the NOT NULL check
}

TEST(PlanChecker, SaysWhichExpressionsTellTheKindOfChange) {
  const PlanChecker checker;
  EXPECT_TRUE(checker.ReadsChangeKind("ttl_delete()"));
  EXPECT_TRUE(checker.ReadsChangeKind("operation() == 'delete'"));
  EXPECT_FALSE(checker.ReadsChangeKind("profile.name"));
  EXPECT_FALSE(checker.ReadsChangeKind("ttl_delete("));  // does not parse
}

TEST(PlanChecker, ChecksTheWholePipelineAsMappingPlanCompilesIt) {
  const PlanChecker checker;
  EXPECT_TRUE(checker.Check(OneColumn("upper(profile.name)")).ok());
  const core::Status bad = checker.Check(OneColumn("upper("));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("column c"), std::string::npos) << bad.message();
}

}  // namespace
}  // namespace ddb2pg::processor
