// PipelineSection: reads `pipelines` (target table, key, columns as 'TYPE <- expression', filter,
// explode, delete and error policies) into Config::pipelines, with a PipelinePlace for each in
// ParseState::places. References to sources and other pipelines are CrossChecker's; expressions
// are MappingCompiler's. Part of the loader (config_loader.cpp); thread-safety: none.
#include "config/config_sections.h"

#include <map>

#include "config/config_rules.h"
#include "core/text.h"

namespace ddb2pg::config {

using core::Trim;
using model::ChangePolicy;
using model::ColumnSpec;
using model::ColumnType;
using model::ColumnKind;
using model::DeletePolicy;
using model::ErrorPolicy;
using model::PipelineSpec;

namespace {

const std::vector<std::string_view> kPipelineKeys = {
    "source",    "table",         "key",            "columns",           "filter",   "explode",
    "on_delete", "on_ttl_delete", "deleted_column", "deleted_at_column", "on_error", "on_change"};
const std::vector<std::string_view> kColumnKeys = {"type", "value", "on_overflow", "default"};

// "soft", "hard" or "ignore", as NodeReader::Choice leaves it.
DeletePolicy ToDeletePolicy(std::string_view text) {
  return text == "soft" ? DeletePolicy::kSoft : text == "hard" ? DeletePolicy::kHard : DeletePolicy::kIgnore;
}

class PipelineSection : public SectionParser {
 public:
  using SectionParser::SectionParser;

  void ParsePipelines(const YAML::Node& node, Config& config) {
    auto add = [&](PipelineSpec& spec, PipelinePlace& place) {
      config.pipelines.push_back(std::move(spec));
      state_.places.push_back(std::move(place));
    };
    ForEachEntry(
        node, "pipelines", "pipeline",
        "a list of pipelines, or a mapping from pipeline name to its settings",
        [&](const YAML::Node& name, const YAML::Node& settings) {
          PipelineSpec spec;
          PipelinePlace place;
          spec.name = name.IsScalar() ? name.Scalar() : std::string();
          place.path = NodeReader::Join("pipelines", spec.name);
          place.name_mark = name.Mark();
          if (!CheckName(spec.name, place.name_mark, "pipeline")) return;
          ParsePipeline(settings, kPipelineKeys, spec, place);
          add(spec, place);
        },
        [&](size_t i, const YAML::Node& item) {
          PipelineSpec spec;
          PipelinePlace place;
          place.path = "pipelines[" + std::to_string(i) + "]";
          if (item.IsMap()) {
            const YAML::Node name = item["name"];
            place.name_mark = name ? name.Mark() : item.Mark();
            if (!reader_.String(item, "name", place.path, &spec.name, /*required=*/true) ||
                !CheckName(spec.name, place.name_mark, "pipeline")) {
              place.sound = false;
            }
          }
          ParsePipeline(item, WithName(kPipelineKeys), spec, place);
          add(spec, place);
        });
  }

  void ParsePipeline(const YAML::Node& node, const std::vector<std::string_view>& known,
                     PipelineSpec& spec, PipelinePlace& place) {
    const std::string& path = place.path;
    place.mark = node.Mark();
    const size_t before = diagnostics_.size();
    if (!reader_.CheckMap(node, path, known)) {
      place.sound = false;
      return;
    }

    if (const YAML::Node source = node["source"]) place.source_mark = source.Mark();
    reader_.String(node, "source", path, &spec.source);

    // table: "name" or "schema.name"; defaults to the pipeline's name.
    std::string table = spec.name;
    if (const YAML::Node table_node = node["table"]) place.table_mark = table_node.Mark();
    else place.table_mark = place.name_mark;
    reader_.String(node, "table", path, &table);
    if (table.empty() && !node["table"]) {
      place.sound = false;  // the pipeline's name is bad, and already reported
    } else {
      ParseTableName(table, spec, place);
    }

    ParseKey(node, spec, place);
    ParseColumns(node, spec, place);

    if (const YAML::Node filter = node["filter"]) {
      place.filter_mark = filter.Mark();
      spec.filter_line = LineOf(filter.Mark());
    }
    reader_.String(node, "filter", path, &spec.filter);
    spec.filter = std::string(Trim(spec.filter));

    // explode: one row per element of a list, map or set (a child table).
    if (const YAML::Node explode = node["explode"]) {
      place.explode_mark = explode.Mark();
      spec.explode_line = LineOf(explode.Mark());
      spec.explode_column = explode.Mark().column + 1;
      reader_.String(node, "explode", path, &spec.explode, /*required=*/true);
      spec.explode = std::string(Trim(spec.explode));
      if (spec.explode.empty() && explode.IsScalar()) {
        PipelineError(place, explode.Mark(),
                      NodeReader::Join(path, "explode") + ": expected an attribute (a list, map or set), e.g. "
                                                          "explode: pronouns");
      }
    }

    std::string on_delete = "hard";
    if (const YAML::Node on_delete_node = node["on_delete"]) place.on_delete_mark = on_delete_node.Mark();
    else place.on_delete_mark = place.mark;
    reader_.Choice(node, "on_delete", path, &on_delete, {"soft", "hard", "ignore"});
    spec.table.delete_policy = ToDeletePolicy(on_delete);
    // on_ttl_delete: REMOVEs made by DynamoDB's Time to Live; the same as on_delete unless set.
    std::string on_ttl_delete = on_delete;
    YAML::Mark on_ttl_delete_mark = place.on_delete_mark;
    if (const YAML::Node on_ttl_delete_node = node["on_ttl_delete"]) on_ttl_delete_mark = on_ttl_delete_node.Mark();
    reader_.Choice(node, "on_ttl_delete", path, &on_ttl_delete, {"soft", "hard", "ignore"});
    spec.table.ttl_delete_policy = ToDeletePolicy(on_ttl_delete);
    if (spec.table.delete_policy != DeletePolicy::kSoft && on_ttl_delete == "soft") {
      place.soft_delete_key = "on_ttl_delete";
      place.soft_delete_mark = on_ttl_delete_mark;
    } else {
      place.soft_delete_mark = place.on_delete_mark;
    }
    for (const char* key : {"deleted_column", "deleted_at_column"}) {
      const YAML::Node column = node[key];
      if (!column) continue;
      const bool is_deleted = std::string_view(key) == "deleted_column";
      (is_deleted ? place.deleted_column_mark : place.deleted_at_column_mark) = column.Mark();
      if (!spec.table.SoftDeletes()) {
        Error(column.Mark(), NodeReader::Join(path, key) +
                                 ": applies only when on_delete or on_ttl_delete is soft (this pipeline has "
                                 "on_delete: " + on_delete + ", on_ttl_delete: " + on_ttl_delete + ")");
        continue;
      }
      reader_.String(node, key, path,
                     is_deleted ? &spec.table.deleted_column : &spec.table.deleted_at_column,
                     /*required=*/true);
    }

    std::string on_error = "dead_letter";
    reader_.Choice(node, "on_error", path, &on_error, {"dead_letter", "skip", "stop"});
    spec.on_error = on_error == "skip"   ? ErrorPolicy::kSkip
                    : on_error == "stop" ? ErrorPolicy::kStop
                                         : ErrorPolicy::kDeadLetter;

    // on_change: what a start does when the stored progress was made with another mapping.
    std::string on_change = "stop";
    reader_.Choice(node, "on_change", path, &on_change, {"stop", "keep", "backfill"});
    spec.on_change = on_change == "keep"       ? ChangePolicy::kKeep
                     : on_change == "backfill" ? ChangePolicy::kBackfill
                                               : ChangePolicy::kStop;

    if (diagnostics_.size() != before) place.sound = false;
  }

  void ParseTableName(const std::string& table, PipelineSpec& spec, PipelinePlace& place) {
    const std::string key_path = NodeReader::Join(place.path, "table");
    std::string schema;
    std::string name = table;
    const size_t dot = table.find('.');
    if (dot != std::string::npos) {
      schema = table.substr(0, dot);
      name = table.substr(dot + 1);
      if (name.find('.') != std::string::npos) {
        PipelineError(place, place.table_mark,
                      key_path + ": expected TABLE or SCHEMA.TABLE, got '" + table + "'");
        return;
      }
      const std::string problem = IdentifierProblem(schema);
      if (!problem.empty()) {
        PipelineError(place, place.table_mark, key_path + ": the schema name " + problem);
      }
    }
    const std::string problem = IdentifierProblem(name);
    if (!problem.empty()) {
      PipelineError(place, place.table_mark, key_path + ": the table name " + problem);
    }
    spec.table.schema = schema;  // empty: postgres.default_schema, filled in later
    spec.table.name = name;
  }

  // node[key]; reported at the pipeline ("missing required key 'KEY' (HINT)") and an undefined
  // node when it is absent or null.
  YAML::Node Required(const YAML::Node& node, const char* key, const char* hint, PipelinePlace& place) {
    YAML::Node value = node[key];
    if (value && !value.IsNull()) return value;
    PipelineError(place, place.mark,
                  place.path + ": missing required key '" + key + "' (" + hint + ")");
    return YAML::Node(YAML::NodeType::Undefined);
  }

  void ParseKey(const YAML::Node& node, PipelineSpec& spec, PipelinePlace& place) {
    const std::string key_path = NodeReader::Join(place.path, "key");
    const YAML::Node key = Required(node, "key", "the column or columns that identify a row, e.g. key: id", place);
    if (!key) return;
    place.key_mark = key.Mark();
    // One column name; false (reported) when it is not text.
    const auto add_column = [&](const YAML::Node& name) {
      std::optional<std::string> column = reader_.Text(name, key_path);
      if (!column) {
        place.sound = false;
        return false;
      }
      spec.table.key_columns.push_back(std::string(Trim(*column)));
      place.key_marks.push_back(name.Mark());
      return true;
    };
    if (key.IsScalar()) {
      if (!add_column(key)) return;
    } else if (key.IsSequence()) {
      for (size_t i = 0; i < key.size(); ++i) {
        const YAML::Node item = key[i];
        if (!item.IsScalar()) {
          PipelineError(place, item.Mark(), key_path + ": expected a list of column names");
          continue;
        }
        add_column(item);
      }
    } else {
      PipelineError(place, key.Mark(),
                    key_path + ": expected a column name or a list of column names");
      return;
    }
    if (spec.table.key_columns.empty() && place.sound) {
      PipelineError(place, key.Mark(), key_path + ": expected at least one column name");
    }
    for (size_t i = 0; i < spec.table.key_columns.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (spec.table.key_columns[i] == spec.table.key_columns[j]) {
          PipelineError(place, place.key_marks[i],
                        key_path + ": column '" + spec.table.key_columns[i] + "' is listed twice");
        }
      }
    }
  }

  void ParseColumns(const YAML::Node& node, PipelineSpec& spec, PipelinePlace& place) {
    const std::string columns_path = NodeReader::Join(place.path, "columns");
    const YAML::Node columns = Required(node, "columns", "target column → 'TYPE <- expression'", place);
    if (!columns) return;
    if (!columns.IsMap()) {
      PipelineError(place, columns.Mark(),
                    columns_path + ": expected a mapping from column name to 'TYPE <- "
                                   "expression' or {type, value}");
      return;
    }
    if (columns.size() == 0) {
      PipelineError(place, columns.Mark(), columns_path + ": at least one column is required");
      return;
    }
    std::map<std::string, int, std::less<>> seen;
    bool complete = true;
    for (auto it = columns.begin(); it != columns.end(); ++it) {
      if (!it->first.IsScalar()) {
        PipelineError(place, it->first.Mark(), columns_path + ": column names must be plain names");
        complete = false;
        continue;
      }
      ColumnSpec column;
      column.name = it->first.Scalar();
      const std::string path = NodeReader::Join(columns_path, column.name);
      const std::string problem = IdentifierProblem(column.name);
      if (!problem.empty()) {
        PipelineError(place, it->first.Mark(), path + ": the column name " + problem);
        complete = false;
        continue;
      }
      auto [where, inserted] = seen.emplace(column.name, LineOf(it->first.Mark()));
      if (!inserted) {
        PipelineError(place, it->first.Mark(),
                      columns_path + ": column '" + column.name + "' is defined twice (first at line " +
                          std::to_string(where->second) + ")");
        continue;
      }
      YAML::Mark type_mark;
      if (ParseColumn(it->second, path, column, type_mark)) {
        spec.table.columns.push_back(std::move(column));
        place.type_marks.push_back(type_mark);
      } else {
        place.sound = false;
        complete = false;
      }
    }
    place.columns_complete = complete;
  }

  // One column: "TYPE <- expression", or {type, value, on_overflow, default}.
  bool ParseColumn(const YAML::Node& node, const std::string& path, ColumnSpec& column,
                   YAML::Mark& type_mark) {
    std::string type_text;
    YAML::Mark value_mark = node.Mark();
    type_mark = node.Mark();
    if (node.IsScalar() || node.IsNull()) {
      std::optional<std::string> text = reader_.Text(node, path);
      if (!text) return false;
      const size_t arrow = text->find("<-");
      if (arrow == std::string::npos) {
        Error(node.Mark(), path + ": expected 'TYPE <- expression' (e.g. 'TEXT <- name') or a "
                                  "mapping {type, value}");
        return false;
      }
      type_text = std::string(Trim(std::string_view(*text).substr(0, arrow)));
      column.expression = std::string(Trim(std::string_view(*text).substr(arrow + 2)));
    } else if (node.IsMap()) {
      if (!reader_.CheckMap(node, path, kColumnKeys)) return false;
      bool ok = reader_.String(node, "type", path, &type_text, /*required=*/true);
      ok = reader_.String(node, "value", path, &column.expression, /*required=*/true) && ok;
      if (const YAML::Node type = node["type"]) type_mark = type.Mark();
      if (const YAML::Node value = node["value"]) value_mark = value.Mark();
      column.expression = std::string(Trim(column.expression));
      std::string overflow = "reject";
      ok = reader_.Choice(node, "on_overflow", path, &overflow, {"reject", "truncate"}) && ok;
      column.overflow = overflow == "truncate" ? model::OverflowPolicy::kTruncate
                                               : model::OverflowPolicy::kReject;
      if (!ok) return false;
    } else {
      Error(node.Mark(), path + ": expected 'TYPE <- expression' or a mapping {type, value}");
      return false;
    }
    column.line = LineOf(value_mark);
    column.column = ColumnOf(value_mark);

    if (type_text.empty()) {
      Error(type_mark, path + ": the column type is missing (e.g. 'TEXT <- " +
                           (column.expression.empty() ? std::string("name") : column.expression) +
                           "')");
      return false;
    }
    core::Result<ColumnType> type = ColumnType::Parse(type_text);
    if (!type.ok()) {
      Error(type_mark, path + ": " + type.status().message());
      return false;
    }
    column.type = *type;
    if (column.expression.empty()) {
      Error(value_mark, path + ": the expression is empty (e.g. '" + column.type.ToSql() +
                            " <- " + column.name + "')");
      return false;
    }
    if (column.overflow == model::OverflowPolicy::kTruncate &&
        !(column.type.kind == ColumnKind::kVarchar && column.type.length > 0)) {
      Error(node["on_overflow"].Mark(),
            path + ".on_overflow: applies only to VARCHAR(n) columns (this one is " +
                column.type.ToSql() + ")");
      return false;
    }
    if (node.IsMap()) {
      const YAML::Node default_node = node["default"];
      if (default_node) {
        if (default_node.IsNull()) {
          column.default_sql = "NULL";
        } else {
          std::optional<std::string> text = reader_.Text(default_node, path + ".default");
          if (!text) return false;
          core::Result<std::string> sql = DefaultSql(column.type, *text);
          if (!sql.ok()) {
            Error(default_node.Mark(), path + ".default: " + sql.status().message() + " for a " +
                                           column.type.ToSql() + " column");
            return false;
          }
          column.default_sql = *sql;
        }
      }
    }
    return true;
  }
};

}  // namespace

void ParsePipelines(ParseState& state, const YAML::Node& node, Config& config) {
  PipelineSection(state).ParsePipelines(node, config);
}

}  // namespace ddb2pg::config
