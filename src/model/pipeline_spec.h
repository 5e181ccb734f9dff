// PipelineSpec: one pipeline of the config file: the source it reads, the table it writes, its
// filter and its error policy. Plain values (see table_spec.h).
#pragma once

#include <string>

#include "model/table_spec.h"

namespace ddb2pg::model {

// What a start does when a pipeline's mapping (columns, key, filter, table) differs from the one
// its stored rows were written with (sink::PipelineRegistry).
enum class ChangePolicy {
  kStop,      // refuse to start, naming the differences and the two choices below
  kKeep,      // go on: rows written from now on follow the new mapping
  kBackfill,  // read the table again into the pipeline's table beside the stream, then reconcile
};

struct PipelineSpec {
  std::string name;     // unique in the file; names the pipeline in metrics and dead letters
  std::string source;   // the name of the source it reads
  TableSpec table;
  std::string filter;   // optional condition; records for which it is false are dropped
  int filter_line = 0;
  // Optional: an expression giving a list, map or set (usually an attribute, e.g. "pronouns").
  // When set, the pipeline writes one row per element (a child table); its columns may read
  // `element` and `index` (processor/mapping_plan.h). Empty: one row per record.
  std::string explode;
  int explode_line = 0;
  int explode_column = 0;
  ErrorPolicy on_error = ErrorPolicy::kDeadLetter;
  ChangePolicy on_change = ChangePolicy::kStop;
};

}  // namespace ddb2pg::model
