#include "operators/json_line_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

SchemaPtr makeSchema(std::vector<Field> fields) { return *Schema::make(std::move(fields)); }

/// Parses `line` from a buffer with the padding the parser requires.
Result<int> parse(LineParser& parser, const std::string& line) {
  std::string buffer = line + std::string(LineParser::kPadding, ' ');
  return parser.parseLine(std::string_view(buffer.data(), line.size()), buffer.size());
}

class JsonLineParserTest : public ::testing::Test {
 protected:
  SchemaPtr allTypes_ = makeSchema({{"i", DataType::kInt64},
                                    {"u", DataType::kUInt64},
                                    {"f", DataType::kFloat64},
                                    {"b", DataType::kBool},
                                    {"s", DataType::kString},
                                    {"t", DataType::kTimestamp}});
};

TEST_F(JsonLineParserTest, ParsesEveryType) {
  JsonLineParser parser({{"", allTypes_, 5}}, "");
  ASSERT_OK_AND_ASSIGN(
      int kind, parse(parser, R"({"i":-7,"u":18446744073709551615,"f":2.5,"b":true,"s":"x","t":1700000000000})"));
  EXPECT_EQ(kind, 0);
  ASSERT_OK_AND_ASSIGN(kind, parse(parser, R"({"t":5,"s":"","b":false,"f":3,"u":4,"i":9223372036854775807})"));
  RecordBatch batch = parser.builder(0).finish();
  ASSERT_EQ(batch.numRows(), 2);
  EXPECT_EQ(batch.eventTimeIndex(), 5);
  EXPECT_EQ(batch.column(0)->int64s()[0], -7);
  EXPECT_EQ(batch.column(0)->int64s()[1], INT64_MAX);
  EXPECT_EQ(batch.column(1)->uint64s()[0], UINT64_MAX);
  EXPECT_EQ(batch.column(1)->uint64s()[1], 4u);
  EXPECT_EQ(batch.column(2)->float64s()[0], 2.5);
  EXPECT_EQ(batch.column(2)->float64s()[1], 3.0);  // integers are accepted for float64
  EXPECT_TRUE(batch.column(3)->boolAt(0));
  EXPECT_FALSE(batch.column(3)->boolAt(1));
  EXPECT_EQ(batch.column(4)->stringAt(0), "x");
  EXPECT_EQ(batch.column(4)->stringAt(1), "");
  EXPECT_EQ(batch.column(5)->int64s()[0], 1700000000000);
}

TEST_F(JsonLineParserTest, MissingFieldsAndNullsAreNull) {
  JsonLineParser parser({{"", allTypes_, -1}}, "");
  ASSERT_OK(parse(parser, R"({"i":null,"s":"a","extra":{"nested":[1,2,3]}})").status());
  ASSERT_OK(parse(parser, R"({})").status());
  RecordBatch batch = parser.builder(0).finish();
  ASSERT_EQ(batch.numRows(), 2);
  for (int column = 0; column < batch.numColumns(); ++column) {
    EXPECT_TRUE(batch.column(column)->isNull(1)) << column;
    if (column != 4) {
      EXPECT_TRUE(batch.column(column)->isNull(0)) << column;
    }
  }
  EXPECT_EQ(batch.column(4)->stringAt(0), "a");
}

TEST_F(JsonLineParserTest, UnescapesStringsAndKeepsUnicode) {
  JsonLineParser parser({{"", makeSchema({{"s", DataType::kString}}), -1}}, "");
  ASSERT_OK(parse(parser, R"({"s":"a\"b\\c\/d\n\t\u00e9\u20ac\ud83d\ude00"})").status());
  ASSERT_OK(parse(parser, "{\"s\":\"h\xC3\xA9llo \xE2\x82\xAC\"}").status());
  RecordBatch batch = parser.builder(0).finish();
  EXPECT_EQ(batch.column(0)->stringAt(0), "a\"b\\c/d\n\t\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  EXPECT_EQ(batch.column(0)->stringAt(1), "h\xC3\xA9llo \xE2\x82\xAC");
}

TEST_F(JsonLineParserTest, TypeMismatchNamesFieldAndTypes) {
  JsonLineParser parser({{"", allTypes_, -1}}, "");
  EXPECT_EQ(parse(parser, R"({"i":"12"})").status().message(), "field 'i': expected int64, got string");
  EXPECT_EQ(parse(parser, R"({"i":1.5})").status().message(), "field 'i': expected int64, got 1.5");
  EXPECT_EQ(parse(parser, R"({"u":-1})").status().message(), "field 'u': expected uint64, got -1");
  EXPECT_EQ(parse(parser, R"({"f":"x"})").status().message(), "field 'f': expected float64, got string");
  EXPECT_EQ(parse(parser, R"({"b":1})").status().message(), "field 'b': expected bool, got 1");
  EXPECT_EQ(parse(parser, R"({"s":[1]})").status().message(), "field 's': expected string, got array");
  EXPECT_EQ(parse(parser, R"({"t":{}})").status().message(), "field 't': expected timestamp, got object");
  EXPECT_EQ(parse(parser, R"({"i":1,"i":2})").status().message(), "field 'i' appears twice");
  EXPECT_EQ(parse(parser, R"({"i":18446744073709551615})").status().message(),
            "field 'i': expected int64, got 18446744073709551615");
  // A failed line leaves nothing behind, even after earlier fields parsed.
  EXPECT_EQ(parser.builder(0).numRows(), 0);
}

TEST_F(JsonLineParserTest, MalformedLinesAreParseErrors) {
  JsonLineParser parser({{"", allTypes_, -1}}, "");
  for (const char* line : {R"({"i":1)", R"({"i":1}})", R"({"i":1} x)", R"({"i":tru})", R"({"s":"abc)", "[1,2]", "42",
                           "not json", "{\"s\":\"\xFF\"}"}) {
    Status status = parse(parser, line).status();
    EXPECT_EQ(status.code(), StatusCode::kParseError) << line;
    EXPECT_FALSE(status.message().empty()) << line;
  }
  EXPECT_EQ(parse(parser, "[1,2]").status().message(), "expected a JSON object");
  EXPECT_EQ(parser.builder(0).numRows(), 0);
}

TEST_F(JsonLineParserTest, EventTimeMustBePresent) {
  JsonLineParser parser({{"", allTypes_, 5}}, "");
  EXPECT_EQ(parse(parser, R"({"i":1})").status().message(), "field 't' (the event time) is missing or null");
  EXPECT_EQ(parse(parser, R"({"t":null})").status().message(), "field 't' (the event time) is missing or null");
}

TEST_F(JsonLineParserTest, DiscriminatorPicksKind) {
  auto bid =
      makeSchema({{"auction", DataType::kInt64}, {"price", DataType::kInt64}, {"dateTime", DataType::kTimestamp}});
  auto person = makeSchema({{"type", DataType::kString}, {"id", DataType::kInt64}, {"dateTime", DataType::kTimestamp}});
  JsonLineParser parser({{"bid", bid, 2}, {"person", person, 2}}, "type");
  ASSERT_OK_AND_ASSIGN(int kind, parse(parser, R"({"type":"bid","auction":1,"price":2,"dateTime":3})"));
  EXPECT_EQ(kind, 0);
  // The discriminator need not come first; a kind's schema may include it.
  ASSERT_OK_AND_ASSIGN(kind, parse(parser, R"({"id":7,"dateTime":4,"type":"person"})"));
  EXPECT_EQ(kind, 1);
  ASSERT_OK_AND_ASSIGN(kind, parse(parser, R"({"type":"auction","id":1})"));
  EXPECT_EQ(kind, LineParser::kUnknownKind);
  EXPECT_EQ(parse(parser, R"({"id":1})").status().message(), "missing discriminator field 'type'");
  EXPECT_EQ(parse(parser, R"({"type":3})").status().message(), "discriminator field 'type': expected a string, got 3");

  RecordBatch bids = parser.builder(0).finish();
  RecordBatch persons = parser.builder(1).finish();
  ASSERT_EQ(bids.numRows(), 1);
  ASSERT_EQ(persons.numRows(), 1);
  EXPECT_EQ(bids.column(1)->int64s()[0], 2);
  EXPECT_EQ(persons.column(0)->stringAt(0), "person");
  EXPECT_EQ(persons.column(1)->int64s()[0], 7);
}

}  // namespace
}  // namespace sluice
