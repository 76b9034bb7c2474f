#include "runtime/state/state_catalog.h"

#include <chrono>

#include <fmt/format.h>

#include "runtime/base/clock.h"

namespace sluice {

std::string_view stateKindName(StateKind kind) {
  switch (kind) {
    case StateKind::kValue: return "value";
    case StateKind::kList: return "list";
    case StateKind::kMap: return "map";
    case StateKind::kReducing: return "reducing";
    case StateKind::kAggregating: return "aggregating";
  }
  return "unknown";
}

uint8_t stateKindCode(StateKind kind) { return static_cast<uint8_t>(kind); }

bool stateKindFromCode(uint8_t code, StateKind* kind) {
  if (code > static_cast<uint8_t>(StateKind::kAggregating)) return false;
  *kind = static_cast<StateKind>(code);
  return true;
}

int StateCatalog::idOf(std::string_view name) const {
  for (size_t id = 0; id < states_.size(); ++id) {
    if (states_[id].name == name) return static_cast<int>(id);
  }
  return -1;
}

Result<int> StateCatalog::addRestored(std::string_view name, StateKind kind, bool* added) {
  if (added != nullptr) *added = false;
  if (name.empty()) return Status::invalidArgument("state name must not be empty");
  int id = idOf(name);
  if (id >= 0) {
    if (states_[id].kind != kind) {
      return Status::invalidArgument(fmt::format("state '{}' is {} state here but {} state in the snapshot", name,
                                                 stateKindName(states_[id].kind), stateKindName(kind)));
    }
    return id;
  }
  if (size() >= kMaxStates) return Status::invalidArgument(fmt::format("too many states (max {})", kMaxStates));
  states_.push_back(StateInfo{std::string(name), kind, -1, false});
  if (added != nullptr) *added = true;
  return size() - 1;
}

Status StateCatalog::addWithId(int id, std::string_view name, StateKind kind) {
  if (id < 0 || id >= kMaxStates || name.empty()) {
    return Status::corruption(fmt::format("bad state table entry {} '{}'", id, name));
  }
  if (id >= size()) states_.resize(id + 1);
  if (!states_[id].name.empty() && states_[id].name != name) {
    return Status::corruption(fmt::format("state id {} names both '{}' and '{}'", id, states_[id].name, name));
  }
  states_[id].name = std::string(name);
  states_[id].kind = kind;
  return Status::OK();
}

Result<int> StateCatalog::registerState(const StateDescriptor& descriptor, bool* added) {
  if (descriptor.ttl && descriptor.ttl->count() <= 0) {
    return Status::invalidArgument(
        fmt::format("state '{}': TTL must be positive, got {} ms", descriptor.name, descriptor.ttl->count()));
  }
  int existing = idOf(descriptor.name);
  if (existing >= 0 && states_[existing].kind != descriptor.kind) {
    return Status::invalidArgument(fmt::format("state '{}' is already registered as {} state, not {} state",
                                               descriptor.name, stateKindName(states_[existing].kind),
                                               stateKindName(descriptor.kind)));
  }
  SLUICE_ASSIGN_OR_RETURN(int id, addRestored(descriptor.name, descriptor.kind, added));
  states_[id].registered = true;
  states_[id].ttlMillis = descriptor.ttl ? descriptor.ttl->count() : -1;
  return id;
}

Result<const StateInfo*> validateStateKey(const StateCatalog& catalog, const KeyGroupRange& keyGroups,
                                          const StateKey& key, StateAccess access) {
  const StateInfo* info = catalog.find(key.state);
  if (info == nullptr || !info->registered) {
    return Status::invalidArgument(fmt::format("state id {} is not registered", key.state));
  }
  if (!keyGroups.contains(key.keyGroup)) [[unlikely]] {
    return Status::invalidArgument(fmt::format("state '{}': key group {} is outside this backend's range [{}, {}]",
                                               info->name, key.keyGroup, keyGroups.first, keyGroups.last));
  }
  bool isList = info->kind == StateKind::kList;
  bool isMap = info->kind == StateKind::kMap;
  bool kindOk = access == StateAccess::kAny || (access == StateAccess::kValue && !isList) ||
                (access == StateAccess::kList && isList) || (access == StateAccess::kMap && isMap);
  if (!kindOk) [[unlikely]] {
    static constexpr std::string_view kAccessNames[] = {"a value operation", "a list operation", "a map scan",
                                                        "remove"};
    return Status::invalidArgument(fmt::format("state '{}' is {} state and does not support {}", info->name,
                                               stateKindName(info->kind), kAccessNames[static_cast<int>(access)]));
  }
  if (!isMap && !key.userKey.empty()) [[unlikely]] {
    return Status::invalidArgument(
        fmt::format("state '{}' is {} state; only map state takes a user key", info->name, stateKindName(info->kind)));
  }
  return info;
}

int64_t TtlClock::now() const {
  int64_t manual = manual_.load(std::memory_order_relaxed);
  if (manual != kUnset) return manual;
  return wallClockMillis();
}

}  // namespace sluice
