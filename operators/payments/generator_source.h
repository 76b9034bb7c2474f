// The `payments_generator` source: the payment job's input made on the fly by PaymentsGenerator, in
// the same rows as the `payments_csv` source would read from the file the generator writes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operators/payments/generator.h"
#include "operators/payments/payment_record.h"
#include "operators/rate_limiter.h"
#include "runtime/job/node_factory.h"
#include "runtime/task/source_reader.h"

namespace sluice::payments {

struct PaymentsGeneratorSourceOptions {
  std::string sourceId;
  PaymentsGeneratorOptions generator;
  int64_t batchSize = 4096;
  std::optional<double> rateLimit;  // records per second
};

/// Reads a `type: payments_generator` spec: accounts, merchants, days, seed, start_time (epoch ms),
/// transactions_per_account_per_day, jitter_ms, late_fraction, late_delay_ms, label_delay_ms,
/// genuine_label_fraction, fraud_rate (see PaymentsGeneratorOptions for the defaults), batch_size,
/// rate_limit (records per second; else sluice.source.rate-limit). Errors name the source and option.
Result<PaymentsGeneratorSourceOptions> parsePaymentsGeneratorSourceOptions(const NodeSpec& spec,
                                                                           const PlanContext& context);

/// The row a `payments_csv` source reads from the CSV line of `record` (features and scores 0).
PaymentRow toPaymentRow(const GeneratedPayment& record);

/// Emits the generator's records in file order as batches of paymentRowSchema(), like
/// PaymentsCsvReader: one reader for the whole stream (split 0 of 1), no watermarks (the reorder
/// stage owns event time). Its position is the number of records emitted plus the options'
/// fingerprint; a restore regenerates and skips that many records (deterministic, O(position)).
/// Runs on its task's thread only.
class PaymentsGeneratorSourceReader final : public SourceReader {
 public:
  explicit PaymentsGeneratorSourceReader(std::shared_ptr<const PaymentsGeneratorSourceOptions> options);

  Status open(const OperatorContext& context) override;
  Result<bool> pollNext(Output& out) override;
  std::string snapshotPosition() const override;
  Status restorePosition(const std::string& position) override;
  int64_t recordsRead() const override { return generator_ ? generator_->recordsEmitted() : restoredRecords_; }

 private:
  std::shared_ptr<const PaymentsGeneratorSourceOptions> options_;
  std::unique_ptr<PaymentsGenerator> generator_;
  std::vector<GeneratedPayment> batch_;
  int64_t restoredRecords_ = 0;
  std::optional<RateLimiter> rateLimiter_;
};

/// NodeFactory for `type: payments_generator` (parallelism fixed to 1).
Result<PlannedNode> planPaymentsGeneratorSource(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                                const PlanContext& context);

}  // namespace sluice::payments

namespace sluice {

/// Registers the source kind `payments_generator` in NodeRegistry::instance(). Idempotent and
/// thread-safe.
void registerPaymentsGeneratorSource();

}  // namespace sluice
