// MappingChecker: what config/ asks of the mapping compiler while it loads a file, so that a bad
// expression is reported at its line at load time without config/ depending on processor/.
//
// processor::PlanChecker implements it with MappingPlan::Compile; src/app and the tests pass one
// to config::LoadConfigFile / LoadConfigText. Implementations are stateless and thread-safe.
#pragma once

#include <string>

#include "core/status.h"
#include "model/pipeline_spec.h"

namespace ddb2pg::model {

class MappingChecker {
 public:
  virtual ~MappingChecker() = default;
  // OK when the pipeline's columns and filter compile against their column types; otherwise
  // why, naming the pipeline and the column (the loader strips that prefix and adds the line).
  virtual core::Status Check(const PipelineSpec& spec) const = 0;
  // Whether a column expression can evaluate to NULL (the schema check's NOT NULL warning).
  // An expression that does not parse: false (Check reports it).
  virtual bool CanBeNull(const std::string& expression) const = 0;
  // Whether a column expression tells the kind of change (operation(), ttl_delete()), so that a
  // soft delete writes the column too (ColumnSpec::reads_change_kind). Unparseable: false.
  virtual bool ReadsChangeKind(const std::string& expression) const = 0;
};

}  // namespace ddb2pg::model
