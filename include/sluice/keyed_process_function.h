// KeyedProcessFunction: user code run by the keyed process operator (`type:
// process`), with per-key state, event- and processing-time timers and side
// outputs, as Flink's KeyedProcessFunction made batch-friendly.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "runtime/base/result.h"
#include "runtime/data/record_batch.h"
#include "runtime/state/typed_state.h"
#include "runtime/task/operator.h"

namespace sluice {

/// Which clock a timer follows.
enum class TimeDomain { kEventTime, kProcessingTime };

/// A read-only view of one row of a batch; valid while the batch is. The
/// accessors take a column index (look names up once, in open, with
/// `Schema::indexOf`) and REQUIRE the column's type to match.
class RowView {
 public:
  RowView(const RecordBatch& batch, int64_t row) : batch_(&batch), row_(row) {}

  const RecordBatch& batch() const { return *batch_; }
  int64_t index() const { return row_; }
  const Schema& schema() const { return *batch_->schema(); }

  bool isNull(int column) const { return batch_->column(column)->isNull(row_); }
  /// int64 and timestamp columns.
  int64_t int64(int column) const { return batch_->column(column)->int64s()[row_]; }
  uint64_t uint64(int column) const { return batch_->column(column)->uint64s()[row_]; }
  double float64(int column) const { return batch_->column(column)->float64s()[row_]; }
  bool boolean(int column) const { return batch_->column(column)->boolAt(row_); }
  std::string_view string(int column) const { return batch_->column(column)->stringAt(row_); }
  /// The row's event time. REQUIRES: batch().eventTimeIndex() >= 0.
  int64_t eventTime() const { return batch_->eventTimes()[row_]; }

 private:
  const RecordBatch* batch_;
  int64_t row_;
};

/// Rows for one output stream (the main output or one side output) of the
/// function's declared schema. Rows are buffered and emitted as batches when
/// the current call returns (or the buffer is full). Implemented by the engine.
class OutputRows {
 public:
  virtual ~OutputRows() = default;
  /// The schema the function declared for this output.
  virtual const SchemaPtr& schema() const = 0;
  /// Appends row `row` of `batch`, whose column types must equal this
  /// output's (int64 and timestamp count as equal); InvalidArgument otherwise.
  virtual Status append(const RecordBatch& batch, int64_t row) = 0;
  /// Appends the rows `rows` of `batch` (same condition).
  virtual Status append(const RecordBatch& batch, std::span<const int32_t> rows) = 0;
  /// Appends a row stored with ProcessContext::encodeRow. REQUIRES: this
  /// output's column types equal the input's.
  virtual Status appendEncoded(std::string_view encodedRow) = 0;
  /// For building a row value by value: append exactly one value (or null) to
  /// every column, then call endRow(), which checks that.
  virtual ColumnBuilder& column(int index) = 0;
  virtual Status endRow() = 0;
};

/// Where a function sends rows. Only valid during the call it is passed to.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual OutputRows& main() = 0;
  /// The side output `tag` the function declared (ProcessFunctionPlan::sideOutputs);
  /// InvalidArgument for an undeclared tag.
  virtual Result<OutputRows*> side(std::string_view tag) = 0;

  /// Appends `row` to the main output.
  Status collect(const RowView& row) { return main().append(row.batch(), row.index()); }
  /// Appends `row` to the side output `tag`.
  Status side(std::string_view tag, const RowView& row) {
    SLUICE_ASSIGN_OR_RETURN(OutputRows * rows, side(tag));
    return rows->append(row.batch(), row.index());
  }
};

/// What a function may consult and change: the current key, keyed state,
/// timers and time. Implemented by the engine; one instance per subtask, the
/// same from open() to close(), used from the task thread only.
class ProcessContext {
 public:
  virtual ~ProcessContext() = default;

  /// Node id, subtask index, parallelism, ...
  virtual const OperatorContext& operatorContext() const = 0;
  /// The schema of the input rows.
  virtual const SchemaPtr& inputSchema() const = 0;

  /// The current key as bytes (the `serializeKey` encoding of the key_by
  /// fields); set during processKey/processElement and onTimer.
  virtual std::string_view currentKey() const = 0;
  /// The current key's field values as a one-row view (fields named and typed
  /// as the key_by fields of the input).
  virtual RowView currentKeyRow() = 0;

  /// Keyed state of this subtask; typed state created on it (in open) reads
  /// and writes the current key's entries. Prefer the helpers below.
  virtual KeyedStateBackend& stateBackend() = 0;
  virtual const KeyContext& keyContext() const = 0;

  /// Creates (or, after a restore, finds) a named value state. Call in open().
  template <typename T>
  Result<ValueState<T>> valueState(std::string name, std::optional<std::chrono::milliseconds> ttl = {}) {
    return ValueState<T>::create(stateBackend(), keyContext(), std::move(name), ttl);
  }
  template <typename T>
  Result<ListState<T>> listState(std::string name, std::optional<std::chrono::milliseconds> ttl = {}) {
    return ListState<T>::create(stateBackend(), keyContext(), std::move(name), ttl);
  }
  template <typename K, typename V>
  Result<MapState<K, V>> mapState(std::string name, std::optional<std::chrono::milliseconds> ttl = {}) {
    return MapState<K, V>::create(stateBackend(), keyContext(), std::move(name), ttl);
  }

  /// The last watermark the operator received (kMinWatermark before the first).
  virtual int64_t currentWatermark() const = 0;
  /// Epoch milliseconds.
  virtual int64_t currentProcessingTime() const = 0;

  /// Timers of the current key. A timer is a (key, time, domain) triple:
  /// registering it again is a no-op. Event-time timers fire, in timestamp
  /// order, when the watermark reaches their time (a timer at or before the
  /// current watermark fires with the next watermark). Timers are kept in keyed
  /// state, so they survive checkpoints and move with their key on rescaling.
  virtual Status registerEventTimeTimer(int64_t timestamp) = 0;
  virtual Status deleteEventTimeTimer(int64_t timestamp) = 0;
  /// Processing-time timers fire when the operator next runs (a batch or a
  /// watermark arrives) at or after their time; pending ones do not fire at
  /// the end of a bounded input.
  virtual Status registerProcessingTimeTimer(int64_t timestamp) = 0;
  virtual Status deleteProcessingTimeTimer(int64_t timestamp) = 0;

  /// Self-contained bytes of an input row, to keep rows in state (e.g. a
  /// ListState<std::string>); OutputRows::appendEncoded writes them back.
  virtual std::string encodeRow(const RowView& row) const = 0;
};

/// User code for one keyed stream. One instance per subtask, created by the
/// factory in ProcessFunctionPlan; called from the task thread only.
///
/// Lifecycle: open → (processKey | onTimer)* → close. Before every processKey
/// and onTimer call the context's current key is set, so state reads and
/// writes address that key. Exceptions thrown from these methods fail the
/// task like a non-OK Status.
class KeyedProcessFunction {
 public:
  virtual ~KeyedProcessFunction() = default;

  /// Create state handles (context.valueState<...>(...)) here.
  virtual Status open(ProcessContext& context) {
    (void)context;
    return Status::OK();
  }

  /// All rows of one key from one batch, in arrival order: the batch-friendly
  /// entry point (touch the key's state once). The default calls
  /// processElement for every row.
  virtual Status processKey(const RecordBatch& batch, std::span<const int32_t> rows, ProcessContext& context,
                            Collector& out) {
    for (int32_t row : rows) SLUICE_RETURN_NOT_OK(processElement(RowView(batch, row), context, out));
    return Status::OK();
  }

  /// One row; override this or processKey.
  virtual Status processElement(const RowView& row, ProcessContext& context, Collector& out) {
    (void)row;
    (void)context;
    (void)out;
    return Status::internal("this keyed process function overrides neither processKey nor processElement");
  }

  /// A timer of the current key fired; `timestamp` is the time it was registered for.
  virtual Status onTimer(int64_t timestamp, TimeDomain domain, ProcessContext& context, Collector& out) {
    (void)timestamp;
    (void)domain;
    (void)context;
    (void)out;
    return Status::OK();
  }

  virtual Status close() { return Status::OK(); }
};

}  // namespace sluice
