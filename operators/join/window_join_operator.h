// WindowJoinOperator: joins rows of two keyed streams that fall into the same
// tumbling or hopping event-time window, when the watermark closes the window.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "operators/join/join_plan.h"
#include "operators/join/join_side_state.h"
#include "runtime/task/operator.h"

namespace sluice {

/// Flink's window join: both inputs are assigned to windows of their event
/// time ([start, start + size), starts at multiples of the slide); rows of
/// equal key in the same window join when the watermark reaches end - 1, then
/// that window's state is dropped. A row whose windows have all fired is late
/// and dropped. Output event time is window end - 1.
///
/// State: per side and key, map entries (window start, row) → copies (one
/// copy with `distinct`) in the keyed backend. Rows are buffered in memory
/// (write-behind): snapshotState writes the rows added since the last snapshot,
/// and firing a window joins its rows from memory, reading the backend only for
/// (window, key) pairs whose rows live there (restored in open(), or written
/// out when more than `maxBufferedRows` rows were buffered); rows of such pairs
/// are written through. The pending (window, key) index is rebuilt from the
/// backend in open(). REQUIRES: keyedStateBackend.
/// Thread-safety: the task thread only.
class WindowJoinOperator final : public Operator {
 public:
  /// Default bound of the rows buffered in memory.
  static constexpr size_t kDefaultMaxBufferedRows = size_t{1} << 20;

  explicit WindowJoinOperator(std::shared_ptr<const JoinPlan> plan, size_t maxBufferedRows = kDefaultMaxBufferedRows);

  Status open(const OperatorContext& context) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status processWatermark(int64_t timestamp, Output& out) override;
  Status snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) override;

 private:
  /// One distinct buffered row of one side (after normalize; before, equal rows may repeat).
  struct BufferedRow {
    std::string bytes;
    int64_t count = 0;
    bool dirty = false;      // the backend does not hold this count yet
    bool persisted = false;  // the backend holds an entry for this row
  };
  /// The rows of one (window, key).
  struct WindowKeyRows {
    bool stored = false;  // the rows live in the backend (written through), not in `rows`
    bool dirty = false;   // some row is dirty
    std::vector<BufferedRow> rows[2];
  };
  using WindowKeys = std::map<std::pair<int, std::string>, WindowKeyRows>;

  /// Sorts `rows` by bytes (the backend's order) and merges equal ones.
  static void normalize(std::vector<BufferedRow>& rows, bool distinct);
  /// Writes the dirty rows of (window `start`, `keyGroup`, `key`) to the backend.
  Status writeRows(int64_t start, int keyGroup, std::string_view key, WindowKeyRows& entry);
  /// Writes every buffered row to the backend and drops them from memory.
  Status evictAll();
  /// The latest window start (a multiple of the slide) at or before `time`.
  int64_t lastWindowStart(int64_t time) const;
  bool windowFired(int64_t start) const;
  /// Joins and clears the window starting at `start` for every pending key.
  Status fireWindow(int64_t start, WindowKeys& keys, Output& out);

  std::shared_ptr<const JoinPlan> plan_;
  int64_t size_;
  int64_t slide_;
  int maxParallelism_ = 128;
  std::optional<JoinSideState> states_[2];
  int64_t watermark_ = kMinWatermark;
  size_t maxBufferedRows_;
  size_t bufferedRows_ = 0;
  /// Window start → (key group, key) with buffered rows in that window.
  std::map<int64_t, WindowKeys> pending_;
};

}  // namespace sluice
