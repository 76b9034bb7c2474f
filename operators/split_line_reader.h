// SplitLineReader: reads the lines of one byte-range split of a text file in large chunks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"

namespace sluice {

/// Reads the lines of split `split` of `numSplits` of a file, with the Hadoop
/// rule that makes every line belong to exactly one split: split i covers the
/// bytes [i * size / n, (i + 1) * size / n), and a line belongs to the split in
/// which it starts. A split that does not start at 0 skips ahead to just after
/// the first '\n' at or after its start - 1; a line that starts inside the split
/// is read to its end even past the split's end. Lines end at "\n" or "\r\n";
/// the last line needs no terminator.
///
/// Reads with pread in chunks of at least 1 MiB and hands out views into its
/// buffer, each followed by at least `padding` readable bytes (for simdjson).
/// A view is valid until the next call to next(). Not thread-safe.
class SplitLineReader {
 public:
  struct Line {
    std::string_view text;  // without the terminator
    size_t capacity = 0;    // readable bytes from text.data(), >= text.size() + padding
    int64_t number = 0;     // 1-based line number in the whole file
    int64_t offset = 0;     // byte offset of the line's start in the file
  };

  explicit SplitLineReader(std::string path, size_t padding = 64, size_t chunkBytes = size_t{1} << 20);
  ~SplitLineReader();
  SplitLineReader(const SplitLineReader&) = delete;
  SplitLineReader& operator=(const SplitLineReader&) = delete;

  /// Checks that `path` can be opened for reading: "cannot open 'PATH': REASON"
  /// (NotFound when it does not exist, else IOError).
  static Status checkReadable(const std::string& path);

  /// Opens the file and finds the first line of the split. Counts the lines of
  /// the skipped prefix so that line numbers are those of the whole file.
  Status open(int split, int numSplits);
  /// Opens the file to continue split `split` of `numSplits` at `offset` (the
  /// start of line `lineNumber`), as saved from offset() and lineNumber().
  Status openAt(int split, int numSplits, int64_t offset, int64_t lineNumber);

  /// Reads the next line of the split into `line`. Returns false at the end of
  /// the split. REQUIRES: open() or openAt() succeeded.
  Result<bool> next(Line& line);

  /// The byte offset of the next line to read.
  int64_t offset() const { return bufferOffset_ + static_cast<int64_t>(begin_); }
  /// The number of the next line to read.
  int64_t lineNumber() const { return lineNumber_; }
  int64_t fileSize() const { return fileSize_; }
  int64_t splitEnd() const { return end_; }
  const std::string& path() const { return path_; }

 private:
  Status openFile(int split, int numSplits);
  /// Positions at the first line starting at or after `start` (Hadoop rule).
  Status seekToFirstLine(int64_t start);
  /// Moves unread bytes to the front and reads more; grows the buffer when a
  /// line fills it.
  Status refill();
  Status ioError(const std::string& what) const;

  std::string path_;
  size_t padding_;
  size_t chunkBytes_;
  int fd_ = -1;
  int64_t fileSize_ = 0;
  int64_t end_ = 0;
  std::vector<char> buffer_;  // chunk bytes + padding
  int64_t bufferOffset_ = 0;  // file offset of buffer_[0]
  size_t begin_ = 0;          // next unread byte in buffer_
  size_t filled_ = 0;         // bytes of buffer_ holding file data
  int64_t lineNumber_ = 1;
};

}  // namespace sluice
