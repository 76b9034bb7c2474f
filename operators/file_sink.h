// FileSink: writes JSON lines or CSV into part files of a directory and commits
// them in two phases, so a reader of the committed files sees each row once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "operators/file_format.h"
#include "operators/json_line_writer.h"
#include "runtime/task/operator.h"

namespace sluice {

struct FileSinkOptions {
  std::string sinkId;     // for messages
  std::string directory;  // the output directory
  FileFormat format = FileFormat::kJsonLines;
  size_t bufferBytes = size_t{1} << 20;  // written with one write(2) when full
};

/// A sink writing part files into one directory.
///
/// Commit protocol (the directory contract of the job file):
/// - Rows go to a hidden in-progress file
///   `.part-<subtask>-<seq>.<jobId>-<attempt>.inprogress`.
/// - snapshotState(n) pre-commits: flushes, fsyncs and closes the current file
///   and records it in the snapshot as pending for checkpoint n; the next row
///   starts a new file with the next seq.
/// - notifyCheckpointComplete(n) renames the pending files of checkpoints <= n
///   to `part-<subtask>-<seq>.<ext>` (committed) and fsyncs the directory.
/// - finish() pre-commits and commits everything, so a bounded input ends with
///   all of its output committed.
/// - restoreState + open re-commit the snapshot's pending files that are still
///   hidden (a file already committed is fine; one that is gone is a
///   Corruption error naming it), then delete this subtask's other in-progress
///   files, which hold rows written after the checkpoint.
/// - seq continues after the highest existing `part-<subtask>-*` or hidden
///   file of this subtask, so names never collide.
/// A subtask that receives no rows creates no file. Single-threaded, like
/// every operator.
class FileSink final : public Operator {
 public:
  explicit FileSink(std::shared_ptr<const FileSinkOptions> options);
  ~FileSink() override;

  /// Planning-time check: creates the directory if missing; on a fresh run
  /// (`resuming` false) refuses a directory that already holds `part-*` files.
  static Status prepare(const FileSinkOptions& options, bool resuming);
  /// "part-<subtask>-<seq>.jsonl" (or ".csv").
  static std::string partFileName(int subtask, int64_t seq, FileFormat format);

  Status open(const OperatorContext& context) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) override;
  Status restoreState(const OperatorSnapshot& snapshot) override;
  Status notifyCheckpointComplete(int64_t checkpointId) override;
  Status finish(Output& out) override;
  Status close() override;
  int64_t recordsWritten() const override { return recordsWritten_; }

 private:
  struct PendingFile {
    int64_t checkpointId;
    std::string hiddenName;
    std::string finalName;
  };

  Status startFile();
  Status flushBuffer();
  /// Flushes, fsyncs and closes the current file; it becomes pending for `checkpointId`.
  Status preCommit(int64_t checkpointId);
  /// Renames one pending file to its final name (idempotent).
  Status commit(const PendingFile& file);
  Status commitUpTo(int64_t checkpointId);
  Status syncDirectory();
  /// Deletes this subtask's in-progress files not listed in `keep` and sets nextSeq_.
  Status scanDirectory(bool deleteInProgress);
  Status ioError(const std::string& what, const std::string& name) const;
  std::string pathOf(const std::string& name) const;

  std::shared_ptr<const FileSinkOptions> options_;
  OperatorContext context_;
  std::unique_ptr<JsonLineWriter> jsonWriter_;  // for the schema of the last batch
  std::string buffer_;
  int fd_ = -1;
  std::string currentHidden_;
  std::string currentFinal_;
  int64_t nextSeq_ = 0;
  std::vector<PendingFile> pending_;
  std::vector<PendingFile> restored_;
  bool wasRestored_ = false;
  int64_t recordsWritten_ = 0;
};

}  // namespace sluice
