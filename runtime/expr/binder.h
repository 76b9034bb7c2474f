// The binder turns a syntax tree into a typed ExpressionNode tree for one
// schema: it resolves fields, applies the type rules, inserts casts and folds
// constant sub-expressions. Also the type helpers the function table shares.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/data/schema.h"
#include "runtime/expr/expression_node.h"
#include "runtime/expr/parser.h"

namespace sluice::expr {

/// Binds `root` against `schema`. Errors are one line: "at column N: ...".
Result<NodePtr> bindExpression(const SyntaxNode& root, const Schema& schema);

/// "at column N: message" with the given code.
Status errorAt(StatusCode code, int column, const std::string& message);

/// The type name for messages; "null" for an untyped null literal.
std::string typeDescription(const ExpressionNode& node);

/// The one type that `nodes` (branches of a case, arguments of coalesce) can
/// all be converted to without losing their meaning, or nullopt: equal types,
/// numeric types widened (int64 < float64), int64 into timestamp. Untyped nulls
/// take any type; only nulls gives int64.
std::optional<DataType> unifyTypes(const std::vector<NodePtr>& nodes);

}  // namespace sluice::expr
