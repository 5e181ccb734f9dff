// LineDifferences: which lines of two texts the other lacks, for messages that show what changed
// between two configurations (a runner's and a live one's; a pipeline's stored and new mapping).
// Stateless.
#pragma once

#include <string>
#include <string_view>

namespace ddb2pg::core {

// Each line of `first` that `second` lacks, as "\n" + first_label + line, then each line of
// `second` that `first` lacks with second_label; at most `max_each` of each.
std::string LineDifferences(const std::string& first, std::string_view first_label, const std::string& second,
                            std::string_view second_label, int max_each = 20);

}  // namespace ddb2pg::core
