// The `payments_generator` source: option parsing, the reader over PaymentsGenerator, and its
// registration.
#include "operators/payments/generator_source.h"

#include <charconv>
#include <mutex>
#include <sstream>

#include "operators/option_reader.h"
#include "runtime/base/check.h"

namespace sluice::payments {
namespace {

constexpr std::string_view kPositionVersion = "payments-generator-v1";
constexpr const char* kRateLimitKey = "sluice.source.rate-limit";

/// A hex hash of the options' fingerprint, so that a position cannot resume a different stream.
std::string fingerprintHash(const PaymentsGeneratorOptions& options) {
  uint64_t hash = 1469598103934665603ULL;  // FNV-1a
  for (char c : options.fingerprint()) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  char buffer[17];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), hash, 16);
  (void)error;
  return std::string(buffer, end);
}

Channel toChannel(GeneratedChannel channel) {
  switch (channel) {
    case GeneratedChannel::kPos: return Channel::kPos;
    case GeneratedChannel::kEcom: return Channel::kEcom;
    case GeneratedChannel::kAtm: return Channel::kAtm;
    case GeneratedChannel::kP2p: return Channel::kP2p;
  }
  return Channel::kPos;
}

}  // namespace

PaymentRow toPaymentRow(const GeneratedPayment& record) {
  PaymentRow row;
  row.txnId = record.txnId;
  row.timestampMs = record.tsMs;
  row.accountId = record.accountId;
  row.merchantId = record.merchantId;
  if (record.isTransaction()) {
    row.kind = kTransactionKind;
    row.mcc = record.mcc;
    row.amountMinor = record.amountMinor;
    row.country = record.country;
    row.latitudeE6 = record.latE6;
    row.longitudeE6 = record.lonE6;
    row.deviceId = record.deviceId;
    row.channel = toChannel(record.channel);
  } else {
    row.kind = kLabelKind;
    row.label = record.label;
  }
  return row;
}

Result<PaymentsGeneratorSourceOptions> parsePaymentsGeneratorSourceOptions(const NodeSpec& spec,
                                                                           const PlanContext& context) {
  OptionReader reader = OptionReader::forSpec(spec);
  PaymentsGeneratorSourceOptions options;
  options.sourceId = spec.id;
  PaymentsGeneratorOptions& generator = options.generator;
  auto readInteger = [&reader](const std::string& key, int64_t& target) -> Status {
    SLUICE_ASSIGN_OR_RETURN(auto value, reader.integer(key));
    if (value.has_value()) target = *value;
    return Status::OK();
  };
  auto readDuration = [&reader](const std::string& key, int64_t& target) -> Status {
    SLUICE_ASSIGN_OR_RETURN(auto value, reader.duration(key));
    if (value.has_value()) target = value->count();
    return Status::OK();
  };
  auto readNumber = [&reader](const std::string& key, double& target) -> Status {
    SLUICE_ASSIGN_OR_RETURN(auto value, reader.number(key));
    if (value.has_value()) target = *value;
    return Status::OK();
  };
  SLUICE_RETURN_NOT_OK(readInteger("accounts", generator.accounts));
  SLUICE_RETURN_NOT_OK(readInteger("merchants", generator.merchants));
  SLUICE_RETURN_NOT_OK(readInteger("days", generator.days));
  SLUICE_ASSIGN_OR_RETURN(auto seed, reader.integer("seed"));
  if (seed.has_value()) {
    if (*seed < 0) return reader.error("seed must not be negative");
    generator.seed = static_cast<uint64_t>(*seed);
  }
  SLUICE_RETURN_NOT_OK(readInteger("start_time", generator.startTimeMs));
  SLUICE_RETURN_NOT_OK(readNumber("transactions_per_account_per_day", generator.transactionsPerAccountPerDay));
  SLUICE_RETURN_NOT_OK(readDuration("jitter_ms", generator.maxJitterMs));
  SLUICE_RETURN_NOT_OK(readNumber("late_fraction", generator.lateFraction));
  SLUICE_RETURN_NOT_OK(readDuration("late_delay_ms", generator.lateDelayMs));
  SLUICE_RETURN_NOT_OK(readDuration("label_delay_ms", generator.labelDelayMs));
  SLUICE_RETURN_NOT_OK(readNumber("genuine_label_fraction", generator.genuineLabelFraction));
  SLUICE_RETURN_NOT_OK(readNumber("fraud_rate", generator.fraudRate));
  SLUICE_ASSIGN_OR_RETURN(auto batchSize, reader.integer("batch_size"));
  SLUICE_ASSIGN_OR_RETURN(auto rateLimit, reader.number("rate_limit"));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());

  Status valid = generator.validate();
  if (!valid.ok()) return reader.error(valid.message());
  if (batchSize.has_value()) {
    if (*batchSize < 1) return reader.error("batch_size must be positive");
    options.batchSize = *batchSize;
  }
  if (!rateLimit.has_value() && context.config != nullptr) {
    if (auto configured = context.config->get(kRateLimitKey)) {
      double value = 0;
      auto [end, error] = std::from_chars(configured->data(), configured->data() + configured->size(), value);
      if (error != std::errc() || end != configured->data() + configured->size()) {
        return Status::invalidArgument(std::string(kRateLimitKey) + ": expected records per second, not '" +
                                       *configured + "'");
      }
      rateLimit = value;
    }
  }
  if (rateLimit.has_value()) {
    if (*rateLimit < 0) return reader.error("rate_limit must not be negative");
    if (*rateLimit > 0) options.rateLimit = *rateLimit;
  }
  return options;
}

PaymentsGeneratorSourceReader::PaymentsGeneratorSourceReader(
    std::shared_ptr<const PaymentsGeneratorSourceOptions> options)
    : options_(std::move(options)) {
  if (options_->rateLimit.has_value()) rateLimiter_.emplace(*options_->rateLimit);
}

Status PaymentsGeneratorSourceReader::open(const OperatorContext& context) {
  (void)context;
  auto generator = PaymentsGenerator::make(options_->generator);
  if (!generator.ok()) return generator.status().withContext("source '" + options_->sourceId + "'");
  generator_ = std::move(*generator);
  if (restoredRecords_ > 0 && generator_->skip(restoredRecords_) != restoredRecords_) {
    return Status::corruption("source '" + options_->sourceId + "': saved position " +
                              std::to_string(restoredRecords_) + " lies past the end of the generated stream");
  }
  return Status::OK();
}

Result<bool> PaymentsGeneratorSourceReader::pollNext(Output& out) {
  SLUICE_CHECK(generator_ != nullptr);
  int64_t limit = options_->batchSize;
  if (rateLimiter_.has_value()) limit = std::min(limit, rateLimiter_->maxRecordsPerPoll());
  batch_.clear();
  const size_t rows = generator_->nextBatch(batch_, static_cast<size_t>(limit));
  if (rows > 0) {
    PaymentRowBatchBuilder builder;
    for (const auto& record : batch_) {
      PaymentRow row = toPaymentRow(record);
      row.ingestNs = ingestClockNanos();
      builder.append(row);
    }
    SLUICE_RETURN_NOT_OK(out.emit(builder.finish()));
    if (rateLimiter_.has_value()) rateLimiter_->acquire(static_cast<int64_t>(rows));
  }
  return !generator_->done();
}

std::string PaymentsGeneratorSourceReader::snapshotPosition() const {
  std::ostringstream out;
  out << kPositionVersion << ' ' << recordsRead() << ' ' << fingerprintHash(options_->generator);
  return out.str();
}

Status PaymentsGeneratorSourceReader::restorePosition(const std::string& position) {
  if (position.empty()) return Status::OK();
  std::istringstream in(position);
  std::string version;
  int64_t records = -1;
  std::string fingerprint;
  in >> version >> records >> fingerprint;
  const std::string prefix = "source '" + options_->sourceId + "': ";
  if (in.fail() || version != kPositionVersion || records < 0) {
    return Status::corruption(prefix + "unreadable saved position '" + position + "'");
  }
  if (fingerprint != fingerprintHash(options_->generator)) {
    return Status::invalidArgument(prefix +
                                   "the saved position was taken with different generator options; "
                                   "resume with the same accounts, merchants, days, seed and rates");
  }
  restoredRecords_ = records;
  return Status::OK();
}

Result<PlannedNode> planPaymentsGeneratorSource(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                                const PlanContext& context) {
  OptionReader reader = OptionReader::forSpec(spec);
  if (!inputs.empty()) return reader.error("a source takes no inputs");
  SLUICE_ASSIGN_OR_RETURN(PaymentsGeneratorSourceOptions parsed, parsePaymentsGeneratorSourceOptions(spec, context));
  auto options = std::make_shared<const PaymentsGeneratorSourceOptions>(std::move(parsed));
  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kSource;
  node.outputs[""] = StreamInfo{paymentRowSchema(), paymentEventTimeIndex()};
  node.fixedParallelism = 1;  // one stream in file order, as payments_csv
  node.createReader = [options](int split, int numSplits) -> std::unique_ptr<SourceReader> {
    (void)split;
    (void)numSplits;
    return std::make_unique<PaymentsGeneratorSourceReader>(options);
  };
  return node;
}

}  // namespace sluice::payments

namespace sluice {

void registerPaymentsGeneratorSource() {
  static std::once_flag once;
  std::call_once(once, [] {
    NodeRegistry::instance().registerSource("payments_generator", payments::planPaymentsGeneratorSource);
  });
}

}  // namespace sluice
