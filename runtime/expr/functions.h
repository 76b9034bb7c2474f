// The table of named scalar functions (abs, substr, regexp_extract, coalesce,
// ...): arity and type checks at bind time, vectorised kernels at run time.
#pragma once

#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/expr/expression_node.h"

namespace sluice::expr {

/// Binds the call `name(arguments)`; `column` is where errors point. `name`
/// is lower case. Unknown names, wrong argument counts, argument types and
/// invalid regular expressions are reported as "at column N: ...".
Result<NodePtr> bindFunction(const std::string& name, int column, std::vector<NodePtr> arguments);

}  // namespace sluice::expr
