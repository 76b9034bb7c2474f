// The payment stage operators; see stage_operators.h.
#include "operators/payments/stage_operators.h"

#include <vector>

#include "operators/payments/byte_codec.h"
#include "operators/payments/payments_io.h"
#include "runtime/state/key_context.h"
#include "runtime/state/keyed_state_backend.h"

namespace sluice::payments {
namespace {

SchemaPtr makeSchema(std::vector<Field> fields) {
  auto schema = Schema::make(std::move(fields));
  SLUICE_CHECK(schema.ok(), "payment side schema");
  return *schema;
}

constexpr const char* kReorderBlob = "payments-reorder";
constexpr const char* kAccountBufferBlob = "account-buffer";
constexpr const char* kLearnerBlob = "online-learner";
constexpr const char* kRulesBlob = "risk-rules";
// Present ("1") in a snapshot taken after the operator's finish emitted its
// counters: a restore from it must not emit them again, since the stats sink's
// snapshot in the same checkpoint already holds them (they precede the
// operator's end of stream, hence any later barrier).
constexpr const char* kCountersEmittedBlob = "counters-emitted";

bool countersEmittedIn(const OperatorSnapshot& snapshot) { return snapshot.blobs.count(kCountersEmittedBlob) > 0; }

void markCountersEmitted(bool emitted, OperatorSnapshot& snapshot) {
  if (emitted) snapshot.blobs[kCountersEmittedBlob] = std::string(1, '1');
}

std::vector<int> keyGroupsFor(const RecordBatch& batch, int keyColumn, int maxParallelism) {
  return keyGroupsOf(batch, {keyColumn}, maxParallelism);
}

Status emitIfAny(Output& out, RecordBatch batch) {
  if (batch.numRows() == 0) return Status::OK();
  return out.emit(std::move(batch));
}

}  // namespace

const SchemaPtr& lateRecordSchema() {
  static const SchemaPtr schema =
      makeSchema({{"type", DataType::kString}, {"txn_id", DataType::kUInt64}, {"ts_ms", DataType::kInt64}});
  return schema;
}

const SchemaPtr& statsSchema() {
  static const SchemaPtr schema =
      makeSchema({{"name", DataType::kString}, {"value", DataType::kInt64}, {"text", DataType::kString}});
  return schema;
}

const SchemaPtr& alertSchema() {
  static const SchemaPtr schema = makeSchema({
      {"txn_id", DataType::kUInt64},      {"ts_ms", DataType::kInt64},         {"account_id", DataType::kUInt64},
      {"decision", DataType::kString},    {"primary_rule", DataType::kString}, {"rules_mask", DataType::kInt64},
      {"score_milli", DataType::kInt64},  {"model_version", DataType::kInt64}, {"cnt_10m", DataType::kInt64},
      {"cnt_1h", DataType::kInt64},       {"cnt_24h", DataType::kInt64},       {"sum_24h_minor", DataType::kInt64},
      {"cnt_7d", DataType::kInt64},       {"small_cnt_10m", DataType::kInt64}, {"dmerch_24h", DataType::kInt64},
      {"dcountry_24h", DataType::kInt64}, {"ddevice_24h", DataType::kInt64},   {"amount_minor", DataType::kInt64},
      {"amt_z", DataType::kFloat64},      {"new_merchant", DataType::kInt64},  {"new_device", DataType::kInt64},
      {"new_country", DataType::kInt64},  {"geo_dist_km", DataType::kFloat64}, {"geo_speed_kmh", DataType::kFloat64},
      {"gap_ms", DataType::kInt64},       {"is_night", DataType::kInt64},      {"is_ecom", DataType::kInt64},
      {"m_tx_24h", DataType::kInt64},     {"m_fraud_30d", DataType::kInt64},   {"m_tx_30d", DataType::kInt64},
  });
  return schema;
}

// ---- Counters ----

int64_t Counters::get(const std::string& name) const {
  auto found = values_.find(name);
  return found == values_.end() ? 0 : found->second;
}

std::string Counters::encode() const {
  std::string out;
  ByteWriter writer(out);
  writer.put<uint64_t>(values_.size());
  for (const auto& [name, value] : values_) {
    writer.putBytes(name);
    writer.put(value);
  }
  return out;
}

Status Counters::restore(std::string_view bytes) {
  ByteReader reader(bytes, "counters");
  SLUICE_ASSIGN_OR_RETURN(uint64_t count, reader.get<uint64_t>());
  values_.clear();
  for (uint64_t i = 0; i < count; ++i) {
    SLUICE_ASSIGN_OR_RETURN(std::string_view name, reader.getBytes());
    SLUICE_ASSIGN_OR_RETURN(int64_t value, reader.get<int64_t>());
    values_[std::string(name)] = value;
  }
  return Status::OK();
}

Status Counters::emit(Output& out, const std::map<std::string, std::string>& texts) const {
  RecordBatchBuilder builder(statsSchema());
  for (const auto& [name, value] : values_) {
    builder.column(0).appendString(name);
    builder.column(1).appendInt64(value);
    builder.column(2).appendString("");
  }
  for (const auto& [name, text] : texts) {
    builder.column(0).appendString(name);
    builder.column(1).appendInt64(0);
    builder.column(2).appendString(text);
  }
  return out.emitSide(kStatsTag, builder.finish());
}

// ---- ReorderOperator ----

Status ReorderOperator::restoreState(const OperatorSnapshot& snapshot) {
  countersEmitted_ = countersEmittedIn(snapshot);
  auto found = snapshot.blobs.find(kReorderBlob);
  if (found == snapshot.blobs.end()) return Status::OK();
  ByteReader reader(found->second, "reorder snapshot");
  SLUICE_ASSIGN_OR_RETURN(std::string_view reorder, reader.getBytes());
  SLUICE_ASSIGN_OR_RETURN(std::string_view counters, reader.getBytes());
  SLUICE_ASSIGN_OR_RETURN(emittedWatermark_, reader.get<int64_t>());
  SLUICE_RETURN_NOT_OK(reorder_.restore(reorder));
  return counters_.restore(counters);
}

Status ReorderOperator::snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) {
  (void)checkpointId;
  std::string blob;
  ByteWriter writer(blob);
  writer.putBytes(reorder_.encode());
  writer.putBytes(counters_.encode());
  writer.put(emittedWatermark_);
  snapshot.blobs[kReorderBlob] = std::move(blob);
  markCountersEmitted(countersEmitted_, snapshot);
  return Status::OK();
}

Status ReorderOperator::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)input;
  auto released = [&](const PaymentRow& row) {
    if (row.isTransaction()) counters_.add("txns");
    released_.append(row);
  };
  auto late = [&](const PaymentRow& row) {
    counters_.add("late");
    late_.column(0).appendString(row.isTransaction() ? "T" : "L");
    late_.column(1).appendUInt64(row.txnId);
    late_.column(2).appendInt64(row.timestampMs);
  };
  for (int64_t i = 0; i < batch.numRows(); ++i) reorder_.add(readPaymentRow(batch, i), released, late);
  SLUICE_RETURN_NOT_OK(flush(out));
  // Every later record has ts >= WM, so WM - 1 is complete.
  if (reorder_.watermark() != kMinWatermark && reorder_.watermark() - 1 > emittedWatermark_) {
    emittedWatermark_ = reorder_.watermark() - 1;
    SLUICE_RETURN_NOT_OK(out.emitWatermark(emittedWatermark_));
  }
  return Status::OK();
}

Status ReorderOperator::flush(Output& out) {
  SLUICE_RETURN_NOT_OK(emitIfAny(out, released_.finish()));
  RecordBatch late = late_.finish();
  if (late.numRows() > 0) SLUICE_RETURN_NOT_OK(out.emitSide(kLateTag, std::move(late)));
  return Status::OK();
}

Status ReorderOperator::processWatermark(int64_t timestamp, Output& out) {
  if (timestamp != kMaxWatermark) return Status::OK();
  reorder_.finish([&](const PaymentRow& row) {
    if (row.isTransaction()) counters_.add("txns");
    released_.append(row);
  });
  SLUICE_RETURN_NOT_OK(flush(out));
  emittedWatermark_ = kMaxWatermark;
  return out.emitWatermark(kMaxWatermark);
}

Status ReorderOperator::finish(Output& out) {
  if (countersEmitted_) return Status::OK();
  countersEmitted_ = true;
  counters_.add("txns", 0);
  counters_.add("late", 0);
  return counters_.emit(out);
}

// ---- KeyedBlobState ----

std::string serializedKeyOf(uint64_t id) {
  std::string key(9, '\1');
  for (int i = 0; i < 8; ++i) key[1 + i] = static_cast<char>(id >> (8 * i));
  return key;
}

Status KeyedBlobState::open(KeyedStateBackend* backend, const std::string& name) {
  if (backend == nullptr) return Status::internal("payment stage '" + name + "' runs without keyed state");
  backend_ = backend;
  SLUICE_ASSIGN_OR_RETURN(state_, backend->registerState(StateDescriptor{name, StateKind::kValue, std::nullopt}));
  return Status::OK();
}

Result<const std::string*> KeyedBlobState::get(int keyGroup, uint64_t id) {
  auto found = cache_.find(id);
  if (found == cache_.end()) {
    SLUICE_RETURN_NOT_OK(makeRoom());
    std::string key = serializedKeyOf(id);
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> stored, backend_->get(StateKey{state_, keyGroup, key, {}}));
    Entry entry;
    entry.keyGroup = keyGroup;
    entry.present = stored.has_value();
    if (stored) entry.value = std::move(*stored);
    bytes_ += kEntryOverheadBytes + static_cast<int64_t>(entry.value.size());
    found = cache_.emplace(id, std::move(entry)).first;
  }
  return found->second.present ? &found->second.value : nullptr;
}

Status KeyedBlobState::put(int keyGroup, uint64_t id, std::string value) {
  auto found = cache_.find(id);
  if (found == cache_.end()) {
    SLUICE_RETURN_NOT_OK(makeRoom());
    found = cache_.emplace(id, Entry{}).first;
    bytes_ += kEntryOverheadBytes;
  }
  Entry& entry = found->second;
  bytes_ += static_cast<int64_t>(value.size()) - static_cast<int64_t>(entry.value.size());
  entry.value = std::move(value);
  entry.keyGroup = keyGroup;
  entry.present = true;
  entry.dirty = true;
  return Status::OK();
}

Status KeyedBlobState::flush() {
  for (auto& [id, entry] : cache_) {
    if (!entry.dirty) continue;
    std::string key = serializedKeyOf(id);
    SLUICE_RETURN_NOT_OK(backend_->put(StateKey{state_, entry.keyGroup, key, {}}, entry.value));
    entry.dirty = false;
  }
  return Status::OK();
}

Status KeyedBlobState::makeRoom() {
  if (bytes_ < budgetBytes_) return Status::OK();
  SLUICE_RETURN_NOT_OK(flush());
  cache_.clear();
  bytes_ = 0;
  return Status::OK();
}

// ---- MerchantStageOperator ----

Status MerchantStageOperator::open(const OperatorContext& context) {
  maxParallelism_ = context.maxParallelism;
  return state_.open(context.keyedStateBackend, "merchant-history");
}

Status MerchantStageOperator::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)input;
  std::vector<int> keyGroups = keyGroupsFor(batch, paymentMerchantIndex(), maxParallelism_);
  PaymentRowBatchBuilder builder;
  builder.reserve(batch.numRows());
  for (int64_t i = 0; i < batch.numRows(); ++i) {
    PaymentRow row = readPaymentRow(batch, i);
    const bool isLabel = row.kind == kLabelKind;
    if (!isLabel || row.label == 1) {
      SLUICE_ASSIGN_OR_RETURN(MerchantHistory * history, state_.update(keyGroups[i], row.merchantId));
      if (isLabel) {
        history->observeLabel(row.timestampMs, row.label);
      } else {
        history->observeTransaction(row.timestampMs, row.features);
      }
    }
    if (!isLabel || forwardLabels_) builder.append(row);
  }
  return emitIfAny(out, builder.finish());
}

Status MerchantStageOperator::snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) {
  (void)checkpointId;
  (void)snapshot;
  return state_.flush();  // the keyed backend must hold every update
}

// ---- AccountStageOperator ----

Status AccountStageOperator::restoreState(const OperatorSnapshot& snapshot) {
  auto found = snapshot.blobs.find(kAccountBufferBlob);
  if (found == snapshot.blobs.end()) return Status::OK();
  return buffer_.restore(found->second);
}

Status AccountStageOperator::snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) {
  (void)checkpointId;
  snapshot.blobs[kAccountBufferBlob] = buffer_.encode();
  return state_.flush();  // the keyed backend must hold every update
}

Status AccountStageOperator::open(const OperatorContext& context) {
  maxParallelism_ = context.maxParallelism;
  return state_.open(context.keyedStateBackend, "account-history");
}

Status AccountStageOperator::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)input;
  (void)out;
  std::vector<int> keyGroups = keyGroupsFor(batch, paymentAccountIndex(), maxParallelism_);
  for (int64_t i = 0; i < batch.numRows(); ++i) {
    PaymentRow row = readPaymentRow(batch, i);
    if (row.kind == kLabelKind && !forwardLabels_) continue;
    buffer_.add(row, keyGroups[i]);
  }
  return Status::OK();
}

Status AccountStageOperator::processWatermark(int64_t timestamp, Output& out) {
  PaymentRowBatchBuilder builder;
  SLUICE_RETURN_NOT_OK(buffer_.releaseUpTo(timestamp, [&](const PaymentRow& released, int32_t keyGroup) -> Status {
    PaymentRow row = released;
    if (row.isTransaction()) {
      SLUICE_ASSIGN_OR_RETURN(const std::string* bytes, state_.get(keyGroup, row.accountId));
      AccountHistory history;
      if (bytes != nullptr) {
        SLUICE_ASSIGN_OR_RETURN(history, AccountHistory::decode(*bytes));
      }
      history.observeTransaction(row);
      SLUICE_RETURN_NOT_OK(state_.put(keyGroup, row.accountId, history.encode()));
    }
    builder.append(row);
    return Status::OK();
  }));
  SLUICE_RETURN_NOT_OK(emitIfAny(out, builder.finish()));
  return out.emitWatermark(timestamp);
}

// ---- ScoreOperator ----

Status ScoreOperator::open(const OperatorContext& context) {
  subtaskIndex_ = context.subtaskIndex;
  return Status::OK();
}

Status ScoreOperator::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)input;
  PaymentRowBatchBuilder builder;
  builder.reserve(batch.numRows());
  for (int64_t i = 0; i < batch.numRows(); ++i) {
    PaymentRow row = readPaymentRow(batch, i);
    if (!row.isTransaction()) continue;
    row.probability = model_->probability(modelInput(row));
    row.scoreMilli = scoreMilli(row.probability);
    row.modelVersion = 0;
    builder.append(row);
  }
  return emitIfAny(out, builder.finish());
}

Status ScoreOperator::finish(Output& out) {
  if (subtaskIndex_ != 0) return Status::OK();
  Counters counters;
  counters.add("model_updates", 0);
  counters.add("late_labels", 0);
  return counters.emit(out, {{"final_model", model_->toJson()}});
}

// ---- OnlineLearnerOperator ----

Status OnlineLearnerOperator::open(const OperatorContext& context) {
  return learner_.open(context.keyedStateBackend, context.maxParallelism);
}

Status OnlineLearnerOperator::restoreState(const OperatorSnapshot& snapshot) {
  countersEmitted_ = countersEmittedIn(snapshot);
  auto found = snapshot.blobs.find(kLearnerBlob);
  if (found == snapshot.blobs.end()) return Status::OK();
  ByteReader reader(found->second, "online learner snapshot");
  SLUICE_ASSIGN_OR_RETURN(std::string_view buffer, reader.getBytes());
  SLUICE_ASSIGN_OR_RETURN(std::string_view learner, reader.getBytes());
  SLUICE_RETURN_NOT_OK(buffer_.restore(buffer));
  return learner_.restore(learner);
}

Status OnlineLearnerOperator::snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) {
  (void)checkpointId;
  std::string blob;
  ByteWriter writer(blob);
  writer.putBytes(buffer_.encode());
  writer.putBytes(learner_.encode());
  snapshot.blobs[kLearnerBlob] = std::move(blob);
  markCountersEmitted(countersEmitted_, snapshot);
  return learner_.flush();  // the keyed backend must hold the tail timer page
}

Status OnlineLearnerOperator::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)input;
  (void)out;
  for (int64_t i = 0; i < batch.numRows(); ++i) buffer_.add(readPaymentRow(batch, i), 0);
  return Status::OK();
}

Status OnlineLearnerOperator::processWatermark(int64_t timestamp, Output& out) {
  PaymentRowBatchBuilder builder;
  SLUICE_RETURN_NOT_OK(buffer_.releaseUpTo(timestamp, [&](const PaymentRow& released, int32_t) -> Status {
    PaymentRow row = released;
    SLUICE_RETURN_NOT_OK(learner_.process(row));
    if (row.isTransaction()) builder.append(row);
    return Status::OK();
  }));
  SLUICE_RETURN_NOT_OK(learner_.advanceTo(timestamp));
  SLUICE_RETURN_NOT_OK(emitIfAny(out, builder.finish()));
  return out.emitWatermark(timestamp);
}

Status OnlineLearnerOperator::finish(Output& out) {
  if (countersEmitted_) return Status::OK();
  countersEmitted_ = true;
  Counters counters;
  counters.add("model_updates", learner_.modelUpdates());
  counters.add("late_labels", learner_.lateLabels());
  return counters.emit(out, {{"final_model", modelToJson(learner_.model())}});
}

// ---- RulesOperator ----

Status RulesOperator::restoreState(const OperatorSnapshot& snapshot) {
  countersEmitted_ = countersEmittedIn(snapshot);
  auto found = snapshot.blobs.find(kRulesBlob);
  if (found == snapshot.blobs.end()) return Status::OK();
  return counters_.restore(found->second);
}

Status RulesOperator::snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) {
  (void)checkpointId;
  snapshot.blobs[kRulesBlob] = counters_.encode();
  markCountersEmitted(countersEmitted_, snapshot);
  return Status::OK();
}

Status RulesOperator::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)input;
  RecordBatchBuilder builder(alertSchema());
  std::vector<int64_t> ingestTimes;
  for (int64_t i = 0; i < batch.numRows(); ++i) {
    PaymentRow row = readPaymentRow(batch, i);
    if (!row.isTransaction()) continue;
    RuleDecision decision = rules_->evaluate(row);
    if (decision.action == RuleAction::kAllow) continue;
    counters_.add("alerts");
    const Features& f = row.features;
    int column = 0;
    auto integer = [&](int64_t value) { builder.column(column++).appendInt64(value); };
    auto real = [&](double value) { builder.column(column++).appendFloat64(value); };
    builder.column(column++).appendUInt64(row.txnId);
    integer(row.timestampMs);
    builder.column(column++).appendUInt64(row.accountId);
    builder.column(column++).appendString(ruleActionName(decision.action));
    builder.column(column++).appendString(rules_->ruleName(decision.primaryRule));
    integer(static_cast<int64_t>(decision.mask));
    integer(row.scoreMilli);
    integer(row.modelVersion);
    integer(f.count10m);
    integer(f.count1h);
    integer(f.count24h);
    integer(f.sum24hMinor);
    integer(f.count7d);
    integer(f.smallCount10m);
    integer(f.distinctMerchants24h);
    integer(f.distinctCountries24h);
    integer(f.distinctDevices24h);
    integer(row.amountMinor);
    real(f.amountZ);
    integer(f.newMerchant);
    integer(f.newDevice);
    integer(f.newCountry);
    real(f.geoDistanceKm);
    real(f.geoSpeedKmh);
    integer(f.gapMs);
    integer(f.isNight);
    integer(f.isEcom);
    integer(f.merchantTx24h);
    integer(f.merchantFraud30d);
    integer(f.merchantTx30d);
    if (row.ingestNs > 0) ingestTimes.push_back(row.ingestNs);
  }
  RecordBatch alerts = builder.finish();
  // In-engine latency: the alert sink is chained after this stage, so this
  // moment is when the alerts reach it (before any checkpoint commit).
  const int64_t now = ingestClockNanos();
  for (int64_t ingest : ingestTimes) counters_.add(alert_latency::counterName((now - ingest) / 1000));
  return emitIfAny(out, std::move(alerts));
}

Status RulesOperator::finish(Output& out) {
  if (countersEmitted_) return Status::OK();
  countersEmitted_ = true;
  counters_.add("alerts", 0);
  return counters_.emit(out);
}

}  // namespace sluice::payments
