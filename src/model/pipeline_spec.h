// PipelineSpec: one pipeline of the config file: the source it reads, the table it writes, its
// filter and its error policy. Plain values (see table_spec.h).
#pragma once

#include <string>

#include "model/table_spec.h"

namespace ddb2pg::model {

struct PipelineSpec {
  std::string name;     // unique in the file; names the pipeline in metrics and dead letters
  std::string source;   // the name of the source it reads
  TableSpec table;
  std::string filter;   // optional condition; records for which it is false are dropped
  int filter_line = 0;
  ErrorPolicy on_error = ErrorPolicy::kDeadLetter;
};

}  // namespace ddb2pg::model
