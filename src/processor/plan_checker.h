// PlanChecker: the model::MappingChecker that config/ uses at load time, backed by
// MappingPlan::Compile, Expression::CanBeNull and Expression::ReadsChangeKind. Stateless;
// thread-safe.
#pragma once

#include <string>

#include "model/mapping_checker.h"

namespace ddb2pg::processor {

class PlanChecker final : public model::MappingChecker {
 public:
  core::Status Check(const model::PipelineSpec& spec) const override;
  bool CanBeNull(const std::string& expression) const override;
  bool ReadsChangeKind(const std::string& expression) const override;
};

}  // namespace ddb2pg::processor
