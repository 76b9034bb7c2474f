// SplitSetReader: one source subtask reading several splits of a source, used
// when a job resumes with another parallelism than its checkpoint had.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/task/source_reader.h"

namespace sluice {

/// A split of a source (split `split` of `numSplits`, as the planner's
/// createReader(split, numSplits) makes it) and where to resume it.
struct SplitPosition {
  int split = 0;
  int numSplits = 1;
  std::string position;  // SourceReader::snapshotPosition of that split's reader
};

/// The position of a SplitSetReader: a list of split positions. Plain reader
/// positions never start with this header.
std::string encodeSplitPositions(const std::vector<SplitPosition>& splits);
bool isSplitSetPosition(const std::string& position);
Result<std::vector<SplitPosition>> decodeSplitPositions(const std::string& position);

/// Reads its splits' readers round-robin, about one batch per poll, and
/// combines their watermarks as Flink combines per-split watermarks: the
/// minimum over the splits that have not ended, so a split that is behind in
/// event time never sees its records turned late by another split.
/// Not thread-safe (its task's thread only).
class SplitSetReader final : public SourceReader {
 public:
  struct Part {
    int split = 0;
    int numSplits = 1;
    std::unique_ptr<SourceReader> reader;
  };
  explicit SplitSetReader(std::vector<Part> parts);

  Status open(const OperatorContext& context) override;
  Result<bool> pollNext(Output& out) override;
  std::string snapshotPosition() const override;
  Status close() override;
  int64_t recordsRead() const override;

 private:
  struct State {
    Part part;
    int64_t watermark;
    bool ended = false;
  };
  std::vector<State> states_;
  size_t next_ = 0;
  int64_t emittedWatermark_;
};

}  // namespace sluice
