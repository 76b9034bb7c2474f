// NexmarkSourceReader: the in-engine `type: nexmark` source, generating person/auction/bid columns directly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operators/bounded_out_of_orderness.h"
#include "operators/nexmark/nexmark_generator.h"
#include "operators/rate_limiter.h"
#include "runtime/data/record_batch.h"
#include "runtime/job/node_factory.h"
#include "runtime/task/source_reader.h"

namespace sluice {

struct NexmarkSourceOptions {
  std::string sourceId;
  int64_t events = 1000000;  // event numbers [0, events) over all readers
  nexmark::GeneratorConfig generator;
  int64_t maxOutOfOrdernessMs = 0;
  int64_t batchSize = 4096;         // event numbers per poll per reader
  std::optional<double> rateLimit;  // wall-clock events per second over all readers
};

/// The three kinds in the schemas of examples/nexmark/q0.yaml (names "person", "auction", "bid"), each with
/// its `dateTime` as event time.
struct NexmarkKind {
  std::string name;
  SchemaPtr schema;
  int eventTimeIndex;
};
const std::vector<NexmarkKind>& nexmarkKinds();

/// Appends one column's values into storage that is reused once every batch that referenced it is gone,
/// so a steady source allocates (and page-faults) nothing: unlike ColumnBuilder, whose finish() hands its
/// vectors to the column. Values are written by the owning thread only; the storage is released by whichever
/// thread drops the last batch (shared_ptr reference counts). Supports int64, timestamp and string.
class RecycledColumn {
 public:
  explicit RecycledColumn(DataType type);
  void appendInt64(int64_t value) { storage_->fixed.push_back(value); }
  void appendString(std::string_view value) {
    storage_->chars.append(value);
    storage_->offsets.push_back(static_cast<uint32_t>(storage_->chars.size()));
  }
  /// The column of the values appended since the last finish(); the writer continues on free storage.
  ColumnPtr finish();

 private:
  struct Storage {
    std::vector<int64_t> fixed;
    std::vector<uint32_t> offsets;
    std::string chars;
  };
  void acquire();

  DataType type_;
  std::shared_ptr<Storage> storage_;
  std::vector<std::shared_ptr<Storage>> pool_;
};

/// One RecycledColumn per field of a schema; finish() makes a batch of the rows appended so far.
class RecycledBatchWriter {
 public:
  RecycledBatchWriter(SchemaPtr schema, int eventTimeIndex);
  RecycledColumn& column(int index) { return columns_[index]; }
  int64_t numRows() const { return rows_; }
  void addRow() { ++rows_; }
  RecordBatch finish();

 private:
  SchemaPtr schema_;
  int eventTimeIndex_;
  std::vector<RecycledColumn> columns_;
  int64_t rows_ = 0;
};

/// Generates the event numbers n in [0, events) with n % numSplits == split, in increasing order, and emits
/// them as side outputs "person", "auction" and "bid" plus the bounded-out-of-orderness watermark after each
/// poll. The union over the splits of any numSplits is the same event sequence. Its position is the next
/// event number. Runs on its task's thread only.
class NexmarkSourceReader final : public SourceReader {
 public:
  NexmarkSourceReader(std::shared_ptr<const NexmarkSourceOptions> options, int split, int numSplits);

  Status open(const OperatorContext& context) override;
  Result<bool> pollNext(Output& out) override;
  std::string snapshotPosition() const override;
  Status restorePosition(const std::string& position) override;
  int64_t recordsRead() const override { return recordsRead_; }

  /// The next event number this reader generates.
  int64_t nextEventNumber() const { return next_; }

 private:
  std::shared_ptr<const NexmarkSourceOptions> options_;
  int split_;
  int numSplits_;
  int64_t next_;
  int64_t recordsRead_ = 0;
  nexmark::Generator generator_;
  std::vector<RecycledBatchWriter> writers_;  // person, auction, bid
  BoundedOutOfOrderness watermarks_;
  std::optional<RateLimiter> rateLimiter_;
};

/// Reads a `type: nexmark` source spec (keys: events, rate, rate_limit, seed, start_time, batch_size,
/// watermark; see operators/nexmark/README.md).
Result<NexmarkSourceOptions> parseNexmarkSourceOptions(const NodeSpec& spec, const PlanContext& context);
/// NodeFactory for `type: nexmark` sources.
Result<PlannedNode> planNexmarkSource(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                      const PlanContext& context);

}  // namespace sluice
