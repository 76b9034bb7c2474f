// MapOperator: the built-in `map` node kind, a filter and/or a projection by expressions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/expr/expression.h"
#include "runtime/task/operator.h"

namespace sluice {

/// A map node's options as written in the job file.
struct MapOptions {
  /// A bool expression; rows where it is false or null are dropped.
  std::optional<std::string> filter;
  /// Output field name → expression, in output order; empty: every input field passes.
  std::vector<std::pair<std::string, std::string>> select;
  /// Names the output field carrying event time (int64 or timestamp); when
  /// absent, the first output field that is a bare reference to the input's
  /// event-time field is, else there is none.
  std::optional<std::string> eventTime;
};

/// The compiled form of MapOptions for one input schema: immutable, shared by
/// every subtask of the node.
class MapProgram {
 public:
  struct Projection {
    std::string name;
    ExpressionPtr expression;
  };

  /// Compiles and type-checks `options` against the input. Errors are one line
  /// and name the option: "filter: at column 9: unknown field 'auctoin' (...)",
  /// "filter: must be a bool expression, got int64", "select 'x': ...",
  /// "event_time: ...".
  static Result<std::shared_ptr<const MapProgram>> compile(const SchemaPtr& inputSchema, int inputEventTimeIndex,
                                                           const MapOptions& options);

  const SchemaPtr& outputSchema() const { return outputSchema_; }
  int outputEventTimeIndex() const { return outputEventTimeIndex_; }

  /// Filters then projects `batch`. Bare field references share the input's
  /// columns without copying. The result may have no rows.
  Result<RecordBatch> apply(const RecordBatch& batch) const;

 private:
  MapProgram() = default;
  Result<RecordBatch> project(const RecordBatch& batch) const;

  ExpressionPtr filter_;
  std::vector<Projection> projections_;  // empty: identity
  bool onlyFieldReferences_ = true;
  SchemaPtr outputSchema_;
  int outputEventTimeIndex_ = -1;
};

/// Applies a MapProgram to every batch and forwards watermarks. Stateless
/// apart from the shared program; one instance per subtask.
class MapOperator final : public Operator {
 public:
  explicit MapOperator(std::shared_ptr<const MapProgram> program) : program_(std::move(program)) {}

  Status processBatch(int input, const RecordBatch& batch, Output& out) override;

 private:
  std::shared_ptr<const MapProgram> program_;
};

}  // namespace sluice
