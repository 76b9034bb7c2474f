// The payment job's edges to the outside: the CSV source (one reader, file
// order, SPEC section 1), the stats sink that sums the stages' counters and
// writes the `stats` JSON file (SPEC section 8), and the alert latency
// histogram that travels to it as counters.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operators/payments/payment_record.h"
#include "operators/split_line_reader.h"
#include "runtime/task/operator.h"
#include "runtime/task/source_reader.h"

namespace sluice::payments {

/// In-engine alert latency (source read -> alert handed to the alert sink) as
/// a log-linear histogram of microseconds whose buckets travel as ordinary
/// stats counters named `latency_us_le:<upper bound>`: every subtask counts,
/// the stats sink sums, snapshots keep the counts. 32 buckets per power of
/// two, so a reported percentile is at most ~3% above the true value.
/// Stateless functions, thread-safe.
namespace alert_latency {
inline constexpr std::string_view kCounterPrefix = "latency_us_le:";
/// The upper bound (microseconds) of the bucket holding `micros` (< 0 counts as 0).
int64_t bucketUpperBound(int64_t micros);
/// The counter name of the bucket holding `micros`.
std::string counterName(int64_t micros);
/// The bucket's upper bound if `name` is a latency counter name.
std::optional<int64_t> parseCounterName(std::string_view name);
/// The value (upper bound, microseconds) at `quantile` (0..1] of a histogram
/// given as (upper bound, count) pairs sorted by bound; 0 when empty.
int64_t quantile(const std::vector<std::pair<int64_t, int64_t>>& buckets, double quantile);
/// `{"alerts":N,"p50":..,"p99":..,"p999":..,"max":..}` in milliseconds (3 decimals).
std::string renderMilliseconds(const std::vector<std::pair<int64_t, int64_t>>& buckets);
}  // namespace alert_latency

/// `type: payments_csv`: reads the whole file with one reader, in file order,
/// into batches of paymentRowSchema() (fields of the other kind are 0, `seq`
/// is 0; `ingest_ns` is the ingest clock when the line was read). Emits no watermarks: the reorder stage after it owns
/// event time. A malformed line fails with "<path>:<line>: <reason>". The position (byte offset and line) survives
/// snapshotPosition/restorePosition. One task thread.
class PaymentsCsvReader final : public SourceReader {
 public:
  PaymentsCsvReader(std::string path, int64_t batchSize) : lines_(std::move(path)), batchSize_(batchSize) {}

  Status open(const OperatorContext& context) override;
  Result<bool> pollNext(Output& out) override;
  std::string snapshotPosition() const override;
  Status restorePosition(const std::string& position) override;
  int64_t recordsRead() const override { return recordsRead_; }

 private:
  SplitLineReader lines_;
  int64_t batchSize_;
  std::optional<std::pair<int64_t, int64_t>> restored_;  // offset, line number
  int64_t recordsRead_ = 0;
};

/// `type: payments_stats` (a sink with parallelism 1): sums the integer
/// counters that arrive as stats rows from every subtask of every stage, keeps
/// the last text value per name (final_model), and when the job finishes
/// writes `{"txns":..,"alerts":..,"late":..,"late_labels":..,"model_updates":..
/// [,"final_model":{..}][,"latency_ms":{..}]}` to `path` atomically (temporary
/// file + rename), and logs it. The `alert_latency` counters are not written
/// one by one but summarised as "latency_ms" (alert_latency::renderMilliseconds). The sums are in its snapshot, so they
/// stay exact after recovery.
class StatsSink final : public Operator {
 public:
  explicit StatsSink(std::string path) : path_(std::move(path)) {}
  Status restoreState(const OperatorSnapshot& snapshot) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) override;
  Status finish(Output& out) override;
  int64_t recordsWritten() const override { return written_ ? 1 : 0; }

  /// The JSON the sink writes, from the current sums.
  std::string render() const;

 private:
  std::string path_;
  std::map<std::string, int64_t> sums_;
  std::map<std::string, std::string> texts_;
  bool written_ = false;
};

}  // namespace sluice::payments
