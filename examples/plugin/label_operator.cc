// The `label` plugin operator: a plain Operator that appends a constant string column.
#include "examples/plugin/example_plugin.h"

namespace sluice::example {
namespace {

/// Shares the input's columns and adds one column holding `value` in every row.
class LabelOperator final : public Operator {
 public:
  LabelOperator(SchemaPtr schema, std::string value) : schema_(std::move(schema)), value_(std::move(value)) {}

  Status processBatch(int input, const RecordBatch& batch, Output& out) override {
    (void)input;
    ColumnBuilder label(DataType::kString);
    label.reserve(batch.numRows());
    for (int64_t row = 0; row < batch.numRows(); ++row) label.appendString(value_);
    std::vector<ColumnPtr> columns = batch.columns();
    columns.push_back(label.finish());
    return out.emit(RecordBatch(schema_, batch.numRows(), std::move(columns), batch.eventTimeIndex()));
  }

 private:
  SchemaPtr schema_;
  std::string value_;
};

}  // namespace

Result<OperatorPlan> planLabel(OperatorRequest& request) {
  std::optional<std::string> value = request.options.get("value");
  if (!value) return request.options.error("label needs 'value', the text to put in every row");
  std::string field = request.options.get("field").value_or("label");
  if (request.inputs.size() != 1) return request.options.error("label reads exactly one stream");
  const StreamInfo& input = request.inputs[0];
  std::vector<Field> fields = input.schema->fields();
  fields.push_back(Field{field, DataType::kString});
  auto schema = Schema::make(std::move(fields));
  if (!schema.ok()) return request.options.error("field: " + schema.status().message());
  OperatorPlan plan;
  plan.outputs[""] = StreamInfo{*schema, input.eventTimeIndex};
  SchemaPtr outputSchema = *schema;
  std::string text = *value;
  plan.createOperator = [outputSchema, text] { return std::make_unique<LabelOperator>(outputSchema, text); };
  return plan;
}

}  // namespace sluice::example
