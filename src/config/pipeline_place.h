// PipelinePlace: where one pipeline's settings stand in the file, kept while the pipelines are read
// so that the cross-checks and the mapping compiler, which run after every section is read, can
// report at the right line. A plain record; owned by ParseState (one per Config::pipelines entry).
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/mark.h>

namespace ddb2pg::config {

struct PipelinePlace {
  std::string path;  // "pipelines[0]" or "pipelines.profile"
  // Null marks where the key is absent (yaml-cpp's default Mark is line 0, not "none").
  YAML::Mark mark = YAML::Mark::null_mark();  // the pipeline's mapping
  YAML::Mark name_mark = YAML::Mark::null_mark();
  YAML::Mark source_mark = YAML::Mark::null_mark();
  YAML::Mark table_mark = YAML::Mark::null_mark();
  YAML::Mark key_mark = YAML::Mark::null_mark();
  std::vector<YAML::Mark> key_marks;  // one per key column (same as key_mark for a single string)
  YAML::Mark on_delete_mark = YAML::Mark::null_mark();
  // The setting that asks for soft deletes, for the deleted / deleted_at column checks:
  // "on_delete" or "on_ttl_delete" and where it stands (on_delete wins when both are soft).
  std::string soft_delete_key = "on_delete";
  YAML::Mark soft_delete_mark = YAML::Mark::null_mark();
  YAML::Mark deleted_column_mark = YAML::Mark::null_mark();
  YAML::Mark deleted_at_column_mark = YAML::Mark::null_mark();
  YAML::Mark filter_mark = YAML::Mark::null_mark();
  YAML::Mark explode_mark = YAML::Mark::null_mark();
  std::vector<YAML::Mark> type_marks;  // one per column
  bool columns_complete = false;       // every column parsed: cross-checks against them are fair
  bool sound = true;                   // parsed without problems: worth compiling
};

}  // namespace ddb2pg::config
