// GeneratorSourceReader: rows computed from their id, so every run and split layout agrees.
#include "operators/generator_source.h"

#include <array>

#include "operators/source_position.h"
#include "runtime/data/record_batch.h"

namespace sluice {
namespace {

constexpr std::string_view kPositionVersion = "generator-v1";

int64_t splitBoundary(int64_t count, int split, int numSplits) {
  return static_cast<int64_t>(static_cast<__int128>(count) * split / numSplits);
}

}  // namespace

SchemaPtr generatorSchema() {
  static const SchemaPtr schema = *Schema::make(
      {{"id", DataType::kInt64}, {"ts", DataType::kTimestamp}, {"value", DataType::kInt64}, {"key", DataType::kInt64}});
  return schema;
}

int64_t generatorValue(int64_t id) {
  uint64_t z = static_cast<uint64_t>(id) + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z = z ^ (z >> 31);
  return static_cast<int64_t>(z % 1000000);
}

GeneratorSourceReader::GeneratorSourceReader(std::shared_ptr<const GeneratorOptions> options, int split, int numSplits)
    : options_(std::move(options)),
      schema_(generatorSchema()),
      split_(split),
      numSplits_(numSplits),
      begin_(splitBoundary(options_->count, split, numSplits)),
      end_(splitBoundary(options_->count, split + 1, numSplits)),
      next_(begin_),
      watermarks_(options_->maxOutOfOrdernessMs) {
  if (options_->rateLimit.has_value() && *options_->rateLimit > 0) rateLimiter_.emplace(*options_->rateLimit);
}

Status GeneratorSourceReader::open(const OperatorContext& context) {
  (void)context;
  return checkSplitInRange(options_->sourceId, split_, numSplits_);
}

Result<bool> GeneratorSourceReader::pollNext(Output& out) {
  if (next_ >= end_) return false;
  int64_t limit = std::max<int64_t>(1, options_->batchSize);
  if (rateLimiter_.has_value()) limit = std::min(limit, rateLimiter_->maxRecordsPerPoll());
  const int64_t rows = std::min(limit, end_ - next_);
  const int64_t keys = std::max<int64_t>(1, options_->keys);
  std::vector<int64_t> ids(rows);
  std::vector<int64_t> times(rows);
  std::vector<int64_t> values(rows);
  std::vector<int64_t> keyValues(rows);
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t id = next_ + i;
    ids[i] = id;
    times[i] = options_->startTime + id * options_->intervalMs;
    values[i] = generatorValue(id);
    keyValues[i] = id % keys;
  }
  next_ += rows;
  watermarks_.observe(times.data(), rows);
  auto makeColumn = [rows](DataType type, std::vector<int64_t>&& data) {
    return std::make_shared<const Column>(type, rows, Buffer::fromVector(std::move(data)), Buffer(), Buffer(), 0);
  };
  std::vector<ColumnPtr> columns = {
      makeColumn(DataType::kInt64, std::move(ids)), makeColumn(DataType::kTimestamp, std::move(times)),
      makeColumn(DataType::kInt64, std::move(values)), makeColumn(DataType::kInt64, std::move(keyValues))};
  SLUICE_RETURN_NOT_OK(out.emit(RecordBatch(schema_, rows, std::move(columns), kGeneratorEventTimeIndex)));
  if (auto watermark = watermarks_.nextWatermark()) SLUICE_RETURN_NOT_OK(out.emitWatermark(*watermark));
  if (rateLimiter_.has_value()) rateLimiter_->acquire(rows);
  return next_ < end_;
}

std::string GeneratorSourceReader::snapshotPosition() const {
  const std::array<int64_t, 3> values = {next_, watermarks_.maxEventTime(), watermarks_.emittedWatermark()};
  return encodeSourcePosition(kPositionVersion, split_, numSplits_, values);
}

Status GeneratorSourceReader::restorePosition(const std::string& position) {
  if (position.empty()) return Status::OK();
  std::array<int64_t, 3> values{};
  SLUICE_RETURN_NOT_OK(
      decodeSourcePosition(kPositionVersion, position, options_->sourceId, split_, numSplits_, values));
  const auto [next, maxEventTime, emittedWatermark] = values;
  if (next < begin_ || next > end_) {
    return Status::corruption("source '" + options_->sourceId + "': saved position " + std::to_string(next) +
                              " lies outside ids [" + std::to_string(begin_) + ", " + std::to_string(end_) + ")");
  }
  next_ = next;
  watermarks_.restore(maxEventTime, emittedWatermark);
  return Status::OK();
}

}  // namespace sluice
