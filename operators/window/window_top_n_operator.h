// Window top-N: the best rows per window (and partition) by an ordering, with
// or without ties, emitted when the watermark closes the window.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operators/window/row_codec.h"
#include "operators/window/row_groups.h"
#include "operators/window/window_assigner.h"
#include "operators/window/window_state_store.h"
#include "operators/window/window_timer_service.h"
#include "runtime/task/operator.h"

namespace sluice::window {

/// What a window_top_n node asks for (parsed from YAML by the factory).
struct WindowTopNOptions {
  std::vector<std::string> partitionBy;
  /// (field, descending) in priority order.
  std::vector<std::pair<std::string, bool>> orderBy;
  int64_t limit = 1;
  bool withTies = true;
  /// Set: assign tumbling/hopping windows from event time; unset: read the
  /// input's `window_start`/`window_end` columns (the output of a window node).
  std::optional<WindowSpec> window;
};

/// A window top-N compiled against its input stream; immutable and shared by
/// every subtask.
///
/// Ranking: rows of one (partition, window) are ordered by `orderBy` (nulls
/// first ascending, last descending). With ties, every row whose order values
/// equal those of the limit-th row is kept too (SQL's RANK() <= limit);
/// without, the first `limit` rows in that order, ties broken by arrival.
///
/// Output: the input rows unchanged (reading bounds from the input), or the
/// input fields plus `window_start`, `window_end`, `window_time` (assigning
/// windows; event time = window_time = window_end - 1), in rank order per window.
class WindowTopNProgram {
 public:
  static Result<std::shared_ptr<const WindowTopNProgram>> compile(const SchemaPtr& input, int eventTimeIndex,
                                                                  const WindowTopNOptions& options);

  const SchemaPtr& outputSchema() const { return outputSchema_; }
  int outputEventTimeIndex() const { return outputEventTimeIndex_; }
  /// Columns the input must be hash-partitioned by; empty for a global node.
  const std::vector<int>& hashColumns() const { return hashColumns_; }
  bool keyed() const { return !hashColumns_.empty(); }
  bool assignsWindows() const { return window_.has_value(); }

 private:
  friend class WindowTopNOperator;
  SchemaPtr inputSchema_;
  SchemaPtr outputSchema_;
  int inputEventTimeIndex_ = -1;
  int outputEventTimeIndex_ = -1;
  std::vector<int> allColumns_;
  std::vector<DataType> inputTypes_;
  std::vector<int> partitionColumns_;
  std::vector<int> hashColumns_;
  std::vector<SortField> sortFields_;
  int64_t limit_ = 1;
  bool withTies_ = true;
  std::optional<WindowSpec> window_;
  int windowStartColumn_ = -1;
  int windowEndColumn_ = -1;
};

/// One subtask of a window top-N. State (keyed backend when keyed, else memory
/// plus the snapshot blob "window-state"): value state "top-n-candidates":
/// group key (partition values, window start, window end) → the retained rows
/// with their sort keys; timers as WindowTimerService. Rows of windows already
/// closed by the watermark (end - 1 <= watermark) go to side output "late".
/// Thread-safety: one task thread (the operator contract).
class WindowTopNOperator final : public Operator {
 public:
  explicit WindowTopNOperator(std::shared_ptr<const WindowTopNProgram> program);

  Status restoreState(const OperatorSnapshot& snapshot) override;
  Status open(const OperatorContext& context) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status processWatermark(int64_t timestamp, Output& out) override;
  Status snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) override;

 private:
  struct Candidate {
    std::string_view sortKey;
    std::string_view row;  // encoded row, or empty with batchRow >= 0
    int32_t batchRow = -1;
  };
  /// Sorts `candidates` (stable) and truncates them to the retained ones.
  void selectTop(std::vector<Candidate>& candidates);
  Status fire(const WindowTimer& timer);

  std::shared_ptr<const WindowTopNProgram> program_;
  int maxParallelism_ = 128;
  std::unique_ptr<WindowStateStore> store_;
  MemoryStateStore* memoryStore_ = nullptr;
  std::optional<std::string> restoredBlob_;
  WindowTimerService timers_;
  int candidatesState_ = -1;
  int64_t watermark_ = kMinWatermark;

  RowGroups groups_;
  std::string scratch_;
  std::string sortKeys_;
  std::vector<uint32_t> sortKeyOffsets_;
  std::vector<std::string_view> thresholdKeys_;
  std::unique_ptr<RecordBatchBuilder> output_;
  std::vector<ColumnBuilder*> rowBuilders_;
};

}  // namespace sluice::window
