// MappingPlan: one pipeline's mapping, compiled once, applied to every record.
//
// Compile() parses the filter and every column's expression, checks function names and arity,
// and binds each column's conversion to its type; errors name the pipeline, column, and the
// config line/column. Map() evaluates them against a record's image and produces the row.
//
// Map() semantics:
//  - snapshot/create/update → RowAction::kUpsert with every column converted. For a soft-delete
//    table (TableSpec::SoftDeletes()), the deleted column is the mapped value (FALSE when NULL or
//    unmapped) and deleted_at the mapped value (NULL when unmapped), so a re-insert un-deletes
//    the key.
//  - delete → by TableSpec::DeletePolicyFor(the record's ttl_delete flag), i.e. on_ttl_delete
//    for a REMOVE made by DynamoDB's TTL and on_delete for any other: kSoft →
//    RowAction::kSoftDelete with the before image mapped (key columns required) and deleted =
//    TRUE, deleted_at = the change time; kHard → RowAction::kHardDelete (key cells set); kIgnore
//    → nullopt.
//  - marker records, and records the filter rejects → nullopt.
//  - a record that cannot be mapped (missing key, bad UUID, overlong VARCHAR under `reject`, a
//    number out of range, an unparseable date, a wrong type) → InvalidArgument naming the column,
//    the expression and the offending value (shortened), e.g.
//    "column bio (VARCHAR(210)): value has 211 characters (expression: bio)".
//
// Expressions are compiled by processor/expression.h (the language is documented there) and
// values converted by processor/type_converter.h (what each column type accepts).
// Compile-time checks: every key column exists and has an expression; column names are unique;
// for soft deletes the deleted / deleted_at columns exist (deleted_at may be configured as "" to
// go without) and accept a boolean / a timestamp.
//
// Thread-safety: a compiled plan is immutable; Map() is safe from many threads.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>

#include "core/clock.h"
#include "core/record.h"
#include "core/status.h"
#include "model/row.h"
#include "model/pipeline_spec.h"

namespace ddb2pg::processor {

class MappingPlan {
 public:
  static core::Result<MappingPlan> Compile(const model::PipelineSpec& spec);
  // The same with the clock now() reads (tests pin it); `clock` must outlive the plan.
  static core::Result<MappingPlan> Compile(const model::PipelineSpec& spec, const core::Clock* clock);

  core::Result<std::optional<model::Row>> Map(const core::Record& record) const;

  const model::PipelineSpec& spec() const;

  // The top-level image attributes the filter and the columns read: a record whose images hold
  // just these (and the key) maps exactly like the full record. nullopt when an expression reads
  // the image in a way that names no attribute. The source decodes only these (SourceOptions).
  std::optional<std::set<std::string>> ImageAttributes() const;

  MappingPlan(MappingPlan&&) noexcept;
  MappingPlan& operator=(MappingPlan&&) noexcept;
  ~MappingPlan();

 private:
  struct Impl;
  explicit MappingPlan(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddb2pg::processor
