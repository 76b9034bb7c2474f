// Evaluation of the bound expression nodes: evaluate the children, then run
// one kernel over their whole columns.
#include "runtime/expr/expression_node.h"

namespace sluice::expr {
namespace {

/// Runs `kernel(rows)`; when every input is a scalar it runs it over one row
/// and returns a scalar, so that constants stay constants.
template <typename Kernel>
Datum runKernel(bool allScalar, int64_t rows, Kernel&& kernel) {
  if (allScalar) return Datum(scalarAt(*kernel(int64_t{1}), 0));
  return Datum(kernel(rows));
}

const RecordBatch& emptyBatch() {
  static const RecordBatch batch;
  return batch;
}

}  // namespace

Datum ArithmeticNode::evaluate(const RecordBatch& batch) const {
  const Datum left = left_->evaluate(batch);
  const Datum right = right_->evaluate(batch);
  if (left.isNullScalar() || right.isNullScalar()) return Datum(Scalar::null(type()));
  return runKernel(left.isScalar() && right.isScalar(), batch.numRows(),
                   [&](int64_t rows) { return arithmetic(op_, type(), left, right, rows); });
}

Datum NegateNode::evaluate(const RecordBatch& batch) const {
  const Datum operand = operand_->evaluate(batch);
  if (operand.isNullScalar()) return operand;
  return runKernel(operand.isScalar(), batch.numRows(), [&](int64_t rows) { return negate(operand, rows); });
}

Datum ComparisonNode::evaluate(const RecordBatch& batch) const {
  const Datum left = left_->evaluate(batch);
  const Datum right = right_->evaluate(batch);
  if (left.isNullScalar() || right.isNullScalar()) return Datum(Scalar::null(DataType::kBool));
  return runKernel(left.isScalar() && right.isScalar(), batch.numRows(),
                   [&](int64_t rows) { return compare(op_, compareType_, left, right, rows); });
}

Datum LogicalNode::evaluate(const RecordBatch& batch) const {
  const Datum left = left_->evaluate(batch);
  const Datum right = right_->evaluate(batch);
  return runKernel(left.isScalar() && right.isScalar(), batch.numRows(),
                   [&](int64_t rows) { return isAnd_ ? logicalAnd(left, right, rows) : logicalOr(left, right, rows); });
}

Datum NotNode::evaluate(const RecordBatch& batch) const {
  const Datum operand = operand_->evaluate(batch);
  if (operand.isNullScalar()) return operand;
  return runKernel(operand.isScalar(), batch.numRows(), [&](int64_t rows) { return logicalNot(operand, rows); });
}

Datum IsNullNode::evaluate(const RecordBatch& batch) const {
  const Datum operand = operand_->evaluate(batch);
  if (operand.isScalar()) return Datum(Scalar::ofBool(operand.scalar().valid == negated_));
  return Datum(isNull(operand, negated_, batch.numRows()));
}

Datum InListNode::evaluate(const RecordBatch& batch) const {
  const Datum value = value_->evaluate(batch);
  if (value.isNullScalar()) return Datum(Scalar::null(DataType::kBool));
  return runKernel(value.isScalar(), batch.numRows(), [&](int64_t rows) { return inList(value, list_, rows); });
}

Datum CaseNode::evaluate(const RecordBatch& batch) const {
  std::vector<Datum> conditions;
  std::vector<Datum> values;
  conditions.reserve(conditions_.size());
  values.reserve(values_.size() + 1);
  bool allScalar = true;
  for (const NodePtr& condition : conditions_) {
    conditions.push_back(condition->evaluate(batch));
    allScalar = allScalar && conditions.back().isScalar();
  }
  for (const NodePtr& value : values_) {
    values.push_back(value->evaluate(batch));
    allScalar = allScalar && values.back().isScalar();
  }
  values.push_back(otherwise_->evaluate(batch));
  allScalar = allScalar && values.back().isScalar();
  return runKernel(allScalar, batch.numRows(), [&](int64_t rows) {
    std::vector<int32_t> selection(static_cast<size_t>(rows), static_cast<int32_t>(conditions.size()));
    // Later branches first, so that the first true condition wins.
    for (size_t branch = conditions.size(); branch-- > 0;) {
      const Datum& condition = conditions[branch];
      const auto index = static_cast<int32_t>(branch);
      if (condition.isScalar()) {
        if (condition.scalar().valid && condition.scalar().boolean())
          std::fill(selection.begin(), selection.end(), index);
        continue;
      }
      const Column& column = condition.column();
      const uint8_t* bits = column.values().data();
      const uint8_t* validity = column.hasNulls() ? column.validity().data() : nullptr;
      for (int64_t row = 0; row < rows; ++row) {
        const bool taken = getBit(bits, row) && (validity == nullptr || getBit(validity, row));
        if (taken) selection[row] = index;
      }
    }
    return selectRows(type(), values, selection, rows);
  });
}

Datum CastNode::evaluate(const RecordBatch& batch) const {
  const Datum operand = operand_->evaluate(batch);
  if (operand.isNullScalar()) return Datum(Scalar::null(type()));
  return runKernel(operand.isScalar(), batch.numRows(), [&](int64_t rows) { return cast(operand, type(), rows); });
}

Datum FunctionNode::evaluate(const RecordBatch& batch) const {
  std::vector<Datum> arguments;
  arguments.reserve(arguments_.size());
  bool allScalar = true;
  for (const NodePtr& argument : arguments_) {
    arguments.push_back(argument->evaluate(batch));
    if (propagatesNulls_ && arguments.back().isNullScalar()) return Datum(Scalar::null(type()));
    allScalar = allScalar && arguments.back().isScalar();
  }
  return runKernel(allScalar, batch.numRows(), [&](int64_t rows) { return kernel_(arguments, rows); });
}

NodePtr makeUntypedNull() { return std::make_shared<LiteralNode>(Scalar::null(DataType::kInt64), true); }

NodePtr makeLiteral(Scalar value) { return std::make_shared<LiteralNode>(std::move(value)); }

NodePtr coerce(NodePtr node, DataType target) {
  if (node->isUntypedNull()) return makeLiteral(Scalar::null(target));
  if (node->type() == target) return node;
  return foldIfConstant(std::make_shared<CastNode>(node, target), {node});
}

NodePtr foldIfConstant(NodePtr node, const std::vector<NodePtr>& inputs) {
  for (const NodePtr& input : inputs) {
    if (input->constant() == nullptr) return node;
  }
  // Constant inputs never read the batch, so an empty one will do.
  Datum value = node->evaluate(emptyBatch());
  if (!value.isScalar()) return node;
  return makeLiteral(value.scalar());
}

}  // namespace sluice::expr
