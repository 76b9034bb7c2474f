// Window aggregation (tumbling, hopping via slices, session) with allowed
// lateness and a `late` side output: the compiled program shared by all
// subtasks and the per-subtask operator.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "operators/window/aggregate_function.h"
#include "operators/window/row_groups.h"
#include "operators/window/stable_key_map.h"
#include "operators/window/window_assigner.h"
#include "operators/window/window_state_store.h"
#include "operators/window/window_timer_service.h"
#include "runtime/expr/expression.h"
#include "runtime/task/operator.h"

namespace sluice::window {

/// The side-output tag for records that arrive after their windows closed.
inline constexpr std::string_view kLateTag = "late";

/// One aggregate of a window node: output name and call text, e.g. {"total", "sum(price)"}.
struct AggregateCall {
  std::string name;
  std::string call;
};

/// What a window aggregate node asks for (parsed from YAML by the factory).
struct WindowAggregateOptions {
  std::vector<std::string> keyBy;  // empty: one global window stream
  WindowSpec window;
  int64_t allowedLateness = 0;  // milliseconds
  std::vector<AggregateCall> aggregates;
};

/// Splits "sum(price * 2)" into {"sum", "price * 2"}; "count()" and "count(*)"
/// give an empty argument. Errors describe the expected form.
Result<std::pair<std::string, std::string>> parseAggregateCall(const std::string& text);

/// A window aggregation compiled against its input stream. Immutable and
/// shared by every subtask.
///
/// Output schema: the key fields (same names and types), one field per
/// aggregate, then `window_start`, `window_end` and `window_time`
/// (timestamps; window_time = window_end - 1 is the event time of the row, as
/// Flink SQL's window_time).
class WindowAggregateProgram {
 public:
  struct Aggregate {
    std::string name;
    AggregateFunctionPtr function;
    ExpressionPtr argument;  // null for count()
  };

  /// Errors are one line without the node prefix (the factory adds it).
  static Result<std::shared_ptr<const WindowAggregateProgram>> compile(const SchemaPtr& input, int eventTimeIndex,
                                                                       const WindowAggregateOptions& options);

  const SchemaPtr& inputSchema() const { return inputSchema_; }
  const SchemaPtr& outputSchema() const { return outputSchema_; }
  int outputEventTimeIndex() const { return outputSchema_->numFields() - 1; }
  bool keyed() const { return !keyColumns_.empty(); }
  const std::vector<int>& keyColumns() const { return keyColumns_; }
  const std::vector<DataType>& keyTypes() const { return keyTypes_; }
  const WindowSpec& window() const { return window_; }
  int64_t allowedLateness() const { return allowedLateness_; }
  const std::vector<Aggregate>& aggregates() const { return aggregates_; }

 private:
  SchemaPtr inputSchema_;
  SchemaPtr outputSchema_;
  std::vector<int> keyColumns_;
  std::vector<DataType> keyTypes_;
  WindowSpec window_;
  int64_t allowedLateness_ = 0;
  std::vector<Aggregate> aggregates_;
};

/// One subtask of a window aggregation (Flink's WindowOperator with slicing).
///
/// State (in the keyed backend when the program is keyed, else in memory and
/// in the operator snapshot blob "window-state"):
/// - tumble/hop: map state "window-slices": key → (slice start → accumulators);
/// - session: value state "window-sessions": key → the key's open sessions;
/// - value state "window-progress": key group → the watermark up to which its
///   timers had fired. Timers (WindowTimerBuckets for slices, WindowTimerService
///   for sessions) are kept in memory only and rebuilt in open() from the
///   stored slices or sessions and this progress (timers an older checkpoint
///   holds in map state "window-timers" are loaded and removed from it).
///
/// Caching: each key's slices (tumble/hop) or open sessions are kept decoded
/// in a bounded in-memory cache in front of the store, indexed by key (at most
/// about `cacheCapacity` slices, or keys with sessions; beyond it about half
/// are written back and evicted, whole keys at a time), so a batch touches the
/// backend only for keys evicted or restored, and firing a window finds all of
/// a key's slices with one lookup. Timers are in memory, ordered by time (for
/// slices one bucket of keys per window end), so firing visits only due
/// windows. Dirty entries and timer changes are written to the store by
/// snapshotState, so the store holds the complete state when it returns.
///
/// Firing: a window [start, end) fires when the watermark reaches end - 1 and
/// its state is dropped when it reaches end - 1 + allowed lateness. A record
/// all of whose windows are past that point goes to side output "late"; a
/// record that lands in an already fired but not yet dropped window re-emits
/// that window's (updated) result once per batch.
/// Thread-safety: one task thread (the operator contract).
class WindowAggregateOperator final : public Operator {
 public:
  /// Default bound of the in-memory cache: slices (tumble/hop) or keys (sessions).
  static constexpr size_t kDefaultCacheCapacity = size_t{1} << 20;

  explicit WindowAggregateOperator(std::shared_ptr<const WindowAggregateProgram> program,
                                   size_t cacheCapacity = kDefaultCacheCapacity);

  Status restoreState(const OperatorSnapshot& snapshot) override;
  Status open(const OperatorContext& context) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status processWatermark(int64_t timestamp, Output& out) override;
  Status snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) override;

 private:
  struct Session {
    int64_t start = 0;
    int64_t end = 0;
    std::string accumulators;  // encodeAccumulators form
  };
  using WindowRef = std::tuple<int, std::string, int64_t>;  // key group, key, window end
  /// One slice of a cached key; its accumulators live in KeyEntry::accumulators.
  struct SliceState {
    int64_t start = 0;
    bool dirty = false;      // changed since last written to the store
    bool persisted = false;  // the store holds a (possibly older) copy
  };
  /// A key's slices, all of them (a key is loaded and evicted whole), sorted by
  /// start; slice i's accumulators are accumulators[i * n, (i + 1) * n) for n aggregates.
  struct KeyEntry {
    static constexpr size_t kClean = SIZE_MAX;
    int keyGroup = 0;
    std::vector<SliceState> slices;
    std::vector<std::string> accumulators;
    const std::string* key = nullptr;  // the cache's copy of the key (stable while the entry is cached)
    size_t dirtySlot = kClean;         // index in dirtyKeys_ while a slice is dirty
  };
  /// A key's cached open sessions (sorted by start).
  struct SessionEntry {
    int keyGroup = 0;
    bool dirty = false;
    bool persisted = false;
    std::vector<Session> sessions;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const { return std::hash<std::string_view>()(key); }
  };
  /// Cache key: the encoded record key. Entries stay in place while cached (dirtyKeys_ and KeyEntry::key
  /// point into them); hashes are RowGroups' (StableKeyMap::hashOf).
  using KeyCache = StableKeyMap<KeyEntry>;
  using SessionCache = StableKeyMap<SessionEntry>;

  Status evaluateArguments(const RecordBatch& batch);
  Status processSlicedBatch(const RecordBatch& batch, std::vector<uint8_t>& late, std::set<WindowRef>& refire);
  Status processSessionBatch(const RecordBatch& batch, std::vector<uint8_t>& late, std::set<WindowRef>& refire);
  /// Adds timers for the windows of new slice `entry.slices[index]` that no other slice of the key has.
  void registerSliceTimers(const KeyEntry& entry, size_t index, std::string_view key);
  /// The cached slices of `key` (whose hash is `hash`), loaded from the store when it may hold
  /// some; null when the key has none (an empty entry is created when `create`).
  Result<KeyCache::Entry*> findKey(int keyGroup, std::string_view key, uint64_t hash, bool create);
  /// The index of slice `start` in `entry`, inserted (empty accumulators) when
  /// missing; `created` tells which.
  size_t findOrAddSlice(KeyEntry& entry, int64_t start, bool& created);
  /// Appends the result of window [end - size, end) of `key` to the output builder (if it has slices).
  Status emitSlicedWindow(const KeyEntry& entry, std::string_view key, int64_t end);
  Status emitSlicedWindow(int keyGroup, std::string_view key, int64_t end);
  /// Drops the slices no window after [end - size, end) uses; erases the key when it has none left.
  Status cleanupSlicedWindow(KeyCache::Entry* cached, int64_t end);
  /// The key's cached sessions, loaded from the store when it may hold them; null when none.
  Result<SessionEntry*> findSessions(int keyGroup, std::string_view key);
  /// Replaces the key's sessions (`entry` from findSessions, may be null).
  Status replaceSessions(int keyGroup, std::string_view key, SessionEntry* entry, std::vector<Session> sessions);
  Status fireSession(int keyGroup, std::string_view key, int64_t end, bool emit, bool drop);
  Status emitSession(int keyGroup, std::string_view key, int64_t end);
  Status storeSessions(int keyGroup, std::string_view key, const std::vector<Session>& sessions);
  /// The time after which no evicted slice `slice` can remain in the store.
  int64_t sliceDropTime(int64_t slice) const;
  /// Writes back and evicts cache entries while a cache holds more than its capacity.
  Status evictIfFull();
  /// Rebuilds the timers pending at the restored checkpoint from the stored slices or sessions and
  /// the per-key-group progress ("window-progress"); notes which slices, and until when sessions,
  /// the store may hold.
  Status restoreTimers();
  /// Writes the dirty slices of `entry` to the store.
  Status writeSlices(std::string_view key, KeyEntry& entry);
  void markDirty(KeyEntry& entry);
  /// Takes `entry`, about to be erased from keys_, off dirtyKeys_.
  void forgetDirty(KeyEntry& entry);
  /// Writes every dirty cache entry and the timers to the store.
  Status flushToStore();
  Status appendResult(std::string_view key, const std::vector<std::string>& accumulators, int64_t start, int64_t end);
  Status flushOutput(Output& out);
  int keyGroupOfRow(int32_t row) const;

  std::shared_ptr<const WindowAggregateProgram> program_;
  int maxParallelism_ = 128;
  std::unique_ptr<WindowStateStore> store_;
  MemoryStateStore* memoryStore_ = nullptr;  // store_ when the program is not keyed
  std::optional<std::string> restoredBlob_;
  WindowTimerService timers_;          // sessions
  WindowTimerBuckets sliceTimers_;     // tumble/hop
  WindowTimerBuckets::Due dueTimers_;  // scratch for firing
  int windowState_ = -1;
  int progressState_ = -1;        // key group → firedUntil_ at the last snapshot
  KeyGroupRange ownedKeyGroups_;  // {0, 0} when not keyed
  int64_t watermark_ = kMinWatermark;
  int64_t firedUntil_ = kMinWatermark;  // every timer with time <= this has been processed

  size_t cacheCapacity_;
  KeyCache keys_;
  size_t evictionCursor_ = 0;  // entry number of keys_ at which the next eviction starts
  size_t cachedSlices_ = 0;    // slices held by keys_
  // The entries of keys_ with a dirty slice, in the order they became dirty (null: erased since), so
  // that a checkpoint writes back only what changed instead of walking the whole cache.
  std::vector<KeyEntry*> dirtyKeys_;
  SessionCache sessions_;
  size_t sessionEvictionCursor_ = 0;  // entry number of sessions_ at which the next eviction starts
  // Slice starts whose entries the store may hold without them being cached (evicted or restored).
  std::set<int64_t> storedSlices_;
  // Any uncached key may have restored slices in the store while firedUntil_ < this.
  int64_t restoredSlicesUntil_ = kMinWatermark;
  // Evicted keys → the time after which none of their evicted slices remains in the store: a key
  // missing from the cache is looked up in the store only if restored or listed here.
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> evictedKeys_;
  size_t evictedKeysPurgeSize_ = 4096;
  // The store may hold sessions not in the cache while firedUntil_ < this (evicted or restored).
  int64_t storedSessionsUntil_ = kMinWatermark;

  // Per-batch scratch, reused to avoid allocations.
  std::vector<ColumnPtr> arguments_;
  std::vector<uint64_t> hashes_;
  std::vector<uint64_t> keyHashes_;  // StableKeyMap::hashOf of the due timers' keys
  std::vector<int64_t> rowSlices_;
  std::vector<int32_t> sortedRows_;
  RowGroups groups_;
  std::string scratch_;
  std::vector<std::string> accumulators_;
  std::vector<std::string> otherAccumulators_;
  std::unique_ptr<RecordBatchBuilder> output_;
  std::vector<ColumnBuilder*> keyBuilders_;
};

}  // namespace sluice::window
