// File plumbing for state snapshots: hard links with a copy fallback, whole-file
// reads and atomic writes, and the manifest that lists a snapshot's files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/state/keyed_state_backend.h"

namespace sluice {

/// Creates `link` as a hard link to `target`; returns the error (e.g. EXDEV
/// across filesystems). Injectable so tests can force the copy fallback.
using HardLinkFunction =
    std::function<std::error_code(const std::filesystem::path& target, const std::filesystem::path& link)>;

/// The default HardLinkFunction: std::filesystem::create_hard_link.
std::error_code createHardLink(const std::filesystem::path& target, const std::filesystem::path& link);

/// Hard-links `source` to `destination`, or copies it when linking fails.
/// `copied` (optional) tells which happened.
Status linkOrCopyFile(const std::filesystem::path& source, const std::filesystem::path& destination,
                      const HardLinkFunction& hardLink, bool* copied = nullptr);
/// Copies the first `limitBytes` bytes of `source` (all when negative).
Status copyFile(const std::filesystem::path& source, const std::filesystem::path& destination, int64_t limitBytes = -1);
/// Writes `contents` to a temporary name and renames it into place.
Status writeFileAtomically(const std::filesystem::path& path, std::string_view contents);
Result<std::string> readWholeFile(const std::filesystem::path& path);
/// 16 random hex digits, for file names that must not collide across instances.
std::string randomFileId();

/// One file of a snapshot. `shared` files may be referenced by later
/// snapshots; `name` is the file's name inside the backend (e.g. 000012.sst).
struct SnapshotFile {
  bool shared = false;
  int64_t size = 0;
  std::string name;
  std::string relativePath;  // relative to the checkpoint storage root
};

/// The backend-independent part of StateSnapshot::metadata: what was written
/// and for which key groups. Serialised as a few lines of text.
struct SnapshotManifest {
  std::string backendType;
  int64_t checkpointId = 0;
  int maxParallelism = 0;
  KeyGroupRange keyGroups;
  std::vector<SnapshotFile> files;

  std::string serialize() const;
  /// Corruption when `text` is not a manifest.
  static Result<SnapshotManifest> parse(std::string_view text);
};

/// Parses `snapshot.metadata` and checks it against the snapshot's fields and
/// `maxParallelism`; then checks that every file exists under `root` with
/// its recorded size (NotFound / Corruption naming the file otherwise).
Result<SnapshotManifest> checkSnapshot(const StateSnapshot& snapshot, const std::string& root, int maxParallelism);

}  // namespace sluice
