// The bound, typed expression tree. Each node evaluates a whole batch at once
// (one virtual call per node per batch, never per row) and hands back a Datum.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/data/record_batch.h"
#include "runtime/expr/datum.h"
#include "runtime/expr/kernels.h"

namespace sluice::expr {

/// A type-checked node. Immutable; `evaluate` is const and thread-safe.
/// Nodes whose inputs are all scalars return a scalar, which is how constant
/// sub-expressions fold at compile time and broadcast cheaply at run time.
class ExpressionNode {
 public:
  explicit ExpressionNode(DataType type) : type_(type) {}
  virtual ~ExpressionNode() = default;
  ExpressionNode(const ExpressionNode&) = delete;
  ExpressionNode& operator=(const ExpressionNode&) = delete;

  DataType type() const { return type_; }
  /// The value for every row of `batch`. REQUIRES: the batch has the schema
  /// the node was bound against (checked once by the caller).
  virtual Datum evaluate(const RecordBatch& batch) const = 0;
  /// The value when the node is a literal, else nullptr.
  virtual const Scalar* constant() const { return nullptr; }
  /// True for a `null` literal whose type the context has not fixed yet.
  virtual bool isUntypedNull() const { return false; }
  /// The input field when the node is a bare field reference, else -1.
  virtual int fieldIndex() const { return -1; }

 private:
  DataType type_;
};

using NodePtr = std::shared_ptr<const ExpressionNode>;

class LiteralNode final : public ExpressionNode {
 public:
  explicit LiteralNode(Scalar value, bool untypedNull = false)
      : ExpressionNode(value.type), value_(std::move(value)), untypedNull_(untypedNull) {}
  Datum evaluate(const RecordBatch&) const override { return Datum(value_); }
  const Scalar* constant() const override { return &value_; }
  bool isUntypedNull() const override { return untypedNull_; }

 private:
  Scalar value_;
  bool untypedNull_;
};

/// A bare field: evaluates to the input column itself, without a copy.
class FieldNode final : public ExpressionNode {
 public:
  FieldNode(int index, DataType type) : ExpressionNode(type), index_(index) {}
  Datum evaluate(const RecordBatch& batch) const override { return Datum(batch.column(index_)); }
  int fieldIndex() const override { return index_; }

 private:
  int index_;
};

class ArithmeticNode final : public ExpressionNode {
 public:
  ArithmeticNode(ArithmeticOp op, DataType resultType, NodePtr left, NodePtr right)
      : ExpressionNode(resultType), op_(op), left_(std::move(left)), right_(std::move(right)) {}
  Datum evaluate(const RecordBatch& batch) const override;

 private:
  ArithmeticOp op_;
  NodePtr left_;
  NodePtr right_;
};

class NegateNode final : public ExpressionNode {
 public:
  explicit NegateNode(NodePtr operand) : ExpressionNode(operand->type()), operand_(std::move(operand)) {}
  Datum evaluate(const RecordBatch& batch) const override;

 private:
  NodePtr operand_;
};

class ComparisonNode final : public ExpressionNode {
 public:
  ComparisonNode(ComparisonOp op, DataType compareType, NodePtr left, NodePtr right)
      : ExpressionNode(DataType::kBool),
        op_(op),
        compareType_(compareType),
        left_(std::move(left)),
        right_(std::move(right)) {}
  Datum evaluate(const RecordBatch& batch) const override;

 private:
  ComparisonOp op_;
  DataType compareType_;
  NodePtr left_;
  NodePtr right_;
};

/// `and` / `or` with SQL three-valued logic.
class LogicalNode final : public ExpressionNode {
 public:
  LogicalNode(bool isAnd, NodePtr left, NodePtr right)
      : ExpressionNode(DataType::kBool), isAnd_(isAnd), left_(std::move(left)), right_(std::move(right)) {}
  Datum evaluate(const RecordBatch& batch) const override;

 private:
  bool isAnd_;
  NodePtr left_;
  NodePtr right_;
};

class NotNode final : public ExpressionNode {
 public:
  explicit NotNode(NodePtr operand) : ExpressionNode(DataType::kBool), operand_(std::move(operand)) {}
  Datum evaluate(const RecordBatch& batch) const override;

 private:
  NodePtr operand_;
};

class IsNullNode final : public ExpressionNode {
 public:
  IsNullNode(NodePtr operand, bool negated)
      : ExpressionNode(DataType::kBool), operand_(std::move(operand)), negated_(negated) {}
  Datum evaluate(const RecordBatch& batch) const override;

 private:
  NodePtr operand_;
  bool negated_;
};

/// `value in (constants...)`; lists with non-constant members are rewritten
/// into `or`ed comparisons by the binder instead.
class InListNode final : public ExpressionNode {
 public:
  InListNode(NodePtr value, InListValues list)
      : ExpressionNode(DataType::kBool), value_(std::move(value)), list_(std::move(list)) {}
  Datum evaluate(const RecordBatch& batch) const override;

 private:
  NodePtr value_;
  InListValues list_;
};

/// `case when c1 then v1 ... else e end`; every value already has the result type.
class CaseNode final : public ExpressionNode {
 public:
  CaseNode(DataType type, std::vector<NodePtr> conditions, std::vector<NodePtr> values, NodePtr otherwise)
      : ExpressionNode(type),
        conditions_(std::move(conditions)),
        values_(std::move(values)),
        otherwise_(std::move(otherwise)) {}
  Datum evaluate(const RecordBatch& batch) const override;

 private:
  std::vector<NodePtr> conditions_;
  std::vector<NodePtr> values_;
  NodePtr otherwise_;
};

class CastNode final : public ExpressionNode {
 public:
  CastNode(NodePtr operand, DataType target) : ExpressionNode(target), operand_(std::move(operand)) {}
  Datum evaluate(const RecordBatch& batch) const override;

 private:
  NodePtr operand_;
};

/// A named function: evaluates its arguments, then runs `kernel` over them.
/// When `propagatesNulls`, a null scalar argument short-cuts to a null result
/// and the kernel only has to handle nulls inside columns.
class FunctionNode final : public ExpressionNode {
 public:
  using Kernel = std::function<ColumnPtr(const std::vector<Datum>& arguments, int64_t rows)>;
  FunctionNode(DataType type, std::vector<NodePtr> arguments, Kernel kernel, bool propagatesNulls)
      : ExpressionNode(type),
        arguments_(std::move(arguments)),
        kernel_(std::move(kernel)),
        propagatesNulls_(propagatesNulls) {}
  Datum evaluate(const RecordBatch& batch) const override;

 private:
  std::vector<NodePtr> arguments_;
  Kernel kernel_;
  bool propagatesNulls_;
};

/// A null literal that takes the type its context needs.
NodePtr makeUntypedNull();
NodePtr makeLiteral(Scalar value);

/// `node` converted to `target`: itself when it already has that type, a
/// folded literal when it is constant, else a CastNode.
NodePtr coerce(NodePtr node, DataType target);

/// Replaces `node` by a literal holding its value when every input of it is
/// constant (`inputs` are its direct children).
NodePtr foldIfConstant(NodePtr node, const std::vector<NodePtr>& inputs);

}  // namespace sluice::expr
