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
/// copy with `distinct`). The set of pending (window, key) pairs is kept in
/// memory and rebuilt from the backend in open(); everything else is written
/// through, so snapshotState adds nothing. REQUIRES: keyedStateBackend.
/// Thread-safety: the task thread only.
class WindowJoinOperator final : public Operator {
 public:
  explicit WindowJoinOperator(std::shared_ptr<const JoinPlan> plan);

  Status open(const OperatorContext& context) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status processWatermark(int64_t timestamp, Output& out) override;

 private:
  /// The latest window start (a multiple of the slide) at or before `time`.
  int64_t lastWindowStart(int64_t time) const;
  bool windowFired(int64_t start) const;
  /// Joins and clears the window starting at `start` for every pending key.
  Status fireWindow(int64_t start, const std::set<std::pair<int, std::string>>& keys, Output& out);

  std::shared_ptr<const JoinPlan> plan_;
  int64_t size_;
  int64_t slide_;
  int maxParallelism_ = 128;
  std::optional<JoinSideState> states_[2];
  int64_t watermark_ = kMinWatermark;
  /// Window start → (key group, key) with buffered rows in that window.
  std::map<int64_t, std::set<std::pair<int, std::string>>> pending_;
};

}  // namespace sluice
