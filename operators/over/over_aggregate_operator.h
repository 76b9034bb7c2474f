// `type: over`: per key and per row, aggregates over the look-back window
// (t - W, t] of that key's rows (the current one included), for several
// windows at once. The compiled program and the per-subtask operator.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operators/over/event_time_sort_buffer.h"
#include "operators/over/over_history.h"
#include "operators/window/row_groups.h"
#include "operators/window/window_state_store.h"
#include "runtime/expr/expression.h"
#include "runtime/task/operator.h"

namespace sluice::over {

/// How rows of one key with equal event time see each other.
enum class OverTies {
  /// All rows with the same t are in each other's windows and get the same
  /// results (SQL's RANGE frame: the window (t - W, t] holds every peer).
  kPeers,
  /// Rows are processed one by one in (t, order_by tie-breaks, arrival) order;
  /// each sees the rows processed before it plus itself (the payment spec's
  /// sequential reference semantics).
  kSequential,
};

/// One aggregate of an over node as written in the job file.
struct OverAggregateSpec {
  std::string name;      // output field
  std::string function;  // count | sum | min | max | count_distinct
  std::string argument;  // expression; empty for count of rows
  std::string filter;    // bool expression; empty for all rows
  int64_t window = 0;    // W in milliseconds, > 0
};

/// What an over node asks for (parsed from YAML by the factory).
struct OverOptions {
  std::vector<std::string> keyBy;    // empty: one global history (parallelism 1)
  std::vector<std::string> orderBy;  // empty, or the event-time field then tie-break fields
  OverTies ties = OverTies::kPeers;
  std::vector<OverAggregateSpec> aggregates;
};

/// An over aggregation compiled against its input stream. Immutable; shared by
/// every subtask. Output schema: the input fields, then one field per
/// aggregate in the order written (count/count_distinct int64; sum the
/// argument's type; min/max the argument's type). Event time as the input's.
class OverProgram {
 public:
  /// Errors are one line without the node prefix (the factory adds it).
  static Result<std::shared_ptr<const OverProgram>> compile(const SchemaPtr& input, int eventTimeIndex,
                                                            const OverOptions& options);

  const SchemaPtr& inputSchema() const { return inputSchema_; }
  const SchemaPtr& outputSchema() const { return outputSchema_; }
  int eventTimeIndex() const { return eventTimeIndex_; }
  bool keyed() const { return !keyColumns_.empty(); }
  const std::vector<int>& keyColumns() const { return keyColumns_; }
  const std::vector<int>& tieBreakColumns() const { return tieBreakColumns_; }
  OverTies ties() const { return ties_; }
  const OverLayout& layout() const { return layout_; }
  /// Per layout input: the argument (null for count of rows) and the filter (null for none).
  const std::vector<ExpressionPtr>& arguments() const { return arguments_; }
  const std::vector<ExpressionPtr>& filters() const { return filters_; }

 private:
  SchemaPtr inputSchema_;
  SchemaPtr outputSchema_;
  int eventTimeIndex_ = -1;
  std::vector<int> keyColumns_;
  std::vector<int> tieBreakColumns_;
  OverTies ties_ = OverTies::kPeers;
  OverLayout layout_;
  std::vector<ExpressionPtr> arguments_;
  std::vector<ExpressionPtr> filters_;
};

/// One subtask of an over aggregation (Flink's event-time bounded OVER with a
/// RANGE frame, plus the sequential tie mode).
///
/// Rows with event time <= the watermark on arrival are late and go to side
/// output "late" unchanged. Other rows wait in an EventTimeSortBuffer; on
/// watermark W the rows with event time <= W are taken out in order, grouped by
/// key (each key's state is read and written once per chunk), processed in
/// order, and emitted as the input row plus the aggregates. Output batches are
/// sorted by (event time, tie-breaks, arrival).
///
/// State: value state "over-history" per key (OverHistory: the rows of the
/// largest window and each aggregate's running count/sum); entries at or
/// before t - W of the largest W are evicted when the key gets a row, and a
/// sweep once per largest-window of event time drops keys idle for longer
/// than it. Value state "over-buffer": the pending rows, written at
/// snapshotState. Keyed: both in the keyed backend; global: in memory and the
/// operator snapshot blob "over-state".
/// Thread-safety: one task thread (the operator contract).
class OverAggregateOperator final : public Operator {
 public:
  explicit OverAggregateOperator(std::shared_ptr<const OverProgram> program);

  Status restoreState(const OperatorSnapshot& snapshot) override;
  Status open(const OperatorContext& context) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status processWatermark(int64_t timestamp, Output& out) override;
  Status snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) override;

 private:
  Status processChunk(const RecordBatch& chunk, Output& out);
  Status evaluateInputs(const RecordBatch& chunk);
  Status sweepIdleKeys();

  std::shared_ptr<const OverProgram> program_;
  EventTimeSortBuffer buffer_;
  int maxParallelism_ = 128;
  std::string nodeId_;
  std::unique_ptr<window::WindowStateStore> store_;
  window::MemoryStateStore* memoryStore_ = nullptr;  // store_ when not keyed
  std::optional<std::string> restoredBlob_;
  int historyState_ = -1;
  int bufferState_ = -1;
  int64_t watermark_ = kMinWatermark;
  std::optional<int64_t> lastSweep_;

  // Per-chunk scratch, reused.
  OverHistory history_;
  OverInputs inputs_;
  window::RowGroups groups_;
  std::string scratch_;
  std::string encoded_;
  std::vector<OverResults> results_;
};

}  // namespace sluice::over
