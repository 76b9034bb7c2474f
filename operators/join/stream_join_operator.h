// StreamJoinOperator: the regular (unbounded) inner join and the interval join
// of two keyed streams, buffering both sides in keyed map state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "operators/join/join_plan.h"
#include "operators/join/join_side_state.h"
#include "runtime/task/operator.h"

namespace sluice {

/// Joins input 0 (left) and input 1 (right) on equal keys, as Flink's regular
/// join and interval join. Each arriving batch is grouped by key; per key it
/// probes the other side's buffered rows once, emits the matches, then
/// buffers its own rows. So a pair matches exactly once, whichever side
/// arrives first.
///
/// - Regular join (`JoinKind::kRegular`): rows stay until the optional TTL
///   (processing time since the row's last write) expires them in the backend.
///   Output event time is max(left time, right time).
/// - Interval join (`JoinKind::kInterval`): a pair matches only if
///   right.t + lower <= left.t <= right.t + upper (inclusive). Rows older than
///   the watermark are late and dropped; a buffered row is removed as soon as
///   the watermark shows that no future row of the other side can match it.
///   The removal index (per side and key, the earliest removal time) is kept
///   in memory and rebuilt from the backend in open().
///
/// Everything is written through to the keyed backend, so snapshotState has
/// nothing of its own to add. REQUIRES: OperatorContext::keyedStateBackend.
/// Thread-safety: the task thread only.
class StreamJoinOperator final : public Operator {
 public:
  explicit StreamJoinOperator(std::shared_ptr<const JoinPlan> plan);

  Status open(const OperatorContext& context) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status processWatermark(int64_t timestamp, Output& out) override;

 private:
  bool isInterval() const { return plan_->kind() == JoinKind::kInterval; }
  /// Whether a left row at `leftTime` and a right row at `rightTime` match in time.
  bool timesMatch(int64_t leftTime, int64_t rightTime) const;
  /// The watermark after which a row of `side` at `time` can match no future row.
  int64_t removalTime(int side, int64_t time) const;
  void scheduleRemoval(int side, int keyGroup, const std::string& key, int64_t time);
  Status removeExpired(int64_t watermark);

  std::shared_ptr<const JoinPlan> plan_;
  int maxParallelism_ = 128;
  std::optional<JoinSideState> states_[2];
  int64_t watermark_ = kMinWatermark;
  /// Interval joins: (removal time, side, key group, key), one per side and key.
  std::set<std::tuple<int64_t, int, int, std::string>> removals_;
  std::map<std::tuple<int, int, std::string>, int64_t> removalOfKey_;
};

}  // namespace sluice
