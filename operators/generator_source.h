// GeneratorSourceReader: a deterministic synthetic source for tests and benchmarks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "operators/bounded_out_of_orderness.h"
#include "operators/rate_limiter.h"
#include "runtime/data/schema.h"
#include "runtime/task/source_reader.h"

namespace sluice {

struct GeneratorOptions {
  std::string sourceId;
  int64_t count = 1000;    // rows over all readers
  int64_t keys = 100;      // distinct values of `key`
  int64_t startTime = 0;   // `ts` of id 0, epoch ms
  int64_t intervalMs = 1;  // `ts` step per id
  int64_t maxOutOfOrdernessMs = 0;
  int64_t batchSize = 4096;
  std::optional<double> rateLimit;  // records per second per reader
};

/// The generator's fixed schema: id int64, ts timestamp, value int64, key
/// int64; `ts` (index 1) is the event time.
SchemaPtr generatorSchema();
inline constexpr int kGeneratorEventTimeIndex = 1;

/// The pseudo-random `value` of row `id`: a SplitMix64 hash of the id, in
/// [0, 1000000). Fixed forever, so tests can compute expected results.
int64_t generatorValue(int64_t id);

/// Emits ids [split * count / n, (split + 1) * count / n) in order, with
/// ts = startTime + id * intervalMs, value = generatorValue(id), key = id % keys,
/// and the bounded-out-of-orderness watermark after each batch. Its position is
/// the next id. Runs on its task's thread only.
class GeneratorSourceReader final : public SourceReader {
 public:
  GeneratorSourceReader(std::shared_ptr<const GeneratorOptions> options, int split, int numSplits);

  Status open(const OperatorContext& context) override;
  Result<bool> pollNext(Output& out) override;
  std::string snapshotPosition() const override;
  Status restorePosition(const std::string& position) override;
  int64_t recordsRead() const override { return next_ - begin_; }

 private:
  std::shared_ptr<const GeneratorOptions> options_;
  SchemaPtr schema_;
  int split_;
  int numSplits_;
  int64_t begin_;
  int64_t end_;
  int64_t next_;
  BoundedOutOfOrderness watermarks_;
  std::optional<RateLimiter> rateLimiter_;
};

}  // namespace sluice
