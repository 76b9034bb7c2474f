// Name resolution, type checking and constant folding for expressions.
#include "runtime/expr/binder.h"

#include "runtime/expr/functions.h"

namespace sluice::expr {
namespace {

constexpr int kMaxListedFields = 30;
// Deeper trees could overflow the stack of the threads that bind and evaluate them.
constexpr int kMaxDepth = 500;

bool isNonNegativeIntegerLiteral(const ExpressionNode& node) {
  const Scalar* value = node.constant();
  return value != nullptr && value->valid && value->type == DataType::kInt64 && value->int64() >= 0;
}

Status typeErrorAt(int column, const std::string& message) { return errorAt(StatusCode::kTypeError, column, message); }

Status cannotApply(std::string_view op, int column, const ExpressionNode& left, const ExpressionNode& right) {
  return typeErrorAt(
      column, "cannot apply '" + std::string(op) + "' to " + typeDescription(left) + " and " + typeDescription(right));
}

/// Keeps int64/timestamp operands of a float64 or int64 kernel as they are
/// (kernels widen them in the loop); converts everything else to `type`.
NodePtr alignOperand(NodePtr node, DataType type) {
  if (!node->isUntypedNull() && (type == DataType::kFloat64 || isInt64Like(type)) && isInt64Like(node->type())) {
    return node;
  }
  return coerce(std::move(node), type);
}

/// The type two numeric operands are computed in (not for timestamps).
DataType numericType(const ExpressionNode& left, const ExpressionNode& right) {
  const DataType a = left.type();
  const DataType b = right.type();
  if (a == DataType::kFloat64 || b == DataType::kFloat64) return DataType::kFloat64;
  if (a == DataType::kUInt64 && b == DataType::kUInt64) return DataType::kUInt64;
  if ((a == DataType::kUInt64 && isNonNegativeIntegerLiteral(right)) ||
      (b == DataType::kUInt64 && isNonNegativeIntegerLiteral(left))) {
    return DataType::kUInt64;
  }
  return DataType::kInt64;
}

/// Gives an untyped null operand the type of the other one.
void adoptNullType(NodePtr& left, NodePtr& right) {
  if (left->isUntypedNull() && !right->isUntypedNull()) left = coerce(left, right->type());
  if (right->isUntypedNull() && !left->isUntypedNull()) right = coerce(right, left->type());
}

bool isNullLiteral(const ExpressionNode& node) { return node.constant() != nullptr && !node.constant()->valid; }

Result<NodePtr> bindArithmetic(const std::string& op, int column, NodePtr left, NodePtr right) {
  if (left->isUntypedNull() && right->isUntypedNull()) return makeLiteral(Scalar::null(DataType::kInt64));
  // `timestamp + null` is a timestamp plus an unknown number of milliseconds.
  if (left->isUntypedNull() && right->type() == DataType::kTimestamp) left = coerce(left, DataType::kInt64);
  if (right->isUntypedNull() && left->type() == DataType::kTimestamp) right = coerce(right, DataType::kInt64);
  adoptNullType(left, right);
  const DataType a = left->type();
  const DataType b = right->type();
  const ArithmeticOp arithmeticOp = op == "+"   ? ArithmeticOp::kAdd
                                    : op == "-" ? ArithmeticOp::kSubtract
                                    : op == "*" ? ArithmeticOp::kMultiply
                                    : op == "/" ? ArithmeticOp::kDivide
                                                : ArithmeticOp::kModulo;
  if (!isNumeric(a) || !isNumeric(b)) return cannotApply(op, column, *left, *right);
  DataType resultType;
  if (a == DataType::kTimestamp || b == DataType::kTimestamp) {
    if (a == DataType::kTimestamp && b == DataType::kInt64 && (op == "+" || op == "-")) {
      resultType = DataType::kTimestamp;
    } else if (a == DataType::kInt64 && b == DataType::kTimestamp && op == "+") {
      resultType = DataType::kTimestamp;
    } else if (a == DataType::kTimestamp && b == DataType::kTimestamp && op == "-") {
      resultType = DataType::kInt64;
    } else {
      return cannotApply(op, column, *left, *right);
    }
  } else {
    resultType = numericType(*left, *right);
    left = alignOperand(std::move(left), resultType);
    right = alignOperand(std::move(right), resultType);
  }
  if (isNullLiteral(*left) || isNullLiteral(*right)) return makeLiteral(Scalar::null(resultType));
  NodePtr node = std::make_shared<ArithmeticNode>(arithmeticOp, resultType, left, right);
  return foldIfConstant(node, {left, right});
}

Result<NodePtr> bindComparison(const std::string& op, int column, NodePtr left, NodePtr right) {
  if (left->isUntypedNull() && right->isUntypedNull()) return makeLiteral(Scalar::null(DataType::kBool));
  adoptNullType(left, right);
  const DataType a = left->type();
  const DataType b = right->type();
  DataType compareType;
  if (a == b) {
    compareType = a;
  } else if (isNumeric(a) && isNumeric(b)) {
    compareType = isInt64Like(a) && isInt64Like(b) ? DataType::kInt64 : numericType(*left, *right);
  } else {
    return cannotApply(op, column, *left, *right);
  }
  left = alignOperand(std::move(left), compareType);
  right = alignOperand(std::move(right), compareType);
  if (isNullLiteral(*left) || isNullLiteral(*right)) return makeLiteral(Scalar::null(DataType::kBool));
  const ComparisonOp comparisonOp = op == "="    ? ComparisonOp::kEqual
                                    : op == "!=" ? ComparisonOp::kNotEqual
                                    : op == "<"  ? ComparisonOp::kLess
                                    : op == "<=" ? ComparisonOp::kLessEqual
                                    : op == ">"  ? ComparisonOp::kGreater
                                                 : ComparisonOp::kGreaterEqual;
  NodePtr node = std::make_shared<ComparisonNode>(comparisonOp, compareType, left, right);
  return foldIfConstant(node, {left, right});
}

Result<NodePtr> requireBool(NodePtr node, std::string_view op, int column) {
  if (node->isUntypedNull()) return coerce(node, DataType::kBool);
  if (node->type() != DataType::kBool) {
    return typeErrorAt(column, "'" + std::string(op) + "' needs a bool operand but got " + typeDescription(*node));
  }
  return node;
}

class Binder {
 public:
  explicit Binder(const Schema& schema) : schema_(schema) {}

  Result<NodePtr> bind(const SyntaxNode& node) {
    if (++depth_ > kMaxDepth) return errorAt(StatusCode::kInvalidArgument, node.column, "expression nests too deeply");
    Result<NodePtr> result = bindNode(node);
    --depth_;
    return result;
  }

 private:
  Result<NodePtr> bindNode(const SyntaxNode& node) {
    switch (node.kind) {
      case SyntaxKind::kLiteral: return bindLiteral(node);
      case SyntaxKind::kField: return bindField(node);
      case SyntaxKind::kUnary: return bindUnary(node);
      case SyntaxKind::kBinary: return bindBinary(node);
      case SyntaxKind::kIn: return bindIn(node);
      case SyntaxKind::kIsNull: {
        SLUICE_ASSIGN_OR_RETURN(NodePtr operand, bind(*node.children[0]));
        NodePtr result = std::make_shared<IsNullNode>(operand, node.negated);
        return foldIfConstant(result, {operand});
      }
      case SyntaxKind::kCase: return bindCase(node);
      case SyntaxKind::kCall: {
        std::vector<NodePtr> arguments;
        for (const auto& child : node.children) {
          SLUICE_ASSIGN_OR_RETURN(NodePtr argument, bind(*child));
          arguments.push_back(std::move(argument));
        }
        return bindFunction(node.name, node.column, std::move(arguments));
      }
      case SyntaxKind::kCast: {
        SLUICE_ASSIGN_OR_RETURN(NodePtr operand, bind(*node.children[0]));
        return coerce(operand, node.castType);
      }
    }
    return Status::internal("unknown syntax node");
  }

  static Result<NodePtr> bindLiteral(const SyntaxNode& node) {
    switch (node.literalKind) {
      case LiteralKind::kInteger: return makeLiteral(Scalar::ofInt64(node.integerValue));
      case LiteralKind::kFloat: return makeLiteral(Scalar::ofFloat64(node.floatValue));
      case LiteralKind::kString: return makeLiteral(Scalar::ofString(node.stringValue));
      case LiteralKind::kBool: return makeLiteral(Scalar::ofBool(node.boolValue));
      case LiteralKind::kNull: return makeUntypedNull();
    }
    return Status::internal("unknown literal kind");
  }

  Result<NodePtr> bindField(const SyntaxNode& node) const {
    std::optional<int> index = schema_.indexOf(node.name);
    if (!index) {
      std::string fields;
      for (int i = 0; i < schema_.numFields() && i < kMaxListedFields; ++i) {
        if (i > 0) fields += ", ";
        fields += schema_.field(i).name;
      }
      if (schema_.numFields() > kMaxListedFields) fields += ", ...";
      if (fields.empty()) fields = "none";
      return errorAt(StatusCode::kNotFound, node.column, "unknown field '" + node.name + "' (fields: " + fields + ")");
    }
    return NodePtr(std::make_shared<FieldNode>(*index, schema_.field(*index).type));
  }

  Result<NodePtr> bindUnary(const SyntaxNode& node) {
    SLUICE_ASSIGN_OR_RETURN(NodePtr operand, bind(*node.children[0]));
    if (node.name == "not") {
      SLUICE_ASSIGN_OR_RETURN(operand, requireBool(operand, "not", node.column));
      NodePtr result = std::make_shared<NotNode>(operand);
      return foldIfConstant(result, {operand});
    }
    if (operand->isUntypedNull()) return operand;
    const DataType type = operand->type();
    if (type == DataType::kUInt64) {
      operand = coerce(operand, DataType::kInt64);
    } else if (type != DataType::kInt64 && type != DataType::kFloat64) {
      return typeErrorAt(node.column, "cannot apply unary '-' to " + typeDescription(*operand));
    }
    NodePtr result = std::make_shared<NegateNode>(operand);
    return foldIfConstant(result, {operand});
  }

  Result<NodePtr> bindBinary(const SyntaxNode& node) {
    SLUICE_ASSIGN_OR_RETURN(NodePtr left, bind(*node.children[0]));
    SLUICE_ASSIGN_OR_RETURN(NodePtr right, bind(*node.children[1]));
    const std::string& op = node.name;
    if (op == "and" || op == "or") {
      if ((!left->isUntypedNull() && left->type() != DataType::kBool) ||
          (!right->isUntypedNull() && right->type() != DataType::kBool)) {
        return cannotApply(op, node.column, *left, *right);
      }
      left = coerce(left, DataType::kBool);
      right = coerce(right, DataType::kBool);
      NodePtr result = std::make_shared<LogicalNode>(op == "and", left, right);
      return foldIfConstant(result, {left, right});
    }
    if (op == "||") return bindFunction("concat", node.column, {left, right});
    if (op == "+" || op == "-" || op == "*" || op == "/" || op == "%") {
      return bindArithmetic(op, node.column, left, right);
    }
    return bindComparison(op, node.column, left, right);
  }

  Result<NodePtr> bindIn(const SyntaxNode& node) {
    SLUICE_ASSIGN_OR_RETURN(NodePtr value, bind(*node.children[0]));
    std::vector<NodePtr> members;
    bool allConstant = true;
    for (size_t i = 1; i < node.children.size(); ++i) {
      SLUICE_ASSIGN_OR_RETURN(NodePtr member, bind(*node.children[i]));
      allConstant = allConstant && member->constant() != nullptr;
      members.push_back(std::move(member));
    }
    NodePtr result;
    const DataType valueType = value->type();
    if (allConstant && !value->isUntypedNull() && valueType != DataType::kBool) {
      // Find the type to compare in, as `value = member` would.
      DataType compareType = valueType;
      for (const NodePtr& member : members) {
        if (member->isUntypedNull()) continue;
        if (member->type() == compareType) continue;
        if (!isNumeric(member->type()) || !isNumeric(compareType)) {
          return typeErrorAt(node.column, "cannot apply 'in' to " + typeDescription(*value) + " and a list holding " +
                                              typeDescription(*member));
        }
        if (member->type() == DataType::kFloat64 || compareType == DataType::kFloat64) {
          compareType = DataType::kFloat64;
        } else if (compareType == DataType::kUInt64 && isNonNegativeIntegerLiteral(*member)) {
          continue;
        } else if (!(isInt64Like(compareType) && isInt64Like(member->type()))) {
          compareType = DataType::kInt64;
        }
      }
      InListValues list;
      list.type = compareType;
      for (const NodePtr& member : members) {
        NodePtr converted = coerce(member, compareType);
        const Scalar& constant = *converted->constant();
        if (!constant.valid) {
          list.hasNull = true;
        } else if (compareType == DataType::kString) {
          list.strings.push_back(constant.string);
        } else {
          list.fixed.push_back(constant.bits);
        }
      }
      value = coerce(value, compareType);
      result = foldIfConstant(std::make_shared<InListNode>(value, std::move(list)), {value});
    } else {
      // Non-constant members: value = m1 or value = m2 or ...; the same nulls.
      for (const NodePtr& member : members) {
        SLUICE_ASSIGN_OR_RETURN(NodePtr equal, bindComparison("=", node.column, value, member));
        if (!result) {
          result = equal;
        } else {
          NodePtr left = result;
          result = foldIfConstant(std::make_shared<LogicalNode>(false, left, equal), {left, equal});
        }
      }
    }
    if (node.negated) result = foldIfConstant(std::make_shared<NotNode>(result), {result});
    return result;
  }

  Result<NodePtr> bindCase(const SyntaxNode& node) {
    size_t index = 0;
    const SyntaxNode* operandSyntax = node.hasOperand ? node.children[index++].get() : nullptr;
    const size_t pairsEnd = node.children.size() - (node.hasElse ? 1 : 0);
    std::vector<NodePtr> conditions;
    std::vector<NodePtr> values;
    for (; index < pairsEnd; index += 2) {
      const SyntaxNode& whenSyntax = *node.children[index];
      SLUICE_ASSIGN_OR_RETURN(NodePtr condition, bind(whenSyntax));
      if (operandSyntax != nullptr) {
        SLUICE_ASSIGN_OR_RETURN(NodePtr operand, bind(*operandSyntax));
        SLUICE_ASSIGN_OR_RETURN(condition, bindComparison("=", whenSyntax.column, operand, condition));
      } else {
        SLUICE_ASSIGN_OR_RETURN(condition, requireBool(condition, "when", whenSyntax.column));
      }
      SLUICE_ASSIGN_OR_RETURN(NodePtr value, bind(*node.children[index + 1]));
      conditions.push_back(std::move(condition));
      values.push_back(std::move(value));
    }
    NodePtr otherwise = makeUntypedNull();
    if (node.hasElse) {
      SLUICE_ASSIGN_OR_RETURN(otherwise, bind(*node.children.back()));
    }
    std::vector<NodePtr> all = values;
    all.push_back(otherwise);
    std::optional<DataType> type = unifyTypes(all);
    if (!type) {
      std::string types;
      for (const NodePtr& value : all) {
        if (!types.empty()) types += ", ";
        types += typeDescription(*value);
      }
      return typeErrorAt(node.column, "case branches have incompatible types (" + types + ")");
    }
    for (NodePtr& value : values) value = coerce(value, *type);
    otherwise = coerce(otherwise, *type);
    std::vector<NodePtr> inputs = conditions;
    inputs.insert(inputs.end(), values.begin(), values.end());
    inputs.push_back(otherwise);
    NodePtr result = std::make_shared<CaseNode>(*type, std::move(conditions), std::move(values), otherwise);
    return foldIfConstant(result, inputs);
  }

  const Schema& schema_;
  int depth_ = 0;
};

}  // namespace

Status errorAt(StatusCode code, int column, const std::string& message) {
  return Status(code, "at column " + std::to_string(column) + ": " + message);
}

std::string typeDescription(const ExpressionNode& node) {
  return node.isUntypedNull() ? "null" : std::string(dataTypeName(node.type()));
}

std::optional<DataType> unifyTypes(const std::vector<NodePtr>& nodes) {
  std::optional<DataType> result;
  bool anyInt64 = false;
  for (const NodePtr& node : nodes) {
    if (node->isUntypedNull()) continue;
    const DataType type = node->type();
    if (type == DataType::kInt64 && !isNonNegativeIntegerLiteral(*node)) anyInt64 = true;
    if (!result || *result == type) {
      result = type;
      continue;
    }
    if (!isNumeric(*result) || !isNumeric(type)) return std::nullopt;
    const DataType a = *result;
    const DataType b = type;
    if (a == DataType::kTimestamp || b == DataType::kTimestamp) {
      if ((a == DataType::kTimestamp && b == DataType::kInt64) ||
          (a == DataType::kInt64 && b == DataType::kTimestamp)) {
        result = DataType::kTimestamp;
        continue;
      }
      return std::nullopt;
    }
    if (a == DataType::kFloat64 || b == DataType::kFloat64) {
      result = DataType::kFloat64;
    } else {
      result = DataType::kInt64;  // int64 with uint64
    }
  }
  if (!result) return DataType::kInt64;
  // uint64 with only non-negative integer literals stays uint64.
  if (*result == DataType::kInt64 && !anyInt64) {
    for (const NodePtr& node : nodes) {
      if (!node->isUntypedNull() && node->type() == DataType::kUInt64) return DataType::kUInt64;
    }
  }
  return result;
}

Result<NodePtr> bindExpression(const SyntaxNode& root, const Schema& schema) { return Binder(schema).bind(root); }

}  // namespace sluice::expr
