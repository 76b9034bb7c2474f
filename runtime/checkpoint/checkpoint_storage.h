// Checkpoint storage on a (shared) file system: atomic `_metadata` writes,
// operator-state files with checksums, loading and verifying a checkpoint.
#pragma once

#include <string>

#include "runtime/base/result.h"
#include "runtime/checkpoint/checkpoint_metadata.h"
#include "runtime/task/operator.h"

namespace sluice {

inline constexpr const char* kMetadataFileName = "_metadata";

/// Writes `bytes` to `path` so that readers see the old file or the whole new
/// one: a temporary file beside it, fsync, rename, fsync of the directory.
Status writeFileAtomically(const std::string& path, std::string_view bytes);

/// Operator-state file: "SLOP" | version u32 | count u32 | (name, blob as
/// length u32 + bytes)* | XXH3-64 of everything before. Integers little-endian.
std::string encodeOperatorState(const OperatorSnapshot& snapshot);
/// Corruption naming `path` when damaged.
Result<OperatorSnapshot> decodeOperatorState(std::string_view bytes, const std::string& path);

/// A checkpoint found on disk: its metadata, where `_metadata` is, and the
/// absolute storage root its file paths are relative to.
struct LoadedCheckpoint {
  CheckpointMetadata metadata;
  std::string metadataPath;
  std::string root;
};

/// Loads `path`: a `_metadata` file, or a directory holding one (a retained
/// `chk-<n>` directory or a savepoint). NotFound / Corruption naming the path.
Result<LoadedCheckpoint> loadCheckpoint(const std::string& path);

/// Checks that every file of the checkpoint exists with its recorded size and
/// that operator-state files decode. Names the first damaged file.
Status verifyCheckpoint(const LoadedCheckpoint& checkpoint);

/// Reads one operator-state file (relative to `root`).
Result<OperatorSnapshot> readOperatorState(const std::string& root, const std::string& relativePath);

}  // namespace sluice
