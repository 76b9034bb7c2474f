// The untyped syntax tree of an expression and the recursive-descent parser
// that builds it from text. Types and field names are resolved later by the binder.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/data/data_type.h"

namespace sluice::expr {

enum class SyntaxKind {
  kLiteral,  // literalKind + value fields
  kField,    // name
  kUnary,    // name is "-" or "not"; children[0]
  kBinary,   // name is the operator as written canonically ("+", "=", "and", "||", ...)
  kIn,       // children[0] in (children[1..]); negated for "not in"
  kIsNull,   // children[0] is [not] null
  kCase,     // [operand] (when, then)* [else]; see hasOperand / hasElse
  kCall,     // name(children...); name is lower case
  kCast,     // cast(children[0] as castType)
};

enum class LiteralKind { kInteger, kFloat, kString, kBool, kNull };

/// One node of the parsed expression. `column` is the 1-based position that
/// errors about this node point at: the operator of a binary node, the name of
/// a field or function, the first character of a literal.
struct SyntaxNode {
  SyntaxKind kind = SyntaxKind::kLiteral;
  int column = 1;
  std::string name;
  LiteralKind literalKind = LiteralKind::kNull;
  int64_t integerValue = 0;
  double floatValue = 0;
  bool boolValue = false;
  std::string stringValue;
  bool negated = false;
  bool hasOperand = false;
  bool hasElse = false;
  DataType castType = DataType::kInt64;
  std::vector<std::unique_ptr<SyntaxNode>> children;
};

using SyntaxNodePtr = std::unique_ptr<SyntaxNode>;

/// Parses `text`; errors read "at column N: expected ')' but found 'and'".
Result<SyntaxNodePtr> parseExpression(std::string_view text);

/// The canonical text of a tree: lower-case keywords, single spaces, and
/// parentheses only where precedence needs them. Parsing it gives the same tree.
std::string formatSyntax(const SyntaxNode& node);

/// True when `name` can be written without backquotes (an identifier that is no keyword).
bool isPlainIdentifier(std::string_view name);

}  // namespace sluice::expr
