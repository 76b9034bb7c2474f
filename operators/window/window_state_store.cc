// WindowStateStore implementations: backend adapter and in-memory store.
#include "operators/window/window_state_store.h"

#include "operators/window/row_codec.h"

namespace sluice::window {
namespace {

class BackendStateStore final : public WindowStateStore {
 public:
  explicit BackendStateStore(KeyedStateBackend* backend) : backend_(backend) {}
  Result<int> registerState(const std::string& name, StateKind kind) override {
    return backend_->registerState(StateDescriptor{name, kind, std::nullopt});
  }
  Result<std::optional<std::string>> get(const StateKey& key) override { return backend_->get(key); }
  Status put(const StateKey& key, std::string_view value) override { return backend_->put(key, value); }
  Status remove(const StateKey& key) override { return backend_->remove(key); }
  Status scanMap(const StateKey& key, const MapVisitor& visit) override { return backend_->scanMap(key, visit); }
  Status scanAll(int state, const Visitor& visit) override { return backend_->scanAll(state, visit); }

 private:
  KeyedStateBackend* backend_;
};

}  // namespace

std::unique_ptr<WindowStateStore> makeBackendStateStore(KeyedStateBackend* backend) {
  return std::make_unique<BackendStateStore>(backend);
}

Result<int> MemoryStateStore::registerState(const std::string& name, StateKind kind) {
  (void)kind;
  for (size_t i = 0; i < states_.size(); ++i) {
    if (states_[i].name == name) return static_cast<int>(i);
  }
  states_.push_back(NamedState{name, {}});
  return static_cast<int>(states_.size() - 1);
}

Result<std::optional<std::string>> MemoryStateStore::get(const StateKey& key) {
  const Entries& entries = states_.at(key.state).entries;
  auto it = entries.find(std::pair<std::string_view, std::string_view>(key.key, key.userKey));
  if (it == entries.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status MemoryStateStore::put(const StateKey& key, std::string_view value) {
  Entries& entries = states_.at(key.state).entries;
  auto it = entries.find(std::pair<std::string_view, std::string_view>(key.key, key.userKey));
  if (it != entries.end()) {
    it->second.assign(value);
  } else {
    entries.emplace(std::make_pair(std::string(key.key), std::string(key.userKey)), std::string(value));
  }
  return Status::OK();
}

Status MemoryStateStore::remove(const StateKey& key) {
  Entries& entries = states_.at(key.state).entries;
  auto it = entries.find(std::pair<std::string_view, std::string_view>(key.key, key.userKey));
  if (it != entries.end()) entries.erase(it);
  return Status::OK();
}

Status MemoryStateStore::scanMap(const StateKey& key, const MapVisitor& visit) {
  const Entries& entries = states_.at(key.state).entries;
  for (auto it = entries.lower_bound(std::pair<std::string_view, std::string_view>(key.key, {}));
       it != entries.end() && it->first.first == key.key; ++it) {
    if (!visit(it->first.second, it->second)) break;
  }
  return Status::OK();
}

Status MemoryStateStore::scanAll(int state, const Visitor& visit) {
  for (const auto& [address, value] : states_.at(state).entries) {
    if (!visit(0, address.first, address.second, value)) break;
  }
  return Status::OK();
}

std::string MemoryStateStore::serialize() const {
  std::string out;
  appendUInt32(out, static_cast<uint32_t>(states_.size()));
  for (const NamedState& state : states_) {
    appendLengthPrefixed(out, state.name);
    appendUInt32(out, static_cast<uint32_t>(state.entries.size()));
    for (const auto& [address, value] : state.entries) {
      appendLengthPrefixed(out, address.first);
      appendLengthPrefixed(out, address.second);
      appendLengthPrefixed(out, value);
    }
  }
  return out;
}

Status MemoryStateStore::deserialize(std::string_view bytes) {
  const Status corrupt = Status::corruption("window operator snapshot: malformed state blob");
  auto readCount = [&bytes](uint32_t& count) {
    if (bytes.size() < 4) return false;
    count = static_cast<uint32_t>(static_cast<uint8_t>(bytes[0])) |
            static_cast<uint32_t>(static_cast<uint8_t>(bytes[1])) << 8 |
            static_cast<uint32_t>(static_cast<uint8_t>(bytes[2])) << 16 |
            static_cast<uint32_t>(static_cast<uint8_t>(bytes[3])) << 24;
    bytes.remove_prefix(4);
    return true;
  };
  std::vector<NamedState> states;
  uint32_t numStates = 0;
  if (!readCount(numStates)) return corrupt;
  for (uint32_t s = 0; s < numStates; ++s) {
    NamedState state;
    std::string_view name;
    uint32_t numEntries = 0;
    if (!readLengthPrefixed(bytes, name) || !readCount(numEntries)) return corrupt;
    state.name.assign(name);
    for (uint32_t e = 0; e < numEntries; ++e) {
      std::string_view key, userKey, value;
      if (!readLengthPrefixed(bytes, key) || !readLengthPrefixed(bytes, userKey) || !readLengthPrefixed(bytes, value)) {
        return corrupt;
      }
      state.entries.emplace(std::make_pair(std::string(key), std::string(userKey)), std::string(value));
    }
    states.push_back(std::move(state));
  }
  if (!bytes.empty()) return corrupt;
  states_ = std::move(states);
  return Status::OK();
}

}  // namespace sluice::window
