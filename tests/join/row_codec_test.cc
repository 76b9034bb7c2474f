#include "operators/join/row_codec.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

class RowCodecTest : public ::testing::Test {
 protected:
  RowCodecTest() {
    schema_ = *Schema::make({{"i", DataType::kInt64},
                             {"u", DataType::kUInt64},
                             {"f", DataType::kFloat64},
                             {"b", DataType::kBool},
                             {"s", DataType::kString},
                             {"t", DataType::kTimestamp}});
  }

  RecordBatch sample() {
    RecordBatchBuilder builder(schema_);
    builder.column(0).appendInt64(-5);
    builder.column(1).appendUInt64(~uint64_t{0});
    builder.column(2).appendFloat64(2.5);
    builder.column(3).appendBool(true);
    builder.column(4).appendString("héllo");
    builder.column(5).appendInt64(1700000000000);
    builder.column(0).appendNull();
    builder.column(1).appendUInt64(0);
    builder.column(2).appendNull();
    builder.column(3).appendBool(false);
    builder.column(4).appendString("");
    builder.column(5).appendNull();
    return builder.finish();
  }

  SchemaPtr schema_;
};

TEST_F(RowCodecTest, RoundTripsEveryTypeAndNulls) {
  RecordBatch batch = sample();
  std::vector<int> columns = {0, 1, 2, 3, 4, 5};
  std::vector<ColumnBuilder> builders;
  for (const Field& field : schema_->fields()) builders.emplace_back(field.type);
  for (int64_t row = 0; row < batch.numRows(); ++row) {
    std::string bytes;
    RowCodec::encode(batch, columns, row, bytes);
    ASSERT_OK(RowCodec::decode(bytes, builders));
  }
  std::vector<ColumnPtr> decoded;
  for (ColumnBuilder& builder : builders) decoded.push_back(builder.finish());
  EXPECT_EQ(decoded[0]->int64s()[0], -5);
  EXPECT_TRUE(decoded[0]->isNull(1));
  EXPECT_EQ(decoded[1]->uint64s()[0], ~uint64_t{0});
  EXPECT_EQ(decoded[2]->float64s()[0], 2.5);
  EXPECT_TRUE(decoded[2]->isNull(1));
  EXPECT_TRUE(decoded[3]->boolAt(0));
  EXPECT_FALSE(decoded[3]->boolAt(1));
  EXPECT_EQ(decoded[4]->stringAt(0), "héllo");
  EXPECT_EQ(decoded[4]->stringAt(1), "");
  EXPECT_EQ(decoded[5]->int64s()[0], 1700000000000);
  EXPECT_TRUE(decoded[5]->isNull(1));
}

TEST_F(RowCodecTest, Int64AndTimestampEncodeAlike) {
  RecordBatchBuilder builder(*Schema::make({{"a", DataType::kInt64}, {"b", DataType::kTimestamp}}));
  builder.column(0).appendInt64(42);
  builder.column(1).appendInt64(42);
  RecordBatch batch = builder.finish();
  std::string left;
  std::string right;
  RowCodec::encode(batch, {0}, 0, left);
  RowCodec::encode(batch, {1}, 0, right);
  EXPECT_EQ(left, right);
}

TEST_F(RowCodecTest, OrderedInt64SortsLikeSignedValues) {
  std::vector<int64_t> values = {INT64_MIN, -100, -1, 0, 1, 99, INT64_MAX};
  std::string previous;
  for (int64_t value : values) {
    std::string bytes;
    RowCodec::appendOrderedInt64(value, bytes);
    EXPECT_EQ(RowCodec::readOrderedInt64(bytes), value);
    if (!previous.empty()) {
      EXPECT_LT(previous, bytes) << value;
    }
    previous = bytes;
  }
}

TEST_F(RowCodecTest, TruncatedBytesAreCorruption) {
  RecordBatch batch = sample();
  std::string bytes;
  RowCodec::encode(batch, {0, 4}, 0, bytes);
  std::vector<ColumnBuilder> builders;
  builders.emplace_back(DataType::kInt64);
  builders.emplace_back(DataType::kString);
  Status status = RowCodec::decode(std::string_view(bytes).substr(0, bytes.size() - 2), builders);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  status = RowCodec::decode(bytes + "x", builders);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace sluice
