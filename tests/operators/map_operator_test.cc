#include "operators/map_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/operator_harness.h"
#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::OperatorHarness;

class MapOperatorTest : public ::testing::Test {
 protected:
  MapOperatorTest() {
    schema_ = *Schema::make({{"auction", DataType::kInt64},
                             {"price", DataType::kInt64},
                             {"dateTime", DataType::kTimestamp},
                             {"channel", DataType::kString}});
  }

  RecordBatch bids(int64_t count) {
    RecordBatchBuilder builder(schema_, 2);
    for (int64_t i = 0; i < count; ++i) {
      builder.column(0).appendInt64(1000 + i);
      if (i == 1) {
        builder.column(1).appendNull();
      } else {
        builder.column(1).appendInt64(i * 10);
      }
      builder.column(2).appendInt64(5000 + i);
      builder.column(3).appendString("c" + std::to_string(i));
    }
    return builder.finish();
  }

  Result<std::shared_ptr<const MapProgram>> compile(const MapOptions& options) {
    return MapProgram::compile(schema_, 2, options);
  }

  SchemaPtr schema_;
};

TEST_F(MapOperatorTest, FiltersThenProjectsSharingColumns) {
  MapOptions options;
  options.filter = "auction % 2 = 0";
  options.select = {{"a", "auction"}, {"euros", "price * 2"}, {"at", "dateTime"}};
  ASSERT_OK_AND_ASSIGN(auto program, compile(options));
  EXPECT_EQ(program->outputSchema()->toString(), "a:int64, euros:int64, at:timestamp");
  EXPECT_EQ(program->outputEventTimeIndex(), 2);

  OperatorHarness harness(std::make_unique<MapOperator>(program));
  ASSERT_OK(harness.open());
  ASSERT_OK(harness.processBatch(bids(6)));
  ASSERT_OK(harness.processWatermark(77));
  ASSERT_EQ(harness.output().batches.size(), 1u);
  const RecordBatch& out = harness.output().batches[0];
  ASSERT_EQ(out.numRows(), 3);
  EXPECT_EQ(out.eventTimeIndex(), 2);
  EXPECT_THAT(std::vector<int64_t>(out.column(0)->int64s(), out.column(0)->int64s() + 3),
              ElementsAre(1000, 1002, 1004));
  EXPECT_THAT(std::vector<int64_t>(out.column(1)->int64s(), out.column(1)->int64s() + 3), ElementsAre(0, 40, 80));
  EXPECT_THAT(harness.output().watermarks, ElementsAre(77));
}

TEST_F(MapOperatorTest, BareReferencesAreZeroCopyWithoutFilter) {
  MapOptions options;
  options.select = {{"price", "price"}, {"auction", "auction"}};
  ASSERT_OK_AND_ASSIGN(auto program, compile(options));
  EXPECT_EQ(program->outputEventTimeIndex(), -1);  // the event-time field is not selected
  RecordBatch input = bids(4);
  ASSERT_OK_AND_ASSIGN(RecordBatch out, program->apply(input));
  EXPECT_EQ(out.column(0).get(), input.column(1).get());
  EXPECT_EQ(out.column(1).get(), input.column(0).get());
}

TEST_F(MapOperatorTest, NullFilterResultDropsTheRow) {
  MapOptions options;
  options.filter = "price >= 0";  // row 1 has a null price
  ASSERT_OK_AND_ASSIGN(auto program, compile(options));
  EXPECT_TRUE(*program->outputSchema() == *schema_);
  EXPECT_EQ(program->outputEventTimeIndex(), 2);
  ASSERT_OK_AND_ASSIGN(RecordBatch out, program->apply(bids(4)));
  EXPECT_EQ(out.numRows(), 3);
  EXPECT_EQ(out.column(0)->int64s()[1], 1002);

  options.filter = "price < 0";
  ASSERT_OK_AND_ASSIGN(program, compile(options));
  OperatorHarness harness(std::make_unique<MapOperator>(program));
  ASSERT_OK(harness.open());
  ASSERT_OK(harness.processBatch(bids(4)));
  EXPECT_TRUE(harness.output().batches.empty());  // nothing kept, nothing emitted
}

TEST_F(MapOperatorTest, ExplicitEventTime) {
  MapOptions options;
  options.select = {{"t", "dateTime + 1"}, {"a", "auction"}};
  options.eventTime = "t";
  ASSERT_OK_AND_ASSIGN(auto program, compile(options));
  EXPECT_EQ(program->outputEventTimeIndex(), 0);
  options.eventTime = "a";
  ASSERT_OK_AND_ASSIGN(program, compile(options));
  EXPECT_EQ(program->outputEventTimeIndex(), 1);
  options.eventTime = "zz";
  EXPECT_THAT(compile(options).status().message(), HasSubstr("event_time: no output field 'zz'"));
}

TEST_F(MapOperatorTest, CompileErrorsNameTheOption) {
  MapOptions options;
  options.filter = "auctoin % 123 = 0";
  EXPECT_THAT(compile(options).status().message(), HasSubstr("filter: at column 1: unknown field 'auctoin'"));
  options.filter = "price + 1";
  EXPECT_EQ(compile(options).status().message(), "filter: must be a bool expression, got int64");
  options.filter.reset();
  options.select = {{"x", "nope"}};
  EXPECT_THAT(compile(options).status().message(), HasSubstr("select 'x': "));
}

}  // namespace
}  // namespace sluice
