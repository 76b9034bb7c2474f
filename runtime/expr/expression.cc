// compileExpression: parse, bind against the schema, and wrap the typed tree
// as a CompiledExpression that checks each batch's schema before evaluating.
#include "runtime/expr/expression.h"

#include <set>
#include <utility>

#include "runtime/expr/binder.h"
#include "runtime/expr/parser.h"

namespace sluice {
namespace {

/// The fields `node` reads, by index (binding has already resolved them all).
void collectFields(const expr::SyntaxNode& node, const Schema& schema, std::set<int>& out) {
  if (node.kind == expr::SyntaxKind::kField) {
    if (auto index = schema.indexOf(node.name)) out.insert(*index);
  }
  for (const auto& child : node.children) collectFields(*child, schema, out);
}

class BoundExpression final : public CompiledExpression {
 public:
  BoundExpression(expr::NodePtr root, std::string text, std::vector<Field> schemaFields, std::set<int> inputs)
      : root_(std::move(root)), text_(std::move(text)), fields_(std::move(schemaFields)), inputs_(std::move(inputs)) {}

  DataType type() const override { return root_->type(); }

  Result<ColumnPtr> evaluate(const RecordBatch& batch) const override {
    for (int index : inputs_) {
      const Field& field = fields_[index];
      if (index >= batch.numColumns() || batch.column(index)->type() != field.type ||
          batch.column(index)->length() != batch.numRows()) {
        return Status::invalidArgument("expression '" + text_ + "' was compiled for another schema: field '" +
                                       field.name + "' (" + std::string(dataTypeName(field.type)) + ") is not column " +
                                       std::to_string(index) + " of the batch");
      }
    }
    expr::Datum result = root_->evaluate(batch);
    if (result.isScalar()) return expr::broadcast(result.scalar(), batch.numRows());
    return result.columnPtr();
  }

  std::string toString() const override { return text_; }
  int fieldIndex() const override { return root_->fieldIndex(); }

 private:
  expr::NodePtr root_;
  std::string text_;
  std::vector<Field> fields_;
  std::set<int> inputs_;
};

}  // namespace

Result<ExpressionPtr> compileExpression(std::string_view text, const Schema& schema) {
  SLUICE_ASSIGN_OR_RETURN(expr::SyntaxNodePtr syntax, expr::parseExpression(text));
  SLUICE_ASSIGN_OR_RETURN(expr::NodePtr root, expr::bindExpression(*syntax, schema));
  std::set<int> inputs;
  collectFields(*syntax, schema, inputs);
  return ExpressionPtr(
      std::make_shared<const BoundExpression>(std::move(root), expr::formatSyntax(*syntax), schema.fields(), inputs));
}

std::vector<uint8_t> trueRowMask(const Column& predicate) {
  const int64_t rows = predicate.length();
  std::vector<uint8_t> keep(static_cast<size_t>(rows));
  const uint8_t* values = predicate.values().data();
  if (!predicate.hasNulls()) {
    for (int64_t row = 0; row < rows; ++row) keep[row] = getBit(values, row) ? 1 : 0;
    return keep;
  }
  const uint8_t* validity = predicate.validity().data();
  for (int64_t row = 0; row < rows; ++row) keep[row] = (getBit(values, row) && getBit(validity, row)) ? 1 : 0;
  return keep;
}

}  // namespace sluice
