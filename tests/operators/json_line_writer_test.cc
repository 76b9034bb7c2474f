#include "operators/json_line_writer.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "operators/csv_line_writer.h"
#include "operators/json_line_parser.h"
#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

SchemaPtr makeSchema(std::vector<Field> fields) { return *Schema::make(std::move(fields)); }

std::string json(std::string_view text) {
  std::string out;
  JsonLineWriter::appendString(text, out);
  return out;
}

std::string number(double value) {
  std::string out;
  JsonLineWriter::appendFloat64(value, out);
  return out;
}

TEST(JsonLineWriterTest, WritesRowsInSchemaOrder) {
  auto schema = makeSchema({{"i", DataType::kInt64},
                            {"u", DataType::kUInt64},
                            {"f", DataType::kFloat64},
                            {"b", DataType::kBool},
                            {"s", DataType::kString},
                            {"t", DataType::kTimestamp}});
  RecordBatchBuilder builder(schema, 5);
  builder.column(0).appendInt64(INT64_MIN);
  builder.column(1).appendUInt64(UINT64_MAX);
  builder.column(2).appendFloat64(0.1);
  builder.column(3).appendBool(true);
  builder.column(4).appendString("x");
  builder.column(5).appendInt64(1700000000000);
  for (int c = 0; c < 6; ++c) builder.column(c).appendNull();
  RecordBatch batch = builder.finish();
  std::string out = "prefix\n";
  JsonLineWriter(schema).append(batch, out);
  EXPECT_EQ(out,
            "prefix\n"
            "{\"i\":-9223372036854775808,\"u\":18446744073709551615,\"f\":0.1,\"b\":true,\"s\":\"x\","
            "\"t\":1700000000000}\n"
            "{\"i\":null,\"u\":null,\"f\":null,\"b\":null,\"s\":null,\"t\":null}\n");
}

TEST(JsonLineWriterTest, EscapesStrings) {
  EXPECT_EQ(json("plain"), "\"plain\"");
  EXPECT_EQ(json("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(json(std::string_view("\x01\x1f\0", 3)), "\"\\u0001\\u001f\\u0000\"");
  EXPECT_EQ(json("h\xC3\xA9llo \xF0\x9F\x98\x80 /\x7f"), "\"h\xC3\xA9llo \xF0\x9F\x98\x80 /\x7f\"");
  EXPECT_EQ(json(""), "\"\"");
}

TEST(JsonLineWriterTest, FloatsRoundTripShortest) {
  const double product = 0.908 * 17619528;
  const std::string text = number(product);
  double parsed = 0;
  std::from_chars(text.data(), text.data() + text.size(), parsed);
  EXPECT_EQ(parsed, product) << text;
  EXPECT_LE(text.size(), 18u);
  EXPECT_EQ(number(0.1), "0.1");
  EXPECT_EQ(number(-2.5), "-2.5");
  EXPECT_EQ(number(3.0), "3");
  EXPECT_EQ(number(1e300), "1e+300");
  EXPECT_EQ(number(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(number(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(number(-std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonLineWriterTest, OutputParsesBackToTheSameValues) {
  auto schema = makeSchema({{"s", DataType::kString}, {"f", DataType::kFloat64}, {"i", DataType::kInt64}});
  RecordBatchBuilder builder(schema);
  std::string nasty;
  for (int c = 0; c < 128; ++c) nasty.push_back(static_cast<char>(c));
  nasty += "\xE2\x82\xAC";
  const double values[] = {0.908 * 17619528, 1.0 / 3, 5e-324, 1.7976931348623157e308, -0.0};
  for (double value : values) {
    builder.column(0).appendString(nasty);
    builder.column(1).appendFloat64(value);
    builder.column(2).appendInt64(-42);
  }
  std::string out;
  JsonLineWriter(schema).append(builder.finish(), out);

  JsonLineParser parser({{"", schema, -1}}, "");
  out.append(LineParser::kPadding, ' ');
  size_t start = 0;
  int row = 0;
  while (true) {
    const size_t end = out.find('\n', start);
    if (end == std::string::npos) break;
    ASSERT_OK(parser.parseLine(std::string_view(out.data() + start, end - start), out.size() - start).status());
    start = end + 1;
    ++row;
  }
  RecordBatch parsed = parser.builder(0).finish();
  ASSERT_EQ(parsed.numRows(), 5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(parsed.column(0)->stringAt(i), nasty);
    EXPECT_EQ(parsed.column(1)->float64s()[i], values[i]);
    EXPECT_EQ(parsed.column(2)->int64s()[i], -42);
  }
}

TEST(JsonLineWriterTest, LongStringsGrowTheBuffer) {
  auto schema = makeSchema({{"s", DataType::kString}});
  RecordBatchBuilder builder(schema);
  const std::string quotes(100000, '"');
  builder.column(0).appendString(quotes);
  builder.column(0).appendString("short");
  std::string out;
  JsonLineWriter(schema).append(builder.finish(), out);
  EXPECT_EQ(out.size(), 200009u + 14u);
  EXPECT_TRUE(out.ends_with("{\"s\":\"short\"}\n"));
}

TEST(CsvLineWriterTest, QuotesOnlyWhenNeeded) {
  auto schema = makeSchema({{"s", DataType::kString}, {"f", DataType::kFloat64}, {"b", DataType::kBool}});
  RecordBatchBuilder builder(schema);
  builder.column(0).appendString("a,b \"c\"");
  builder.column(1).appendFloat64(1.5);
  builder.column(2).appendBool(false);
  builder.column(0).appendString("plain");
  builder.column(1).appendNull();
  builder.column(2).appendBool(true);
  std::string out;
  CsvLineWriter::append(builder.finish(), out);
  EXPECT_EQ(out, "\"a,b \"\"c\"\"\",1.5,false\nplain,,true\n");
}

}  // namespace
}  // namespace sluice
