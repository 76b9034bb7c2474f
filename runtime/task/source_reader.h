// The source contract: a reader produces batches for one split of a source.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/base/result.h"
#include "runtime/task/operator.h"

namespace sluice {

/// Reads one split (a part of a file, a slice of a generator's sequence) of a
/// source and emits batches plus the watermarks its strategy derives. Runs on its
/// task's thread; the runtime interleaves `pollNext` with mailbox work
/// (checkpoint triggers, cancellation), so a call should return after about one
/// batch.
class SourceReader {
 public:
  virtual ~SourceReader() = default;

  virtual Status open(const OperatorContext& context) = 0;

  /// Emits at most about one batch (and any watermark it advances) per stream
  /// on `out`. Returns false when the split is exhausted; the runtime then
  /// emits the final watermark and end-of-stream.
  virtual Result<bool> pollNext(Output& out) = 0;

  /// The position to resume from, for checkpoints (e.g. the byte offset).
  virtual std::string snapshotPosition() const { return {}; }
  /// REQUIRES: before open().
  virtual Status restorePosition(const std::string& position) {
    (void)position;
    return Status::OK();
  }

  virtual Status close() { return Status::OK(); }

  /// Records read so far (for summaries and metrics).
  virtual int64_t recordsRead() const = 0;
};

}  // namespace sluice
