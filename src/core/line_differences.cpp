#include "core/line_differences.h"

#include <set>
#include <sstream>
#include <vector>

namespace ddb2pg::core {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

std::string LineDifferences(const std::string& first, std::string_view first_label, const std::string& second,
                            std::string_view second_label, int max_each) {
  const auto a = Lines(first);
  const auto b = Lines(second);
  const std::set<std::string> in_a(a.begin(), a.end()), in_b(b.begin(), b.end());
  std::string out;
  auto list = [&](const std::vector<std::string>& lines, const std::set<std::string>& other, std::string_view label) {
    int shown = 0;
    for (const auto& line : lines) {
      if (other.count(line) != 0 || shown++ >= max_each) continue;
      out.append("\n").append(label).append(line);
    }
  };
  list(a, in_b, first_label);
  list(b, in_a, second_label);
  return out;
}

}  // namespace ddb2pg::core
