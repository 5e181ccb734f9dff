// ShardLineage: the eligibility rules the lease store enforces in SQL, on their own.
#include "source/shard_lineage.h"

#include <gtest/gtest.h>

namespace ddb2pg::source {
namespace {

using Strings = std::vector<std::string>;

TEST(ShardLineage, SegmentsFirstThenShardsOnlyAfterTheSnapshot) {
  ShardLineage lineage;
  lineage.AddSegment("scan/0");
  lineage.AddSegment("scan/1");
  lineage.AddShard("root", "");
  EXPECT_EQ(lineage.Eligible(), (Strings{"scan/0", "scan/1"}));
  lineage.MarkDone("scan/0");
  EXPECT_EQ(lineage.Eligible(), (Strings{"scan/1"}));
  lineage.MarkDone("scan/1");
  EXPECT_TRUE(lineage.SnapshotDone());
  EXPECT_EQ(lineage.Eligible(), (Strings{"root"}));
}

TEST(ShardLineage, AChildWaitsForItsParentEvenWhenListedFirst) {
  ShardLineage lineage;
  auto synced = lineage.Sync({{"child-b", "parent", false}, {"child-a", "parent", false}, {"parent", "", true}});
  EXPECT_EQ(synced.added.size(), 3u);
  EXPECT_EQ(lineage.Eligible(), (Strings{"parent"}));
  lineage.MarkDone("parent");
  EXPECT_EQ(lineage.Eligible(), (Strings{"child-a", "child-b"}));
  lineage.MarkDone("child-a");
  lineage.AddShard("grandchild", "child-a");
  EXPECT_EQ(lineage.Eligible(), (Strings{"child-b", "grandchild"}));
}

TEST(ShardLineage, AParentGoneFromTheStoreNoLongerHoldsItsChild) {
  ShardLineage lineage;
  lineage.Sync({{"child", "trimmed-long-ago", false}});
  EXPECT_EQ(lineage.Eligible(), (Strings{"child"}));
}

TEST(ShardLineage, APendingShardMissingFromAListingWasTrimmedUnread) {
  ShardLineage lineage;
  lineage.Sync({{"a", "", true}, {"b", "a", false}});
  lineage.MarkDone("a");
  auto synced = lineage.Sync({{"c", "b", false}});
  EXPECT_EQ(synced.trimmed, (Strings{"b"})) << "b still had to be read";
  EXPECT_EQ(synced.forgotten, (Strings{"a"})) << "a was read: forgetting it is history only";
  EXPECT_EQ(synced.added, (Strings{"c"}));
  EXPECT_FALSE(lineage.IsEligible("c")) << "c's parent b is still pending";
}

}  // namespace
}  // namespace ddb2pg::source
