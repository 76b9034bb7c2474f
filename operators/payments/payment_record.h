// PaymentRow: one record of the payment-risk job (a transaction T or a label L)
// with every field the stages add, the stream schema that carries it between
// stages, and the strict parser of the job's CSV input format (SPEC section 1).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/base/result.h"
#include "runtime/data/record_batch.h"

namespace sluice::payments {

/// Record kinds, numbered as in the spec's sort key (L < MATURE timer < T).
inline constexpr int64_t kLabelKind = 0;
inline constexpr int64_t kMatureKind = 1;
inline constexpr int64_t kTransactionKind = 2;

/// lat_e6/lon_e6 value meaning "no location".
inline constexpr int32_t kNoLocation = 2147483647;

enum class Channel : uint8_t { kPos = 0, kEcom = 1, kAtm = 2, kP2p = 3 };

/// Features the merchant and account stages compute for a T record (SPEC section 4).
struct Features {
  int64_t merchantTx24h = 0;
  int64_t merchantTx30d = 0;
  int64_t merchantFraud30d = 0;
  int64_t count10m = 0;
  int64_t count1h = 0;
  int64_t count24h = 0;
  int64_t sum24hMinor = 0;
  int64_t count7d = 0;
  int64_t smallCount10m = 0;
  int64_t distinctMerchants24h = 0;
  int64_t distinctCountries24h = 0;
  int64_t distinctDevices24h = 0;
  double amountZ = 0;
  int64_t newMerchant = 0;
  int64_t newDevice = 0;
  int64_t newCountry = 0;
  double geoDistanceKm = 0;
  double geoSpeedKmh = 0;
  int64_t gapMs = -1;
  int64_t isNight = 0;
  int64_t isEcom = 0;
};

/// One record as it flows between the stages. Input fields come from the CSV
/// (fields of the other kind stay 0); `sequence` is the position in the
/// reference processing order, set by the reorder stage; `features` by the
/// merchant and account stages; the score fields by the scorer. `ingestNs`
/// is the wall-clock time (ingestClockNanos) at which the source read the
/// record, 0 when unknown; the stages carry it so that the rule stage can
/// measure each alert's in-engine latency. It is not part of any output file.
struct PaymentRow {
  int64_t kind = kTransactionKind;
  int64_t sequence = 0;
  uint64_t txnId = 0;
  int64_t timestampMs = 0;
  uint64_t accountId = 0;
  uint64_t merchantId = 0;
  int64_t mcc = 0;
  int64_t amountMinor = 0;
  std::array<char, 2> country{'-', '-'};
  int32_t latitudeE6 = kNoLocation;
  int32_t longitudeE6 = kNoLocation;
  uint64_t deviceId = 0;
  Channel channel = Channel::kPos;
  int64_t label = 0;
  Features features;
  double probability = 0;
  int64_t scoreMilli = 0;
  int64_t modelVersion = 0;
  int64_t ingestNs = 0;

  bool isTransaction() const { return kind == kTransactionKind; }
  bool hasLocation() const { return latitudeE6 != kNoLocation && longitudeE6 != kNoLocation; }
  bool hasCountry() const { return !(country[0] == '-' && country[1] == '-'); }
  std::string_view countryCode() const { return std::string_view(country.data(), 2); }
};

std::string_view channelName(Channel channel);

/// The clock of PaymentRow::ingestNs: wall-clock nanoseconds since the epoch
/// (comparable between the processes of a cluster whose clocks are in sync).
int64_t ingestClockNanos();

/// The schema of the stream between the payment stages (every PaymentRow
/// field; event time is `ts_ms`). Shared by all batches.
const SchemaPtr& paymentRowSchema();
/// Index of `ts_ms` in paymentRowSchema().
int paymentEventTimeIndex();
/// Index of `account_id` / `merchant_id` (the keys of the keyed stages).
int paymentAccountIndex();
int paymentMerchantIndex();
/// Index of `txn_id` (the online learner's key).
int paymentTxnIdIndex();

/// Appends rows to a batch of paymentRowSchema(). Not thread-safe.
class PaymentRowBatchBuilder {
 public:
  PaymentRowBatchBuilder();
  void append(const PaymentRow& row);
  /// Makes room for `rows` more rows in every column (no reallocation while appending them).
  void reserve(int64_t rows) { builder_.reserve(builder_.numRows() + rows); }
  int64_t numRows() const { return builder_.numRows(); }
  /// The batch of everything appended since the last finish().
  RecordBatch finish();

 private:
  RecordBatchBuilder builder_;
};

/// Reads row `row` of a batch of paymentRowSchema().
/// REQUIRES: the batch has paymentRowSchema() (checked by the factories).
PaymentRow readPaymentRow(const RecordBatch& batch, int64_t row);

/// Parses one line of the input format. Lines that are not records (empty,
/// starting with `type` or `#`) return false. Errors are one line naming the
/// field ("field 'amount_minor': ...").
Result<bool> parsePaymentLine(std::string_view line, PaymentRow& row);

/// The CSV line of a row (the inverse of parsePaymentLine), for generators and tests.
std::string formatPaymentLine(const PaymentRow& row);

/// A compact binary encoding of a PaymentRow, for operator snapshots.
void encodePaymentRow(const PaymentRow& row, std::string& out);
/// Decodes one row at `offset` and advances it; Corruption when truncated.
Result<PaymentRow> decodePaymentRow(std::string_view bytes, size_t& offset);

}  // namespace sluice::payments
