// SplitLineReader: split boundaries by the Hadoop rule, chunked pread, line numbering.
#include "operators/split_line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sluice {
namespace {

Status openError(const std::string& path, int error) {
  std::string message = "cannot open '" + path + "': " + std::strerror(error);
  return error == ENOENT ? Status::notFound(std::move(message)) : Status::ioError(std::move(message));
}

/// Reads up to `size` bytes at `offset`, retrying on EINTR; returns bytes read or -1.
ssize_t preadFully(int fd, char* data, size_t size, int64_t offset) {
  size_t done = 0;
  while (done < size) {
    const ssize_t got = ::pread(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return static_cast<ssize_t>(done);
}

int64_t splitBoundary(int64_t size, int split, int numSplits) {
  return static_cast<int64_t>(static_cast<__int128>(size) * split / numSplits);
}

}  // namespace

SplitLineReader::SplitLineReader(std::string path, size_t padding, size_t chunkBytes)
    : path_(std::move(path)), padding_(padding), chunkBytes_(std::max<size_t>(chunkBytes, 16)) {}

SplitLineReader::~SplitLineReader() {
  if (fd_ >= 0) ::close(fd_);
}

Status SplitLineReader::checkReadable(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return openError(path, errno);
  struct stat info {};
  const bool isDirectory = ::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode);
  ::close(fd);
  if (isDirectory) return openError(path, EISDIR);
  return Status::OK();
}

Status SplitLineReader::ioError(const std::string& what) const {
  return Status::ioError(what + " '" + path_ + "': " + std::strerror(errno));
}

Status SplitLineReader::openFile(int split, int numSplits) {
  if (numSplits < 1 || split < 0 || split >= numSplits) {
    return Status::invalidArgument("split " + std::to_string(split) + " of " + std::to_string(numSplits) +
                                   " is out of range");
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return openError(path_, errno);
  struct stat info {};
  if (::fstat(fd_, &info) != 0) return ioError("cannot stat");
  if (S_ISDIR(info.st_mode)) return openError(path_, EISDIR);
  fileSize_ = info.st_size;
  end_ = splitBoundary(fileSize_, split + 1, numSplits);
  buffer_.assign(chunkBytes_ + padding_, '\0');
  begin_ = 0;
  filled_ = 0;
  return Status::OK();
}

Status SplitLineReader::open(int split, int numSplits) {
  SLUICE_RETURN_NOT_OK(openFile(split, numSplits));
  return seekToFirstLine(splitBoundary(fileSize_, split, numSplits));
}

Status SplitLineReader::openAt(int split, int numSplits, int64_t offset, int64_t lineNumber) {
  SLUICE_RETURN_NOT_OK(openFile(split, numSplits));
  if (offset < 0 || lineNumber < 1) return Status::invalidArgument("invalid saved position");
  bufferOffset_ = offset;
  lineNumber_ = lineNumber;
  return Status::OK();
}

Status SplitLineReader::seekToFirstLine(int64_t start) {
  lineNumber_ = 1;
  if (start == 0) {
    bufferOffset_ = 0;
    return Status::OK();
  }
  // The split's first line starts after the first '\n' at or after start - 1.
  // Everything before is counted so that line numbers are the file's.
  const int64_t target = start - 1;
  int64_t position = 0;
  int64_t newlines = 0;
  char* chunk = buffer_.data();
  while (position < fileSize_) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(chunkBytes_, fileSize_ - position));
    const ssize_t got = preadFully(fd_, chunk, want, position);
    if (got < 0) return ioError("cannot read");
    if (got == 0) break;
    const char* searchFrom = chunk;
    if (position + got <= target) {
      newlines += std::count(chunk, chunk + got, '\n');
      position += got;
      continue;
    }
    if (position < target) {
      searchFrom = chunk + (target - position);
      newlines += std::count(static_cast<const char*>(chunk), searchFrom, '\n');
    }
    const void* found = std::memchr(searchFrom, '\n', static_cast<size_t>(chunk + got - searchFrom));
    if (found != nullptr) {
      bufferOffset_ = position + (static_cast<const char*>(found) - chunk) + 1;
      lineNumber_ = newlines + 2;
      return Status::OK();
    }
    newlines += std::count(searchFrom, static_cast<const char*>(chunk) + got, '\n');
    position += got;
  }
  bufferOffset_ = fileSize_;  // no line starts in this split
  lineNumber_ = newlines + 1;
  return Status::OK();
}

Status SplitLineReader::refill() {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, filled_ - begin_);
    bufferOffset_ += static_cast<int64_t>(begin_);
    filled_ -= begin_;
    begin_ = 0;
  }
  size_t capacity = buffer_.size() - padding_;
  if (filled_ == capacity) {
    capacity *= 2;  // one line fills the buffer
    buffer_.resize(capacity + padding_, '\0');
  }
  const int64_t readAt = bufferOffset_ + static_cast<int64_t>(filled_);
  const size_t want = static_cast<size_t>(std::min<int64_t>(capacity - filled_, fileSize_ - readAt));
  const ssize_t got = preadFully(fd_, buffer_.data() + filled_, want, readAt);
  if (got < 0) return ioError("cannot read");
  if (static_cast<size_t>(got) < want) fileSize_ = readAt + got;  // the file shrank: stop at its new end
  filled_ += static_cast<size_t>(got);
  return Status::OK();
}

Result<bool> SplitLineReader::next(Line& line) {
  while (true) {
    const int64_t lineStart = offset();
    if (lineStart >= end_ || lineStart >= fileSize_) return false;
    char* start = buffer_.data() + begin_;
    const size_t available = filled_ - begin_;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', available));
    size_t length;
    if (newline != nullptr) {
      length = static_cast<size_t>(newline - start);
      begin_ += length + 1;
    } else if (bufferOffset_ + static_cast<int64_t>(filled_) >= fileSize_ && available > 0) {
      length = available;  // the last line has no terminator
      begin_ = filled_;
    } else {
      SLUICE_RETURN_NOT_OK(refill());
      continue;
    }
    if (length > 0 && start[length - 1] == '\r') --length;
    line.text = std::string_view(start, length);
    line.capacity = buffer_.size() - static_cast<size_t>(start - buffer_.data());
    line.number = lineNumber_++;
    line.offset = lineStart;
    return true;
  }
}

}  // namespace sluice
