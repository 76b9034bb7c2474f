// Where window operators keep their state: the subtask's keyed state backend
// for keyed nodes, or an in-memory store snapshotted into the operator's own
// checkpoint blob for global (non-keyed, parallelism 1) nodes.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/state/keyed_state_backend.h"

namespace sluice::window {

/// The subset of keyed-state operations the window operators use, so one
/// operator implementation runs keyed (backend) and global (in memory).
/// Entries are addressed like the backend's: (state, key group, key, user key).
/// Thread-safety: owned and used by one task thread.
class WindowStateStore {
 public:
  using Visitor =
      std::function<bool(int keyGroup, std::string_view key, std::string_view userKey, std::string_view value)>;
  virtual ~WindowStateStore() = default;
  /// Registers (or finds, after a restore) state `name`; returns its id.
  virtual Result<int> registerState(const std::string& name, StateKind kind) = 0;
  virtual Result<std::optional<std::string>> get(const StateKey& key) = 0;
  virtual Status put(const StateKey& key, std::string_view value) = 0;
  virtual Status remove(const StateKey& key) = 0;
  using MapVisitor = std::function<bool(std::string_view userKey, std::string_view value)>;
  /// Visits the map entries under (state, key group, key) of `key` in user-key byte order until
  /// `visit` returns false; the visitor must not modify the store.
  virtual Status scanMap(const StateKey& key, const MapVisitor& visit) = 0;
  /// Visits every entry of `state`.
  virtual Status scanAll(int state, const Visitor& visit) = 0;
};

/// Adapts a KeyedStateBackend (not owned; must outlive the store).
std::unique_ptr<WindowStateStore> makeBackendStateStore(KeyedStateBackend* backend);

/// An in-memory store for global operators; `serialize`/`deserialize` move its
/// whole content into and out of an operator snapshot blob.
class MemoryStateStore final : public WindowStateStore {
 public:
  Result<int> registerState(const std::string& name, StateKind kind) override;
  Result<std::optional<std::string>> get(const StateKey& key) override;
  Status put(const StateKey& key, std::string_view value) override;
  Status remove(const StateKey& key) override;
  Status scanMap(const StateKey& key, const MapVisitor& visit) override;
  Status scanAll(int state, const Visitor& visit) override;

  std::string serialize() const;
  /// Replaces the content; REQUIRES: before any registerState. Corruption when malformed.
  Status deserialize(std::string_view bytes);

 private:
  /// Orders (key, user key) pairs; transparent so lookups need no string copies.
  struct AddressLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::pair<std::string_view, std::string_view>(a.first, a.second) <
             std::pair<std::string_view, std::string_view>(b.first, b.second);
    }
  };
  using Entries = std::map<std::pair<std::string, std::string>, std::string, AddressLess>;
  struct NamedState {
    std::string name;
    Entries entries;
  };
  std::vector<NamedState> states_;
};

}  // namespace sluice::window
