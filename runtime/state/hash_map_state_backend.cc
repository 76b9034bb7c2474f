#include "runtime/state/hash_map_state_backend.h"

#include <filesystem>

#include <fmt/format.h>

#include "runtime/state/snapshot_files.h"
#include "runtime/state/snapshot_format.h"
#include "runtime/state/state_layout.h"

namespace sluice {
namespace fs = std::filesystem;
namespace layout = state_layout;

Result<std::unique_ptr<HashMapStateBackend>> HashMapStateBackend::open(const StateBackendOptions& options) {
  SLUICE_RETURN_NOT_OK(validateStateBackendOptions(options));
  auto backend = std::unique_ptr<HashMapStateBackend>(new HashMapStateBackend(options));
  backend->instanceId_ = randomFileId();
  return backend;
}

int64_t HashMapStateBackend::expiryFor(const StateInfo& info) const {
  return layout::expiryFor(clock_.now(), info.ttlMillis);
}

Result<int> HashMapStateBackend::addState(std::string_view name, StateKind kind, const StateDescriptor* descriptor) {
  Result<int> id = descriptor != nullptr ? catalog_.registerState(*descriptor) : catalog_.addRestored(name, kind);
  if (!id.ok()) return id;
  if (static_cast<int>(tables_.size()) <= *id) {
    tables_.resize(*id + 1);
    tables_[*id].resize(static_cast<size_t>(std::max(options_.keyGroups.size(), 0)));
  }
  return id;
}

Result<int> HashMapStateBackend::registerState(const StateDescriptor& descriptor) {
  restoreAllowed_ = false;
  return addState(descriptor.name, descriptor.kind, &descriptor);
}

Result<std::optional<std::string>> HashMapStateBackend::get(const StateKey& key) {
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(catalog_, options_.keyGroups, key, StateAccess::kValue));
  KeyGroupTable& entries = table(key);
  int64_t now = clock_.now();
  if (info->kind == StateKind::kMap) {
    auto found = entries.maps.find(key.key);
    if (found == entries.maps.end()) return std::optional<std::string>();
    auto entry = found->second.find(key.userKey);
    if (entry == found->second.end() || layout::isExpired(entry->second.expiry, now)) {
      return std::optional<std::string>();
    }
    return std::optional<std::string>(entry->second.value);
  }
  auto found = entries.values.find(key.key);
  if (found == entries.values.end()) return std::optional<std::string>();
  if (layout::isExpired(found->second.expiry, now)) {
    entries.values.erase(found);
    return std::optional<std::string>();
  }
  return std::optional<std::string>(found->second.value);
}

Status HashMapStateBackend::put(const StateKey& key, std::string_view value) {
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(catalog_, options_.keyGroups, key, StateAccess::kValue));
  KeyGroupTable& entries = table(key);
  Slot slot{expiryFor(*info), std::string(value)};
  if (info->kind == StateKind::kMap) {
    auto found = entries.maps.find(key.key);
    if (found == entries.maps.end())
      found = entries.maps.emplace(std::string(key.key), std::map<std::string, Slot, std::less<>>()).first;
    found->second.insert_or_assign(std::string(key.userKey), std::move(slot));
    return Status::OK();
  }
  auto found = entries.values.find(key.key);
  if (found == entries.values.end()) {
    entries.values.emplace(std::string(key.key), std::move(slot));
  } else {
    found->second = std::move(slot);
  }
  return Status::OK();
}

Status HashMapStateBackend::remove(const StateKey& key) {
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(catalog_, options_.keyGroups, key, StateAccess::kAny));
  KeyGroupTable& entries = table(key);
  switch (info->kind) {
    case StateKind::kList: {
      auto found = entries.lists.find(key.key);
      if (found != entries.lists.end()) entries.lists.erase(found);
      break;
    }
    case StateKind::kMap: {
      auto found = entries.maps.find(key.key);
      if (found == entries.maps.end()) break;
      auto entry = found->second.find(key.userKey);
      if (entry != found->second.end()) found->second.erase(entry);
      if (found->second.empty()) entries.maps.erase(found);
      break;
    }
    default: {
      auto found = entries.values.find(key.key);
      if (found != entries.values.end()) entries.values.erase(found);
    }
  }
  return Status::OK();
}

Status HashMapStateBackend::clear(const StateKey& key) {
  StateKey whole{key.state, key.keyGroup, key.key, {}};
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(catalog_, options_.keyGroups, whole, StateAccess::kAny));
  if (info->kind != StateKind::kMap) return remove(whole);
  KeyGroupTable& entries = table(key);
  auto found = entries.maps.find(key.key);
  if (found != entries.maps.end()) entries.maps.erase(found);
  return Status::OK();
}

Status HashMapStateBackend::append(const StateKey& key, std::string_view element) {
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(catalog_, options_.keyGroups, key, StateAccess::kList));
  KeyGroupTable& entries = table(key);
  auto found = entries.lists.find(key.key);
  if (found == entries.lists.end()) found = entries.lists.emplace(std::string(key.key), std::vector<Slot>()).first;
  found->second.push_back(Slot{expiryFor(*info), std::string(element)});
  return Status::OK();
}

Status HashMapStateBackend::putList(const StateKey& key, const std::vector<std::string>& elements) {
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(catalog_, options_.keyGroups, key, StateAccess::kList));
  KeyGroupTable& entries = table(key);
  if (elements.empty()) {
    auto found = entries.lists.find(key.key);
    if (found != entries.lists.end()) entries.lists.erase(found);
    return Status::OK();
  }
  std::vector<Slot> slots;
  slots.reserve(elements.size());
  int64_t expiry = expiryFor(*info);
  for (const std::string& element : elements) slots.push_back(Slot{expiry, element});
  entries.lists.insert_or_assign(std::string(key.key), std::move(slots));
  return Status::OK();
}

Result<std::vector<std::string>> HashMapStateBackend::getList(const StateKey& key) {
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(catalog_, options_.keyGroups, key, StateAccess::kList));
  (void)info;
  std::vector<std::string> elements;
  KeyGroupTable& entries = table(key);
  auto found = entries.lists.find(key.key);
  if (found == entries.lists.end()) return elements;
  int64_t now = clock_.now();
  elements.reserve(found->second.size());
  for (const Slot& slot : found->second) {
    if (!layout::isExpired(slot.expiry, now)) elements.push_back(slot.value);
  }
  return elements;
}

Status HashMapStateBackend::scanMap(const StateKey& key,
                                    const std::function<bool(std::string_view, std::string_view)>& visit) {
  StateKey whole{key.state, key.keyGroup, key.key, {}};
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(catalog_, options_.keyGroups, whole, StateAccess::kMap));
  (void)info;
  KeyGroupTable& entries = table(key);
  auto found = entries.maps.find(key.key);
  if (found == entries.maps.end()) return Status::OK();
  int64_t now = clock_.now();
  for (const auto& [userKey, slot] : found->second) {
    if (layout::isExpired(slot.expiry, now)) continue;
    if (!visit(userKey, slot.value)) break;
  }
  return Status::OK();
}

Status HashMapStateBackend::scanAll(
    int state, const std::function<bool(int, std::string_view, std::string_view, std::string_view)>& visit) {
  const KeyGroupRange& range = options_.keyGroups;
  if (range.empty()) return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(catalog_, range, StateKey{state, range.first, {}, {}}, StateAccess::kAny));
  int64_t now = clock_.now();
  for (int keyGroup = range.first; keyGroup <= range.last; ++keyGroup) {
    const KeyGroupTable& entries = tables_[state][keyGroup - range.first];
    switch (info->kind) {
      case StateKind::kList:
        for (const auto& [key, slots] : entries.lists) {
          for (const Slot& slot : slots) {
            if (!layout::isExpired(slot.expiry, now) && !visit(keyGroup, key, {}, slot.value)) return Status::OK();
          }
        }
        break;
      case StateKind::kMap:
        for (const auto& [key, map] : entries.maps) {
          for (const auto& [userKey, slot] : map) {
            if (!layout::isExpired(slot.expiry, now) && !visit(keyGroup, key, userKey, slot.value)) return Status::OK();
          }
        }
        break;
      default:
        for (const auto& [key, slot] : entries.values) {
          if (!layout::isExpired(slot.expiry, now) && !visit(keyGroup, key, {}, slot.value)) return Status::OK();
        }
    }
  }
  return Status::OK();
}

Result<StateSnapshot> HashMapStateBackend::snapshot(int64_t checkpointId, const std::string& directory) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotUpload> upload, beginSnapshot(checkpointId, directory));
  return upload->run();
}

namespace {

// The asynchronous part of a hashmap snapshot: writes the entries encoded at the cut.
class HashMapUpload final : public SnapshotUpload {
 public:
  HashMapUpload(SnapshotManifest manifest, fs::path root, fs::path file, std::string bytes)
      : manifest_(std::move(manifest)), root_(std::move(root)), file_(std::move(file)), bytes_(std::move(bytes)) {}

  Result<StateSnapshot> run() override {
    SLUICE_RETURN_NOT_OK(writeFileAtomically(file_, bytes_));
    manifest_.files.push_back(SnapshotFile{false, static_cast<int64_t>(bytes_.size()), "state.hashmap",
                                           file_.lexically_relative(root_).string()});
    StateSnapshot result;
    result.backendType = "hashmap";
    result.keyGroups = manifest_.keyGroups;
    result.checkpointId = manifest_.checkpointId;
    result.files.push_back(manifest_.files[0].relativePath);
    result.sizeBytes = static_cast<int64_t>(bytes_.size());
    result.incrementalSizeBytes = result.sizeBytes;
    result.metadata = manifest_.serialize();
    return result;
  }

 private:
  SnapshotManifest manifest_;
  fs::path root_;
  fs::path file_;
  std::string bytes_;
};

}  // namespace

Result<std::unique_ptr<SnapshotUpload>> HashMapStateBackend::beginSnapshot(int64_t checkpointId,
                                                                           const std::string& directory) {
  if (directory.empty()) return Status::invalidArgument("snapshot directory must not be empty");
  fs::path exclusive = fs::absolute(directory).lexically_normal();
  if (exclusive.filename().empty()) exclusive = exclusive.parent_path();
  fs::path root = exclusive.parent_path();
  std::error_code error;
  fs::create_directories(exclusive, error);
  if (error) return Status::ioError(fmt::format("cannot create snapshot directory '{}'", exclusive.string()));

  HashMapSnapshotEncoder encoder;
  int64_t now = clock_.now();
  for (int id = 0; id < catalog_.size(); ++id) {
    const StateInfo* info = catalog_.find(id);
    if (info == nullptr) continue;
    encoder.addState(id, info->name, info->kind);
    for (int keyGroup = options_.keyGroups.first; keyGroup <= options_.keyGroups.last; ++keyGroup) {
      const KeyGroupTable& entries = tables_[id][keyGroup - options_.keyGroups.first];
      for (const auto& [key, slot] : entries.values) {
        if (!layout::isExpired(slot.expiry, now)) encoder.addEntry(id, keyGroup, key, {}, slot.expiry, slot.value);
      }
      for (const auto& [key, slots] : entries.lists) {
        for (const Slot& slot : slots) {
          if (!layout::isExpired(slot.expiry, now)) encoder.addEntry(id, keyGroup, key, {}, slot.expiry, slot.value);
        }
      }
      for (const auto& [key, map] : entries.maps) {
        for (const auto& [userKey, slot] : map) {
          if (!layout::isExpired(slot.expiry, now)) {
            encoder.addEntry(id, keyGroup, key, userKey, slot.expiry, slot.value);
          }
        }
      }
    }
  }
  std::string bytes = encoder.finish();
  fs::path file = exclusive / fmt::format("{}-{}.hashmap", instanceId_, checkpointId);
  SnapshotManifest manifest;
  manifest.backendType = "hashmap";
  manifest.checkpointId = checkpointId;
  manifest.maxParallelism = options_.maxParallelism;
  manifest.keyGroups = options_.keyGroups;
  return std::unique_ptr<SnapshotUpload>(
      std::make_unique<HashMapUpload>(std::move(manifest), root, std::move(file), std::move(bytes)));
}

Status HashMapStateBackend::restore(const std::vector<StateSnapshot>& snapshots, const std::string& root) {
  if (!restoreAllowed_) {
    return Status::invalidArgument("restore must be called on a fresh state backend, before any state is registered");
  }
  std::vector<SnapshotManifest> relevant;
  for (const StateSnapshot& snapshot : snapshots) {
    if (snapshot.keyGroups.intersect(options_.keyGroups).empty()) continue;
    SLUICE_ASSIGN_OR_RETURN(SnapshotManifest manifest, checkSnapshot(snapshot, root, options_.maxParallelism));
    relevant.push_back(std::move(manifest));
  }
  restoreAllowed_ = false;
  int64_t now = clock_.now();
  auto ingest = [&](const SnapshotEntry& entry) -> Status {
    SLUICE_ASSIGN_OR_RETURN(int id, addState(entry.stateName, entry.kind, nullptr));
    KeyGroupTable& entries = tables_[id][entry.keyGroup - options_.keyGroups.first];
    Slot slot{entry.expiry, std::string(entry.value)};
    switch (entry.kind) {
      case StateKind::kList: {
        auto found = entries.lists.find(entry.key);
        if (found == entries.lists.end()) {
          found = entries.lists.emplace(std::string(entry.key), std::vector<Slot>()).first;
        }
        found->second.push_back(std::move(slot));
        break;
      }
      case StateKind::kMap: {
        auto found = entries.maps.find(entry.key);
        if (found == entries.maps.end()) {
          found = entries.maps.emplace(std::string(entry.key), std::map<std::string, Slot, std::less<>>()).first;
        }
        found->second.insert_or_assign(std::string(entry.userKey), std::move(slot));
        break;
      }
      default: entries.values.insert_or_assign(std::string(entry.key), std::move(slot));
    }
    return Status::OK();
  };
  for (size_t i = 0; i < relevant.size(); ++i) {
    std::string scratch = options_.directory.empty()
                              ? (fs::temp_directory_path() / fmt::format("sluice-restore-{}", randomFileId())).string()
                              : (fs::path(options_.directory) / fmt::format("restore-{}", i)).string();
    Status status = readSnapshotEntries(relevant[i], root, options_.keyGroups, scratch, now, nullptr, ingest);
    if (!status.ok()) {
      catalog_ = StateCatalog();
      tables_.clear();
      return status.withContext(
          fmt::format("cannot restore state of checkpoint {} from '{}'", relevant[i].checkpointId, root));
    }
  }
  return Status::OK();
}

}  // namespace sluice
