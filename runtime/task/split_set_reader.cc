#include "runtime/task/split_set_reader.h"

#include <algorithm>
#include <charconv>

namespace sluice {
namespace {

constexpr std::string_view kHeader = "sluice-split-set 1\n";

/// Passes records through and keeps the part's latest watermark.
class PartOutput final : public Output {
 public:
  PartOutput(Output& out, int64_t& watermark) : out_(out), watermark_(watermark) {}
  Status emit(RecordBatch batch) override { return out_.emit(std::move(batch)); }
  Status emitSide(std::string_view tag, RecordBatch batch) override { return out_.emitSide(tag, std::move(batch)); }
  Status emitWatermark(int64_t timestamp) override {
    watermark_ = std::max(watermark_, timestamp);
    return Status::OK();
  }

 private:
  Output& out_;
  int64_t& watermark_;
};

}  // namespace

std::string encodeSplitPositions(const std::vector<SplitPosition>& splits) {
  std::string out(kHeader);
  for (const SplitPosition& split : splits) {
    out += std::to_string(split.split) + " " + std::to_string(split.numSplits) + " " +
           std::to_string(split.position.size()) + "\n" + split.position;
  }
  return out;
}

bool isSplitSetPosition(const std::string& position) { return position.starts_with(kHeader); }

Result<std::vector<SplitPosition>> decodeSplitPositions(const std::string& position) {
  if (!isSplitSetPosition(position)) return Status::corruption("not a split-set source position");
  std::vector<SplitPosition> splits;
  size_t at = kHeader.size();
  while (at < position.size()) {
    size_t newline = position.find('\n', at);
    if (newline == std::string::npos) return Status::corruption("split-set source position is truncated");
    SplitPosition split;
    size_t length = 0;
    const char* cursor = position.data() + at;
    const char* end = position.data() + newline;
    auto parse = [&](auto& value) {
      while (cursor < end && *cursor == ' ') ++cursor;
      auto [next, error] = std::from_chars(cursor, end, value);
      cursor = next;
      return error == std::errc();
    };
    if (!parse(split.split) || !parse(split.numSplits) || !parse(length) || newline + 1 + length > position.size()) {
      return Status::corruption("split-set source position is damaged");
    }
    split.position = position.substr(newline + 1, length);
    splits.push_back(std::move(split));
    at = newline + 1 + length;
  }
  return splits;
}

SplitSetReader::SplitSetReader(std::vector<Part> parts) : emittedWatermark_(kMinWatermark) {
  for (auto& part : parts) states_.push_back(State{std::move(part), kMinWatermark});
}

Status SplitSetReader::open(const OperatorContext& context) {
  for (auto& state : states_) SLUICE_RETURN_NOT_OK(state.part.reader->open(context));
  return Status::OK();
}

Result<bool> SplitSetReader::pollNext(Output& out) {
  for (size_t tried = 0; tried < states_.size(); ++tried) {
    State& state = states_[next_];
    next_ = (next_ + 1) % states_.size();
    if (state.ended) continue;
    PartOutput partOutput(out, state.watermark);
    SLUICE_ASSIGN_OR_RETURN(bool more, state.part.reader->pollNext(partOutput));
    if (!more) state.ended = true;
    break;
  }
  int64_t combined = kMaxWatermark;
  bool anyActive = false;
  for (const State& state : states_) {
    if (state.ended) continue;
    anyActive = true;
    combined = std::min(combined, state.watermark);
  }
  if (!anyActive) return false;  // the runtime emits the final watermark
  if (combined > emittedWatermark_) {
    emittedWatermark_ = combined;
    SLUICE_RETURN_NOT_OK(out.emitWatermark(combined));
  }
  return true;
}

std::string SplitSetReader::snapshotPosition() const {
  std::vector<SplitPosition> splits;
  for (const State& state : states_) {
    splits.push_back(SplitPosition{state.part.split, state.part.numSplits, state.part.reader->snapshotPosition()});
  }
  return encodeSplitPositions(splits);
}

Status SplitSetReader::close() {
  Status first;
  for (auto& state : states_) {
    Status closed = state.part.reader->close();
    if (first.ok() && !closed.ok()) first = closed;
  }
  return first;
}

int64_t SplitSetReader::recordsRead() const {
  int64_t total = 0;
  for (const State& state : states_) total += state.part.reader->recordsRead();
  return total;
}

}  // namespace sluice
