#include "runtime/data/key_group.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(KeyGroupTest, HashIsFixedAcrossBuilds) {
  // XXH3-64 with seed 0 of the 8 little-endian bytes of 42: pinned so that a
  // change of hash function (which would move state between key groups) fails here.
  auto schema = Schema::make({{"k", DataType::kInt64}}).value();
  RecordBatchBuilder builder(schema);
  builder.column(0).appendInt64(42);
  auto hashes = hashKeys(builder.finish(), {0});
  int64_t value = 42;
  EXPECT_EQ(hashes[0], hashBytes(std::string_view(reinterpret_cast<const char*>(&value), 8)));
  EXPECT_EQ(hashBytes(""), 0x2D06800538D394C2ULL);
}

TEST(KeyGroupTest, SubtaskAssignmentMatchesFlink) {
  EXPECT_EQ(subtaskForKeyGroup(0, 4, 128), 0);
  EXPECT_EQ(subtaskForKeyGroup(31, 4, 128), 0);
  EXPECT_EQ(subtaskForKeyGroup(32, 4, 128), 1);
  EXPECT_EQ(subtaskForKeyGroup(127, 4, 128), 3);
  EXPECT_EQ(subtaskForKeyGroup(127, 3, 128), 2);
}

}  // namespace
}  // namespace sluice
