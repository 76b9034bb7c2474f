// `type: sort`: emits a stream in event-time order (with optional tie-break
// columns) once the watermark passes each row; late rows go to side output `late`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operators/over/event_time_sort_buffer.h"
#include "operators/window/window_state_store.h"
#include "runtime/task/operator.h"

namespace sluice::over {

/// The side-output tag for rows that arrive behind the watermark.
inline constexpr std::string_view kLateTag = "late";
/// Sorted output is emitted in batches of about this many rows (equal event
/// times are never split across batches).
inline constexpr int64_t kSortedChunkRows = 4096;

/// What a sort node asks for (parsed from YAML by the factory).
struct SortOptions {
  std::vector<std::string> keyBy;    // empty: one global sorted stream (parallelism 1)
  std::vector<std::string> orderBy;  // empty, or the event-time field then tie-break fields
};

/// A sort compiled against its input stream. Immutable; shared by all subtasks.
/// The output stream is the input stream (same schema and event time).
class SortProgram {
 public:
  /// Errors are one line without the node prefix (the factory adds it).
  static Result<std::shared_ptr<const SortProgram>> compile(const SchemaPtr& input, int eventTimeIndex,
                                                            const SortOptions& options);

  const SchemaPtr& schema() const { return schema_; }
  int eventTimeIndex() const { return eventTimeIndex_; }
  bool keyed() const { return !keyColumns_.empty(); }
  const std::vector<int>& keyColumns() const { return keyColumns_; }
  const std::vector<int>& tieBreakColumns() const { return tieBreakColumns_; }

 private:
  SchemaPtr schema_;
  int eventTimeIndex_ = -1;
  std::vector<int> keyColumns_;
  std::vector<int> tieBreakColumns_;
};

/// One subtask of a sort (Flink's event-time sort behind the watermark).
///
/// A row with event time <= the current watermark on arrival is late (Flink's
/// rule) and goes to side output "late" unchanged. Other rows wait in an
/// EventTimeSortBuffer; on watermark W every buffered row with event time <= W
/// is emitted in (event time, tie-break columns, arrival) order, then W is
/// forwarded. Every output batch is sorted, and batches follow each other in
/// order, so a subtask's whole output is sorted.
///
/// State: the pending rows live in memory and are written at each
/// snapshotState into value state "sort-buffer" (per key when keyed, in the
/// keyed backend; else into the operator snapshot blob "sort-state").
/// Thread-safety: one task thread (the operator contract).
class SortOperator final : public Operator {
 public:
  explicit SortOperator(std::shared_ptr<const SortProgram> program);

  Status restoreState(const OperatorSnapshot& snapshot) override;
  Status open(const OperatorContext& context) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status processWatermark(int64_t timestamp, Output& out) override;
  Status snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) override;

 private:
  std::shared_ptr<const SortProgram> program_;
  EventTimeSortBuffer buffer_;
  int maxParallelism_ = 128;
  std::unique_ptr<window::WindowStateStore> store_;
  window::MemoryStateStore* memoryStore_ = nullptr;  // store_ when not keyed
  std::optional<std::string> restoredBlob_;
  int bufferState_ = -1;
  int64_t watermark_ = kMinWatermark;
};

/// Splits `batch` into rows that are late (event time <= watermark) and the
/// rest; returns the late rows as a batch (0 rows when none) and fills `onTime`.
RecordBatch splitLateRows(const RecordBatch& batch, int64_t watermark, std::vector<int32_t>& onTime);

}  // namespace sluice::over
