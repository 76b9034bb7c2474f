// Unit tests of the payment feature families: merchant counts, velocity
// windows, distinct counts, amount profile, newness, geo-velocity, and the
// model input vector, with edge cases at the window boundaries.
#include <gtest/gtest.h>

#include <cmath>

#include "operators/payments/features.h"

namespace sluice::payments {
namespace {

PaymentRow transaction(int64_t timestampMs, int64_t amountMinor = 1000) {
  PaymentRow row;
  row.kind = kTransactionKind;
  row.txnId = 1;
  row.timestampMs = timestampMs;
  row.accountId = 7;
  row.merchantId = 100;
  row.amountMinor = amountMinor;
  row.country = {'G', 'B'};
  row.deviceId = 0;
  row.features.merchantTx30d = 1;  // as the merchant stage sets it (>= 1)
  return row;
}

TEST(HaversineTest, OneDegreeOfLongitudeAtTheEquator) {
  EXPECT_NEAR(haversineKm(0, 0, 0, 1000000), 111.19492664455873, 1e-9);
  EXPECT_EQ(haversineKm(51464586, -83076, 51464586, -83076), 0.0);
  // Antipodes: h reaches 1 (clamped), half the circumference.
  EXPECT_NEAR(haversineKm(0, 0, 0, 180000000), 6371.0 * 3.141592653589793, 1e-6);
}

TEST(MerchantHistoryTest, WindowsExcludeTheirLowerBound) {
  MerchantHistory history;
  Features first;
  history.observeTransaction(1000, first);
  EXPECT_EQ(first.merchantTx24h, 1);
  EXPECT_EQ(first.merchantTx30d, 1);
  EXPECT_EQ(first.merchantFraud30d, 0);
  Features second;
  history.observeTransaction(1000 + kWindow24h, second);  // the first is exactly 24 h older: out of (t-24h, t]
  EXPECT_EQ(second.merchantTx24h, 1);
  EXPECT_EQ(second.merchantTx30d, 2);
  Features third;
  history.observeTransaction(999 + kWindow24h + 1, third);  // same instant as second
  EXPECT_EQ(third.merchantTx24h, 2);
}

TEST(MerchantHistoryTest, FraudLabelsCountFor30DaysAndAreEvicted) {
  MerchantHistory history;
  history.observeLabel(0, 1);
  history.observeLabel(10, 0);  // genuine labels are not remembered
  EXPECT_EQ(history.fraudCount(), 1u);
  Features inside;
  history.observeTransaction(kWindow30d - 1, inside);
  EXPECT_EQ(inside.merchantFraud30d, 1);
  EXPECT_EQ(inside.merchantTx30d, 1);
  Features boundary;
  history.observeTransaction(kWindow30d, boundary);  // the label at 0 = t - 30d is out
  EXPECT_EQ(boundary.merchantFraud30d, 0);
  EXPECT_EQ(boundary.merchantTx30d, 2);
  EXPECT_EQ(history.fraudCount(), 0u);  // evicted
  auto decoded = MerchantHistory::decode(history.encode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->transactionCount(), 2u);
  EXPECT_FALSE(MerchantHistory::decode("abc").ok());
}

TEST(AccountHistoryTest, VelocityWindowsAndSmallAmounts) {
  AccountHistory history;
  PaymentRow a = transaction(0, 300);
  history.observeTransaction(a);
  EXPECT_EQ(a.features.count10m, 1);
  EXPECT_EQ(a.features.smallCount10m, 1);  // 300 is small (<= 300)
  EXPECT_EQ(a.features.sum24hMinor, 300);
  PaymentRow b = transaction(kWindow10m, 301);  // a is exactly 10 min older: out of the 10 min window
  history.observeTransaction(b);
  EXPECT_EQ(b.features.count10m, 1);
  EXPECT_EQ(b.features.smallCount10m, 0);  // 301 is not small
  EXPECT_EQ(b.features.count1h, 2);
  EXPECT_EQ(b.features.count24h, 2);
  EXPECT_EQ(b.features.sum24hMinor, 601);
  PaymentRow c = transaction(kWindow24h, 1000);  // a out of 24 h, b in
  history.observeTransaction(c);
  EXPECT_EQ(c.features.count24h, 2);
  EXPECT_EQ(c.features.sum24hMinor, 1301);
  EXPECT_EQ(c.features.count7d, 3);
  PaymentRow d = transaction(kWindow7d, 1000);  // a is out of the 7 d window
  history.observeTransaction(d);
  EXPECT_EQ(d.features.count7d, 3);
  EXPECT_EQ(history.recentTransactionCount(), 3u);  // a evicted
}

TEST(AccountHistoryTest, DistinctCountsIgnoreUnknownCountryAndDevice) {
  AccountHistory history;
  PaymentRow a = transaction(0);
  a.deviceId = 5;
  history.observeTransaction(a);
  PaymentRow b = transaction(1);
  b.country = {'-', '-'};
  b.merchantId = 101;
  history.observeTransaction(b);
  EXPECT_EQ(b.features.distinctMerchants24h, 2);
  EXPECT_EQ(b.features.distinctCountries24h, 1);
  EXPECT_EQ(b.features.distinctDevices24h, 1);
  EXPECT_EQ(b.features.newCountry, 0);  // unknown country is never new
  EXPECT_EQ(b.features.newDevice, 0);   // no device is never new
  PaymentRow c = transaction(2);
  c.country = {'F', 'R'};
  c.deviceId = 6;
  history.observeTransaction(c);
  EXPECT_EQ(c.features.distinctCountries24h, 2);
  EXPECT_EQ(c.features.distinctDevices24h, 2);
  EXPECT_EQ(c.features.newCountry, 1);
  EXPECT_EQ(c.features.newDevice, 1);
  EXPECT_EQ(c.features.newMerchant, 0);
}

TEST(AccountHistoryTest, NewnessLooksBack90DaysInclusive) {
  AccountHistory history;
  PaymentRow first = transaction(0);
  history.observeTransaction(first);
  EXPECT_EQ(first.features.newMerchant, 1);
  EXPECT_EQ(first.features.newCountry, 1);
  PaymentRow again = transaction(kWindow90d);  // prior T at exactly t - 90d counts (ts >= t - W90d)
  history.observeTransaction(again);
  EXPECT_EQ(again.features.newMerchant, 0);
  EXPECT_EQ(again.features.newCountry, 0);
  PaymentRow later = transaction(2 * kWindow90d + 1);  // last seen 90 d + 1 ms ago
  history.observeTransaction(later);
  EXPECT_EQ(later.features.newMerchant, 1);
  EXPECT_EQ(later.features.newCountry, 1);
}

TEST(AccountHistoryTest, AmountProfileStartsAfterFiveTransactions) {
  AccountHistory history;
  AmountProfile reference;
  for (int i = 0; i < 5; ++i) {
    PaymentRow row = transaction(i * 1000, 1000 + i * 10);
    history.observeTransaction(row);
    EXPECT_EQ(row.features.amountZ, 0.0);
    reference.observe(1000 + i * 10);
  }
  PaymentRow spike = transaction(10000, 50000);
  history.observeTransaction(spike);
  double x = std::log1p(500.0);
  double expected = (x - reference.mean) / std::sqrt(reference.variance + 0.01);
  EXPECT_DOUBLE_EQ(spike.features.amountZ, std::min(10.0, expected));
  EXPECT_EQ(spike.features.amountZ, 10.0);  // clamped
}

TEST(AmountProfileTest, EwmaUpdate) {
  AmountProfile profile;
  EXPECT_EQ(profile.observe(10000), 0.0);
  EXPECT_DOUBLE_EQ(profile.mean, std::log1p(100.0));
  EXPECT_EQ(profile.variance, 0.0);
  profile.observe(20000);
  double d = std::log1p(200.0) - std::log1p(100.0);
  EXPECT_DOUBLE_EQ(profile.mean, std::log1p(100.0) + 0.05 * d);
  EXPECT_DOUBLE_EQ(profile.variance, 0.95 * (0 + d * (0.05 * d)));
  EXPECT_EQ(profile.count, 2);
}

TEST(AccountHistoryTest, GeoVelocityUsesLastLocatedTransactionAndOneMinuteFloor) {
  AccountHistory history;
  PaymentRow london = transaction(0);
  london.latitudeE6 = 51500000;
  london.longitudeE6 = 0;
  history.observeTransaction(london);
  EXPECT_EQ(london.features.geoDistanceKm, 0.0);
  PaymentRow unlocated = transaction(10000);  // no location: 0 and P unchanged
  history.observeTransaction(unlocated);
  EXPECT_EQ(unlocated.features.geoDistanceKm, 0.0);
  EXPECT_EQ(unlocated.features.gapMs, 10000);
  PaymentRow paris = transaction(30000);  // 30 s after London: the 60 s floor applies
  paris.latitudeE6 = 48850000;
  paris.longitudeE6 = 2350000;
  history.observeTransaction(paris);
  double distance = haversineKm(51500000, 0, 48850000, 2350000);
  EXPECT_DOUBLE_EQ(paris.features.geoDistanceKm, distance);
  EXPECT_DOUBLE_EQ(paris.features.geoSpeedKmh, distance / (60000 / 3.6e6));
  PaymentRow back = transaction(30000 + 3600000);
  back.latitudeE6 = 51500000;
  back.longitudeE6 = 0;
  history.observeTransaction(back);
  EXPECT_DOUBLE_EQ(back.features.geoSpeedKmh, back.features.geoDistanceKm / 1.0);
}

TEST(AccountHistoryTest, GapNightAndEcom) {
  AccountHistory history;
  PaymentRow first = transaction(5 * 3600000 + 3599999);  // 05:59:59.999 UTC
  first.channel = Channel::kEcom;
  history.observeTransaction(first);
  EXPECT_EQ(first.features.gapMs, -1);
  EXPECT_EQ(first.features.isNight, 1);
  EXPECT_EQ(first.features.isEcom, 1);
  PaymentRow second = transaction(6 * 3600000);  // 06:00
  history.observeTransaction(second);
  EXPECT_EQ(second.features.gapMs, 1);
  EXPECT_EQ(second.features.isNight, 0);
  EXPECT_EQ(second.features.isEcom, 0);
}

TEST(AccountHistoryTest, EncodeDecodeKeepsEveryFeature) {
  AccountHistory history;
  for (int i = 0; i < 8; ++i) {
    PaymentRow row = transaction(i * 60000, 500 + i);
    row.latitudeE6 = 1000000 * i;
    row.longitudeE6 = 0;
    row.deviceId = i % 3;
    history.observeTransaction(row);
  }
  auto decoded = AccountHistory::decode(history.encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status().toString();
  PaymentRow a = transaction(900000, 2500);
  PaymentRow b = a;
  history.observeTransaction(a);
  decoded->observeTransaction(b);
  EXPECT_EQ(modelInput(a), modelInput(b));
  EXPECT_FALSE(AccountHistory::decode(std::string(5, 'x')).ok());
}

// Expected values use EXPECT_DOUBLE_EQ: the compiler folds constant log1p
// calls exactly, while glibc may differ by an ulp at run time.
TEST(ModelInputTest, TableOfSection4) {
  PaymentRow row = transaction(0, 12345);
  row.features.count10m = 2;
  row.features.sum24hMinor = 50000;
  row.features.gapMs = -1;
  row.features.merchantFraud30d = 1;
  row.features.merchantTx30d = 4;
  row.features.geoSpeedKmh = 10.5;
  FeatureVector x = modelInput(row);
  EXPECT_DOUBLE_EQ(x[0], std::log1p(2.0));
  EXPECT_DOUBLE_EQ(x[3], std::log1p(500.0));
  EXPECT_DOUBLE_EQ(x[9], std::log1p(123.45));
  EXPECT_DOUBLE_EQ(x[14], std::log1p(10.5));
  EXPECT_DOUBLE_EQ(x[15], std::log1p(2592000.0));
  EXPECT_EQ(x[19], 0.25);
  row.features.gapMs = 1500;
  EXPECT_DOUBLE_EQ(modelInput(row)[15], std::log1p(1.5));
}

}  // namespace
}  // namespace sluice::payments
