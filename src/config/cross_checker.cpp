// CrossChecker: the checks that need every section read: pipeline names and target tables used
// once, each pipeline's source defined (with a suggestion when a name is close), key columns among
// the columns, soft-delete columns of the right type. Runs after the sections; thread-safety: none.
#include "config/config_sections.h"

#include <map>

#include "config/config_rules.h"

namespace ddb2pg::config {

using model::ColumnKind;
using model::ColumnSpec;
using model::PipelineSpec;
namespace {

class CrossChecker : public SectionParser {
 public:
  using SectionParser::SectionParser;

  void CrossCheck(Config& config) {
    std::map<std::string, size_t> pipeline_by_name;
    std::map<std::string, size_t> pipeline_by_table;
    for (size_t i = 0; i < config.pipelines.size(); ++i) {
      PipelineSpec& spec = config.pipelines[i];
      PipelinePlace& place = state_.places[i];

      if (!spec.name.empty()) {
        auto [where, inserted] = pipeline_by_name.emplace(spec.name, i);
        if (!inserted) {
          PipelineError(place, place.name_mark,
                        "pipeline name '" + spec.name + "' is used twice (first at line " +
                            std::to_string(LineOf(state_.places[where->second].name_mark)) + ")");
        }
      }

      CheckSource(config, spec, place);

      if (!spec.table.name.empty()) {
        const std::string qualified = spec.table.schema + "." + spec.table.name;
        auto [where, inserted] = pipeline_by_table.emplace(qualified, i);
        if (!inserted) {
          const PipelineSpec& first = config.pipelines[where->second];
          PipelineError(place, place.table_mark,
                        NodeReader::Join(place.path, "table") + ": table " + qualified +
                            " is already written by pipeline '" + first.name + "' (line " +
                            std::to_string(LineOf(state_.places[where->second].name_mark)) +
                            "); each table takes one pipeline");
        }
      }

      // Columns that failed to parse were left out: only check against a complete list.
      if (!place.columns_complete) continue;
      for (size_t k = 0; k < spec.table.key_columns.size(); ++k) {
        const std::string& key = spec.table.key_columns[k];
        if (key.empty() || spec.table.ColumnIndex(key) >= 0) continue;
        PipelineError(place, place.key_marks[k],
                      NodeReader::Join(place.path, "key") + ": '" + key +
                          "' is not one of the columns (" + ColumnNames(spec) + ")");
      }
      if (spec.table.SoftDeletes()) {
        CheckSoftDeleteColumn(spec, place, spec.table.deleted_column, "deleted_column",
                              place.deleted_column_mark, ColumnKind::kBoolean, "BOOLEAN");
        CheckSoftDeleteColumn(spec, place, spec.table.deleted_at_column, "deleted_at_column",
                              place.deleted_at_column_mark, ColumnKind::kTimestamptz,
                              "TIMESTAMPTZ");
      }
    }
  }

  static std::string ColumnNames(const PipelineSpec& spec) {
    std::string out;
    for (const ColumnSpec& column : spec.table.columns) {
      if (!out.empty()) out.append(", ");
      out.append(column.name);
    }
    return out;
  }

  void CheckSource(const Config& config, PipelineSpec& spec, PipelinePlace& place) {
    if (spec.source.empty()) {
      if (config.sources.size() == 1) {
        spec.source = config.sources.front().name;  // the only source needs no naming
        return;
      }
      if (config.sources.empty()) return;  // reported with the sources
      std::string names;
      for (const SourceConfig& source : config.sources) {
        if (!names.empty()) names.append(", ");
        names.append(source.name);
      }
      PipelineError(place, place.mark,
                    place.path + ": missing required key 'source' (there are several: " + names +
                        ")");
      return;
    }
    if (config.FindSource(spec.source) != nullptr) return;
    if (state_.source_lines.count(spec.source) != 0) return;  // defined, but with problems of its own
    if (config.sources.empty()) return;  // every source has problems, already reported
    std::vector<std::string_view> names;
    for (const SourceConfig& source : config.sources) names.push_back(source.name);
    std::string message = NodeReader::Join(place.path, "source") + ": no source named '" +
                          spec.source + "' (sources: " + JoinNames(names) + ")";
    const std::string suggestion = ClosestName(spec.source, names);
    if (!suggestion.empty()) message.append("; did you mean '" + suggestion + "'?");
    PipelineError(place, place.source_mark, std::move(message));
  }

  void CheckSoftDeleteColumn(const PipelineSpec& spec, PipelinePlace& place,
                             const std::string& column, std::string_view setting,
                             const YAML::Mark& setting_mark, ColumnKind kind,
                             std::string_view type_name) {
    const YAML::Mark mark = setting_mark.is_null() ? place.soft_delete_mark : setting_mark;
    const int index = spec.table.ColumnIndex(column);
    if (index < 0) {
      std::string message = place.path;
      message.append(": ");
      message.append(place.soft_delete_key);
      message.append(": soft needs a ");
      message.append(type_name);
      message.append(" column '");
      message.append(column);
      message.append("' among the columns (add it, name another with ");
      message.append(setting);
      message.append(", or use ");
      message.append(place.soft_delete_key);
      message.append(": hard or ignore)");
      PipelineError(place, mark, std::move(message));
      return;
    }
    const ColumnSpec& spec_column = spec.table.columns[static_cast<size_t>(index)];
    if (spec_column.type.kind != kind || spec_column.type.array) {
      std::string message = place.path;
      message.append(".columns.");
      message.append(column);
      message.append(": the soft-delete column must be ");
      message.append(type_name);
      message.append(", not ");
      message.append(spec_column.type.ToSql());
      PipelineError(place, place.type_marks[static_cast<size_t>(index)], std::move(message));
    }
  }
};

}  // namespace

void CrossCheck(ParseState& state, Config& config) {
  CrossChecker(state).CrossCheck(config);
}

}  // namespace ddb2pg::config
