// FileSink: buffered POSIX writes, pre-commit on snapshot, rename on checkpoint completion.
#include "operators/file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <system_error>

#include "operators/csv_line_writer.h"

namespace sluice {
namespace {

constexpr std::string_view kPendingBlob = "pending-files";
constexpr std::string_view kInProgressSuffix = ".inprogress";

Status writeAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return Status::ioError(std::strerror(errno));
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
  return Status::OK();
}

/// The seq of `name` when it starts with `prefix` followed by digits and a dot.
std::optional<int64_t> seqAfterPrefix(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix)) return std::nullopt;
  name.remove_prefix(prefix.size());
  int64_t seq = 0;
  auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), seq);
  if (error != std::errc() || end == name.data() || end == name.data() + name.size() || *end != '.') {
    return std::nullopt;
  }
  return seq;
}

}  // namespace

FileSink::FileSink(std::shared_ptr<const FileSinkOptions> options) : options_(std::move(options)) {}

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

std::string FileSink::partFileName(int subtask, int64_t seq, FileFormat format) {
  return "part-" + std::to_string(subtask) + "-" + std::to_string(seq) + "." + std::string(fileFormatExtension(format));
}

Status FileSink::prepare(const FileSinkOptions& options, bool resuming) {
  namespace fs = std::filesystem;
  const std::string prefix = "sink '" + options.sinkId + "': ";
  std::error_code error;
  const fs::path directory(options.directory);
  if (fs::exists(directory, error)) {
    if (!fs::is_directory(directory, error)) {
      return Status::invalidArgument(prefix + "output path '" + options.directory + "' is not a directory");
    }
    if (!resuming) {
      for (const auto& entry : fs::directory_iterator(directory, error)) {
        if (entry.path().filename().string().starts_with("part-")) {
          return Status::alreadyExists(prefix + "output directory '" + options.directory +
                                       "' already holds committed files (part-*); choose an empty directory");
        }
      }
      if (error) {
        return Status::ioError(prefix + "cannot list '" + options.directory + "': " + error.message());
      }
    }
    return Status::OK();
  }
  fs::create_directories(directory, error);
  if (error) {
    return Status::ioError(prefix + "cannot create output directory '" + options.directory + "': " + error.message());
  }
  return Status::OK();
}

std::string FileSink::pathOf(const std::string& name) const { return options_->directory + "/" + name; }

Status FileSink::ioError(const std::string& what, const std::string& name) const {
  return Status::ioError("sink '" + options_->sinkId + "': cannot " + what + " '" + pathOf(name) +
                         "': " + std::strerror(errno));
}

Status FileSink::restoreState(const OperatorSnapshot& snapshot) {
  // Called once per restored subtask state (several when the job was rescaled down).
  wasRestored_ = true;
  auto found = snapshot.blobs.find(std::string(kPendingBlob));
  if (found == snapshot.blobs.end()) return Status::OK();
  std::istringstream in(found->second);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const size_t firstTab = line.find('\t');
    const size_t secondTab = firstTab == std::string::npos ? firstTab : line.find('\t', firstTab + 1);
    PendingFile file;
    if (secondTab == std::string::npos ||
        std::from_chars(line.data(), line.data() + firstTab, file.checkpointId).ec != std::errc()) {
      return Status::corruption("sink '" + options_->sinkId + "': unreadable pending-file entry '" + line + "'");
    }
    file.hiddenName = line.substr(firstTab + 1, secondTab - firstTab - 1);
    file.finalName = line.substr(secondTab + 1);
    restored_.push_back(std::move(file));
  }
  return Status::OK();
}

Status FileSink::open(const OperatorContext& context) {
  context_ = context;
  if (wasRestored_) {
    // Every pending file of the restored checkpoint belongs to committed
    // history: commit what is still hidden.
    for (const auto& file : restored_) SLUICE_RETURN_NOT_OK(commit(file));
    if (!restored_.empty()) SLUICE_RETURN_NOT_OK(syncDirectory());
    restored_.clear();
  }
  return scanDirectory(wasRestored_);
}

Status FileSink::scanDirectory(bool deleteInProgress) {
  namespace fs = std::filesystem;
  const std::string committedPrefix = "part-" + std::to_string(context_.subtaskIndex) + "-";
  const std::string hiddenPrefix = "." + committedPrefix;
  std::error_code error;
  int64_t highest = -1;
  std::vector<std::string> stale;
  for (const auto& entry : fs::directory_iterator(options_->directory, error)) {
    const std::string name = entry.path().filename().string();
    if (auto seq = seqAfterPrefix(name, committedPrefix)) {
      highest = std::max(highest, *seq);
    } else if (auto hiddenSeq = seqAfterPrefix(name, hiddenPrefix)) {
      if (deleteInProgress && name.ends_with(kInProgressSuffix)) {
        stale.push_back(name);
      } else {
        highest = std::max(highest, *hiddenSeq);
      }
    }
  }
  if (error) {
    return Status::ioError("sink '" + options_->sinkId + "': cannot list '" + options_->directory +
                           "': " + error.message());
  }
  for (const auto& name : stale) {
    if (::unlink(pathOf(name).c_str()) != 0 && errno != ENOENT) return ioError("delete", name);
  }
  nextSeq_ = highest + 1;
  return Status::OK();
}

Status FileSink::startFile() {
  const int64_t seq = nextSeq_++;
  const std::string jobId = context_.jobId.empty() ? "local" : context_.jobId;
  currentFinal_ = partFileName(context_.subtaskIndex, seq, options_->format);
  currentHidden_ = "." + currentFinal_.substr(0, currentFinal_.rfind('.')) + "." + jobId + "-" +
                   std::to_string(context_.attempt) + std::string(kInProgressSuffix);
  fd_ = ::open(pathOf(currentHidden_).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return ioError("create", currentHidden_);
  return Status::OK();
}

Status FileSink::flushBuffer() {
  if (buffer_.empty()) return Status::OK();
  Status status = writeAll(fd_, buffer_.data(), buffer_.size());
  if (!status.ok()) {
    return Status::ioError("sink '" + options_->sinkId + "': cannot write '" + pathOf(currentHidden_) +
                           "': " + status.message());
  }
  buffer_.clear();
  return Status::OK();
}

Status FileSink::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)input;
  (void)out;
  if (batch.numRows() == 0) return Status::OK();
  if (fd_ < 0) SLUICE_RETURN_NOT_OK(startFile());
  if (options_->format == FileFormat::kCsv) {
    CsvLineWriter::append(batch, buffer_);
  } else {
    if (jsonWriter_ == nullptr ||
        (jsonWriter_->schema() != batch.schema() && !(*jsonWriter_->schema() == *batch.schema()))) {
      jsonWriter_ = std::make_unique<JsonLineWriter>(batch.schema());
    }
    jsonWriter_->append(batch, buffer_);
  }
  recordsWritten_ += batch.numRows();
  if (buffer_.size() >= options_->bufferBytes) SLUICE_RETURN_NOT_OK(flushBuffer());
  return Status::OK();
}

Status FileSink::preCommit(int64_t checkpointId) {
  if (fd_ < 0) return Status::OK();
  SLUICE_RETURN_NOT_OK(flushBuffer());
  if (::fsync(fd_) != 0) return ioError("sync", currentHidden_);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return ioError("close", currentHidden_);
  pending_.push_back({checkpointId, std::move(currentHidden_), std::move(currentFinal_)});
  return Status::OK();
}

Status FileSink::snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) {
  SLUICE_RETURN_NOT_OK(preCommit(checkpointId));
  std::string blob;
  for (const auto& file : pending_) {
    blob += std::to_string(file.checkpointId) + "\t" + file.hiddenName + "\t" + file.finalName + "\n";
  }
  snapshot.blobs[std::string(kPendingBlob)] = std::move(blob);
  return Status::OK();
}

Status FileSink::commit(const PendingFile& file) {
  if (::rename(pathOf(file.hiddenName).c_str(), pathOf(file.finalName).c_str()) == 0) return Status::OK();
  if (errno != ENOENT) return ioError("commit", file.hiddenName);
  // Already renamed by an earlier attempt: nothing to do. Neither name present
  // means committed output is gone, and redoing it would duplicate rows.
  if (::access(pathOf(file.finalName).c_str(), F_OK) == 0) return Status::OK();
  return Status::corruption("sink '" + options_->sinkId + "': file '" + pathOf(file.hiddenName) + "' of checkpoint " +
                            std::to_string(file.checkpointId) + " is missing and was never committed as '" +
                            file.finalName + "'; its rows cannot be recovered");
}

Status FileSink::commitUpTo(int64_t checkpointId) {
  bool committed = false;
  std::vector<PendingFile> remaining;
  for (auto& file : pending_) {
    if (file.checkpointId <= checkpointId) {
      SLUICE_RETURN_NOT_OK(commit(file));
      committed = true;
    } else {
      remaining.push_back(std::move(file));
    }
  }
  pending_ = std::move(remaining);
  return committed ? syncDirectory() : Status::OK();
}

Status FileSink::notifyCheckpointComplete(int64_t checkpointId) { return commitUpTo(checkpointId); }

Status FileSink::finish(Output& out) {
  (void)out;
  // With checkpoints, the job's final checkpoint pre-commits and commits the rest.
  if (context_.checkpointing) return fd_ >= 0 ? flushBuffer() : Status::OK();
  constexpr int64_t kEndOfInput = std::numeric_limits<int64_t>::max();
  SLUICE_RETURN_NOT_OK(preCommit(kEndOfInput));
  return commitUpTo(kEndOfInput);
}

Status FileSink::syncDirectory() {
  const int fd = ::open(options_->directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ioError("open", ".");
  const int result = ::fsync(fd);
  ::close(fd);
  if (result != 0) return ioError("sync", ".");
  return Status::OK();
}

Status FileSink::close() {
  // An unfinished file stays hidden; a restore deletes it.
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  buffer_.clear();
  return Status::OK();
}

}  // namespace sluice
