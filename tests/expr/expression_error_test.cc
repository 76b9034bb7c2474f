// Compile-time errors of the expression language: syntax, names, arity, types
// and regular expressions, each one line with a 1-based column.
#include <gtest/gtest.h>

#include "runtime/expr/expression.h"
#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

SchemaPtr testSchema() {
  return Schema::make({{"auction", DataType::kInt64},
                       {"price", DataType::kFloat64},
                       {"name", DataType::kString},
                       {"flag", DataType::kBool},
                       {"ts", DataType::kTimestamp}})
      .value();
}

Status compileError(std::string_view text) {
  Result<ExpressionPtr> result = compileExpression(text, *testSchema());
  if (result.ok()) return Status::internal("unexpectedly compiled: " + std::string(text));
  EXPECT_EQ(result.status().message().find('\n'), std::string::npos) << result.status().message();
  return result.status();
}

TEST(ExpressionErrorTest, SyntaxErrorsNameTheColumn) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"(auction + 1", "at column 13: expected ')' but found end of expression"},
      {"cast(auction as int and 1)", "at column 21: expected ')' but found 'and'"},
      {"auction +", "at column 10: expected an expression but found end of expression"},
      {"", "at column 1: expected an expression but found end of expression"},
      {"auction 1", "at column 9: expected end of expression but found '1'"},
      {"auction = = 1", "at column 11: expected an expression but found '='"},
      {"auction = 1 = 2", "at column 13: expected end of expression but found '='"},
      {"name = 'abc", "at column 8: unterminated string literal"},
      {"`odd", "at column 1: unterminated quoted name"},
      {"auction # 2", "at column 9: unexpected character '#'"},
      {"12abc", "at column 3: unexpected character 'a' after number"},
      {"auction not 1", "at column 13: expected 'in' after 'not' but found '1'"},
      {"auction in 1", "at column 12: expected '(' but found '1'"},
      {"auction in (1, 2", "at column 17: expected ')' but found end of expression"},
      {"case auction end", "at column 14: expected 'when' but found 'end'"},
      {"case when flag then 1", "at column 22: expected 'end' but found end of expression"},
      {"case when flag 1 end", "at column 16: expected 'then' but found '1'"},
      {"price is 1", "at column 10: expected 'null' but found '1'"},
      {"abs(1,)", "at column 7: expected an expression but found ')'"},
      {"when", "at column 1: expected an expression but found 'when'"},
      {"99999999999999999999", "at column 1: integer literal 99999999999999999999 is out of the int64 range"},
      {"1e999", "at column 1: float literal 1e999 is out of range"},
      {"cast(auction as decimal)",
       "at column 17: unknown type 'decimal' (types: bool, int64, uint64, float64, string, timestamp)"},
  };
  for (const auto& [text, message] : cases) {
    Status status = compileError(text);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(status.message(), message) << text;
  }
}

TEST(ExpressionErrorTest, DeepNestingIsAnErrorNotACrash) {
  std::string text = std::string(5000, '(') + "1" + std::string(5000, ')');
  Status status = compileError(text);
  EXPECT_NE(status.message().find("nests too deeply"), std::string::npos) << status.message();
  std::string negations;
  for (int i = 0; i < 5000; ++i) negations += "not ";
  status = compileError(negations + "flag");
  EXPECT_NE(status.message().find("nests too deeply"), std::string::npos) << status.message();
  // Long operator chains parse iteratively but still make deep trees.
  std::string chain = "1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  status = compileError(chain);
  EXPECT_NE(status.message().find("nests too deeply"), std::string::npos) << status.message();
}

TEST(ExpressionErrorTest, UnknownFieldListsTheFields) {
  Status status = compileError("auction + prize");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "at column 11: unknown field 'prize' (fields: auction, price, name, flag, ts)");
  // Field names are case-sensitive; keywords and functions are not.
  EXPECT_EQ(compileError("Price > 1").message(),
            "at column 1: unknown field 'Price' (fields: auction, price, name, flag, ts)");
}

TEST(ExpressionErrorTest, UnknownFunctionIsNamed) {
  Status status = compileError("frobnicate(auction)");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_TRUE(status.message().starts_with("at column 1: unknown function 'frobnicate' (functions: abs, "))
      << status.message();
}

TEST(ExpressionErrorTest, WrongArgumentCount) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"substr(name)", "at column 1: substr takes 2 or 3 arguments but got 1"},
      {"1 + abs()", "at column 5: abs takes 1 argument but got 0"},
      {"split_part(name, ',')", "at column 1: split_part takes 3 arguments but got 2"},
      {"coalesce()", "at column 1: coalesce takes at least 1 argument but got 0"},
      {"round(price, 1, 2)", "at column 1: round takes 1 or 2 arguments but got 3"},
  };
  for (const auto& [text, message] : cases) {
    Status status = compileError(text);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(status.message(), message) << text;
  }
}

TEST(ExpressionErrorTest, TypeErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"name + 1", "at column 6: cannot apply '+' to string and int64"},
      {"flag * 2.5", "at column 6: cannot apply '*' to bool and float64"},
      {"ts * 2", "at column 4: cannot apply '*' to timestamp and int64"},
      {"ts + ts", "at column 4: cannot apply '+' to timestamp and timestamp"},
      {"ts + 1.5", "at column 4: cannot apply '+' to timestamp and float64"},
      {"name = 1", "at column 6: cannot apply '=' to string and int64"},
      {"flag < 1", "at column 6: cannot apply '<' to bool and int64"},
      {"auction and flag", "at column 9: cannot apply 'and' to int64 and bool"},
      {"flag or name", "at column 6: cannot apply 'or' to bool and string"},
      {"not auction", "at column 1: 'not' needs a bool operand but got int64"},
      {"-name", "at column 1: cannot apply unary '-' to string"},
      {"-ts", "at column 1: cannot apply unary '-' to timestamp"},
      {"null + 'x'", "at column 6: cannot apply '+' to string and string"},
      {"case when auction then 1 end", "at column 11: 'when' needs a bool operand but got int64"},
      {"case when flag then 1 else 'x' end", "at column 1: case branches have incompatible types (int64, string)"},
      {"case name when 1 then 2 end", "at column 16: cannot apply '=' to string and int64"},
      {"name in (1, 2)", "at column 6: cannot apply 'in' to string and a list holding int64"},
      {"lower(auction)", "at column 1: argument 1 of lower must be a string but is int64"},
      {"substr(name, 1.5)", "at column 1: argument 2 of substr must be an integer but is float64"},
      {"abs(name)", "at column 1: argument 1 of abs must be a number but is string"},
      {"coalesce(name, auction)", "at column 1: arguments of coalesce have incompatible types (string, int64)"},
      {"greatest(flag, flag)", "at column 1: arguments of greatest have incompatible types (bool, bool)"},
      {"if(auction, 1, 2)", "at column 1: argument 1 of if must be bool but is int64"},
  };
  for (const auto& [text, message] : cases) {
    Status status = compileError(text);
    EXPECT_EQ(status.code(), StatusCode::kTypeError) << text;
    EXPECT_EQ(status.message(), message) << text;
  }
}

TEST(ExpressionErrorTest, RegularExpressionErrors) {
  Status status = compileError("regexp_extract(name, '(a')");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(status.message().starts_with("at column 1: invalid regular expression '(a': missing )"))
      << status.message();
  EXPECT_EQ(compileError("regexp_extract(name, name)").message(),
            "at column 1: the pattern of regexp_extract must be a string literal");
  EXPECT_EQ(compileError("regexp_extract(name, 'a(b)', 2)").message(),
            "at column 1: regexp_extract group 2 does not exist: the pattern has 1 capturing group(s)");
  EXPECT_EQ(compileError("regexp_extract(name, 'a(b)', auction)").message(),
            "at column 1: argument 3 of regexp_extract must be a constant integer");
  EXPECT_EQ(compileError("round(price, auction)").message(),
            "at column 1: argument 2 of round must be a constant integer");
}

TEST(ExpressionErrorTest, ValidExpressionsStillCompile) {
  // Keywords and function names ignore case; a pattern may be a folded constant.
  for (const char* text : {"auction IN (1, 2)", "Abs(price) > 1 AND flag", "regexp_extract(name, concat('a', '(b)'))",
                           "CASE WHEN TRUE THEN NULL END IS NULL", "auction in (null)", "null", "-(-(auction))"}) {
    Result<ExpressionPtr> result = compileExpression(text, *testSchema());
    EXPECT_TRUE(result.ok()) << text << ": " << result.status().toString();
  }
}

}  // namespace
}  // namespace sluice
