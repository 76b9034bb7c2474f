// FileSourceReader: reads one split of a JSON-lines or CSV file into batches per record kind.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operators/bounded_out_of_orderness.h"
#include "operators/file_format.h"
#include "operators/line_parser.h"
#include "operators/rate_limiter.h"
#include "operators/record_kind.h"
#include "operators/split_line_reader.h"
#include "runtime/task/source_reader.h"

namespace sluice {

/// Everything a file source reader needs, already validated (see
/// `planFileSource` for the YAML form).
struct FileSourceOptions {
  std::string sourceId;  // for messages
  std::string path;      // the file; relative paths resolve against the process's directory
  FileFormat format = FileFormat::kJsonLines;
  /// One kind with an empty name (emitted with `emit`), or named kinds
  /// (emitted with `emitSide(name, ...)`).
  std::vector<RecordKind> kinds;
  /// JSON lines with named kinds: the field holding the kind name. CSV uses the first column.
  std::string discriminator;
  int64_t maxOutOfOrdernessMs = 0;
  ErrorPolicy onError = ErrorPolicy::kFail;
  /// Lines starting with one of these are ignored (e.g. a CSV header, "#" comments).
  std::vector<std::string> skipPrefixes;
  int64_t batchSize = 4096;
  std::optional<double> rateLimit;  // records per second per reader

  /// True when the kinds are named (a discriminator tells them apart).
  bool hasNamedKinds() const { return !(kinds.size() == 1 && kinds[0].name.empty()); }
};

/// Reads split `split` of `numSplits` of the file (see SplitLineReader for
/// how splits divide a file) and emits about one batch per kind per poll,
/// then the bounded-out-of-orderness watermark when it advanced.
///
/// A malformed line fails the reader with "<path>:<line>: <reason>" unless
/// the policy is kSkip, which counts it and logs the count at the end. Lines
/// of an unknown kind, blank lines and lines with a skip prefix are dropped;
/// a UTF-8 byte-order mark at the start of the file is ignored.
/// The position (byte offset, line number, watermark state) survives
/// snapshotPosition/restorePosition, so a restored reader continues right
/// after the last record it emitted. Runs on its task's thread only.
class FileSourceReader final : public SourceReader {
 public:
  FileSourceReader(std::shared_ptr<const FileSourceOptions> options, int split, int numSplits);
  ~FileSourceReader() override;

  Status open(const OperatorContext& context) override;
  Result<bool> pollNext(Output& out) override;
  std::string snapshotPosition() const override;
  Status restorePosition(const std::string& position) override;
  Status close() override;
  int64_t recordsRead() const override { return recordsRead_; }

  /// Malformed lines dropped under ErrorPolicy::kSkip.
  int64_t skippedLines() const { return skippedLines_; }
  /// Lines whose discriminator named no declared kind.
  int64_t unknownKindLines() const { return unknownKindLines_; }

 private:
  bool isIgnored(std::string_view line) const;
  Status emitBatches(Output& out);
  void reportDropped();

  std::shared_ptr<const FileSourceOptions> options_;
  int split_;
  int numSplits_;
  SplitLineReader lines_;
  std::unique_ptr<LineParser> parser_;
  BoundedOutOfOrderness watermarks_;
  std::optional<RateLimiter> rateLimiter_;
  struct SavedPosition {
    int64_t offset;
    int64_t lineNumber;
  };
  std::optional<SavedPosition> restored_;
  bool opened_ = false;
  bool exhausted_ = false;
  bool reported_ = false;
  int64_t recordsRead_ = 0;
  int64_t skippedLines_ = 0;
  int64_t unknownKindLines_ = 0;
  std::string firstSkipReason_;
};

}  // namespace sluice
