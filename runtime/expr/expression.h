// Expressions for filter, map/project and computed keys: parsed and type-checked
// once at job load, evaluated vectorised over whole batches.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/data/record_batch.h"

namespace sluice {

/// A compiled, type-checked expression over the fields of one input schema.
/// Immutable after compile; `evaluate` is const and thread-safe, so one
/// instance can be shared by every subtask.
class CompiledExpression {
 public:
  virtual ~CompiledExpression() = default;
  /// The result type.
  virtual DataType type() const = 0;
  /// Evaluates over every row of `batch` (which must have the schema the
  /// expression was compiled against). Runtime errors (e.g. integer division by
  /// zero yields null, not an error) are documented per operator.
  virtual Result<ColumnPtr> evaluate(const RecordBatch& batch) const = 0;
  /// The canonical text, for plans and messages.
  virtual std::string toString() const = 0;
  /// When the expression is a bare field reference, its index; else -1.
  virtual int fieldIndex() const { return -1; }
};

using ExpressionPtr = std::shared_ptr<const CompiledExpression>;

/// Parses `text` and type-checks it against `schema`. Errors are one line and
/// name the position (1-based column) and the problem, e.g.
/// "at column 7: unknown field 'prize' (fields: auction, bidder, price, ...)".
Result<ExpressionPtr> compileExpression(std::string_view text, const Schema& schema);

/// One byte per row of `predicate` (a bool column): 1 where it is true, 0
/// where it is false or null, as SQL's WHERE keeps rows and as
/// `RecordBatch::filter` takes them. REQUIRES: predicate.type() is bool.
std::vector<uint8_t> trueRowMask(const Column& predicate);

}  // namespace sluice
