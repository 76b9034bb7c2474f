#include "operators/csv_line_parser.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

SchemaPtr makeSchema(std::vector<Field> fields) { return *Schema::make(std::move(fields)); }

Result<int> parse(LineParser& parser, const std::string& line) {
  std::string buffer = line + std::string(LineParser::kPadding, ' ');
  return parser.parseLine(std::string_view(buffer.data(), line.size()), buffer.size());
}

TEST(CsvLineParserTest, ColumnsMapToSchemaInOrder) {
  auto schema = makeSchema({{"id", DataType::kUInt64},
                            {"ts", DataType::kTimestamp},
                            {"amount", DataType::kFloat64},
                            {"flag", DataType::kBool},
                            {"name", DataType::kString},
                            {"delta", DataType::kInt64}});
  CsvLineParser parser({{"", schema, 1}});
  ASSERT_OK(parse(parser, "7,1000,2.5,true,alice,-3").status());
  ASSERT_OK(parse(parser, "8,1001,,0,,").status());
  ASSERT_OK(parse(parser, R"(9,1002,1e3,FALSE,"b, ""quoted""",4)").status());
  RecordBatch batch = parser.builder(0).finish();
  ASSERT_EQ(batch.numRows(), 3);
  EXPECT_EQ(batch.column(0)->uint64s()[0], 7u);
  EXPECT_EQ(batch.column(1)->int64s()[1], 1001);
  EXPECT_EQ(batch.column(2)->float64s()[0], 2.5);
  EXPECT_TRUE(batch.column(2)->isNull(1));  // empty number → null
  EXPECT_EQ(batch.column(2)->float64s()[2], 1000.0);
  EXPECT_TRUE(batch.column(3)->boolAt(0));
  EXPECT_FALSE(batch.column(3)->boolAt(1));
  EXPECT_EQ(batch.column(4)->stringAt(0), "alice");
  EXPECT_EQ(batch.column(4)->stringAt(1), "");  // empty string stays a string
  EXPECT_EQ(batch.column(4)->stringAt(2), "b, \"quoted\"");
  EXPECT_EQ(batch.column(5)->int64s()[0], -3);
  EXPECT_TRUE(batch.column(5)->isNull(1));
}

TEST(CsvLineParserTest, ErrorsNameTheColumn) {
  auto schema = makeSchema({{"id", DataType::kInt64}, {"ts", DataType::kTimestamp}, {"mcc", DataType::kInt64}});
  CsvLineParser parser({{"", schema, 1}});
  EXPECT_EQ(parse(parser, "1,2").status().message(), "expected 3 columns, got 2");
  EXPECT_EQ(parse(parser, "1,2,3,4").status().message(), "expected 3 columns, got 4");
  EXPECT_EQ(parse(parser, "1,2,abc").status().message(), "column 3 'mcc': expected int64, got 'abc'");
  EXPECT_EQ(parse(parser, "1,2,3x").status().message(), "column 3 'mcc': expected int64, got '3x'");
  EXPECT_EQ(parse(parser, "1,,3").status().message(), "field 'ts' (the event time) is missing or null");
  EXPECT_EQ(parse(parser, R"("1,2,3)").status().message(), "column 1: unterminated quote");
  EXPECT_EQ(parser.builder(0).numRows(), 0);
}

TEST(CsvLineParserTest, FirstColumnPicksKind) {
  auto transaction =
      makeSchema({{"txn_id", DataType::kUInt64}, {"ts_ms", DataType::kTimestamp}, {"country", DataType::kString}});
  auto label = makeSchema({{"txn_id", DataType::kUInt64}, {"ts_ms", DataType::kTimestamp}});
  CsvLineParser parser({{"T", transaction, 1}, {"L", label, 1}});
  ASSERT_OK_AND_ASSIGN(int kind, parse(parser, "T,1,100,GB"));
  EXPECT_EQ(kind, 0);
  ASSERT_OK_AND_ASSIGN(kind, parse(parser, "L,1,200"));
  EXPECT_EQ(kind, 1);
  ASSERT_OK_AND_ASSIGN(kind, parse(parser, "X,1,2,3,4"));
  EXPECT_EQ(kind, LineParser::kUnknownKind);
  EXPECT_EQ(parse(parser, "L,1,200,GB").status().message(), "expected 3 columns for kind 'L', got 4");
  EXPECT_EQ(parser.builder(0).finish().column(2)->stringAt(0), "GB");
  EXPECT_EQ(parser.builder(1).finish().column(1)->int64s()[0], 200);
}

}  // namespace
}  // namespace sluice
