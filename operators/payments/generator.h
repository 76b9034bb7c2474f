// PaymentsGenerator: a deterministic, streaming generator of the payment-risk job's input (SPEC section 1)
// with injected fraud scenarios and the truth needed for precision and recall, plus the CSV writers
// behind the sluice-payments-gen command.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"

namespace sluice::payments {

/// How a generated transaction came about; kLegit is genuine, the rest are fraud.
enum class FraudScenario : uint8_t {
  kLegit = 0,
  kCardTesting = 1,          // bursts of small ECOM amounts from a new device
  kImpossibleTravel = 2,     // a card-present payment far from home minutes after one at home
  kAccountTakeover = 3,      // new device + new country + large amounts
  kCompromisedMerchant = 4,  // a merchant whose customers get charged back
  kAmountSpike = 5,          // one unusually large payment at a usual merchant
};
inline constexpr int kNumFraudScenarios = 6;

/// "legit", "card_testing", "impossible_travel", "ato", "compromised_merchant", "amount_spike" (the
/// scenario column of truth.csv).
std::string_view fraudScenarioName(FraudScenario scenario);

/// Payment channels in the order of the spec (POS, ECOM, ATM, P2P).
enum class GeneratedChannel : uint8_t { kPos = 0, kEcom = 1, kAtm = 2, kP2p = 3 };
std::string_view generatedChannelName(GeneratedChannel channel);

/// lat_e6/lon_e6 value meaning "no location" (SPEC section 1).
inline constexpr int32_t kGeneratedNoLocation = 2147483647;

/// One generated input record: a transaction (kind 'T') or a label (kind 'L'; only txnId, tsMs,
/// accountId, merchantId and label are meaningful). `scenario` is the truth of a T record.
struct GeneratedPayment {
  int64_t tsMs = 0;
  uint64_t txnId = 0;
  uint64_t accountId = 0;
  uint64_t merchantId = 0;
  uint64_t deviceId = 0;
  int64_t amountMinor = 0;
  int32_t latE6 = kGeneratedNoLocation;
  int32_t lonE6 = kGeneratedNoLocation;
  int16_t mcc = 0;
  char kind = 'T';
  std::array<char, 2> country{'-', '-'};
  GeneratedChannel channel = GeneratedChannel::kPos;
  uint8_t label = 0;
  FraudScenario scenario = FraudScenario::kLegit;

  bool isTransaction() const { return kind == 'T'; }
  bool isFraud() const { return scenario != FraudScenario::kLegit; }
};

/// What to generate. Defaults give a sample shaped like tests/data/payments/events.csv.
struct PaymentsGeneratorOptions {
  int64_t accounts = 2000;                  // account ids 1..accounts
  int64_t merchants = 400;                  // merchant ids 100000..100000+merchants-1
  int64_t days = 14;                        // transactions in [startTimeMs, startTimeMs + days)
  int64_t startTimeMs = 1704067200000;      // 2024-01-01T00:00:00Z
  uint64_t seed = 42;                       // same options and seed → same output, byte for byte
  double transactionsPerAccountPerDay = 2;  // mean genuine rate (each account scales it by 0.3..2)
  int64_t maxJitterMs = 2000;               // a T is written up to this long after its ts_ms
  double lateFraction = 0.0003;             // fraction of T written much later (lateDelayMs)...
  int64_t lateDelayMs = 60000;              // ...between lateDelayMs/2 and lateDelayMs after its ts_ms
  int64_t labelDelayMs = 172800000;         // mean delay of a label after its T (plus one hour)
  double genuineLabelFraction = 0.01;       // fraction of genuine T that get a label 0
  double fraudRate = 1;                     // multiplies every fraud scenario's rate (0 = no fraud)

  /// One line naming the first bad option ("accounts must be between 1 and 4294967295, not 0").
  Status validate() const;
  /// A stable text of every option, so that saved positions can detect a changed configuration.
  std::string fingerprint() const;
};

/// Counts of what was generated.
struct PaymentsGeneratorSummary {
  int64_t transactions = 0;
  int64_t labels = 0;
  int64_t fraudTransactions = 0;
  std::array<int64_t, kNumFraudScenarios> transactionsByScenario{};
};

/// Generates records in file order: T records in ts order, each written up to maxJitterMs late (a
/// few lateDelayMs late), and L records at their label time, also past the last day so that every
/// fraud is labelled eventually. Memory is bounded by the number of accounts (a heap of next
/// transaction times, 25 bytes per account) plus the records pending within the jitter window and
/// the labels not yet due; nothing grows with days. The output depends only on the options: the
/// same options give the same records on every run. Not thread-safe.
class PaymentsGenerator {
 public:
  /// Fails with validate()'s message.
  static Result<std::unique_ptr<PaymentsGenerator>> make(const PaymentsGeneratorOptions& options);
  ~PaymentsGenerator();
  PaymentsGenerator(const PaymentsGenerator&) = delete;
  PaymentsGenerator& operator=(const PaymentsGenerator&) = delete;

  /// Appends up to maxRecords next records to `out` (which it does not clear); returns how many.
  /// Returns 0 only when everything has been generated.
  size_t nextBatch(std::vector<GeneratedPayment>& out, size_t maxRecords);
  /// Generates and drops the next `records` records (for resuming at a saved position).
  /// Returns how many were skipped (fewer at the end).
  int64_t skip(int64_t records);

  bool done() const;
  /// Records returned (or skipped) so far.
  int64_t recordsEmitted() const { return emitted_; }
  const PaymentsGeneratorSummary& summary() const { return summary_; }
  const PaymentsGeneratorOptions& options() const { return options_; }

 private:
  class Impl;
  explicit PaymentsGenerator(const PaymentsGeneratorOptions& options);

  PaymentsGeneratorOptions options_;
  std::unique_ptr<Impl> impl_;
  int64_t emitted_ = 0;
  PaymentsGeneratorSummary summary_;
};

/// The header line of events.csv (the sample's header, with a newline).
std::string_view paymentsCsvHeader();
/// The header line of truth.csv ("txn_id,is_fraud,scenario" and a newline).
std::string_view paymentsTruthHeader();
/// Appends the CSV line of `record` (SPEC section 1, with a newline) to `out`.
void appendPaymentCsvLine(const GeneratedPayment& record, std::string& out);
/// Appends the truth line of a T record ("txn_id,is_fraud,scenario" and a newline) to `out`.
void appendPaymentTruthLine(const GeneratedPayment& record, std::string& out);

/// Generates everything and writes the records to `eventsPath` and the truth of every T (in the same
/// order) to `truthPath`, both with a header line. IOError names the file that failed.
Result<PaymentsGeneratorSummary> writePaymentsCsv(const PaymentsGeneratorOptions& options,
                                                  const std::string& eventsPath, const std::string& truthPath);

}  // namespace sluice::payments
