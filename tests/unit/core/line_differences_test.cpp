#include "core/line_differences.h"

#include <gtest/gtest.h>

namespace ddb2pg::core {
namespace {

TEST(LineDifferences, ListsTheLinesEachSideLacksWithTheirLabels) {
  EXPECT_EQ(LineDifferences("a\nb\nc\n", "was: ", "a\nc\nd\n", "now: "), "\nwas: b\nnow: d");
  EXPECT_EQ(LineDifferences("same\n", "x ", "same\n", "y "), "");
  EXPECT_EQ(LineDifferences("1\n2\n3\n", "- ", "", "+ ", 2), "\n- 1\n- 2");
}

}  // namespace
}  // namespace ddb2pg::core
