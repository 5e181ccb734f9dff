#include "processor/mapping_plan.h"

#include <algorithm>
#include <deque>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "processor/expression.h"
#include "processor/expression_node.h"
#include "processor/type_converter.h"

namespace ddb2pg::processor {

namespace {

struct CompiledColumn {
  // What Map() reads for every column first, together.
  bool is_key = false;
  bool array = false;  // an array of `kind`: never grouped, so never takes the scalar shortcuts
  model::ColumnKind kind = model::ColumnKind::kText;
  int group = -1;
  // A bare path whose first step is an attribute name shares that lookup with the other
  // columns starting with the same name (17 notification columns all start at `notifications`).
  const Expression::Node* path = nullptr;
  // A JSON/JSONB column mapped to item_except(…): written straight from the image, without
  // copying the kept attributes into a new map first. Points into the expression's tree.
  const std::vector<std::string>* item_except = nullptr;
  std::optional<Expression> expression;  // nullopt: unmapped (always NULL)
  TypeConverter converter;
  std::string name;
  std::string type_sql;
};

// Columns resolving more distinct first names than this look them up themselves.
constexpr size_t kMaxGroups = 64;

// Per-thread buffers reused across Map() calls so that mapping a record allocates only the row
// it returns (Row has no reserve(), so the row is built here and copied out at its exact size).
struct Scratch {
  model::Row row;
  std::string cell;
  std::deque<std::string> strings;
  std::deque<core::Value> values;
};

// Drops what the last record's expressions made. Out of line and only called when something was
// made: clearing a deque of Values inlines a lot of destructor code, and inlined into Map() it
// pushed the compiler to stop inlining the path lookups there (10% more instructions per item).
[[gnu::noinline]] void ClearMade(Scratch& scratch) {
  scratch.strings.clear();
  scratch.values.clear();
}

// Out of line: the thread_local's first-use construction is bulky code that Map() need not carry.
[[gnu::noinline]] Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

std::string Where(const model::PipelineSpec& spec, const model::ColumnSpec* column) {
  std::string out = "pipeline ";
  out += spec.name.empty() ? std::string("(unnamed)") : spec.name;
  if (column != nullptr) {
    out += ", column ";
    out += column->name;
    if (column->line > 0) {
      out += " (line ";
      out += std::to_string(column->line);
      if (column->column > 0) {
        out += ", column ";
        out += std::to_string(column->column);
      }
      out += ')';
    }
  }
  return out;
}

}  // namespace

struct MappingPlan::Impl {
  model::PipelineSpec spec;
  std::vector<CompiledColumn> columns;
  std::vector<const PathStep*> group_steps;  // the shared first step of each group
  std::unique_ptr<LookupHint[]> group_hints;
  std::optional<Expression> filter;
  std::optional<Expression> explode;  // an exploded pipeline's list / map / set
  int deleted_index = -1;     // soft deletes only
  int deleted_at_index = -1;  // soft deletes only; -1 when configured without
  const core::Clock* clock = nullptr;

  // "column bio (VARCHAR(210)): <reason> (expression: bio)"
  [[gnu::cold, gnu::noinline]] static core::Status NullKeyError(const CompiledColumn& column) {
    std::string message = "column ";
    message += column.name;
    message += ": key column is NULL (expression: ";
    message += column.expression->source();
    message += ')';
    return core::Status::InvalidArgument(std::move(message));
  }

  // Cold and out of line, like the other error builders: keeps Map()'s inlined hot path small.
  [[gnu::cold, gnu::noinline]] core::Status ColumnError(const CompiledColumn& column, std::string_view reason) const {
    std::string message = "column ";
    message += column.name;
    message += " (";
    message += column.type_sql;
    message += "): ";
    message += reason;
    message += " (expression: ";
    message += column.expression ? column.expression->source() : std::string("none");
    message += ')';
    return core::Status::InvalidArgument(std::move(message));
  }

  // Per-record cache of the groups' first-step lookups.
  struct GroupCache {
    const core::Value* value[kMaxGroups];
    bool resolved[kMaxGroups];
  };

  // Evaluates one column: through the group cache for grouped bare paths, else the expression.
  bool EvaluateColumn(const CompiledColumn& column, const EvalContext& context, GroupCache& groups,
                      Datum* datum, core::Status* error) const {
    if (column.group < 0 || context.image == nullptr || !context.image->is_map()) {
      return column.expression->Evaluate(context, datum, error);
    }
    const auto g = static_cast<size_t>(column.group);
    if (!groups.resolved[g]) {
      groups.value[g] = FindHinted(context.image->map(), group_steps[g]->name, group_hints[g]);
      groups.resolved[g] = true;
    }
    const core::Value* found = nullptr;
    if (!ResolvePathFrom(*column.path, 1, groups.value[g], &found, error)) return false;
    *datum = found == nullptr ? Datum::Null() : Datum::FromValue(*found);
    return true;
  }

  // A JSON/JSONB column of item_except(…).
  bool AppendItemExcept(const CompiledColumn& column, const EvalContext& context, Scratch& scratch,
                                          core::Status* error) const {
    if (context.image == nullptr || !context.image->is_map()) {
      scratch.row.AppendNull();
      return true;
    }
    scratch.cell.clear();
    std::string reason;
    if (!AppendJsonObjectExcept(*context.image, *column.item_except, column.kind == model::ColumnKind::kJsonb,
                                scratch.cell, &reason)) {
      *error = ColumnError(column, reason);
      return false;
    }
    scratch.row.AppendCell(scratch.cell);
    return true;
  }

  // Evaluates and converts one column into the scratch row.
  bool AppendColumn(const CompiledColumn& column, const EvalContext& context, GroupCache& groups,
                    Scratch& scratch, core::Status* error) const {
    if (!column.expression) {
      scratch.row.AppendNull();
      return true;
    }
    if (column.group >= 0 && context.image != nullptr && context.image->is_map()) {
      // The common case, a bare path into the item: convert the found value directly when it
      // is of the column's natural type, skipping the general Datum conversion.
      const auto g = static_cast<size_t>(column.group);
      if (!groups.resolved[g]) {
        groups.value[g] = FindHinted(context.image->map(), group_steps[g]->name, group_hints[g]);
        groups.resolved[g] = true;
      }
      const core::Value* found = nullptr;
      if (!ResolvePathFrom(*column.path, 1, groups.value[g], &found, error)) {
        *error = ColumnError(column, error->message());
        return false;
      }
      if (found == nullptr || found->is_null()) {
        scratch.row.AppendNull();
        return true;
      }
      const core::ValueType type = found->type();
      if (column.kind == model::ColumnKind::kBoolean && type == core::ValueType::kBool) {
        scratch.row.AppendCell(found->as_bool() ? std::string_view("true") : std::string_view("false"));
        return true;
      }
      if (column.kind == model::ColumnKind::kText && type == core::ValueType::kString) {
        const std::string& text = found->as_string();
        if (text.find('\0') == std::string::npos) {
          scratch.row.AppendCell(text);
          return true;
        }
      }
      return AppendDatum(column, Datum::FromValue(*found), scratch, error);
    }
    return AppendEvaluated(column, context, groups, scratch, error);
  }

  // Any other column: its expression evaluated, then converted. Out of line, so that the bare-path
  // code above stays small enough for the compiler to inline it, with the lookups and cell
  // appends it makes, into Map() (measured with callgrind: ~8% more instructions per reference
  // item when it was not).
  [[gnu::noinline]] bool AppendEvaluated(const CompiledColumn& column, const EvalContext& context,
                                         GroupCache& groups, Scratch& scratch, core::Status* error) const {
    if (column.item_except != nullptr) return AppendItemExcept(column, context, scratch, error);
    Datum datum;
    if (!EvaluateColumn(column, context, groups, &datum, error)) {
      *error = ColumnError(column, error->message());
      return false;
    }
    return AppendDatum(column, datum, scratch, error);
  }

  bool AppendDatum(const CompiledColumn& column, const Datum& datum, Scratch& scratch,
                   core::Status* error) const {
    if (datum.is_null()) {
      scratch.row.AppendNull();
      return true;
    }
    std::string_view text;
    std::string reason;
    if (!column.converter.Convert(datum, scratch.cell, &text, &reason)) {
      *error = ColumnError(column, reason);
      return false;
    }
    scratch.row.AppendCell(text);
    return true;
  }

  // Flattened: every call in it that may be inlined is (the error builders, AppendEvaluated and
  // ClearMade stay out: noinline). Left to its heuristics the compiler stopped inlining the
  // path lookups here once this file also held the exploded pipelines' code (callgrind, per
  // reference item: 4,064 instructions before explode, 4,330–4,930 with it, 3,930 flattened).
  [[gnu::noinline, gnu::flatten]] core::Result<std::optional<model::Row>> Map(const core::Record& record) const {
    if (record.operation == core::Operation::kMarker) return std::optional<model::Row>();
    const bool is_delete = record.operation == core::Operation::kDelete;
    const model::DeletePolicy delete_policy = spec.table.DeletePolicyFor(record.metadata.ttl_delete);
    if (is_delete && delete_policy == model::DeletePolicy::kIgnore) return std::optional<model::Row>();

    Scratch& scratch = ThreadScratch();
    scratch.row.clear();
    if (!scratch.strings.empty() || !scratch.values.empty()) ClearMade(scratch);
    const core::Value* image = record.image();
    // A KEYS_ONLY delete carries no image: its key is all there is to map.
    if (image == nullptr && record.key.is_map()) image = &record.key;
    EvalContext context;
    context.image = image;
    context.record = &record;
    context.clock = clock;
    context.strings = &scratch.strings;
    context.values = &scratch.values;

    core::Status error;
    if (filter) {
      Datum verdict;
      if (!filter->Evaluate(context, &verdict, &error)) {
        return core::Status::InvalidArgument("filter: " + error.message() +
                                             " (expression: " + filter->source() + ")");
      }
      if (verdict.kind != Datum::Kind::kBool && !verdict.is_null()) {
        return core::Status::InvalidArgument("filter: expected a boolean, got " + verdict.Describe() +
                                             " (expression: " + filter->source() + ")");
      }
      if (!verdict.boolean) return std::optional<model::Row>();
    }

    GroupCache groups;
    std::fill_n(groups.resolved, group_steps.size(), false);
    model::RowAction action = model::RowAction::kUpsert;
    if (is_delete) {
      action = delete_policy == model::DeletePolicy::kHard ? model::RowAction::kHardDelete
                                                           : model::RowAction::kSoftDelete;
    }
    // The same loop as FillRow(), kept here as it was: written in place it is what the compiler
    // inlines the bare-path lookups into (measured: Map() through FillRow() mapped the reference
    // item ~15% slower).
    for (size_t i = 0; i < columns.size(); ++i) {
      const CompiledColumn& column = columns[i];
      const int index = static_cast<int>(i);
      bool ok = true;
      if (action == model::RowAction::kHardDelete && !column.is_key) {
        scratch.row.AppendNull();
      } else if (action == model::RowAction::kSoftDelete && index == deleted_index) {
        ok = AppendDatum(column, Datum::Bool(true), scratch, &error);
      } else if (action == model::RowAction::kSoftDelete && index == deleted_at_index) {
        ok = AppendDatum(column, Datum::Timestamp(record.metadata.change_time_ms * 1000), scratch,
                         &error);
      } else if (index == deleted_index) {
        // An upsert of a soft-delete table un-deletes: NULL or unmapped becomes FALSE.
        Datum datum = Datum::Bool(false);
        if (column.expression) {
          if (!EvaluateColumn(column, context, groups, &datum, &error)) {
            return ColumnError(column, error.message());
          }
          if (datum.is_null()) datum = Datum::Bool(false);
        }
        ok = AppendDatum(column, datum, scratch, &error);
      } else {
        ok = AppendColumn(column, context, groups, scratch, &error);
      }
      if (!ok) return error;
      if (column.is_key && scratch.row.is_null(i)) return NullKeyError(column);
    }
    scratch.row.action = action;
    return std::optional<model::Row>(scratch.row);
  }

  // The filter's verdict on the context's image; false with *error set when it fails.
  [[gnu::noinline]] bool PassesFilter(const EvalContext& context, bool* pass, core::Status* error) const {
    Datum verdict;
    if (!filter->Evaluate(context, &verdict, error)) {
      *error = core::Status::InvalidArgument("filter: " + error->message() + " (expression: " + filter->source() + ")");
      return false;
    }
    if (verdict.kind != Datum::Kind::kBool && !verdict.is_null()) {
      *error = core::Status::InvalidArgument("filter: expected a boolean, got " + verdict.Describe() +
                                             " (expression: " + filter->source() + ")");
      return false;
    }
    *pass = verdict.boolean;
    return true;
  }

  // Evaluates every column into scratch.row (cleared first) for `action`: an exploded pipeline's
  // row per element. Each column through its expression, without Map()'s shortcuts for bare
  // paths: a second inlined copy of those made the compiler stop inlining them into Map()
  // (measured with callgrind: ~15-20% more instructions per reference item).
  [[gnu::noinline]] bool FillRow(const core::Record& record, const EvalContext& context, model::RowAction action,
                                 Scratch& scratch, core::Status* error) const {
    scratch.row.clear();
    for (size_t i = 0; i < columns.size(); ++i) {
      const CompiledColumn& column = columns[i];
      const int index = static_cast<int>(i);
      Datum datum;
      if (action == model::RowAction::kHardDelete && !column.is_key) {
        scratch.row.AppendNull();
        continue;
      }
      if (action == model::RowAction::kSoftDelete && index == deleted_index) {
        datum = Datum::Bool(true);
      } else if (action == model::RowAction::kSoftDelete && index == deleted_at_index) {
        datum = Datum::Timestamp(record.metadata.change_time_ms * 1000);
      } else if (column.item_except != nullptr) {
        if (!AppendItemExcept(column, context, scratch, error)) return false;
        continue;
      } else if (column.expression && !column.expression->Evaluate(context, &datum, error)) {
        *error = ColumnError(column, error->message());
        return false;
      }
      // An upsert of a soft-delete table un-deletes: NULL or unmapped becomes FALSE.
      if (index == deleted_index && datum.is_null()) datum = Datum::Bool(false);
      if (!AppendDatum(column, datum, scratch, error)) return false;
      if (column.is_key && scratch.row.is_null(i)) {
        *error = NullKeyError(column);
        return false;
      }
    }
    scratch.row.action = action;
    return true;
  }

  // The elements of an exploded pipeline's list, map or set in `image`, each with its index
  // (held in *indexes, and for a set's members in *members). False with *error when the
  // expression fails or gives something else (nothing to explode: null or missing).
  bool Elements(const EvalContext& context, std::vector<std::pair<const core::Value*, const core::Value*>>* out,
                std::deque<core::Value>* made, core::Status* error) const {
    Datum datum;
    if (!explode->Evaluate(context, &datum, error)) {
      *error = core::Status::InvalidArgument("explode: " + error->message() + " (expression: " + explode->source() + ")");
      return false;
    }
    if (datum.is_null()) return true;
    const core::Value* value = datum.kind == Datum::Kind::kValue ? datum.value : nullptr;
    if (value != nullptr && value->is_list()) {
      const auto& items = value->list();
      for (size_t i = 0; i < items.size(); ++i) {
        made->push_back(core::Value::Number(std::to_string(i)));
        out->emplace_back(&items[i], &made->back());
      }
      return true;
    }
    if (value != nullptr && value->is_map()) {
      for (const auto& [name, element] : value->map()) {
        made->push_back(core::Value::String(name));
        out->emplace_back(&element, &made->back());
      }
      return true;
    }
    if (value != nullptr && (value->type() == core::ValueType::kStringSet || value->type() == core::ValueType::kNumberSet)) {
      const bool numbers = value->type() == core::ValueType::kNumberSet;
      const auto& members = value->set();
      for (size_t i = 0; i < members.size(); ++i) {
        made->push_back(numbers ? core::Value::Number(members[i]) : core::Value::String(members[i]));
        const core::Value* member = &made->back();
        made->push_back(core::Value::Number(std::to_string(i)));
        out->emplace_back(member, &made->back());
      }
      return true;
    }
    *error = core::Status::InvalidArgument("explode: " + explode->source() + " is " + datum.Describe() +
                                           ", not a list, map or set (expression: " + explode->source() + ")");
    return false;
  }

  // A row's key cells, length-prefixed: equal for rows the sink would treat as one.
  std::string KeyOf(const model::Row& row) const {
    std::string key;
    for (size_t i = 0; i < columns.size(); ++i) {
      if (!columns[i].is_key) continue;
      const std::string_view cell = row.cell(i);
      key += std::to_string(cell.size());
      key += ':';
      key += cell;
    }
    return key;
  }

  // An exploded pipeline (see the header): appends the record's rows to *rows, or none and an
  // error.
  [[gnu::noinline]] core::Status MapExploded(const core::Record& record, std::vector<model::Row>* rows) const {
    if (record.operation == core::Operation::kMarker) return core::Status::Ok();
    const bool is_delete = record.operation == core::Operation::kDelete;
    const model::DeletePolicy delete_policy = spec.table.DeletePolicyFor(is_delete && record.metadata.ttl_delete);
    if (is_delete && delete_policy == model::DeletePolicy::kIgnore) return core::Status::Ok();

    Scratch& scratch = ThreadScratch();
    if (!scratch.strings.empty() || !scratch.values.empty()) ClearMade(scratch);
    EvalContext context;
    context.image = record.image();
    if (context.image == nullptr && record.key.is_map()) context.image = &record.key;
    context.record = &record;
    context.clock = clock;
    context.strings = &scratch.strings;
    context.values = &scratch.values;

    core::Status error;
    if (filter) {
      bool pass = false;
      if (!PassesFilter(context, &pass, &error)) return error;
      if (!pass) return core::Status::Ok();
    }
    const model::RowAction removal = delete_policy == model::DeletePolicy::kHard ? model::RowAction::kHardDelete
                                                                                 : model::RowAction::kSoftDelete;
    std::deque<core::Value> made;  // the indexes (and set members) the elements point at
    std::vector<std::pair<const core::Value*, const core::Value*>> elements;
    const size_t first_row = rows->size();

    // The rows of every element of `image` for `action`. `strict`: an element that cannot be
    // mapped is the record's error; otherwise (an old image) it is left out, because its row was
    // never written (its change failed the same way).
    auto explode_image = [&](const core::Value* image, model::RowAction action, bool strict,
                             std::vector<model::Row>* out) -> bool {
      EvalContext at = context;
      at.image = image;
      elements.clear();
      if (!Elements(at, &elements, &made, &error)) return !strict;
      for (const auto& [element, index] : elements) {
        at.element = element;
        at.index = index;
        if (!FillRow(record, at, action, scratch, &error)) {
          if (!strict) continue;
          error = core::Status::InvalidArgument("element " + ElementName(*index) + ": " + error.message());
          return false;
        }
        out->push_back(scratch.row);
      }
      return true;
    };

    if (is_delete) {
      // A REMOVE removes (or marks) every element's row; an element of the old image that
      // cannot be mapped was never written.
      if (!explode_image(context.image, removal, false, rows)) return error;
      return core::Status::Ok();
    }
    if (!explode_image(record.after ? &*record.after : nullptr, model::RowAction::kUpsert, true, rows)) {
      rows->resize(first_row);
      return error;
    }
    // An update removes the rows of the old image's elements that the new image no longer has.
    const model::DeletePolicy update_policy = spec.table.delete_policy;
    if (record.operation == core::Operation::kUpdate && record.before &&
        update_policy != model::DeletePolicy::kIgnore) {
      std::unordered_set<std::string> kept;
      for (size_t r = first_row; r < rows->size(); ++r) kept.insert(KeyOf((*rows)[r]));
      std::vector<model::Row> old_rows;
      const model::RowAction update_removal =
          update_policy == model::DeletePolicy::kHard ? model::RowAction::kHardDelete : model::RowAction::kSoftDelete;
      explode_image(&*record.before, update_removal, false, &old_rows);
      for (model::Row& row : old_rows) {
        if (kept.insert(KeyOf(row)).second) rows->push_back(std::move(row));
      }
    }
    return core::Status::Ok();
  }

  static std::string ElementName(const core::Value& index) {
    if (index.type() == core::ValueType::kString) return "'" + index.as_string() + "'";
    return "[" + index.number_text() + "]";
  }
};

core::Result<MappingPlan> MappingPlan::Compile(const model::PipelineSpec& spec) {
  return Compile(spec, nullptr);
}

core::Result<MappingPlan> MappingPlan::Compile(const model::PipelineSpec& spec, const core::Clock* clock) {
  auto impl = std::make_unique<Impl>();
  impl->spec = spec;
  impl->clock = clock;
  const model::TableSpec& table = spec.table;
  const std::string where = Where(spec, nullptr);
  if (table.columns.empty()) {
    return core::Status::InvalidArgument(where + ": table " + table.name + " has no columns");
  }
  if (table.key_columns.empty()) {
    return core::Status::InvalidArgument(where + ": table " + table.name +
                                         " has no key columns (a unique key is needed for upserts "
                                         "and deletes)");
  }
  std::unordered_set<std::string> names;
  for (const model::ColumnSpec& column : table.columns) {
    if (!names.insert(column.name).second) {
      return core::Status::InvalidArgument(where + ": column " + column.name + " is listed twice");
    }
  }
  std::unordered_set<std::string> keys;
  for (const std::string& key : table.key_columns) {
    if (table.ColumnIndex(key) < 0) {
      return core::Status::InvalidArgument(where + ": key column " + key + " is not a column of " +
                                           table.name);
    }
    if (!keys.insert(key).second) {
      return core::Status::InvalidArgument(where + ": key column " + key + " is listed twice");
    }
  }

  for (const model::ColumnSpec& column : table.columns) {
    CompiledColumn compiled{.is_key = keys.count(column.name) > 0,
                            .expression = std::nullopt,
                            .converter = TypeConverter(column.type, column.overflow),
                            .name = column.name,
                            .type_sql = column.type.ToSql()};
    compiled.kind = column.type.kind;
    compiled.array = column.type.array;
    if (column.type.array) {
      if (compiled.is_key) {
        return core::Status::InvalidArgument(Where(spec, &column) + ": a key column cannot be an array (" +
                                             column.type.ToSql() + ")");
      }
    }
    if (!column.expression.empty()) {
      auto expression = Expression::Parse(column.expression, /*element_roots=*/!spec.explode.empty());
      if (!expression.ok()) {
        return core::Status::InvalidArgument(Where(spec, &column) + ": expression \"" +
                                             column.expression + "\": " +
                                             expression.status().message());
      }
      if (!expression->IsNullLiteral()) compiled.expression = std::move(expression).value();
    }
    if (compiled.is_key && !compiled.expression) {
      return core::Status::InvalidArgument(Where(spec, &column) +
                                           ": a key column needs an expression");
    }
    impl->columns.push_back(std::move(compiled));
  }
  for (CompiledColumn& column : impl->columns) {
    if (!column.expression || column.array ||
        (column.kind != model::ColumnKind::kJsonb && column.kind != model::ColumnKind::kJson)) {
      continue;
    }
    const Expression::Node& root = column.expression->root();
    if (root.kind == NodeKind::kCall && root.function == Function::kItemExcept) column.item_except = &root.names;
  }
  // Group bare-path columns by their first attribute name. Array columns stay out: the grouped
  // path's shortcuts convert by the scalar kind.
  for (CompiledColumn& column : impl->columns) {
    if (!column.expression || column.array) continue;
    const Expression::Node& root = column.expression->root();
    if (root.kind != NodeKind::kPath || root.root != PathRoot::kImage || root.path.empty() ||
        root.path[0].is_index) {
      continue;
    }
    column.path = &root;
    for (size_t g = 0; g < impl->group_steps.size(); ++g) {
      if (impl->group_steps[g]->name == root.path[0].name) column.group = static_cast<int>(g);
    }
    if (column.group < 0 && impl->group_steps.size() < kMaxGroups) {
      column.group = static_cast<int>(impl->group_steps.size());
      impl->group_steps.push_back(&root.path[0]);
    }
  }
  impl->group_hints = std::make_unique<LookupHint[]>(impl->group_steps.size());

  if (table.SoftDeletes()) {
    impl->deleted_index = table.ColumnIndex(table.deleted_column);
    if (impl->deleted_index < 0) {
      return core::Status::InvalidArgument(
          where + ": soft deletes need the column \"" + table.deleted_column + "\" in " +
          table.name + " (or choose another deleted column, or on_delete / on_ttl_delete: hard or ignore)");
    }
    if (!table.deleted_at_column.empty()) {
      impl->deleted_at_index = table.ColumnIndex(table.deleted_at_column);
      if (impl->deleted_at_index < 0) {
        return core::Status::InvalidArgument(
            where + ": soft deletes need the column \"" + table.deleted_at_column + "\" in " +
            table.name + " (or set the deleted_at column to empty)");
      }
    }
    // The deleted / deleted_at columns must take what a delete writes into them.
    std::string scratch, reason;
    std::string_view text;
    const CompiledColumn& deleted = impl->columns[static_cast<size_t>(impl->deleted_index)];
    if (deleted.is_key || !deleted.converter.Convert(Datum::Bool(true), scratch, &text, &reason)) {
      return core::Status::InvalidArgument(where + ": the deleted column " + deleted.name + " (" +
                                           deleted.type_sql + ") cannot hold a boolean flag");
    }
    if (impl->deleted_at_index >= 0) {
      const CompiledColumn& deleted_at = impl->columns[static_cast<size_t>(impl->deleted_at_index)];
      if (deleted_at.is_key || impl->deleted_at_index == impl->deleted_index ||
          !deleted_at.converter.Convert(Datum::Timestamp(0), scratch, &text, &reason)) {
        return core::Status::InvalidArgument(where + ": the deleted_at column " + deleted_at.name +
                                             " (" + deleted_at.type_sql + ") cannot hold a time");
      }
    }
  }

  if (!spec.explode.empty()) {
    auto explode = Expression::Parse(spec.explode);
    if (!explode.ok()) {
      std::string message = where + ": explode";
      if (spec.explode_line > 0) message += " (line " + std::to_string(spec.explode_line) + ")";
      message += " \"" + spec.explode + "\": " + explode.status().message();
      return core::Status::InvalidArgument(std::move(message));
    }
    impl->explode = std::move(explode).value();
    // Rows are told apart by their key: without the element in it, every element of an item
    // would write the same row.
    bool keyed_by_element = false;
    for (const CompiledColumn& column : impl->columns) {
      if (column.is_key && column.expression && column.expression->ReadsElement()) keyed_by_element = true;
    }
    if (!keyed_by_element) {
      std::string keys;
      for (const std::string& key : table.key_columns) keys += (keys.empty() ? "" : ", ") + key;
      return core::Status::InvalidArgument(
          where + ": explode: the key (" + keys + ") must include a column that reads `index` or `element` (e.g. "
          "position: INTEGER <- index), else every element of an item writes the same row");
    }
  }

  if (!spec.filter.empty()) {
    auto filter = Expression::Parse(spec.filter);
    if (!filter.ok()) {
      std::string message = where + ": filter";
      if (spec.filter_line > 0) message += " (line " + std::to_string(spec.filter_line) + ")";
      message += " \"" + spec.filter + "\": " + filter.status().message();
      return core::Status::InvalidArgument(std::move(message));
    }
    impl->filter = std::move(filter).value();
  }
  return MappingPlan(std::move(impl));
}

core::Result<std::optional<model::Row>> MappingPlan::Map(const core::Record& record) const {
  if (impl_->explode) {
    return core::Status::Internal("pipeline " + impl_->spec.name + " explodes: map it with MapRows()");
  }
  return impl_->Map(record);
}

core::Status MappingPlan::MapRows(const core::Record& record, std::vector<model::Row>* rows) const {
  if (impl_->explode) return impl_->MapExploded(record, rows);
  auto mapped = impl_->Map(record);
  if (!mapped.ok()) return mapped.status();
  if (*mapped) rows->push_back(std::move(**mapped));
  return core::Status::Ok();
}

bool MappingPlan::exploded() const { return impl_->explode.has_value(); }

const model::PipelineSpec& MappingPlan::spec() const { return impl_->spec; }

std::optional<std::set<std::string>> MappingPlan::ImageAttributes() const {
  std::set<std::string> names;
  if (impl_->filter && !impl_->filter->CollectTopLevelAttributes(&names)) return std::nullopt;
  if (impl_->explode && !impl_->explode->CollectTopLevelAttributes(&names)) return std::nullopt;
  for (const CompiledColumn& column : impl_->columns) {
    if (column.expression && !column.expression->CollectTopLevelAttributes(&names)) return std::nullopt;
  }
  return names;
}

MappingPlan::MappingPlan(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MappingPlan::MappingPlan(MappingPlan&&) noexcept = default;
MappingPlan& MappingPlan::operator=(MappingPlan&&) noexcept = default;
MappingPlan::~MappingPlan() = default;

}  // namespace ddb2pg::processor
