#include "runtime/state/snapshot_format.h"

#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "runtime/data/key_group.h"
#include "runtime/state/state_catalog.h"
#include "runtime/state/state_layout.h"

namespace sluice {
namespace {

constexpr std::string_view kMagic = "SLHM";
constexpr uint32_t kVersion = 1;

void appendBytes(std::string& out, std::string_view bytes) {
  state_layout::appendUInt32(out, static_cast<uint32_t>(bytes.size()));
  out.append(bytes);
}

// Sequential reader over the file bytes; every read checks the remaining length.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  bool readUInt8(uint8_t* value) {
    if (bytes_.size() < 1) return false;
    *value = static_cast<uint8_t>(bytes_[0]);
    bytes_.remove_prefix(1);
    return true;
  }
  bool readUInt16(uint16_t* value) {
    if (bytes_.size() < 2) return false;
    *value = state_layout::readUInt16(bytes_.data());
    bytes_.remove_prefix(2);
    return true;
  }
  bool readUInt32(uint32_t* value) {
    if (bytes_.size() < 4) return false;
    *value = state_layout::readUInt32(bytes_.data());
    bytes_.remove_prefix(4);
    return true;
  }
  bool readUInt64(uint64_t* value) {
    if (bytes_.size() < 8) return false;
    *value = state_layout::readUInt64(bytes_.data());
    bytes_.remove_prefix(8);
    return true;
  }
  bool readBytes(std::string_view* value) {
    uint32_t length = 0;
    if (!readUInt32(&length) || bytes_.size() < length) return false;
    *value = bytes_.substr(0, length);
    bytes_.remove_prefix(length);
    return true;
  }
  bool atEnd() const { return bytes_.empty(); }

 private:
  std::string_view bytes_;
};

}  // namespace

void HashMapSnapshotEncoder::addState(int id, std::string_view name, StateKind kind) {
  state_layout::appendUInt16(states_, static_cast<uint16_t>(id));
  states_.push_back(static_cast<char>(stateKindCode(kind)));
  appendBytes(states_, name);
  ++stateCount_;
}

void HashMapSnapshotEncoder::addEntry(int state, int keyGroup, std::string_view key, std::string_view userKey,
                                      int64_t expiry, std::string_view value) {
  state_layout::appendUInt16(entries_, static_cast<uint16_t>(state));
  state_layout::appendUInt16(entries_, static_cast<uint16_t>(keyGroup));
  state_layout::appendUInt64(entries_, static_cast<uint64_t>(expiry));
  appendBytes(entries_, key);
  appendBytes(entries_, userKey);
  appendBytes(entries_, value);
  ++entryCount_;
}

std::string HashMapSnapshotEncoder::finish() const {
  std::string out;
  out.reserve(32 + states_.size() + entries_.size());
  out.append(kMagic);
  state_layout::appendUInt32(out, kVersion);
  state_layout::appendUInt32(out, stateCount_);
  out.append(states_);
  state_layout::appendUInt64(out, entryCount_);
  out.append(entries_);
  state_layout::appendUInt64(out, hashBytes(out));
  return out;
}

Status decodeHashMapSnapshot(std::string_view bytes, const std::string& path, const KeyGroupRange& keyGroups,
                             int64_t now, const SnapshotEntryVisitor& visit) {
  auto damaged = [&](std::string_view why) {
    return Status::corruption(fmt::format("hashmap state snapshot '{}' is damaged: {}", path, why));
  };
  if (bytes.size() < kMagic.size() + 8 + 8 + 8 || !bytes.starts_with(kMagic)) return damaged("not a snapshot file");
  std::string_view body = bytes.substr(0, bytes.size() - 8);
  if (hashBytes(body) != state_layout::readUInt64(bytes.data() + body.size())) return damaged("checksum mismatch");
  ByteReader reader(body.substr(kMagic.size()));
  uint32_t version = 0;
  uint32_t stateCount = 0;
  if (!reader.readUInt32(&version) || version != kVersion) return damaged("unknown version");
  if (!reader.readUInt32(&stateCount)) return damaged("truncated");
  std::vector<std::pair<std::string_view, StateKind>> states;
  for (uint32_t i = 0; i < stateCount; ++i) {
    uint16_t id = 0;
    uint8_t kindCode = 0;
    std::string_view name;
    StateKind kind;
    if (!reader.readUInt16(&id) || !reader.readUInt8(&kindCode) || !reader.readBytes(&name) ||
        !stateKindFromCode(kindCode, &kind) || name.empty()) {
      return damaged("bad state table");
    }
    if (states.size() <= id) states.resize(id + 1);
    states[id] = {name, kind};
  }
  uint64_t entryCount = 0;
  if (!reader.readUInt64(&entryCount)) return damaged("truncated");
  for (uint64_t i = 0; i < entryCount; ++i) {
    uint16_t state = 0;
    uint16_t keyGroup = 0;
    uint64_t expiry = 0;
    SnapshotEntry entry;
    if (!reader.readUInt16(&state) || !reader.readUInt16(&keyGroup) || !reader.readUInt64(&expiry) ||
        !reader.readBytes(&entry.key) || !reader.readBytes(&entry.userKey) || !reader.readBytes(&entry.value)) {
      return damaged("truncated entry");
    }
    if (state >= states.size() || states[state].first.empty()) return damaged("entry of an unknown state");
    entry.expiry = static_cast<int64_t>(expiry);
    if (!keyGroups.contains(keyGroup) || state_layout::isExpired(entry.expiry, now)) continue;
    entry.stateName = states[state].first;
    entry.kind = states[state].second;
    entry.keyGroup = keyGroup;
    SLUICE_RETURN_NOT_OK(visit(entry));
  }
  if (!reader.atEnd()) return damaged("trailing bytes");
  return Status::OK();
}

Status readSnapshotEntries(const SnapshotManifest& manifest, const std::string& root, const KeyGroupRange& keyGroups,
                           const std::string& scratchDirectory, int64_t now, const HardLinkFunction& hardLink,
                           const SnapshotEntryVisitor& visit) {
  if (manifest.backendType == "rocksdb") {
    return readRocksDbSnapshotEntries(manifest, root, keyGroups, scratchDirectory, now, hardLink, visit);
  }
  if (manifest.backendType == "hashmap") {
    for (const SnapshotFile& file : manifest.files) {
      std::string path = (std::filesystem::path(root) / file.relativePath).string();
      SLUICE_ASSIGN_OR_RETURN(std::string bytes, readWholeFile(path));
      SLUICE_RETURN_NOT_OK(decodeHashMapSnapshot(bytes, path, keyGroups, now, visit));
    }
    return Status::OK();
  }
  return Status::invalidArgument(fmt::format("unknown state backend type '{}' in snapshot of checkpoint {}",
                                             manifest.backendType, manifest.checkpointId));
}

}  // namespace sluice
