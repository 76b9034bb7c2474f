#include "runtime/state/snapshot_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

namespace sluice {
namespace fs = std::filesystem;

std::error_code createHardLink(const fs::path& target, const fs::path& link) {
  std::error_code error;
  fs::create_hard_link(target, link, error);
  return error;
}

Status copyFile(const fs::path& source, const fs::path& destination, int64_t limitBytes) {
  int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::ioError(fmt::format("cannot open '{}': {}", source.string(), std::strerror(errno)));
  int out = ::open(destination.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    int error = errno;
    ::close(in);
    return Status::ioError(fmt::format("cannot create '{}': {}", destination.string(), std::strerror(error)));
  }
  std::vector<char> buffer(1 << 20);
  int64_t remaining = limitBytes < 0 ? INT64_MAX : limitBytes;
  Status status;
  while (remaining > 0) {
    auto wanted = static_cast<size_t>(std::min<int64_t>(remaining, static_cast<int64_t>(buffer.size())));
    ssize_t got = ::read(in, buffer.data(), wanted);
    if (got < 0) {
      if (errno == EINTR) continue;
      status = Status::ioError(fmt::format("cannot read '{}': {}", source.string(), std::strerror(errno)));
      break;
    }
    if (got == 0) break;
    ssize_t written = 0;
    while (written < got) {
      ssize_t step = ::write(out, buffer.data() + written, static_cast<size_t>(got - written));
      if (step < 0) {
        if (errno == EINTR) continue;
        status = Status::ioError(fmt::format("cannot write '{}': {}", destination.string(), std::strerror(errno)));
        break;
      }
      written += step;
    }
    if (!status.ok()) break;
    remaining -= got;
  }
  ::close(in);
  if (::close(out) != 0 && status.ok()) {
    status = Status::ioError(fmt::format("cannot write '{}': {}", destination.string(), std::strerror(errno)));
  }
  return status;
}

Status linkOrCopyFile(const fs::path& source, const fs::path& destination, const HardLinkFunction& hardLink,
                      bool* copied) {
  std::error_code error = hardLink ? hardLink(source, destination) : createHardLink(source, destination);
  if (!error) {
    if (copied != nullptr) *copied = false;
    return Status::OK();
  }
  // Typically EXDEV (another filesystem) or EPERM (no links on this filesystem).
  std::error_code ignored;
  fs::remove(destination, ignored);
  if (copied != nullptr) *copied = true;
  return copyFile(source, destination);
}

Status writeFileAtomically(const fs::path& path, std::string_view contents) {
  fs::path temporary = path;
  temporary += ".tmp-" + randomFileId();
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return Status::ioError(fmt::format("cannot create '{}'", temporary.string()));
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) return Status::ioError(fmt::format("cannot write '{}'", temporary.string()));
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) {
    fs::remove(temporary, error);
    return Status::ioError(fmt::format("cannot rename into '{}'", path.string()));
  }
  return Status::OK();
}

Result<std::string> readWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::notFound(fmt::format("cannot open '{}'", path.string()));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return Status::ioError(fmt::format("cannot read '{}'", path.string()));
  return out.str();
}

std::string randomFileId() {
  thread_local std::mt19937_64 generator{std::random_device{}() ^
                                         static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&generator))};
  return fmt::format("{:016x}", generator());
}

namespace {

constexpr std::string_view kManifestHeader = "sluice-state-snapshot 1";

template <typename T>
bool parseNumber(std::string_view text, T* value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

// Splits off the next space-separated word of `rest`.
std::string_view nextWord(std::string_view& rest) {
  size_t space = rest.find(' ');
  std::string_view word = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  return word;
}

}  // namespace

std::string SnapshotManifest::serialize() const {
  std::string out =
      fmt::format("{}\nbackend {}\ncheckpoint {}\nmax-parallelism {}\nkey-groups {} {}\n", kManifestHeader, backendType,
                  checkpointId, maxParallelism, keyGroups.first, keyGroups.last);
  for (const SnapshotFile& file : files) {
    out +=
        fmt::format("file {} {} {} {}\n", file.shared ? "shared" : "private", file.size, file.name, file.relativePath);
  }
  return out;
}

Result<SnapshotManifest> SnapshotManifest::parse(std::string_view text) {
  auto bad = [](std::string_view why) {
    return Status::corruption(fmt::format("state snapshot metadata is damaged: {}", why));
  };
  SnapshotManifest manifest;
  bool sawHeader = false;
  bool sawKeyGroups = false;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (line.empty()) continue;
    if (!sawHeader) {
      if (line != kManifestHeader) return bad("unknown format");
      sawHeader = true;
      continue;
    }
    std::string_view rest = line;
    std::string_view word = nextWord(rest);
    if (word == "backend") {
      manifest.backendType = std::string(rest);
    } else if (word == "checkpoint") {
      if (!parseNumber(rest, &manifest.checkpointId)) return bad("bad checkpoint id");
    } else if (word == "max-parallelism") {
      if (!parseNumber(rest, &manifest.maxParallelism)) return bad("bad max parallelism");
    } else if (word == "key-groups") {
      std::string_view first = nextWord(rest);
      if (!parseNumber(first, &manifest.keyGroups.first) || !parseNumber(rest, &manifest.keyGroups.last)) {
        return bad("bad key-group range");
      }
      sawKeyGroups = true;
    } else if (word == "file") {
      SnapshotFile file;
      std::string_view kind = nextWord(rest);
      std::string_view size = nextWord(rest);
      std::string_view name = nextWord(rest);
      if ((kind != "shared" && kind != "private") || !parseNumber(size, &file.size) || name.empty() || rest.empty()) {
        return bad(fmt::format("bad file line '{}'", line));
      }
      file.shared = kind == "shared";
      file.name = std::string(name);
      file.relativePath = std::string(rest);
      manifest.files.push_back(std::move(file));
    } else {
      return bad(fmt::format("unknown line '{}'", line));
    }
  }
  if (!sawHeader) return bad("empty");
  if (manifest.backendType.empty() || !sawKeyGroups || manifest.maxParallelism <= 0) return bad("incomplete");
  return manifest;
}

Result<SnapshotManifest> checkSnapshot(const StateSnapshot& snapshot, const std::string& root, int maxParallelism) {
  SLUICE_ASSIGN_OR_RETURN(SnapshotManifest manifest, SnapshotManifest::parse(snapshot.metadata));
  if (manifest.backendType != snapshot.backendType || manifest.keyGroups != snapshot.keyGroups) {
    return Status::corruption(
        fmt::format("state snapshot of checkpoint {} has metadata that does not match it", snapshot.checkpointId));
  }
  if (manifest.maxParallelism != maxParallelism) {
    return Status::invalidArgument(
        fmt::format("state snapshot of checkpoint {} was taken with max parallelism {} but the job now uses {}; "
                    "max parallelism cannot change",
                    manifest.checkpointId, manifest.maxParallelism, maxParallelism));
  }
  for (const SnapshotFile& file : manifest.files) {
    fs::path path = fs::path(root) / file.relativePath;
    std::error_code error;
    auto size = fs::file_size(path, error);
    if (error) {
      return Status::notFound(fmt::format("state snapshot file '{}' of checkpoint {} is missing under '{}'",
                                          file.relativePath, manifest.checkpointId, root));
    }
    if (static_cast<int64_t>(size) != file.size) {
      return Status::corruption(
          fmt::format("state snapshot file '{}' of checkpoint {} under '{}' has {} bytes, expected {}",
                      file.relativePath, manifest.checkpointId, root, size, file.size));
    }
  }
  return manifest;
}

}  // namespace sluice
