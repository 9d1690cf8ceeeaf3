#include "core/snapshot_text.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace viewmgr {
namespace {

TEST(SnapshotWithInProgress, AddsTheTransactionInOrder) {
  EXPECT_EQ(snapshot_with_in_progress("100:110:", 105), "100:110:105");
  EXPECT_EQ(snapshot_with_in_progress("100:110:102,108", 105), "100:110:102,105,108");
  EXPECT_EQ(snapshot_with_in_progress("100:110:102", 100), "100:110:100,102");
}

TEST(SnapshotWithInProgress, LeavesSnapshotsThatCannotSeeItAlone) {
  EXPECT_EQ(snapshot_with_in_progress("100:110:102", 102), "100:110:102");  // listed already
  EXPECT_EQ(snapshot_with_in_progress("100:110:", 110), "100:110:");        // at xmax: invisible
  EXPECT_EQ(snapshot_with_in_progress("100:110:", 99), "100:110:");         // finished before
}

TEST(SnapshotWithInProgress, ComparesNumericallyNotAsText) {
  EXPECT_EQ(snapshot_with_in_progress("9:100:", 10), "9:100:10");
  EXPECT_EQ(snapshot_with_in_progress("9:100:10,99", 9), "9:100:9,10,99");
}

TEST(SnapshotWithInProgress, RejectsMalformedText) {
  for (const char* bad : {"", "1:2", "a:2:", "1:b:", "1:2:x", "1:2:3,,4"}) {
    EXPECT_THROW(snapshot_with_in_progress(bad, 1), Error) << bad;
  }
}

}  // namespace
}  // namespace viewmgr
