#include "runtime/data/record_batch.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

SchemaPtr testSchema() {
  return Schema::make({{"id", DataType::kInt64},
                       {"name", DataType::kString},
                       {"flag", DataType::kBool},
                       {"score", DataType::kFloat64}})
      .value();
}

RecordBatch makeBatch(int rows) {
  RecordBatchBuilder builder(testSchema(), 0);
  for (int i = 0; i < rows; ++i) {
    builder.column(0).appendInt64(i);
    if (i % 3 == 0) {
      builder.column(1).appendNull();
    } else {
      builder.column(1).appendString("name-" + std::to_string(i));
    }
    builder.column(2).appendBool(i % 2 == 0);
    builder.column(3).appendFloat64(i * 0.5);
  }
  return builder.finish();
}

TEST(RecordBatchTest, BuilderProducesValidColumns) {
  RecordBatch batch = makeBatch(10);
  ASSERT_EQ(batch.numRows(), 10);
  for (const auto& column : batch.columns()) {
    std::string why;
    EXPECT_TRUE(column->validate(&why)) << why;
  }
  EXPECT_EQ(batch.column(1)->nullCount(), 4);
  EXPECT_TRUE(batch.column(1)->isNull(3));
  EXPECT_EQ(batch.column(1)->stringAt(4), "name-4");
  EXPECT_TRUE(batch.column(2)->boolAt(8));
  EXPECT_FALSE(batch.column(2)->boolAt(9));
  EXPECT_DOUBLE_EQ(batch.column(3)->float64s()[7], 3.5);
}

TEST(RecordBatchTest, TakeKeepsNullsAndOrder) {
  RecordBatch batch = makeBatch(10);
  RecordBatch taken = batch.take({8, 3, 3, 0});
  ASSERT_EQ(taken.numRows(), 4);
  EXPECT_EQ(taken.column(0)->int64s()[0], 8);
  EXPECT_TRUE(taken.column(1)->isNull(1));
  EXPECT_TRUE(taken.column(1)->isNull(2));
  EXPECT_EQ(taken.column(1)->stringAt(0), "name-8");
  EXPECT_TRUE(taken.column(2)->boolAt(0));
  EXPECT_EQ(taken.column(0)->type(), DataType::kInt64);
}

TEST(RecordBatchTest, FilterSliceConcat) {
  RecordBatch batch = makeBatch(20);
  std::vector<uint8_t> keep(20, 0);
  keep[1] = keep[5] = keep[19] = 1;
  RecordBatch filtered = batch.filter(keep);
  ASSERT_EQ(filtered.numRows(), 3);
  EXPECT_EQ(filtered.column(0)->int64s()[2], 19);
  RecordBatch sliced = batch.slice(15, 5);
  EXPECT_EQ(sliced.column(0)->int64s()[0], 15);
  RecordBatch joined = RecordBatch::concat({filtered, sliced});
  ASSERT_EQ(joined.numRows(), 8);
  EXPECT_EQ(joined.column(0)->int64s()[3], 15);
  // Rows 1, 5, 19 have names; of 15..19, rows 15 and 18 are null.
  EXPECT_FALSE(joined.column(1)->isNull(1));
  EXPECT_TRUE(joined.column(1)->isNull(3));
  EXPECT_EQ(joined.column(1)->nullCount(), 2);
}

TEST(RecordBatchTest, MakeRejectsMismatchedColumns) {
  auto schema = testSchema();
  RecordBatch batch = makeBatch(3);
  auto columns = batch.columns();
  columns.pop_back();
  EXPECT_FALSE(RecordBatch::make(schema, columns).ok());
  columns = batch.columns();
  std::swap(columns[0], columns[1]);
  auto result = RecordBatch::make(schema, columns);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kTypeError);
}

TEST(SchemaTest, RejectsDuplicateNames) {
  EXPECT_FALSE(Schema::make({{"a", DataType::kInt64}, {"a", DataType::kString}}).ok());
  auto schema = Schema::make({{"a", DataType::kInt64}, {"b", DataType::kString}}).value();
  EXPECT_EQ(schema->indexOf("b"), 1);
  EXPECT_FALSE(schema->indexOf("c").has_value());
}

}  // namespace
}  // namespace sluice
