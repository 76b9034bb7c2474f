// JoinPlan: the validated, compiled form of a join node's options (keys, the
// columns each side keeps, the output columns) shared by every subtask.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/data/record_batch.h"
#include "runtime/job/node_factory.h"

namespace sluice {

enum class JoinKind { kRegular, kInterval, kWindow };

/// "join", "interval_join" or "window_join".
std::string_view joinKindName(JoinKind kind);

inline constexpr int kLeftSide = 0;
inline constexpr int kRightSide = 1;

/// A join node's options as written in the job file (see README.md).
struct JoinOptions {
  JoinKind kind = JoinKind::kRegular;
  std::vector<std::string> leftKeys;
  std::vector<std::string> rightKeys;
  /// Output name → reference (`left.x`, `right.y`, an alias-qualified name, an
  /// unqualified field name found on one side only, or a pseudo column:
  /// `event_time`, and for window joins `window_start` / `window_end`).
  std::vector<std::pair<std::string, std::string>> select;
  /// Prefixes usable instead of `left` / `right` in references.
  std::array<std::string, 2> aliases;
  /// Regular join: state retention of a buffered row after its last write.
  std::optional<std::chrono::milliseconds> ttl;
  /// Interval join: left.t BETWEEN right.t + lower AND right.t + upper.
  int64_t lower = 0;
  int64_t upper = 0;
  /// Window join: size and slide (equal for tumbling windows).
  int64_t windowSize = 0;
  int64_t windowSlide = 0;
  /// Window join: keep one copy of equal buffered rows per key and window.
  std::array<bool, 2> distinct = {false, false};
};

/// One input of a join after planning.
struct JoinSide {
  SchemaPtr inputSchema;
  int eventTimeIndex = -1;
  std::vector<int> keyColumns;
  /// The input columns this side buffers, in stored order: only those the
  /// output needs (the key is the state key and the time is the entry's prefix).
  std::vector<int> storedColumns;
  SchemaPtr storedSchema;
  bool distinct = false;
};

/// Where an output column's values come from.
enum class JoinValue { kLeft, kRight, kEventTime, kWindowStart, kWindowEnd };

struct JoinOutputColumn {
  JoinValue value = JoinValue::kLeft;
  int storedIndex = -1;  // for kLeft / kRight: index into that side's storedColumns
};

/// Matched pairs to assemble into output rows: indexes into a left and a right
/// row set (stored layout), each pair's output event time and window start.
struct JoinMatches {
  std::vector<int32_t> leftRows;
  std::vector<int32_t> rightRows;
  std::vector<int64_t> eventTimes;
  std::vector<int64_t> windowStarts;

  size_t size() const { return leftRows.size(); }
  void add(int32_t left, int32_t right, int64_t eventTime, int64_t windowStart) {
    leftRows.push_back(left);
    rightRows.push_back(right);
    eventTimes.push_back(eventTime);
    windowStarts.push_back(windowStart);
  }
  void clear() { *this = JoinMatches(); }
};

/// Immutable after `make`; shared by the operator instances of a node.
class JoinPlan {
 public:
  /// Validates `options` against the two inputs. Errors are one line naming
  /// the option, e.g. "on: key types differ: left 'seller' is int64, right
  /// 'name' is string" or "select 'id': ambiguous, write left.id or right.id".
  static Result<std::shared_ptr<const JoinPlan>> make(const JoinOptions& options, const StreamInfo& left,
                                                      const StreamInfo& right);

  const JoinOptions& options() const { return options_; }
  JoinKind kind() const { return options_.kind; }
  const JoinSide& side(int index) const { return sides_[index]; }
  const SchemaPtr& outputSchema() const { return outputSchema_; }
  int outputEventTimeIndex() const { return outputEventTimeIndex_; }

  /// The stored columns of an input batch of side `side` (shares columns).
  RecordBatch project(int side, const RecordBatch& batch) const;

  /// Output rows for `matches`, rows taken from `leftRows` / `rightRows`
  /// (both in the stored layout of their side).
  RecordBatch assemble(const RecordBatch& leftRows, const RecordBatch& rightRows, const JoinMatches& matches) const;

 private:
  JoinPlan() = default;

  JoinOptions options_;
  std::array<JoinSide, 2> sides_;
  std::vector<JoinOutputColumn> outputColumns_;
  SchemaPtr outputSchema_;
  int outputEventTimeIndex_ = -1;
};

}  // namespace sluice
