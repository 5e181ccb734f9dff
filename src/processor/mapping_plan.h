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
// Exploded pipelines (PipelineSpec::explode, a child table): MapRows() writes one row per
// element of the list, map or set the explode expression gives, the columns reading `element`
// and `index` (expression.h) besides the item. Null or missing: no element. Anything else (an S,
// an N, …) is the record's error, naming the expression and what it found. Per record:
//  - snapshot/create/update → an upsert per element of the new image (an element that cannot be
//    mapped fails the whole record, naming the element: "element [2]: column …"). An update
//    also removes, by on_delete (hard: kHardDelete; soft: kSoftDelete; ignore: nothing), the
//    rows of the old image's elements whose key the new image's rows do not have, so the rows
//    follow the list as elements are added and removed.
//  - delete → every element of the old image, by on_ttl_delete / on_delete as above.
//  - The old image never fails a record: an element (or a whole value) that cannot be mapped
//    from it is left out, since its row was never written (its change failed the same way).
// Compile-time: the key must include a column reading `element` or `index`.
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
#include <vector>

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

  // A plain pipeline's row (an exploded pipeline: kInternal, use MapRows).
  core::Result<std::optional<model::Row>> Map(const core::Record& record) const;
  // Any pipeline: appends the record's rows to *rows (a plain pipeline: none or one; an exploded
  // one: see above), in the order the sink must apply them; on error appends nothing.
  core::Status MapRows(const core::Record& record, std::vector<model::Row>* rows) const;
  // Whether the pipeline explodes a list, map or set into one row per element.
  bool exploded() const;

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
