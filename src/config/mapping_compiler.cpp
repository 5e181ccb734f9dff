// MappingCompiler: compiles the mapping of every pipeline that parsed cleanly (through the
// injected model::MappingChecker) and reports each bad expression at its own column's line, not
// only the first. Runs last; thread-safety: none.
#include "config/config_sections.h"

namespace ddb2pg::config {

using model::ColumnSpec;
using model::DeletePolicy;
using model::PipelineSpec;
namespace {

class MappingCompiler : public SectionParser {
 public:
  using SectionParser::SectionParser;

  // Compiles each sound pipeline. On failure, compiles each column (and the filter) on its own
  // so that every bad expression is reported at its own line, not only the first.
  void CompileMappings(Config& config) {
    for (size_t i = 0; i < config.pipelines.size(); ++i) {
      PipelineSpec& spec = config.pipelines[i];
      const PipelinePlace& place = state_.places[i];
      if (!place.sound) continue;
      const core::Status plan = mappings_.Check(spec);
      if (plan.ok()) {
        for (ColumnSpec& column : spec.table.columns) {
          column.can_be_null = !column.expression.empty() && mappings_.CanBeNull(column.expression);
          column.reads_change_kind = !column.expression.empty() && mappings_.ReadsChangeKind(column.expression);
        }
        continue;
      }

      // The explode expression itself, or a key that does not tell elements apart.
      const std::string explode_prefix = "pipeline " + spec.name + ": explode";
      if (plan.message().rfind(explode_prefix, 0) == 0) {
        std::string rest = plan.message().substr(explode_prefix.size());
        if (rest.rfind(" (line ", 0) == 0) rest = rest.substr(rest.find(')') + 1);
        Error(place.explode_mark.is_null() ? place.mark : place.explode_mark,
              NodeReader::Join(place.path, "explode") + (rest.rfind(": ", 0) == 0 ? "" : ":") + rest);
        continue;
      }
      bool located = false;
      std::optional<size_t> good_column;
      for (size_t c = 0; c < spec.table.columns.size(); ++c) {
        const ColumnSpec& column = spec.table.columns[c];
        const core::Status one = mappings_.Check(Alone(spec, column, ""));
        if (one.ok()) {
          if (!good_column) good_column = c;
          continue;
        }
        located = true;
        diagnostics_.ErrorAt(column.line, column.column,
                             place.path + ".columns." + column.name + ": " +
                                 WithoutPrefix(one.message(),
                                               "pipeline " + spec.name + ", column " + column.name +
                                                   ": "));
      }
      if (!spec.filter.empty() && good_column) {
        const core::Status filter = mappings_.Check(Alone(spec, spec.table.columns[*good_column], spec.filter));
        if (!filter.ok()) {
          located = true;
          Error(place.filter_mark,
                NodeReader::Join(place.path, "filter") + ": " +
                    WithoutPrefix(filter.message(),
                                  "pipeline " + spec.name + ": filter "));
        }
      }
      if (!located) {
        Error(place.mark, place.path + ": " +
                              WithoutPrefix(plan.message(), "pipeline " + spec.name + ": "));
      }
    }
  }

  // MappingPlan names the pipeline and column itself; the file position and path already do.
  static std::string WithoutPrefix(const std::string& message, const std::string& prefix) {
    if (message.rfind(prefix, 0) == 0) return message.substr(prefix.size());
    return message;
  }

  // A one-column pipeline for locating a compile error.
  static PipelineSpec Alone(const PipelineSpec& spec, const ColumnSpec& column,
                            const std::string& filter) {
    PipelineSpec alone;
    alone.name = spec.name;
    alone.source = spec.source;
    alone.explode = spec.explode;  // so that `element` and `index` mean the same
    alone.table.schema = spec.table.schema;
    alone.table.name = spec.table.name;
    alone.table.columns = {column};
    alone.table.columns[0].line = 0;  // keeps the position out of the message: we add our own
    alone.table.columns[0].column = 0;
    // A stand-in key, so that the column itself need not qualify as one (`null` may not). Its
    // name holds a control character, which no configured column can.
    ColumnSpec key;
    key.name = "\x01key";
    key.expression = spec.explode.empty() ? "'key'" : "index";  // an exploded key must read the element
    alone.table.columns.push_back(key);
    alone.table.key_columns = {key.name};
    alone.table.delete_policy = DeletePolicy::kIgnore;
    alone.filter = filter;
    alone.on_error = spec.on_error;
    return alone;
  }
};

}  // namespace

void CompileMappings(ParseState& state, Config& config) {
  MappingCompiler(state).CompileMappings(config);
}

}  // namespace ddb2pg::config
