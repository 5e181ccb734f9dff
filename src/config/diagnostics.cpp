#include "config/diagnostics.h"

#include <algorithm>

namespace ddb2pg::config {

void Diagnostics::Error(const YAML::Mark& mark, std::string message) {
  if (mark.is_null() || mark.line < 0) {
    ErrorAt(0, 0, std::move(message));
  } else {
    ErrorAt(mark.line + 1, mark.column + 1, std::move(message));
  }
}

void Diagnostics::ErrorAt(int line, int column, std::string message) {
  problems_.push_back(Problem{line, column, std::move(message)});
}

std::string Diagnostics::Format() const {
  std::vector<const Problem*> sorted;
  sorted.reserve(problems_.size());
  for (const Problem& problem : problems_) sorted.push_back(&problem);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Problem* a, const Problem* b) {
    if (a->line != b->line) return a->line < b->line;
    return a->column < b->column;
  });
  std::string out;
  for (const Problem* problem : sorted) {
    if (!out.empty()) out.push_back('\n');
    out.append(file_name_);
    if (problem->line > 0) {
      out.push_back(':');
      out.append(std::to_string(problem->line));
      out.push_back(':');
      out.append(std::to_string(problem->column));
    }
    out.append(": ");
    out.append(problem->message);
  }
  return out;
}

}  // namespace ddb2pg::config
