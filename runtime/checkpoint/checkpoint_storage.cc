#include "runtime/checkpoint/checkpoint_storage.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/state/snapshot_files.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

constexpr char kOperatorStateMagic[4] = {'S', 'L', 'O', 'P'};
constexpr uint32_t kOperatorStateVersion = 1;

void putU32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
void putU64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

struct Cursor {
  std::string_view bytes;
  size_t at = 0;
  bool take(size_t count, std::string_view& out) {
    if (bytes.size() - at < count) return false;
    out = bytes.substr(at, count);
    at += count;
    return true;
  }
  bool u32(uint32_t& value) {
    std::string_view raw;
    if (!take(4, raw)) return false;
    value = 0;
    for (int i = 0; i < 4; ++i) value |= static_cast<uint32_t>(static_cast<uint8_t>(raw[i])) << (8 * i);
    return true;
  }
  bool u64(uint64_t& value) {
    std::string_view raw;
    if (!take(8, raw)) return false;
    value = 0;
    for (int i = 0; i < 8; ++i) value |= static_cast<uint64_t>(static_cast<uint8_t>(raw[i])) << (8 * i);
    return true;
  }
};

Status syncDirectoryOf(const std::string& path) {
  std::string directory = fs::path(path).parent_path().string();
  if (directory.empty()) directory = ".";
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::ioError("cannot open directory '" + directory + "': " + std::strerror(errno));
  int result = ::fsync(fd);
  ::close(fd);
  if (result != 0) return Status::ioError("cannot sync directory '" + directory + "': " + std::strerror(errno));
  return Status::OK();
}

Result<std::string> readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::notFound("cannot read '" + path + "': " + std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace

Status writeFileAtomically(const std::string& path, std::string_view bytes) {
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::ioError("cannot create '" + temporary + "': " + std::strerror(errno));
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t result = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (result < 0) {
      if (errno == EINTR) continue;
      Status status = Status::ioError("cannot write '" + temporary + "': " + std::strerror(errno));
      ::close(fd);
      ::unlink(temporary.c_str());
      return status;
    }
    written += static_cast<size_t>(result);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temporary.c_str());
    return Status::ioError("cannot sync '" + temporary + "': " + std::strerror(errno));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    Status status = Status::ioError("cannot rename '" + temporary + "' to '" + path + "': " + std::strerror(errno));
    ::unlink(temporary.c_str());
    return status;
  }
  return syncDirectoryOf(path);
}

std::string encodeOperatorState(const OperatorSnapshot& snapshot) {
  std::string out(kOperatorStateMagic, sizeof(kOperatorStateMagic));
  putU32(out, kOperatorStateVersion);
  putU32(out, static_cast<uint32_t>(snapshot.blobs.size()));
  for (const auto& [name, blob] : snapshot.blobs) {
    putU32(out, static_cast<uint32_t>(name.size()));
    out += name;
    putU32(out, static_cast<uint32_t>(blob.size()));
    out += blob;
  }
  putU64(out, XXH3_64bits(out.data(), out.size()));
  return out;
}

Result<OperatorSnapshot> decodeOperatorState(std::string_view bytes, const std::string& path) {
  auto damaged = [&](const std::string& why) {
    return Status::corruption("operator state file '" + path + "' is damaged: " + why);
  };
  if (bytes.size() < 20 || bytes.substr(0, 4) != std::string_view(kOperatorStateMagic, 4)) {
    return damaged("not an operator state file");
  }
  Cursor checksum{bytes, bytes.size() - 8};
  uint64_t expected = 0;
  checksum.u64(expected);
  if (XXH3_64bits(bytes.data(), bytes.size() - 8) != expected) return damaged("checksum mismatch");
  Cursor cursor{bytes.substr(0, bytes.size() - 8), 4};
  uint32_t version = 0;
  uint32_t count = 0;
  if (!cursor.u32(version) || !cursor.u32(count)) return damaged("truncated header");
  if (version != kOperatorStateVersion) return damaged("unknown version " + std::to_string(version));
  OperatorSnapshot snapshot;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t length = 0;
    std::string_view name;
    std::string_view blob;
    if (!cursor.u32(length) || !cursor.take(length, name) || !cursor.u32(length) || !cursor.take(length, blob)) {
      return damaged("truncated entry");
    }
    snapshot.blobs.emplace(std::string(name), std::string(blob));
  }
  if (cursor.at != cursor.bytes.size()) return damaged("trailing bytes");
  return snapshot;
}

Result<LoadedCheckpoint> loadCheckpoint(const std::string& path) {
  std::error_code error;
  std::string metadataPath = path;
  if (fs::is_directory(path, error)) metadataPath = (fs::path(path) / kMetadataFileName).string();
  if (!fs::exists(metadataPath, error)) {
    return Status::notFound("no checkpoint at '" + path + "': '" + metadataPath + "' does not exist");
  }
  SLUICE_ASSIGN_OR_RETURN(std::string text, readWholeFile(metadataPath));
  SLUICE_ASSIGN_OR_RETURN(CheckpointMetadata metadata, parseCheckpointMetadata(text, metadataPath));
  LoadedCheckpoint loaded;
  loaded.root = (fs::absolute(metadataPath).parent_path() / metadata.root).lexically_normal().string();
  if (loaded.root.size() > 1 && loaded.root.back() == '/') loaded.root.pop_back();
  loaded.metadataPath = fs::absolute(metadataPath).string();
  loaded.metadata = std::move(metadata);
  return loaded;
}

Status verifyCheckpoint(const LoadedCheckpoint& checkpoint) {
  for (const TaskStateHandle& task : checkpoint.metadata.tasks) {
    for (const OperatorStateHandle& op : task.operators) {
      if (!op.operatorStateFile.empty()) {
        SLUICE_RETURN_NOT_OK(readOperatorState(checkpoint.root, op.operatorStateFile).status());
      }
      if (op.keyedState) {
        SLUICE_RETURN_NOT_OK(
            checkSnapshot(*op.keyedState, checkpoint.root, checkpoint.metadata.maxParallelism).status());
      }
    }
  }
  return Status::OK();
}

Result<OperatorSnapshot> readOperatorState(const std::string& root, const std::string& relativePath) {
  std::string path = (fs::path(root) / relativePath).string();
  SLUICE_ASSIGN_OR_RETURN(std::string bytes, readWholeFile(path));
  return decodeOperatorState(bytes, path);
}

}  // namespace sluice
