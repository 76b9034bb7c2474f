// Feature families of the payment-risk job; see features.h. Built with
// -ffp-contract=off: each floating-point expression is evaluated as written.
#include "operators/payments/features.h"

#include <algorithm>
#include <cmath>

#include "operators/payments/byte_codec.h"

namespace sluice::payments {
namespace {

constexpr double kPi = 3.141592653589793;

double radians(int32_t microdegrees) { return (microdegrees / 1e6) * (kPi / 180); }

uint16_t packCountry(const PaymentRow& row) {
  if (!row.hasCountry()) return 0;
  return static_cast<uint16_t>((static_cast<uint8_t>(row.country[0]) << 8) | static_cast<uint8_t>(row.country[1]));
}

template <typename T>
void putDeque(ByteWriter& writer, const std::deque<T>& values) {
  writer.put<uint64_t>(values.size());
  for (const T& value : values) writer.put(value);
}

template <typename T>
Status getDeque(ByteReader& reader, std::deque<T>& values) {
  SLUICE_ASSIGN_OR_RETURN(uint64_t size, reader.get<uint64_t>());
  if (size > reader.bytes().size()) return Status::corruption("payment state: implausible element count");
  for (uint64_t i = 0; i < size; ++i) {
    SLUICE_ASSIGN_OR_RETURN(T value, reader.get<T>());
    values.push_back(value);
  }
  return Status::OK();
}

template <typename T>
void putVector(ByteWriter& writer, const std::vector<T>& values) {
  writer.put<uint64_t>(values.size());
  for (const T& value : values) writer.put(value);
}

template <typename T>
Status getVector(ByteReader& reader, std::vector<T>& values) {
  SLUICE_ASSIGN_OR_RETURN(uint64_t size, reader.get<uint64_t>());
  if (size > reader.bytes().size()) return Status::corruption("payment state: implausible element count");
  values.reserve(size);
  for (uint64_t i = 0; i < size; ++i) {
    SLUICE_ASSIGN_OR_RETURN(T value, reader.get<T>());
    values.push_back(value);
  }
  return Status::OK();
}

/// Adds `value` to a small set kept as a vector.
template <typename T>
void addDistinct(std::vector<T>& set, T value) {
  if (std::find(set.begin(), set.end(), value) == set.end()) set.push_back(value);
}

}  // namespace

double haversineKm(int32_t latitude1E6, int32_t longitude1E6, int32_t latitude2E6, int32_t longitude2E6) {
  double phi1 = radians(latitude1E6);
  double phi2 = radians(latitude2E6);
  double deltaPhi = phi2 - phi1;
  double deltaLambda = radians(longitude2E6) - radians(longitude1E6);
  double s1 = std::sin(deltaPhi / 2);
  double s2 = std::sin(deltaLambda / 2);
  double h = s1 * s1 + std::cos(phi1) * std::cos(phi2) * (s2 * s2);
  return 2 * 6371.0 * std::asin(std::min(1.0, std::sqrt(h)));
}

void MerchantHistory::observeTransaction(int64_t timestampMs, Features& features) {
  const int64_t oldest = timestampMs - kWindow30d;  // entries <= oldest are out of every future window
  while (!transactions_.empty() && transactions_.front() <= oldest) transactions_.pop_front();
  while (!frauds_.empty() && frauds_.front() <= oldest) frauds_.pop_front();
  transactions_.push_back(timestampMs);
  const int64_t dayStart = timestampMs - kWindow24h;
  auto firstInDay = std::upper_bound(transactions_.begin(), transactions_.end(), dayStart);
  features.merchantTx24h = transactions_.end() - firstInDay;
  features.merchantTx30d = static_cast<int64_t>(transactions_.size());
  // Prior labels all have times <= timestampMs (processing order).
  features.merchantFraud30d = static_cast<int64_t>(frauds_.size());
}

void MerchantHistory::observeLabel(int64_t timestampMs, int64_t label) {
  if (label == 1) frauds_.push_back(timestampMs);
}

int64_t MerchantHistory::memoryBytes() const {
  // Each deque holds at least one 512-byte block and its map.
  constexpr int64_t kDequeOverhead = 512 + 64;
  return static_cast<int64_t>(sizeof(MerchantHistory)) + 2 * kDequeOverhead +
         static_cast<int64_t>((transactions_.size() + frauds_.size()) * sizeof(int64_t));
}

std::string MerchantHistory::encode() const {
  std::string out;
  out.reserve(2 * sizeof(uint64_t) + (transactions_.size() + frauds_.size()) * sizeof(int64_t));
  ByteWriter writer(out);
  putDeque(writer, transactions_);
  putDeque(writer, frauds_);
  return out;
}

Result<MerchantHistory> MerchantHistory::decode(std::string_view bytes) {
  ByteReader reader(bytes, "merchant history");
  MerchantHistory history;
  SLUICE_RETURN_NOT_OK(getDeque(reader, history.transactions_));
  SLUICE_RETURN_NOT_OK(getDeque(reader, history.frauds_));
  if (!reader.atEnd()) return Status::corruption("merchant history has trailing bytes");
  return history;
}

double AmountProfile::observe(int64_t amountMinor) {
  const double x = std::log1p(amountMinor / 100.0);
  double z = 0;
  if (count >= 5) z = std::clamp((x - mean) / std::sqrt(variance + 0.01), -10.0, 10.0);
  if (count == 0) {
    mean = x;
    variance = 0;
  } else {
    double d = x - mean;
    double increment = kProfileAlpha * d;
    mean += increment;
    variance = (1 - kProfileAlpha) * (variance + d * increment);
  }
  count += 1;
  return z;
}

int64_t AccountHistory::isNew(LastSeen& seen, uint64_t id, int64_t timestampMs) {
  int64_t result = 1;
  for (Seen& entry : seen) {
    if (entry.id != id) continue;
    if (entry.timestampMs >= timestampMs - kWindow90d) result = 0;
    entry.timestampMs = timestampMs;
    return result;
  }
  seen.push_back(Seen{id, timestampMs});
  return result;
}

void AccountHistory::evictLastSeen(LastSeen& seen, int64_t oldestKept) {
  std::erase_if(seen, [&](const Seen& entry) { return entry.timestampMs < oldestKept; });
}

void AccountHistory::observeTransaction(PaymentRow& row) {
  Features& f = row.features;
  const int64_t t = row.timestampMs;
  const int64_t a = row.amountMinor;

  // Velocity and distinct counts: the current T is part of every window.
  while (!recent_.empty() && recent_.front().timestampMs <= t - kWindow7d) recent_.pop_front();
  recent_.push_back(Entry{t, a, row.merchantId, row.deviceId, packCountry(row)});
  f.count7d = static_cast<int64_t>(recent_.size());
  f.count10m = f.count1h = f.count24h = f.sum24hMinor = f.smallCount10m = 0;
  std::vector<uint64_t> merchants;
  std::vector<uint16_t> countries;
  std::vector<uint64_t> devices;
  for (auto entry = recent_.rbegin(); entry != recent_.rend(); ++entry) {
    if (entry->timestampMs <= t - kWindow24h) break;
    f.count24h += 1;
    f.sum24hMinor += entry->amountMinor;
    addDistinct(merchants, entry->merchantId);
    if (entry->country != 0) addDistinct(countries, entry->country);
    if (entry->deviceId != 0) addDistinct(devices, entry->deviceId);
    if (entry->timestampMs > t - kWindow1h) f.count1h += 1;
    if (entry->timestampMs > t - kWindow10m) {
      f.count10m += 1;
      if (entry->amountMinor <= kSmallAmountMinor) f.smallCount10m += 1;
    }
  }
  f.distinctMerchants24h = static_cast<int64_t>(merchants.size());
  f.distinctCountries24h = static_cast<int64_t>(countries.size());
  f.distinctDevices24h = static_cast<int64_t>(devices.size());

  f.amountZ = profile_.observe(a);

  // Newness over prior T, then record t as last seen.
  evictLastSeen(merchants_, t - kWindow90d);
  evictLastSeen(devices_, t - kWindow90d);
  evictLastSeen(countries_, t - kWindow90d);
  f.newMerchant = isNew(merchants_, row.merchantId, t);
  f.newDevice = row.deviceId == 0 ? 0 : isNew(devices_, row.deviceId, t);
  f.newCountry = row.hasCountry() ? isNew(countries_, packCountry(row), t) : 0;

  // Geo-velocity against the last located prior T.
  f.geoDistanceKm = 0;
  f.geoSpeedKmh = 0;
  if (row.hasLocation()) {
    if (hasLocation_) {
      f.geoDistanceKm = haversineKm(lastLatitudeE6_, lastLongitudeE6_, row.latitudeE6, row.longitudeE6);
      f.geoSpeedKmh = f.geoDistanceKm / (std::max<int64_t>(t - lastLocatedMs_, 60000) / 3.6e6);
    }
    hasLocation_ = true;
    lastLatitudeE6_ = row.latitudeE6;
    lastLongitudeE6_ = row.longitudeE6;
    lastLocatedMs_ = t;
  }

  f.gapMs = previousMs_ < 0 ? -1 : t - previousMs_;
  previousMs_ = t;
  f.isNight = (t / 3'600'000) % 24 < 6 ? 1 : 0;
  f.isEcom = row.channel == Channel::kEcom ? 1 : 0;
}

std::string AccountHistory::encode() const {
  std::string out;
  out.reserve(4 * sizeof(uint64_t) + recent_.size() * sizeof(Entry) +
              (merchants_.size() + devices_.size() + countries_.size()) * sizeof(Seen) + sizeof(AmountProfile) + 32);
  ByteWriter writer(out);
  putDeque(writer, recent_);
  putVector(writer, merchants_);
  putVector(writer, devices_);
  putVector(writer, countries_);
  writer.put(profile_);
  writer.put<uint8_t>(hasLocation_ ? 1 : 0);
  writer.put(lastLatitudeE6_);
  writer.put(lastLongitudeE6_);
  writer.put(lastLocatedMs_);
  writer.put(previousMs_);
  return out;
}

Result<AccountHistory> AccountHistory::decode(std::string_view bytes) {
  ByteReader reader(bytes, "account history");
  AccountHistory history;
  SLUICE_RETURN_NOT_OK(getDeque(reader, history.recent_));
  SLUICE_RETURN_NOT_OK(getVector(reader, history.merchants_));
  SLUICE_RETURN_NOT_OK(getVector(reader, history.devices_));
  SLUICE_RETURN_NOT_OK(getVector(reader, history.countries_));
  SLUICE_ASSIGN_OR_RETURN(history.profile_, reader.get<AmountProfile>());
  SLUICE_ASSIGN_OR_RETURN(uint8_t hasLocation, reader.get<uint8_t>());
  history.hasLocation_ = hasLocation != 0;
  SLUICE_ASSIGN_OR_RETURN(history.lastLatitudeE6_, reader.get<int32_t>());
  SLUICE_ASSIGN_OR_RETURN(history.lastLongitudeE6_, reader.get<int32_t>());
  SLUICE_ASSIGN_OR_RETURN(history.lastLocatedMs_, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(history.previousMs_, reader.get<int64_t>());
  if (!reader.atEnd()) return Status::corruption("account history has trailing bytes");
  return history;
}

const std::array<std::string_view, kNumModelFeatures>& modelFeatureNames() {
  static const std::array<std::string_view, kNumModelFeatures> names = {
      "ln_cnt_10m",   "ln_cnt_1h",     "ln_cnt_24h",      "ln_sum_24h",     "ln_cnt_7d",
      "ln_small_10m", "ln_dmerch_24h", "ln_dcountry_24h", "ln_ddevice_24h", "ln_amount",
      "amt_z",        "new_merchant",  "new_device",      "new_country",    "ln_speed",
      "ln_gap_s",     "is_night",      "is_ecom",         "ln_m_tx_24h",    "m_fraud_rate_30d"};
  return names;
}

FeatureVector modelInput(const PaymentRow& row) {
  const Features& f = row.features;
  auto ln = [](int64_t count) { return std::log1p(static_cast<double>(count)); };
  FeatureVector x;
  x[0] = ln(f.count10m);
  x[1] = ln(f.count1h);
  x[2] = ln(f.count24h);
  x[3] = std::log1p(f.sum24hMinor / 100.0);
  x[4] = ln(f.count7d);
  x[5] = ln(f.smallCount10m);
  x[6] = ln(f.distinctMerchants24h);
  x[7] = ln(f.distinctCountries24h);
  x[8] = ln(f.distinctDevices24h);
  x[9] = std::log1p(row.amountMinor / 100.0);
  x[10] = f.amountZ;
  x[11] = static_cast<double>(f.newMerchant);
  x[12] = static_cast<double>(f.newDevice);
  x[13] = static_cast<double>(f.newCountry);
  x[14] = std::log1p(f.geoSpeedKmh);
  x[15] = f.gapMs < 0 ? std::log1p(2592000.0) : std::log1p(f.gapMs / 1000.0);
  x[16] = static_cast<double>(f.isNight);
  x[17] = static_cast<double>(f.isEcom);
  x[18] = ln(f.merchantTx24h);
  x[19] = static_cast<double>(f.merchantFraud30d) / static_cast<double>(f.merchantTx30d);
  return x;
}

}  // namespace sluice::payments
