// Diagnostics: the problems found while loading one configuration file.
//
// Loading goes on after a problem so that one run reports them all; Format() sorts them into
// file order (line, then column, then the order they were found) as "FILE:LINE:COLUMN: message"
// lines. Positions are 1-based; 0 means the problem has no single place (it is reported first).
//
// Thread-safety: none; one loader owns it.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/mark.h>

namespace ddb2pg::config {

class Diagnostics {
 public:
  explicit Diagnostics(std::string file_name) : file_name_(std::move(file_name)) {}

  // `mark` is yaml-cpp's (0-based; a null mark gives no position).
  void Error(const YAML::Mark& mark, std::string message);
  // 1-based line and column.
  void ErrorAt(int line, int column, std::string message);

  bool empty() const { return problems_.empty(); }
  size_t size() const { return problems_.size(); }
  std::string Format() const;

 private:
  struct Problem {
    int line;
    int column;
    std::string message;
  };
  std::string file_name_;
  std::vector<Problem> problems_;
};

}  // namespace ddb2pg::config
