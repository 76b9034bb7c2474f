// JoinSideState: the rows one join input has buffered, as map state in the
// keyed state backend.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/base/result.h"
#include "runtime/state/keyed_state_backend.h"

namespace sluice {

/// The buffered rows of one side of a join. Per join key, a map from
/// (8-byte ordered time, encoded row) to a multiplicity (varint), so that equal
/// rows share one entry and entries can be visited in time order and removed
/// one by one. "Time" is the row's event time for regular and interval joins
/// and the window start for window joins.
///
/// Thread-safety: the owning task thread only, like the backend.
class JoinSideState {
 public:
  /// Registers (or, after a restore, finds) map state `name`; `ttl` makes
  /// entries expire that long after their last write (processing time).
  static Result<JoinSideState> create(KeyedStateBackend& backend, const std::string& name,
                                      std::optional<std::chrono::milliseconds> ttl);

  /// Visits the entries of `key` in time order until the visitor returns false.
  /// The views are valid during the call only.
  using Visitor = std::function<bool(int64_t time, std::string_view row, int64_t count)>;
  Status scan(int keyGroup, std::string_view key, const Visitor& visit);

  /// Adds `count` copies of `row` at `time`; with `distinct`, the entry's
  /// multiplicity stays 1.
  Status add(int keyGroup, std::string_view key, int64_t time, std::string_view row, int64_t count, bool distinct);

  /// Sets the multiplicity of `row` at `time` to `count` (no read).
  Status put(int keyGroup, std::string_view key, int64_t time, std::string_view row, int64_t count);

  /// Removes the entry (all copies) of `row` at `time`.
  Status remove(int keyGroup, std::string_view key, int64_t time, std::string_view row);

  /// Visits every entry of the owned key groups (to rebuild cleanup indexes).
  using EntryVisitor = std::function<void(int keyGroup, std::string_view key, int64_t time)>;
  Status scanAll(const EntryVisitor& visit);

 private:
  JoinSideState(KeyedStateBackend* backend, int state) : backend_(backend), state_(state) {}
  static void entryKey(int64_t time, std::string_view row, std::string& out);

  KeyedStateBackend* backend_;
  int state_;
  std::string scratch_;
};

}  // namespace sluice
