// Aggregate functions for window aggregation: the batch-oriented interface a
// (built-in or plugin) aggregate implements, and the registry that names them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/data/column_builder.h"

namespace sluice::window {

/// What an aggregate reads from one batch: its evaluated argument column (null
/// for argument-less aggregates such as `count()`) and the rows' event times.
struct AggregateInput {
  const Column* argument = nullptr;
  const int64_t* eventTimes = nullptr;
};

/// An aggregate over a group of rows, Flink's AggregateFunction made
/// batch-oriented: `add` receives all rows of one group of one batch at once,
/// so the operator makes one virtual call per (group, batch, aggregate), never
/// one per row. The accumulator is an opaque byte string the function owns the
/// format of; the operator stores it in keyed state, so it must be
/// self-contained (no pointers) and stable across restarts of the same build.
///
/// Arrival order: `add` sees rows in arrival order, and `merge(accumulator,
/// other)` is always called with `other` holding rows that arrived after those of
/// `accumulator` where that order matters (order-sensitive aggregates such as
/// first/last break event-time ties by arrival).
///
/// Thread-safety: instances are immutable after creation and shared by every
/// subtask; all methods are const and may be called concurrently.
class AggregateFunction {
 public:
  virtual ~AggregateFunction() = default;
  /// Type of the result column.
  virtual DataType resultType() const = 0;
  /// Sets `accumulator` to the empty accumulator (no rows).
  virtual void createAccumulator(std::string& accumulator) const = 0;
  /// Adds rows `rows` (indices into the batch) of `input` to `accumulator`.
  virtual void add(std::string& accumulator, const AggregateInput& input, std::span<const int32_t> rows) const = 0;
  /// Folds `other` (rows that arrived later) into `accumulator`.
  virtual void merge(std::string& accumulator, std::string_view other) const = 0;
  /// Appends the result of `accumulator` to `out` (of resultType(); may append null).
  virtual void getResult(std::string_view accumulator, ColumnBuilder& out) const = 0;
};

using AggregateFunctionPtr = std::shared_ptr<const AggregateFunction>;

/// Creates an aggregate for an argument type (nullopt: called without argument,
/// as `count()`). Errors say what argument the aggregate needs.
using AggregateFactory = std::function<Result<AggregateFunctionPtr>(std::optional<DataType> argumentType)>;

/// Aggregates by name. The built-ins (count, sum, min, max, avg,
/// count_distinct, first, last) are registered on first use of instance();
/// plugins add their own with registerAggregate.
///
/// Thread-safe: registration and lookups may happen from any thread.
/// Registering a name again replaces it.
class AggregateRegistry {
 public:
  static AggregateRegistry& instance();

  void registerAggregate(const std::string& name, AggregateFactory factory);
  /// The aggregate `name` for `argumentType`; errors name the aggregate and
  /// list the known ones.
  Result<AggregateFunctionPtr> create(const std::string& name, std::optional<DataType> argumentType) const;
  std::vector<std::string> names() const;

 private:
  AggregateRegistry();
  mutable std::mutex mutex_;
  std::map<std::string, AggregateFactory> factories_;
};

/// A list of accumulators (one per aggregate of a node) as one byte string:
/// each accumulator length-prefixed, in aggregate order.
std::string encodeAccumulators(const std::vector<std::string>& accumulators);
/// Splits what encodeAccumulators wrote into `accumulators` (resized to
/// `count`); Corruption when malformed.
Status decodeAccumulators(std::string_view encoded, size_t count, std::vector<std::string>& accumulators);

}  // namespace sluice::window
