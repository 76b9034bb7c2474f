// Evaluation tests for the expression language: every operator and function,
// SQL null semantics, type promotion, constants and empty batches.
#include "runtime/expr/expression.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <thread>

#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

using std::nullopt;
using OptionalInt = std::optional<int64_t>;
using OptionalDouble = std::optional<double>;
using OptionalBool = std::optional<bool>;
using OptionalString = std::optional<std::string>;

SchemaPtr testSchema() {
  return Schema::make({{"auction", DataType::kInt64},
                       {"bidder", DataType::kInt64},
                       {"price", DataType::kInt64},
                       {"ratio", DataType::kFloat64},
                       {"name", DataType::kString},
                       {"flag", DataType::kBool},
                       {"ts", DataType::kTimestamp},
                       {"big", DataType::kUInt64},
                       {"odd name", DataType::kString}})
      .value();
}

/// Five rows with nulls in price, ratio, name, flag and ts.
RecordBatch testBatch() {
  RecordBatchBuilder builder(testSchema());
  struct Row {
    int64_t auction;
    int64_t bidder;
    OptionalInt price;
    OptionalDouble ratio;
    OptionalString name;
    OptionalBool flag;
    OptionalInt ts;
    uint64_t big;
  };
  const std::vector<Row> rows = {
      {1, 10, 100, 0.5, "Alice", true, 1000, 5},
      {2, 20, nullopt, 1.5, "bob", false, 2000, std::numeric_limits<uint64_t>::max()},
      {3, 30, 300, nullopt, nullopt, nullopt, 3000, 7},
      {4, -40, 0, -2.5, "it's", true, nullopt, 0},
      {246, 50, 7, 2.0, "a,b,c", false, 5000, 1},
  };
  for (const Row& row : rows) {
    builder.column(0).appendInt64(row.auction);
    builder.column(1).appendInt64(row.bidder);
    row.price ? builder.column(2).appendInt64(*row.price) : builder.column(2).appendNull();
    row.ratio ? builder.column(3).appendFloat64(*row.ratio) : builder.column(3).appendNull();
    row.name ? builder.column(4).appendString(*row.name) : builder.column(4).appendNull();
    row.flag ? builder.column(5).appendBool(*row.flag) : builder.column(5).appendNull();
    row.ts ? builder.column(6).appendInt64(*row.ts) : builder.column(6).appendNull();
    builder.column(7).appendUInt64(row.big);
    builder.column(8).appendString("x");
  }
  RecordBatch batch = builder.finish();
  // The builder types timestamp columns as they were declared.
  EXPECT_EQ(batch.column(6)->type(), DataType::kTimestamp);
  return batch;
}

Result<ColumnPtr> evaluate(std::string_view text, const RecordBatch& batch) {
  SLUICE_ASSIGN_OR_RETURN(ExpressionPtr expression, compileExpression(text, *batch.schema()));
  SLUICE_ASSIGN_OR_RETURN(ColumnPtr column, expression->evaluate(batch));
  if (column->length() != batch.numRows()) return Status::internal("wrong result length");
  std::string why;
  if (!column->validate(&why)) return Status::internal("invalid result column: " + why);
  if (column->type() != expression->type()) return Status::internal("result type differs from type()");
  return column;
}

std::vector<OptionalInt> ints(const Column& column) {
  std::vector<OptionalInt> out;
  for (int64_t row = 0; row < column.length(); ++row) {
    if (column.isNull(row)) {
      out.emplace_back();
    } else if (column.type() == DataType::kUInt64) {
      out.emplace_back(static_cast<int64_t>(column.uint64s()[row]));
    } else {
      out.emplace_back(column.int64s()[row]);
    }
  }
  return out;
}

std::vector<OptionalDouble> doubles(const Column& column) {
  std::vector<OptionalDouble> out;
  for (int64_t row = 0; row < column.length(); ++row) {
    out.push_back(column.isNull(row) ? OptionalDouble() : OptionalDouble(column.float64s()[row]));
  }
  return out;
}

std::vector<OptionalBool> bools(const Column& column) {
  std::vector<OptionalBool> out;
  for (int64_t row = 0; row < column.length(); ++row) {
    out.push_back(column.isNull(row) ? OptionalBool() : OptionalBool(column.boolAt(row)));
  }
  return out;
}

std::vector<OptionalString> strings(const Column& column) {
  std::vector<OptionalString> out;
  for (int64_t row = 0; row < column.length(); ++row) {
    out.push_back(column.isNull(row) ? OptionalString() : OptionalString(std::string(column.stringAt(row))));
  }
  return out;
}

/// Evaluates `text` over the test batch and checks the result type.
#define EVALUATE(column, text, expectedType)                           \
  ASSERT_OK_AND_ASSIGN(ColumnPtr column, evaluate(text, testBatch())); \
  ASSERT_EQ(column->type(), expectedType) << text

constexpr bool T = true;
constexpr bool F = false;

TEST(ExpressionTest, BareFieldIsTheInputColumn) {
  RecordBatch batch = testBatch();
  ASSERT_OK_AND_ASSIGN(ExpressionPtr expression, compileExpression("price", *batch.schema()));
  EXPECT_EQ(expression->fieldIndex(), 2);
  EXPECT_EQ(expression->type(), DataType::kInt64);
  ASSERT_OK_AND_ASSIGN(ColumnPtr column, expression->evaluate(batch));
  EXPECT_EQ(column.get(), batch.column(2).get());

  ASSERT_OK_AND_ASSIGN(ExpressionPtr quoted, compileExpression("`odd name`", *batch.schema()));
  EXPECT_EQ(quoted->fieldIndex(), 8);
  EXPECT_EQ(quoted->toString(), "`odd name`");

  ASSERT_OK_AND_ASSIGN(ExpressionPtr computed, compileExpression("price + 1", *batch.schema()));
  EXPECT_EQ(computed->fieldIndex(), -1);
}

TEST(ExpressionTest, IntegerArithmetic) {
  {
    EVALUATE(column, "auction + bidder", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{11, 22, 33, -36, 296}));
  }
  {
    EVALUATE(column, "auction - bidder * 2", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{-19, -38, -57, 84, 146}));
  }
  {
    EVALUATE(column, "(auction - bidder) * 2", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{-18, -36, -54, 88, 392}));
  }
  {
    // Division truncates toward zero; modulo takes the dividend's sign.
    EVALUATE(column, "bidder / 7", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{1, 2, 4, -5, 7}));
  }
  {
    EVALUATE(column, "bidder % 7", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{3, 6, 2, -5, 1}));
  }
  {
    EVALUATE(column, "-bidder + price", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{90, nullopt, 270, 40, -43}));
  }
  {
    EVALUATE(column, "10 - price", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{-90, nullopt, -290, 10, 3}));
  }
}

TEST(ExpressionTest, DivisionAndModuloByZeroAreNull) {
  {
    EVALUATE(column, "auction / price", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{0, nullopt, 0, nullopt, 35}));
  }
  {
    EVALUATE(column, "auction % price", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{1, nullopt, 3, nullopt, 1}));
  }
  {
    EVALUATE(column, "auction / 0", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>(5, nullopt)));
  }
  {
    EVALUATE(column, "ratio / (auction - auction)", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>(5, nullopt)));
  }
  {
    EVALUATE(column, "1 / 0", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>(5, nullopt)));
  }
}

TEST(ExpressionTest, IntegerOverflowWraps) {
  EVALUATE(column, "9223372036854775807 + auction", DataType::kInt64);
  EXPECT_EQ(column->int64s()[0], std::numeric_limits<int64_t>::min());
  ASSERT_OK_AND_ASSIGN(ColumnPtr minimum, evaluate("-9223372036854775808 / (auction - auction - 1)", testBatch()));
  EXPECT_EQ(minimum->int64s()[0], std::numeric_limits<int64_t>::min());
  ASSERT_OK_AND_ASSIGN(ColumnPtr modulo, evaluate("-9223372036854775808 % (auction - auction - 1)", testBatch()));
  EXPECT_EQ(modulo->int64s()[0], 0);
}

TEST(ExpressionTest, MixingIntegersAndFloatsGivesFloat64) {
  {
    EVALUATE(column, "price * 0.908", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>{100 * 0.908, nullopt, 300 * 0.908, 0, 7 * 0.908}));
  }
  {
    EVALUATE(column, "auction + ratio", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>{1.5, 3.5, nullopt, 1.5, 248}));
  }
  {
    EVALUATE(column, "auction / 2.0", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>{0.5, 1, 1.5, 2, 123}));
  }
  {
    EVALUATE(column, "ratio % 1", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>{0.5, 0.5, nullopt, -0.5, 0}));
  }
  {
    EVALUATE(column, "-ratio * 1e3", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>{-500, -1500, nullopt, 2500, -2000}));
  }
  {
    EVALUATE(column, "big + 0.5", DataType::kFloat64);
    EXPECT_DOUBLE_EQ(*doubles(*column)[0], 5.5);
  }
}

TEST(ExpressionTest, UnsignedIntegers) {
  {
    EVALUATE(column, "big + 1", DataType::kUInt64);
    EXPECT_EQ(column->uint64s()[0], 6u);
    EXPECT_EQ(column->uint64s()[1], 0u);  // wraps
  }
  {
    EVALUATE(column, "big > 6", DataType::kBool);
    EXPECT_EQ(bools(*column), (std::vector<OptionalBool>{F, T, T, F, F}));
  }
  {
    // Mixed with a signed column the computation is int64; a uint64 above the
    // int64 range has no int64 value and becomes null.
    EVALUATE(column, "big + auction", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{6, nullopt, 10, 4, 247}));
  }
}

TEST(ExpressionTest, TimestampArithmetic) {
  {
    EVALUATE(column, "ts + 500", DataType::kTimestamp);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{1500, 2500, 3500, nullopt, 5500}));
  }
  {
    EVALUATE(column, "500 + ts - 1000", DataType::kTimestamp);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{500, 1500, 2500, nullopt, 4500}));
  }
  {
    EVALUATE(column, "(ts + 10) - ts", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{10, 10, 10, nullopt, 10}));
  }
  {
    EVALUATE(column, "ts >= 3000", DataType::kBool);
    EXPECT_EQ(bools(*column), (std::vector<OptionalBool>{F, F, T, nullopt, T}));
  }
  {
    EVALUATE(column, "ts + null", DataType::kTimestamp);
    EXPECT_EQ(column->nullCount(), 5);
  }
}

TEST(ExpressionTest, Comparisons) {
  struct Case {
    const char* text;
    std::vector<OptionalBool> expected;
  };
  const std::vector<Case> cases = {
      {"auction = 2", {F, T, F, F, F}},
      {"auction == 2", {F, T, F, F, F}},
      {"auction != 2", {T, F, T, T, T}},
      {"auction <> 2", {T, F, T, T, T}},
      {"auction < 3", {T, T, F, F, F}},
      {"auction <= 3", {T, T, T, F, F}},
      {"auction > 3", {F, F, F, T, T}},
      {"auction >= 3", {F, F, T, T, T}},
      {"price > 50", {T, nullopt, T, F, F}},
      {"2 < auction", {F, F, T, T, T}},
      {"auction < 2.5", {T, T, F, F, F}},
      {"ratio >= auction", {F, F, nullopt, F, F}},
      {"ratio = 1.5", {F, T, nullopt, F, F}},
      {"name = 'bob'", {F, T, nullopt, F, F}},
      {"name < 'b'", {T, F, nullopt, F, T}},
      {"'bob' <= name", {F, T, nullopt, T, F}},
      {"name = `odd name`", {F, F, nullopt, F, F}},
      {"flag = true", {T, F, nullopt, T, F}},
      {"flag != false", {T, F, nullopt, T, F}},
      {"flag > false", {T, F, nullopt, T, F}},
      {"price = null", {nullopt, nullopt, nullopt, nullopt, nullopt}},
  };
  for (const Case& test : cases) {
    ASSERT_OK_AND_ASSIGN(ColumnPtr column, evaluate(test.text, testBatch()));
    ASSERT_EQ(column->type(), DataType::kBool) << test.text;
    EXPECT_EQ(bools(*column), test.expected) << test.text;
  }
}

TEST(ExpressionTest, ThreeValuedLogic) {
  // Every combination of true, false and null in two columns, over more than
  // eight rows so that whole bitmap bytes and a partial tail are both used.
  SchemaPtr schema = Schema::make({{"a", DataType::kBool}, {"b", DataType::kBool}}).value();
  RecordBatchBuilder builder(schema);
  const std::vector<OptionalBool> values = {true, false, nullopt};
  std::vector<std::pair<OptionalBool, OptionalBool>> rows;
  for (int repeat = 0; repeat < 3; ++repeat) {
    for (OptionalBool a : values) {
      for (OptionalBool b : values) rows.emplace_back(a, b);
    }
  }
  for (const auto& [a, b] : rows) {
    a ? builder.column(0).appendBool(*a) : builder.column(0).appendNull();
    b ? builder.column(1).appendBool(*b) : builder.column(1).appendNull();
  }
  RecordBatch batch = builder.finish();
  auto sqlAnd = [](OptionalBool a, OptionalBool b) -> OptionalBool {
    if (a == false || b == false) return false;
    if (!a || !b) return nullopt;
    return true;
  };
  auto sqlOr = [](OptionalBool a, OptionalBool b) -> OptionalBool {
    if (a == true || b == true) return true;
    if (!a || !b) return nullopt;
    return false;
  };
  std::vector<OptionalBool> expectedAnd, expectedOr, expectedNot;
  for (const auto& [a, b] : rows) {
    expectedAnd.push_back(sqlAnd(a, b));
    expectedOr.push_back(sqlOr(a, b));
    expectedNot.push_back(a ? OptionalBool(!*a) : nullopt);
  }
  ASSERT_OK_AND_ASSIGN(ColumnPtr andColumn, evaluate("a and b", batch));
  EXPECT_EQ(bools(*andColumn), expectedAnd);
  ASSERT_OK_AND_ASSIGN(ColumnPtr orColumn, evaluate("a OR b", batch));
  EXPECT_EQ(bools(*orColumn), expectedOr);
  ASSERT_OK_AND_ASSIGN(ColumnPtr notColumn, evaluate("NOT a", batch));
  EXPECT_EQ(bools(*notColumn), expectedNot);

  // With constants on one side.
  ASSERT_OK_AND_ASSIGN(ColumnPtr andFalse, evaluate("a and false", batch));
  EXPECT_EQ(andFalse->nullCount(), 0);
  EXPECT_EQ(andFalse->length(), 27);
  ASSERT_OK_AND_ASSIGN(ColumnPtr orNull, evaluate("a or null", batch));
  for (size_t row = 0; row < rows.size(); ++row) {
    EXPECT_EQ(bools(*orNull)[row], sqlOr(rows[row].first, nullopt)) << row;
  }
  ASSERT_OK_AND_ASSIGN(ColumnPtr constant, evaluate("null and false or true and not false", batch));
  EXPECT_EQ(bools(*constant), std::vector<OptionalBool>(27, true));
  ASSERT_OK_AND_ASSIGN(ColumnPtr nullAndTrue, evaluate("null and true", batch));
  EXPECT_EQ(nullAndTrue->nullCount(), 27);
}

TEST(ExpressionTest, IsNull) {
  {
    EVALUATE(column, "price is null", DataType::kBool);
    EXPECT_EQ(bools(*column), (std::vector<OptionalBool>{F, T, F, F, F}));
  }
  {
    EVALUATE(column, "name IS NOT NULL", DataType::kBool);
    EXPECT_EQ(bools(*column), (std::vector<OptionalBool>{T, T, F, T, T}));
  }
  {
    EVALUATE(column, "auction is null", DataType::kBool);
    EXPECT_EQ(bools(*column), (std::vector<OptionalBool>(5, false)));
  }
  {
    EVALUATE(column, "null is null and (price + 1) is not null", DataType::kBool);
    EXPECT_EQ(bools(*column), (std::vector<OptionalBool>{T, F, T, T, T}));
  }
}

TEST(ExpressionTest, InLists) {
  struct Case {
    const char* text;
    std::vector<OptionalBool> expected;
  };
  const std::vector<Case> cases = {
      {"auction in (1, 3, 246)", {T, F, T, F, T}},
      {"auction not in (1, 3)", {F, T, F, T, T}},
      {"auction in (1.0, 2.5, 4)", {T, F, F, T, F}},
      {"price in (100, 7)", {T, nullopt, F, F, T}},
      // A miss against a list holding null is unknown.
      {"price in (100, null)", {T, nullopt, nullopt, nullopt, nullopt}},
      {"price not in (100, null)", {F, nullopt, nullopt, nullopt, nullopt}},
      {"name in ('bob', 'Alice')", {T, T, nullopt, F, F}},
      {"ratio in (0.5, 2)", {T, F, nullopt, F, T}},
      {"ts in (1000, 5000)", {T, F, F, nullopt, T}},
      {"big in (0, 7)", {F, F, T, T, F}},
      {"flag in (true)", {T, F, nullopt, T, F}},
      // Long lists take the binary-search path.
      {"auction in (100, 90, 80, 70, 60, 50, 40, 30, 20, 4, 3)", {F, F, T, T, F}},
      {"name in ('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'bob')", {F, T, nullopt, F, F}},
      // Non-constant members become comparisons.
      {"auction in (bidder / 10, 246)", {T, T, T, F, T}},
  };
  for (const Case& test : cases) {
    ASSERT_OK_AND_ASSIGN(ColumnPtr column, evaluate(test.text, testBatch()));
    ASSERT_EQ(column->type(), DataType::kBool) << test.text;
    EXPECT_EQ(bools(*column), test.expected) << test.text;
  }
}

TEST(ExpressionTest, CaseWhen) {
  {
    EVALUATE(column, "case when auction > 3 then 'big' when auction > 1 then 'mid' else 'small' end",
             DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"small", "mid", "mid", "big", "big"}));
  }
  {
    // No else: null. A null condition counts as false.
    EVALUATE(column, "CASE WHEN flag THEN price END", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{100, nullopt, nullopt, 0, nullopt}));
  }
  {
    EVALUATE(column, "case when flag then 1 else 2.5 end", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>{1, 2.5, 2.5, 1, 2.5}));
  }
  {
    EVALUATE(column, "case auction when 1 then 'one' when 2 then 'two' else name end", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"one", "two", nullopt, "it's", "a,b,c"}));
  }
  {
    EVALUATE(column, "case when price is null then false else flag end", DataType::kBool);
    EXPECT_EQ(bools(*column), (std::vector<OptionalBool>{T, F, nullopt, T, F}));
  }
  {
    EVALUATE(column, "case when true then 7 else auction end", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>(5, 7)));
  }
  {
    EVALUATE(column, "case when ts > 1000 then ts else 0 end", DataType::kTimestamp);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{0, 2000, 3000, 0, 5000}));
  }
  {
    EVALUATE(column, "if(auction > 2, 'x', null)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{nullopt, nullopt, "x", "x", "x"}));
  }
}

TEST(ExpressionTest, NumericFunctions) {
  {
    EVALUATE(column, "abs(bidder)", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{10, 20, 30, 40, 50}));
  }
  {
    EVALUATE(column, "ABS(ratio)", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>{0.5, 1.5, nullopt, 2.5, 2}));
  }
  {
    EVALUATE(column, "floor(ratio)", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>{0, 1, nullopt, -3, 2}));
  }
  {
    EVALUATE(column, "ceil(ratio)", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>{1, 2, nullopt, -2, 2}));
  }
  {
    // Half away from zero.
    EVALUATE(column, "round(ratio)", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>{1, 2, nullopt, -3, 2}));
  }
  {
    EVALUATE(column, "round(ratio / 3, 2)", DataType::kFloat64);
    EXPECT_NEAR(*doubles(*column)[0], 0.17, 1e-12);
    EXPECT_NEAR(*doubles(*column)[3], -0.83, 1e-12);
  }
  {
    EVALUATE(column, "round(price * 5 + 1234, -2)", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{1700, nullopt, 2700, 1200, 1300}));
  }
  {
    EVALUATE(column, "round(-bidder * 5, -2)", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{-100, -100, -200, 200, -300}));
  }
  {
    EVALUATE(column, "floor(auction)", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{1, 2, 3, 4, 246}));
  }
  {
    EVALUATE(column, "greatest(auction, bidder, price)", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{100, 20, 300, 4, 246}));
  }
  {
    EVALUATE(column, "least(ratio, auction)", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>{0.5, 1.5, 3, -2.5, 2}));
  }
  {
    EVALUATE(column, "greatest(name, 'b')", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"b", "bob", "b", "it's", "b"}));
  }
}

TEST(ExpressionTest, StringFunctions) {
  {
    EVALUATE(column, "lower(name)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"alice", "bob", nullopt, "it's", "a,b,c"}));
  }
  {
    EVALUATE(column, "upper(name)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"ALICE", "BOB", nullopt, "IT'S", "A,B,C"}));
  }
  {
    EVALUATE(column, "length(name)", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{5, 3, nullopt, 4, 5}));
  }
  {
    EVALUATE(column, "concat(name, '-', auction, '/', ratio)", DataType::kString);
    EXPECT_EQ(strings(*column),
              (std::vector<OptionalString>{"Alice-1/0.5", "bob-2/1.5", nullopt, "it's-4/-2.5", "a,b,c-246/2"}));
  }
  {
    EVALUATE(column, "name || '!' || flag", DataType::kString);
    EXPECT_EQ(strings(*column),
              (std::vector<OptionalString>{"Alice!true", "bob!false", nullopt, "it's!true", "a,b,c!false"}));
  }
  {
    EVALUATE(column, "substr(name, 2)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"lice", "ob", nullopt, "t's", ",b,c"}));
  }
  {
    EVALUATE(column, "substr(name, 2, 2)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"li", "ob", nullopt, "t'", ",b"}));
  }
  {
    EVALUATE(column, "substr(name, -2)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"ce", "ob", nullopt, "'s", ",c"}));
  }
  {
    EVALUATE(column, "substr(name, auction, 100)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"Alice", "ob", nullopt, "s", ""}));
  }
  {
    EVALUATE(column, "substr(name, 1, -1)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"", "", nullopt, "", ""}));
  }
  {
    EVALUATE(column, "split_part(name, ',', 2)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"", "", nullopt, "", "b"}));
  }
  {
    EVALUATE(column, "split_part(name, ',', -1)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"Alice", "bob", nullopt, "it's", "c"}));
  }
  {
    EVALUATE(column, "split_part('a::b::c', '::', auction)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"a", "b", "c", "", ""}));
  }
  {
    EVALUATE(column, "'it''s' = name", DataType::kBool);
    EXPECT_EQ(bools(*column), (std::vector<OptionalBool>{F, F, nullopt, T, F}));
  }
}

TEST(ExpressionTest, RegexpExtract) {
  {
    // The default group is 1 when the pattern has groups.
    EVALUATE(column, "regexp_extract(name, '([a-z]+)')", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"lice", "bob", nullopt, "it", "a"}));
  }
  {
    EVALUATE(column, "regexp_extract(name, '^[A-Z]\\w*')", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"Alice", nullopt, nullopt, nullopt, nullopt}));
  }
  {
    EVALUATE(column, "regexp_extract(name, '(\\w),(\\w)', 2)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{nullopt, nullopt, nullopt, nullopt, "b"}));
  }
  {
    EVALUATE(column, "regexp_extract(name, '(\\w),(\\w)', 0)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{nullopt, nullopt, nullopt, nullopt, "a,b"}));
  }
  {
    // An optional group that did not take part gives null.
    EVALUATE(column, "regexp_extract(name, 'b(x)?')", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{nullopt, nullopt, nullopt, nullopt, nullopt}));
  }
}

TEST(ExpressionTest, CoalesceAndCasts) {
  {
    EVALUATE(column, "coalesce(price, auction * 1000)", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{100, 2000, 300, 0, 7}));
  }
  {
    EVALUATE(column, "coalesce(name, null, 'none')", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"Alice", "bob", "none", "it's", "a,b,c"}));
  }
  {
    EVALUATE(column, "coalesce(ratio, price)", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>{0.5, 1.5, 300, -2.5, 2}));
  }
  {
    EVALUATE(column, "coalesce(flag, price > 100)", DataType::kBool);
    EXPECT_EQ(bools(*column), (std::vector<OptionalBool>{T, F, T, T, F}));
  }
  {
    EVALUATE(column, "cast(ratio as int64)", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{0, 1, nullopt, -2, 2}));
  }
  {
    EVALUATE(column, "CAST(auction AS double) / 4", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>{0.25, 0.5, 0.75, 1, 61.5}));
  }
  {
    EVALUATE(column, "cast(auction as string)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"1", "2", "3", "4", "246"}));
  }
  {
    EVALUATE(column, "to_int(split_part('12,x, 7,-3,9999999999999999999', ',', auction))", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{12, nullopt, 7, -3, nullopt}));
  }
  {
    EVALUATE(column, "to_double(concat(auction, '.5'))", DataType::kFloat64);
    EXPECT_EQ(doubles(*column), (std::vector<OptionalDouble>{1.5, 2.5, 3.5, 4.5, 246.5}));
  }
  {
    EVALUATE(column, "to_string(flag)", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>{"true", "false", nullopt, "true", "false"}));
  }
  {
    EVALUATE(column, "to_bool(substr('1t0fx', auction, 1))", DataType::kBool);
    EXPECT_EQ(bools(*column), (std::vector<OptionalBool>{T, T, F, F, nullopt}));
  }
  {
    EVALUATE(column, "cast(auction as bool)", DataType::kBool);
    EXPECT_EQ(bools(*column), (std::vector<OptionalBool>(5, true)));
  }
  {
    EVALUATE(column, "cast(flag as int64) + 1", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{2, 1, nullopt, 2, 1}));
  }
  {
    EVALUATE(column, "cast(auction * 1000 as timestamp)", DataType::kTimestamp);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>{1000, 2000, 3000, 4000, 246000}));
  }
  {
    EVALUATE(column, "cast(1e300 as int64)", DataType::kInt64);
    EXPECT_EQ(column->nullCount(), 5);
  }
  {
    EVALUATE(column, "to_int('9999999999999999999')", DataType::kInt64);
    EXPECT_EQ(column->nullCount(), 5);
  }
}

TEST(ExpressionTest, ConstantsBroadcast) {
  {
    EVALUATE(column, "1 + 2 * 3", DataType::kInt64);
    EXPECT_EQ(ints(*column), (std::vector<OptionalInt>(5, 7)));
  }
  {
    EVALUATE(column, "upper('abc') || 1", DataType::kString);
    EXPECT_EQ(strings(*column), (std::vector<OptionalString>(5, "ABC1")));
  }
  {
    EVALUATE(column, "null", DataType::kInt64);
    EXPECT_EQ(column->nullCount(), 5);
  }
  {
    EVALUATE(column, "true", DataType::kBool);
    EXPECT_EQ(bools(*column), (std::vector<OptionalBool>(5, true)));
  }
}

TEST(ExpressionTest, EmptyBatches) {
  RecordBatch empty = testBatch().slice(0, 0);
  ASSERT_EQ(empty.numRows(), 0);
  for (const char* text : {"price * 0.908", "auction % 123 = 0", "name || 'x'", "flag and price > 1", "1 + 1",
                           "case when flag then name end", "coalesce(price, 0)", "regexp_extract(name, 'a(b)')",
                           "auction in (1, 2)", "price is null", "not flag", "cast(ratio as string)"}) {
    ASSERT_OK_AND_ASSIGN(ColumnPtr column, evaluate(text, empty));
    EXPECT_EQ(column->length(), 0) << text;
  }
}

TEST(ExpressionTest, LargeBatchMatchesRowByRowReference) {
  SchemaPtr schema = Schema::make({{"auction", DataType::kInt64}, {"price", DataType::kInt64}}).value();
  RecordBatchBuilder builder(schema);
  constexpr int kRows = 1003;
  for (int row = 0; row < kRows; ++row) {
    builder.column(0).appendInt64(row * 7);
    if (row % 11 == 0) {
      builder.column(1).appendNull();
    } else {
      builder.column(1).appendInt64(row * 3 - 500);
    }
  }
  RecordBatch batch = builder.finish();
  ASSERT_OK_AND_ASSIGN(ColumnPtr modulo, evaluate("auction % 123 = 0", batch));
  ASSERT_OK_AND_ASSIGN(ColumnPtr scaled, evaluate("price * 0.908", batch));
  ASSERT_OK_AND_ASSIGN(ColumnPtr filter, evaluate("price > 0 and auction % 2 = 0", batch));
  std::vector<uint8_t> keep = trueRowMask(*filter);
  for (int row = 0; row < kRows; ++row) {
    EXPECT_EQ(modulo->boolAt(row), (row * 7) % 123 == 0) << row;
    const bool priceNull = row % 11 == 0;
    EXPECT_EQ(scaled->isNull(row), priceNull) << row;
    if (!priceNull) {
      EXPECT_DOUBLE_EQ(scaled->float64s()[row], (row * 3 - 500) * 0.908) << row;
    }
    EXPECT_EQ(keep[row], !priceNull && row * 3 - 500 > 0 && (row * 7) % 2 == 0 ? 1 : 0) << row;
  }
}

TEST(ExpressionTest, TrueRowMaskDropsNulls) {
  EVALUATE(column, "price > 50", DataType::kBool);
  EXPECT_EQ(trueRowMask(*column), (std::vector<uint8_t>{1, 0, 1, 0, 0}));
}

TEST(ExpressionTest, CanonicalText) {
  SchemaPtr schema = testSchema();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"price*0.908", "price * 0.908"},
      {"(auction + bidder) * 2", "(auction + bidder) * 2"},
      {"auction + (bidder * 2)", "auction + bidder * 2"},
      {"auction - (bidder - 1)", "auction - (bidder - 1)"},
      {"NOT flag AND price > 1 OR name IS NULL", "not flag and price > 1 or name is null"},
      {"not (flag and flag)", "not (flag and flag)"},
      {"auction <> 1", "auction != 1"},
      {"name In ('a''b', 'c')", "name in ('a''b', 'c')"},
      {"CASE WHEN flag THEN 1 ELSE -2 END", "case when flag then 1 else -2 end"},
      {"Cast(ratio AS DOUBLE)", "cast(ratio as float64)"},
      {"Concat(`odd name`, 1.0)", "concat(`odd name`, 1.0)"},
      {"auction - -1", "auction - -1"},
      {"-(auction)", "-auction"},
  };
  for (const auto& [text, canonical] : cases) {
    ASSERT_OK_AND_ASSIGN(ExpressionPtr expression, compileExpression(text, *schema));
    EXPECT_EQ(expression->toString(), canonical) << text;
    ASSERT_OK_AND_ASSIGN(ExpressionPtr again, compileExpression(expression->toString(), *schema));
    EXPECT_EQ(again->toString(), canonical);
  }
}

TEST(ExpressionTest, RejectsBatchOfAnotherSchema) {
  ASSERT_OK_AND_ASSIGN(ExpressionPtr expression, compileExpression("price + 1", *testSchema()));
  SchemaPtr other = Schema::make({{"price", DataType::kString}}).value();
  RecordBatchBuilder builder(other);
  builder.column(0).appendString("x");
  Result<ColumnPtr> result = expression->evaluate(builder.finish());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("compiled for another schema"), std::string::npos);
}

TEST(ExpressionTest, OneInstanceServesManyThreads) {
  RecordBatch batch = testBatch();
  ASSERT_OK_AND_ASSIGN(ExpressionPtr expression,
                       compileExpression("regexp_extract(name, '([a-z]+)') || price", *batch.schema()));
  ASSERT_OK_AND_ASSIGN(ColumnPtr expected, expression->evaluate(batch));
  std::vector<std::vector<OptionalString>> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int repeat = 0; repeat < 50; ++repeat) {
        Result<ColumnPtr> column = expression->evaluate(batch);
        if (column.ok()) results[i] = strings(**column);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const auto& result : results) EXPECT_EQ(result, strings(*expected));
}

}  // namespace
}  // namespace sluice
