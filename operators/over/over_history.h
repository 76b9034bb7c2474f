// OverHistory: one key's state of an over aggregation — the rows of the
// largest look-back window and every aggregate's incremental running value —
// with its byte encoding for the keyed state backend.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/data/record_batch.h"

namespace sluice::over {

enum class OverFunction { kCount, kSum, kMin, kMax, kCountDistinct };

/// Parses "count", "sum", "min", "max", "count_distinct".
std::optional<OverFunction> parseOverFunction(std::string_view name);

/// The shape of an over aggregation's state: its distinct inputs (argument and
/// filter pairs, shared by aggregates over different windows) and aggregates.
struct OverLayout {
  struct Input {
    bool hasValue = false;  // false: count of rows (only presence is kept)
    DataType type = DataType::kInt64;
  };
  struct Aggregate {
    std::string name;
    OverFunction function = OverFunction::kCount;
    int input = 0;
    int64_t window = 0;  // milliseconds, > 0
    DataType resultType = DataType::kInt64;
  };
  std::vector<Input> inputs;
  std::vector<Aggregate> aggregates;
  int64_t maxWindow = 0;
};

/// The evaluated inputs of one chunk of rows: per layout input, the value
/// column (null for count of rows) and the rows its filter keeps (empty: all).
struct OverInputs {
  std::vector<ColumnPtr> values;
  std::vector<std::vector<uint8_t>> keep;
};

/// One aggregate's results for the rows of a chunk, filled in any row order,
/// then frozen into a column in row order. Not thread-safe.
class OverResults {
 public:
  void reset(DataType type, int64_t rows);
  void setNull(int32_t row) { valid_[row] = 0; }
  void setBits(int32_t row, uint64_t bits) {
    bits_[row] = bits;
    valid_[row] = 1;
  }
  void setString(int32_t row, std::string_view value) {
    strings_[row].assign(value);
    valid_[row] = 1;
  }
  ColumnPtr finish();

 private:
  DataType type_ = DataType::kInt64;
  std::vector<uint64_t> bits_;
  std::vector<uint8_t> valid_;
  std::vector<std::string> strings_;
};

/// One key's over-window state. Each appended row is an entry (time plus, per
/// input, its value or "absent" when filtered out or null); each aggregate
/// keeps the first entry of its window and a running count and sum, plus a
/// per-value count map (count_distinct) or a monotonic deque (min/max) that
/// are rebuilt from the entries on decode. Entries before every window are
/// dropped by encode.
///
/// Rows must be appended in non-decreasing time. Floats: NaN counts as null
/// and -0.0 as 0.0; float sums are maintained incrementally (exactly
/// reproducible, though not always bit-equal to a fresh sum; reset to 0 when
/// the window holds no value). Integer sums wrap on overflow.
/// Not thread-safe; reused across keys with clear()/decode().
class OverHistory {
 public:
  OverHistory() = default;
  /// REQUIRES: `layout` outlives this object.
  explicit OverHistory(const OverLayout* layout);

  /// A key without history.
  void clear();
  /// Loads what encode wrote; Corruption when malformed or written for another layout.
  Status decode(std::string_view bytes);
  /// Writes the state, without the entries that no window holds any more.
  void encode(std::string& out) const;
  /// The time of the latest row, as stored in the first 8 bytes of encoded
  /// state (so sweeps need not decode); nullopt when the bytes are too short.
  static std::optional<int64_t> lastTimeOf(std::string_view bytes);

  /// Adds row `row` of the chunk `inputs` were evaluated on, at `time`.
  /// REQUIRES: time >= every earlier appended time.
  void append(int64_t time, const OverInputs& inputs, int32_t row);
  /// Moves every aggregate's window to (time - W, time].
  void advance(int64_t time);
  /// Writes every aggregate's current value as the results of `row`.
  void writeResults(std::vector<OverResults>& results, int32_t row) const;
  /// The number of entries held (for tests).
  int64_t numEntries() const { return static_cast<int64_t>(times_.size()); }

 private:
  struct Slot {
    std::vector<uint8_t> present;
    std::vector<uint64_t> bits;        // fixed-width values (bool as 0/1)
    std::vector<std::string> strings;  // string values
  };
  struct AggregateState {
    uint64_t start = 0;  // absolute number of the first entry in the window
    int64_t count = 0;   // rows (count of rows) or present values in the window
    uint64_t sum = 0;    // int64/uint64 sums (wrapping)
    double floatSum = 0;
    std::unordered_map<std::string, int64_t> distinct;
    std::deque<uint64_t> extremes;  // absolute entry numbers, min/max first
  };

  void track(size_t aggregate, uint64_t entry);
  void enter(size_t aggregate, uint64_t entry);
  void leave(size_t aggregate, uint64_t entry);
  bool present(int input, uint64_t entry) const { return slots_[input].present[entry - base_] != 0; }
  std::string distinctKey(int input, uint64_t entry) const;
  /// < 0, 0, > 0 as the values of `a` and `b` (both present) compare.
  int compareValues(int input, uint64_t a, uint64_t b) const;

  const OverLayout* layout_ = nullptr;
  uint64_t base_ = 0;  // absolute number of times_[0]
  int64_t lastTime_ = 0;
  std::vector<int64_t> times_;
  std::vector<Slot> slots_;
  std::vector<AggregateState> aggregates_;
};

}  // namespace sluice::over
