#include "processor/plan_checker.h"

#include "processor/expression.h"
#include "processor/mapping_plan.h"

namespace ddb2pg::processor {

core::Status PlanChecker::Check(const model::PipelineSpec& spec) const {
  return MappingPlan::Compile(spec).status();
}

bool PlanChecker::CanBeNull(const std::string& expression) const {
  auto parsed = Expression::Parse(expression);
  return parsed.ok() && parsed->CanBeNull();
}

bool PlanChecker::ReadsChangeKind(const std::string& expression) const {
  auto parsed = Expression::Parse(expression);
  return parsed.ok() && parsed->ReadsChangeKind();
}

}  // namespace ddb2pg::processor
