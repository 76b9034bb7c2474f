#include "runtime/state/shared_state_registry.h"

#include <filesystem>

#include <fmt/format.h>

namespace sluice {
namespace fs = std::filesystem;

Status SharedStateRegistry::registerCheckpoint(int64_t checkpointId, const std::vector<std::string>& files) {
  std::lock_guard lock(mutex_);
  if (checkpoints_.contains(checkpointId)) {
    return Status::alreadyExists(fmt::format("checkpoint {} is already registered", checkpointId));
  }
  std::set<std::string>& used = checkpoints_[checkpointId];
  for (const std::string& file : files) {
    if (used.insert(file).second) ++references_[file];
  }
  return Status::OK();
}

Status SharedStateRegistry::registerCheckpoint(int64_t checkpointId, const std::vector<StateSnapshot>& snapshots) {
  std::vector<std::string> files;
  for (const StateSnapshot& snapshot : snapshots)
    files.insert(files.end(), snapshot.files.begin(), snapshot.files.end());
  return registerCheckpoint(checkpointId, files);
}

Result<std::vector<std::string>> SharedStateRegistry::releaseCheckpoint(int64_t checkpointId) {
  std::lock_guard lock(mutex_);
  auto found = checkpoints_.find(checkpointId);
  if (found == checkpoints_.end()) {
    return Status::notFound(fmt::format("checkpoint {} is not registered", checkpointId));
  }
  std::vector<std::string> deleted;
  std::string failures;
  for (const std::string& file : found->second) {
    auto reference = references_.find(file);
    if (--reference->second > 0) continue;
    references_.erase(reference);
    std::error_code error;
    fs::remove(fs::path(root_) / file, error);
    if (error) {
      failures += fmt::format("{}'{}' ({})", failures.empty() ? "" : ", ", file, error.message());
    } else {
      deleted.push_back(file);
    }
  }
  checkpoints_.erase(found);
  if (!failures.empty()) {
    return Status::ioError(fmt::format("checkpoint {}: cannot delete {}", checkpointId, failures));
  }
  return deleted;
}

int SharedStateRegistry::referenceCount(const std::string& file) const {
  std::lock_guard lock(mutex_);
  auto found = references_.find(file);
  return found == references_.end() ? 0 : found->second;
}

std::vector<int64_t> SharedStateRegistry::retainedCheckpoints() const {
  std::lock_guard lock(mutex_);
  std::vector<int64_t> ids;
  for (const auto& [id, files] : checkpoints_) ids.push_back(id);
  return ids;
}

}  // namespace sluice
