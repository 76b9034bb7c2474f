// PaymentRow schema, batch conversion, CSV parsing and snapshot encoding.
#include "operators/payments/payment_record.h"

#include <charconv>
#include <chrono>
#include <cstring>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "runtime/base/check.h"

namespace sluice::payments {
namespace {

enum Column : int {
  kKindColumn,
  kSequenceColumn,
  kTxnIdColumn,
  kTimestampColumn,
  kAccountColumn,
  kMerchantColumn,
  kMccColumn,
  kAmountColumn,
  kCountryColumn,
  kLatitudeColumn,
  kLongitudeColumn,
  kDeviceColumn,
  kChannelColumn,
  kLabelColumn,
  kMerchantTx24hColumn,
  kMerchantTx30dColumn,
  kMerchantFraud30dColumn,
  kCount10mColumn,
  kCount1hColumn,
  kCount24hColumn,
  kSum24hColumn,
  kCount7dColumn,
  kSmallCount10mColumn,
  kDistinctMerchantsColumn,
  kDistinctCountriesColumn,
  kDistinctDevicesColumn,
  kAmountZColumn,
  kNewMerchantColumn,
  kNewDeviceColumn,
  kNewCountryColumn,
  kGeoDistanceColumn,
  kGeoSpeedColumn,
  kGapColumn,
  kIsNightColumn,
  kIsEcomColumn,
  kProbabilityColumn,
  kScoreMilliColumn,
  kModelVersionColumn,
  kIngestColumn,
};

SchemaPtr makeSchema() {
  std::vector<Field> fields = {
      {"kind", DataType::kInt64},          {"seq", DataType::kInt64},
      {"txn_id", DataType::kUInt64},       {"ts_ms", DataType::kTimestamp},
      {"account_id", DataType::kUInt64},   {"merchant_id", DataType::kUInt64},
      {"mcc", DataType::kInt64},           {"amount_minor", DataType::kInt64},
      {"country", DataType::kString},      {"lat_e6", DataType::kInt64},
      {"lon_e6", DataType::kInt64},        {"device_id", DataType::kUInt64},
      {"channel", DataType::kString},      {"label", DataType::kInt64},
      {"m_tx_24h", DataType::kInt64},      {"m_tx_30d", DataType::kInt64},
      {"m_fraud_30d", DataType::kInt64},   {"cnt_10m", DataType::kInt64},
      {"cnt_1h", DataType::kInt64},        {"cnt_24h", DataType::kInt64},
      {"sum_24h_minor", DataType::kInt64}, {"cnt_7d", DataType::kInt64},
      {"small_cnt_10m", DataType::kInt64}, {"dmerch_24h", DataType::kInt64},
      {"dcountry_24h", DataType::kInt64},  {"ddevice_24h", DataType::kInt64},
      {"amt_z", DataType::kFloat64},       {"new_merchant", DataType::kInt64},
      {"new_device", DataType::kInt64},    {"new_country", DataType::kInt64},
      {"geo_dist_km", DataType::kFloat64}, {"geo_speed_kmh", DataType::kFloat64},
      {"gap_ms", DataType::kInt64},        {"is_night", DataType::kInt64},
      {"is_ecom", DataType::kInt64},       {"probability", DataType::kFloat64},
      {"score_milli", DataType::kInt64},   {"model_version", DataType::kInt64},
      {"ingest_ns", DataType::kInt64},
  };
  auto schema = Schema::make(std::move(fields));
  SLUICE_CHECK(schema.ok(), "payment schema");
  return *schema;
}

Channel channelOf(std::string_view name, bool& ok) {
  ok = true;
  if (name == "POS") return Channel::kPos;
  if (name == "ECOM") return Channel::kEcom;
  if (name == "ATM") return Channel::kAtm;
  if (name == "P2P") return Channel::kP2p;
  ok = false;
  return Channel::kPos;
}

template <typename T>
Status parseNumber(std::string_view text, const char* field, T& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return Status::invalidArgument(fmt::format("field '{}': '{}' is not a valid {}", field, text,
                                               std::is_signed_v<T> ? "integer" : "non-negative integer"));
  }
  return Status::OK();
}

}  // namespace

std::string_view channelName(Channel channel) {
  switch (channel) {
    case Channel::kPos: return "POS";
    case Channel::kEcom: return "ECOM";
    case Channel::kAtm: return "ATM";
    case Channel::kP2p: return "P2P";
  }
  return "POS";
}

int64_t ingestClockNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const SchemaPtr& paymentRowSchema() {
  static const SchemaPtr schema = makeSchema();
  return schema;
}

int paymentEventTimeIndex() { return kTimestampColumn; }
int paymentAccountIndex() { return kAccountColumn; }
int paymentMerchantIndex() { return kMerchantColumn; }
int paymentTxnIdIndex() { return kTxnIdColumn; }

PaymentRowBatchBuilder::PaymentRowBatchBuilder() : builder_(paymentRowSchema(), kTimestampColumn) {}

void PaymentRowBatchBuilder::append(const PaymentRow& row) {
  const Features& f = row.features;
  builder_.column(kKindColumn).appendInt64(row.kind);
  builder_.column(kSequenceColumn).appendInt64(row.sequence);
  builder_.column(kTxnIdColumn).appendUInt64(row.txnId);
  builder_.column(kTimestampColumn).appendInt64(row.timestampMs);
  builder_.column(kAccountColumn).appendUInt64(row.accountId);
  builder_.column(kMerchantColumn).appendUInt64(row.merchantId);
  builder_.column(kMccColumn).appendInt64(row.mcc);
  builder_.column(kAmountColumn).appendInt64(row.amountMinor);
  builder_.column(kCountryColumn).appendString(row.countryCode());
  builder_.column(kLatitudeColumn).appendInt64(row.latitudeE6);
  builder_.column(kLongitudeColumn).appendInt64(row.longitudeE6);
  builder_.column(kDeviceColumn).appendUInt64(row.deviceId);
  builder_.column(kChannelColumn).appendString(channelName(row.channel));
  builder_.column(kLabelColumn).appendInt64(row.label);
  builder_.column(kMerchantTx24hColumn).appendInt64(f.merchantTx24h);
  builder_.column(kMerchantTx30dColumn).appendInt64(f.merchantTx30d);
  builder_.column(kMerchantFraud30dColumn).appendInt64(f.merchantFraud30d);
  builder_.column(kCount10mColumn).appendInt64(f.count10m);
  builder_.column(kCount1hColumn).appendInt64(f.count1h);
  builder_.column(kCount24hColumn).appendInt64(f.count24h);
  builder_.column(kSum24hColumn).appendInt64(f.sum24hMinor);
  builder_.column(kCount7dColumn).appendInt64(f.count7d);
  builder_.column(kSmallCount10mColumn).appendInt64(f.smallCount10m);
  builder_.column(kDistinctMerchantsColumn).appendInt64(f.distinctMerchants24h);
  builder_.column(kDistinctCountriesColumn).appendInt64(f.distinctCountries24h);
  builder_.column(kDistinctDevicesColumn).appendInt64(f.distinctDevices24h);
  builder_.column(kAmountZColumn).appendFloat64(f.amountZ);
  builder_.column(kNewMerchantColumn).appendInt64(f.newMerchant);
  builder_.column(kNewDeviceColumn).appendInt64(f.newDevice);
  builder_.column(kNewCountryColumn).appendInt64(f.newCountry);
  builder_.column(kGeoDistanceColumn).appendFloat64(f.geoDistanceKm);
  builder_.column(kGeoSpeedColumn).appendFloat64(f.geoSpeedKmh);
  builder_.column(kGapColumn).appendInt64(f.gapMs);
  builder_.column(kIsNightColumn).appendInt64(f.isNight);
  builder_.column(kIsEcomColumn).appendInt64(f.isEcom);
  builder_.column(kProbabilityColumn).appendFloat64(row.probability);
  builder_.column(kScoreMilliColumn).appendInt64(row.scoreMilli);
  builder_.column(kModelVersionColumn).appendInt64(row.modelVersion);
  builder_.column(kIngestColumn).appendInt64(row.ingestNs);
}

RecordBatch PaymentRowBatchBuilder::finish() { return builder_.finish(); }

PaymentRow readPaymentRow(const RecordBatch& batch, int64_t row) {
  auto i64 = [&](int column) { return batch.column(column)->int64s()[row]; };
  auto u64 = [&](int column) { return batch.column(column)->uint64s()[row]; };
  auto f64 = [&](int column) { return batch.column(column)->float64s()[row]; };
  PaymentRow out;
  out.kind = i64(kKindColumn);
  out.sequence = i64(kSequenceColumn);
  out.txnId = u64(kTxnIdColumn);
  out.timestampMs = i64(kTimestampColumn);
  out.accountId = u64(kAccountColumn);
  out.merchantId = u64(kMerchantColumn);
  out.mcc = i64(kMccColumn);
  out.amountMinor = i64(kAmountColumn);
  std::string_view country = batch.column(kCountryColumn)->stringAt(row);
  if (country.size() == 2) out.country = {country[0], country[1]};
  out.latitudeE6 = static_cast<int32_t>(i64(kLatitudeColumn));
  out.longitudeE6 = static_cast<int32_t>(i64(kLongitudeColumn));
  out.deviceId = u64(kDeviceColumn);
  bool known = false;
  out.channel = channelOf(batch.column(kChannelColumn)->stringAt(row), known);
  out.label = i64(kLabelColumn);
  Features& f = out.features;
  f.merchantTx24h = i64(kMerchantTx24hColumn);
  f.merchantTx30d = i64(kMerchantTx30dColumn);
  f.merchantFraud30d = i64(kMerchantFraud30dColumn);
  f.count10m = i64(kCount10mColumn);
  f.count1h = i64(kCount1hColumn);
  f.count24h = i64(kCount24hColumn);
  f.sum24hMinor = i64(kSum24hColumn);
  f.count7d = i64(kCount7dColumn);
  f.smallCount10m = i64(kSmallCount10mColumn);
  f.distinctMerchants24h = i64(kDistinctMerchantsColumn);
  f.distinctCountries24h = i64(kDistinctCountriesColumn);
  f.distinctDevices24h = i64(kDistinctDevicesColumn);
  f.amountZ = f64(kAmountZColumn);
  f.newMerchant = i64(kNewMerchantColumn);
  f.newDevice = i64(kNewDeviceColumn);
  f.newCountry = i64(kNewCountryColumn);
  f.geoDistanceKm = f64(kGeoDistanceColumn);
  f.geoSpeedKmh = f64(kGeoSpeedColumn);
  f.gapMs = i64(kGapColumn);
  f.isNight = i64(kIsNightColumn);
  f.isEcom = i64(kIsEcomColumn);
  out.probability = f64(kProbabilityColumn);
  out.scoreMilli = i64(kScoreMilliColumn);
  out.modelVersion = i64(kModelVersionColumn);
  out.ingestNs = i64(kIngestColumn);
  return out;
}

Result<bool> parsePaymentLine(std::string_view line, PaymentRow& row) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty() || line.starts_with("type") || line.starts_with("#")) return false;
  std::string_view fields[13];
  size_t count = 0;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    if (count == 13) return Status::invalidArgument("too many fields (a T record has 12, an L record 6)");
    fields[count++] = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  row = PaymentRow();
  if (fields[0] == "T") {
    if (count != 12) return Status::invalidArgument(fmt::format("a T record has 12 fields, this line has {}", count));
    row.kind = kTransactionKind;
  } else if (fields[0] == "L") {
    if (count != 6) return Status::invalidArgument(fmt::format("an L record has 6 fields, this line has {}", count));
    row.kind = kLabelKind;
  } else {
    return Status::invalidArgument(fmt::format("record type '{}' is neither T nor L", fields[0]));
  }
  SLUICE_RETURN_NOT_OK(parseNumber(fields[1], "txn_id", row.txnId));
  SLUICE_RETURN_NOT_OK(parseNumber(fields[2], "ts_ms", row.timestampMs));
  if (row.timestampMs < 0) return Status::invalidArgument("field 'ts_ms': must be >= 0");
  SLUICE_RETURN_NOT_OK(parseNumber(fields[3], "account_id", row.accountId));
  SLUICE_RETURN_NOT_OK(parseNumber(fields[4], "merchant_id", row.merchantId));
  if (row.kind == kLabelKind) {
    if (fields[5] != "0" && fields[5] != "1") {
      return Status::invalidArgument(fmt::format("field 'label': '{}' is not 0 or 1", fields[5]));
    }
    row.label = fields[5] == "1" ? 1 : 0;
    return true;
  }
  if (row.txnId == 0) return Status::invalidArgument("field 'txn_id': must be > 0");
  SLUICE_RETURN_NOT_OK(parseNumber(fields[5], "mcc", row.mcc));
  if (row.mcc < 0 || row.mcc > 9999) return Status::invalidArgument("field 'mcc': must be in 0..9999");
  SLUICE_RETURN_NOT_OK(parseNumber(fields[6], "amount_minor", row.amountMinor));
  if (row.amountMinor <= 0) return Status::invalidArgument("field 'amount_minor': must be > 0");
  std::string_view country = fields[7];
  bool upper = country.size() == 2 && country[0] >= 'A' && country[0] <= 'Z' && country[1] >= 'A' && country[1] <= 'Z';
  if (!upper && country != "--") {
    return Status::invalidArgument(fmt::format("field 'country': '{}' is not two uppercase letters or '--'", country));
  }
  row.country = {country[0], country[1]};
  SLUICE_RETURN_NOT_OK(parseNumber(fields[8], "lat_e6", row.latitudeE6));
  SLUICE_RETURN_NOT_OK(parseNumber(fields[9], "lon_e6", row.longitudeE6));
  SLUICE_RETURN_NOT_OK(parseNumber(fields[10], "device_id", row.deviceId));
  bool known = false;
  row.channel = channelOf(fields[11], known);
  if (!known) {
    return Status::invalidArgument(fmt::format("field 'channel': '{}' is not POS, ECOM, ATM or P2P", fields[11]));
  }
  return true;
}

std::string formatPaymentLine(const PaymentRow& row) {
  if (row.kind == kLabelKind) {
    return fmt::format("L,{},{},{},{},{}", row.txnId, row.timestampMs, row.accountId, row.merchantId, row.label);
  }
  return fmt::format("T,{},{},{},{},{},{},{},{},{},{},{}", row.txnId, row.timestampMs, row.accountId, row.merchantId,
                     row.mcc, row.amountMinor, row.countryCode(), row.latitudeE6, row.longitudeE6, row.deviceId,
                     channelName(row.channel));
}

static_assert(std::is_trivially_copyable_v<PaymentRow>);

void encodePaymentRow(const PaymentRow& row, std::string& out) {
  out.append(reinterpret_cast<const char*>(&row), sizeof(PaymentRow));
}

Result<PaymentRow> decodePaymentRow(std::string_view bytes, size_t& offset) {
  if (bytes.size() < offset + sizeof(PaymentRow)) return Status::corruption("truncated payment row in snapshot");
  PaymentRow row;
  std::memcpy(&row, bytes.data() + offset, sizeof(PaymentRow));
  offset += sizeof(PaymentRow);
  return row;
}

}  // namespace sluice::payments
