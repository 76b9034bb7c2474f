// StateCatalog: the table of a backend's named states (name, id, kind, TTL),
// and TtlClock: the time TTL deadlines are measured against.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/state/keyed_state_backend.h"

namespace sluice {

/// One named state. `registered` is false for states that came from a
/// snapshot but that the operator has not registered (yet).
struct StateInfo {
  std::string name;
  StateKind kind = StateKind::kValue;
  int64_t ttlMillis = -1;  // -1: no TTL
  bool registered = false;
};

/// Maps state names to dense ids (0, 1, ...), the ids stored in keys. Ids are
/// assigned in registration order and never reused. Not thread-safe.
class StateCatalog {
 public:
  static constexpr int kMaxStates = 0xFFFF;

  /// Finds or adds `descriptor.name`; marks it registered and applies its TTL.
  /// InvalidArgument for an empty name, a kind that differs from the known
  /// one, a negative TTL or too many states. `added` tells whether it is new.
  Result<int> registerState(const StateDescriptor& descriptor, bool* added = nullptr);
  /// Finds or adds a state seen in a snapshot (not marked registered).
  Result<int> addRestored(std::string_view name, StateKind kind, bool* added = nullptr);
  /// Adds a state under a given id (from a persisted name table).
  Status addWithId(int id, std::string_view name, StateKind kind);

  /// The state with id `id`, or nullptr.
  const StateInfo* find(int id) const {
    return id >= 0 && id < static_cast<int>(states_.size()) && !states_[id].name.empty() ? &states_[id] : nullptr;
  }
  /// The id of `name`, or -1.
  int idOf(std::string_view name) const;
  int size() const { return static_cast<int>(states_.size()); }
  bool empty() const { return states_.empty(); }
  const std::vector<StateInfo>& states() const { return states_; }

 private:
  std::vector<StateInfo> states_;
};

/// The current time for TTL: the wall clock until a test or the runtime sets
/// it. Readable from other threads (RocksDB's compaction filter).
class TtlClock {
 public:
  int64_t now() const;
  void set(int64_t millis) { manual_.store(millis, std::memory_order_relaxed); }

 private:
  static constexpr int64_t kUnset = INT64_MIN;
  std::atomic<int64_t> manual_{kUnset};
};

/// What an operation needs of the state it addresses.
enum class StateAccess {
  kValue,  // get/put: value-like state, or a map entry
  kList,   // append/getList/putList
  kMap,    // scanMap
  kAny,    // remove/clear
};

/// Checks that `key` names a registered state of a kind `access` allows, a key
/// group in `keyGroups`, and a user key only for map state. Returns the state.
Result<const StateInfo*> validateStateKey(const StateCatalog& catalog, const KeyGroupRange& keyGroups,
                                          const StateKey& key, StateAccess access);

/// The encoding of StateKind in snapshots and name tables.
uint8_t stateKindCode(StateKind kind);
/// Decodes stateKindCode; false for an unknown code.
bool stateKindFromCode(uint8_t code, StateKind* kind);

}  // namespace sluice
