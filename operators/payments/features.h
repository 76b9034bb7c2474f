// The feature families of the payment-risk job as pure, state-in/state-out
// building blocks (SPEC section 4): merchant counts, account velocity windows,
// distinct counts, the EWMA amount profile, newness, geo-velocity, and the
// 20-entry model input vector. Compiled with -ffp-contract=off; every formula
// is evaluated in exactly the spec's order.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operators/payments/payment_record.h"
#include "runtime/base/result.h"

namespace sluice::payments {

inline constexpr int64_t kWindow10m = 600'000;
inline constexpr int64_t kWindow1h = 3'600'000;
inline constexpr int64_t kWindow24h = 86'400'000;
inline constexpr int64_t kWindow7d = 604'800'000;
inline constexpr int64_t kWindow30d = 2'592'000'000;
inline constexpr int64_t kWindow90d = 7'776'000'000;
/// Amounts up to this (minor units) count as "small" (card testing).
inline constexpr int64_t kSmallAmountMinor = 300;
inline constexpr double kProfileAlpha = 0.05;

/// Great-circle distance in km between two points in microdegrees, exactly as the spec writes it.
double haversineKm(int32_t latitude1E6, int32_t longitude1E6, int32_t latitude2E6, int32_t longitude2E6);

/// The per-merchant history of the merchant stage: times of prior T records
/// and of prior fraud labels, evicted when they leave the 30-day window.
/// Records must be observed in processing order (non-decreasing time).
class MerchantHistory {
 public:
  /// Adds a T at `timestampMs` and sets the three merchant features.
  void observeTransaction(int64_t timestampMs, Features& features);
  /// Adds an L; only label 1 (fraud) is remembered.
  void observeLabel(int64_t timestampMs, int64_t label);

  size_t transactionCount() const { return transactions_.size(); }
  size_t fraudCount() const { return frauds_.size(); }
  /// Approximate heap footprint (for cache budgets).
  int64_t memoryBytes() const;

  std::string encode() const;
  static Result<MerchantHistory> decode(std::string_view bytes);

 private:
  std::deque<int64_t> transactions_;
  std::deque<int64_t> frauds_;
};

/// The EWMA amount profile (mu, var over log1p(amount/100), count n).
struct AmountProfile {
  double mean = 0;
  double variance = 0;
  int64_t count = 0;

  /// amt_z for `amountMinor` (computed before the update), then the update.
  double observe(int64_t amountMinor);
};

/// The per-account history of the account stage: the T records of the last
/// 7 days, last-seen times of merchants, devices and countries over 90 days,
/// the amount profile, the last located T and the previous T's time.
/// T records must be observed in processing order (non-decreasing time).
class AccountHistory {
 public:
  /// Computes every account feature of `row` (a T) into row.features and
  /// updates the history, in the spec's order.
  void observeTransaction(PaymentRow& row);

  size_t recentTransactionCount() const { return recent_.size(); }
  size_t lastSeenCount() const { return merchants_.size() + devices_.size() + countries_.size(); }

  std::string encode() const;
  static Result<AccountHistory> decode(std::string_view bytes);

 private:
  struct Entry {
    int64_t timestampMs;
    int64_t amountMinor;
    uint64_t merchantId;
    uint64_t deviceId;
    uint16_t country;  // 0 = unknown
  };
  struct Seen {
    uint64_t id;
    int64_t timestampMs;
  };
  /// Last-seen times by id; small per account, so a vector.
  using LastSeen = std::vector<Seen>;
  static int64_t isNew(LastSeen& seen, uint64_t id, int64_t timestampMs);
  static void evictLastSeen(LastSeen& seen, int64_t oldestKept);

  std::deque<Entry> recent_;
  LastSeen merchants_;
  LastSeen devices_;
  LastSeen countries_;
  AmountProfile profile_;
  bool hasLocation_ = false;
  int32_t lastLatitudeE6_ = 0;
  int32_t lastLongitudeE6_ = 0;
  int64_t lastLocatedMs_ = 0;
  int64_t previousMs_ = -1;
};

inline constexpr int kNumModelFeatures = 20;
using FeatureVector = std::array<double, kNumModelFeatures>;

/// The model's feature names, in input-vector order (SPEC section 5).
const std::array<std::string_view, kNumModelFeatures>& modelFeatureNames();

/// The model input vector x[0..19] of a scored T record (SPEC section 4 table).
FeatureVector modelInput(const PaymentRow& row);

}  // namespace sluice::payments
