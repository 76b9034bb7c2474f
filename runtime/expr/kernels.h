// Vectorised kernels: each one turns whole Datums into a whole result column
// with tight, type-specialised loops (no per-row dispatch). The binder has
// already checked and aligned the operand types; kernels only assert them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/expr/datum.h"

namespace sluice::expr {

enum class ArithmeticOp { kAdd, kSubtract, kMultiply, kDivide, kModulo };
enum class ComparisonOp { kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual };

/// `left op right` computed in the physical type of `resultType` (int64 for
/// int64 and timestamp, uint64, or float64). Integer arithmetic wraps on
/// overflow; division and modulo by zero give null; integer division truncates
/// toward zero. REQUIRES: no null scalar operand; operands have the physical
/// type of the result, except that int64/timestamp operands are allowed (and
/// widened in the loop) when the result is float64.
ColumnPtr arithmetic(ArithmeticOp op, DataType resultType, const Datum& left, const Datum& right, int64_t rows);

/// `-operand` for int64 (wrapping) or float64.
ColumnPtr negate(const Datum& operand, int64_t rows);

/// `left op right` as a bool column. `compareType` is the common type: both
/// operands have its physical type, except int64/timestamp operands when it is
/// float64. Strings compare bytewise; false < true. REQUIRES: no null scalar.
ColumnPtr compare(ComparisonOp op, DataType compareType, const Datum& left, const Datum& right, int64_t rows);

/// SQL three-valued `and`/`or` (false and null = false, true or null = true).
/// Null scalars are allowed.
ColumnPtr logicalAnd(const Datum& left, const Datum& right, int64_t rows);
ColumnPtr logicalOr(const Datum& left, const Datum& right, int64_t rows);
/// `not operand`; null stays null. REQUIRES: operand is a bool column.
ColumnPtr logicalNot(const Datum& operand, int64_t rows);

/// `operand is [not] null`; never null itself.
ColumnPtr isNull(const Datum& operand, bool negated, int64_t rows);

/// Converts to `target`. Conversions that cannot represent a value (a string
/// that is no number, a float out of int64 range or NaN) give null.
ColumnPtr cast(const Datum& operand, DataType target, int64_t rows);

/// The constant, non-null members of an `in (...)` list, already converted to
/// the type of the tested value.
struct InListValues {
  DataType type = DataType::kInt64;
  std::vector<uint64_t> fixed;  // int64/timestamp/uint64/float64 raw bits, or bool as 0/1
  std::vector<std::string> strings;
  bool hasNull = false;  // the list holds `null`: a miss is null, not false
};
/// `value in (list)`. REQUIRES: value is a column of `list.type`.
ColumnPtr inList(const Datum& value, const InListValues& list, int64_t rows);

/// Row `row` of the result is row `row` of `choices[selection[row]]`, or null
/// when `selection[row]` is -1. REQUIRES: every choice has type `type`.
ColumnPtr selectRows(DataType type, const std::vector<Datum>& choices, const std::vector<int32_t>& selection,
                     int64_t rows);

/// Formats a value the way `cast(x as string)` does.
std::string formatValue(const Scalar& value);

}  // namespace sluice::expr
