// EventTimeSortBuffer: holds rows until the watermark passes them, then hands
// them out in (event time, tie-break columns, arrival) order; the building block
// of `type: sort` and of the over-window aggregate, reusable by other operators.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "operators/window/row_codec.h"
#include "operators/window/window_state_store.h"
#include "runtime/base/result.h"
#include "runtime/data/record_batch.h"

namespace sluice::over {

/// Buffers rows of one stream (schema with an event-time field) and releases
/// those with event time <= a watermark, sorted by
///   (event time, tieBreakColumns... ascending, nulls first, arrival order).
/// Rows are kept by reference to their (immutable) batches, not copied.
///
/// Checkpointing: `checkpoint` writes the pending rows into a WindowStateStore
/// value state, one entry per record key (so keyed state moves with its key
/// groups on rescale), and `load` reads them back after a restore. Between
/// checkpoints the rows live only in memory; their number is bounded by the
/// input rate times the watermark lag (the out-of-orderness).
///
/// Thread-safety: none; owned by one task thread.
class EventTimeSortBuffer {
 public:
  /// REQUIRES: schema has an event-time field at `eventTimeIndex` (int64 or
  /// timestamp) and every tie-break column is a valid field index.
  EventTimeSortBuffer(SchemaPtr schema, int eventTimeIndex, std::vector<int> tieBreakColumns);

  /// Buffers `rows` of `batch` (which must have the buffer's schema).
  void add(const RecordBatch& batch, const std::vector<int32_t>& rows);
  /// Buffers every row of `batch`.
  void add(const RecordBatch& batch);

  /// Removes and returns the buffered rows with event time <= `watermark`, in
  /// sort order, at most about `maxRows` of them: a chunk never splits rows of
  /// equal event time, so it may be longer. Returns a batch of 0 rows when
  /// nothing is due; call again until it does to drain everything due.
  RecordBatch release(int64_t watermark, int64_t maxRows);

  int64_t size() const { return static_cast<int64_t>(heap_.size()); }
  bool empty() const { return heap_.empty(); }
  /// The smallest buffered event time, if any.
  std::optional<int64_t> minTime() const;

  /// Writes every pending row into value state `state` of `store`, grouped by
  /// the record key over `keyColumns` (empty: one entry under the empty key,
  /// key group 0), and removes what an earlier checkpoint wrote for keys that
  /// have nothing pending any more. `maxParallelism` gives the key groups.
  Status checkpoint(window::WindowStateStore& store, int state, const std::vector<int>& keyColumns, int maxParallelism);
  /// Adds the rows a checkpoint wrote into `state` (e.g. after a restore).
  /// REQUIRES: before any add. Corruption when the bytes are malformed.
  Status load(window::WindowStateStore& store, int state);

 private:
  struct Entry {
    int64_t time;
    std::string tieKey;  // memcmp-comparable tie-break columns; empty without any
    uint64_t sequence;   // arrival order
    uint64_t batch;
    int32_t row;
  };
  /// Orders the heap so that the smallest (time, tieKey, sequence) is on top.
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.time != b.time) return a.time > b.time;
      if (a.tieKey != b.tieKey) return a.tieKey > b.tieKey;
      return a.sequence > b.sequence;
    }
  };
  struct Retained {
    RecordBatch batch;
    int64_t pending = 0;
  };
  void push(const RecordBatch& batch, uint64_t batchId, int32_t row, uint64_t sequence);
  uint64_t retain(const RecordBatch& batch, int64_t rows);
  void releaseRow(uint64_t batchId);

  SchemaPtr schema_;
  int eventTimeIndex_;
  std::vector<window::SortField> tieBreaks_;
  std::vector<int> allColumns_;
  std::vector<DataType> allTypes_;
  std::vector<Entry> heap_;
  std::unordered_map<uint64_t, Retained> batches_;
  uint64_t nextBatch_ = 0;
  uint64_t nextSequence_ = 0;
  /// (key group, key) entries written by the last checkpoint.
  std::set<std::pair<int, std::string>> checkpointed_;
};

}  // namespace sluice::over
