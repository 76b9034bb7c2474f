// The stream operators of the payment-risk job: reorder, merchant stage,
// account stage, scorer (fixed model), online learner, rules, and the schemas
// of their side outputs. Each is one subtask's instance; the runtime calls it
// from one task thread (the Operator contract), so none needs locks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "operators/payments/event_order.h"
#include "operators/payments/features.h"
#include "operators/payments/online_learner.h"
#include "operators/payments/risk_model.h"
#include "operators/payments/rule_set.h"
#include "operators/payments/scoring_model.h"
#include "runtime/state/keyed_state_backend.h"
#include "runtime/task/operator.h"

namespace sluice::payments {

inline constexpr std::string_view kLateTag = "late";
inline constexpr std::string_view kStatsTag = "stats";

/// Side output "late": {type: "T"|"L", txn_id, ts_ms}.
const SchemaPtr& lateRecordSchema();
/// Side output "stats": {name, value, text}; `text` carries JSON (final_model), else "".
const SchemaPtr& statsSchema();
/// The alert stream (SPEC section 8 fields, in order).
const SchemaPtr& alertSchema();

/// The serialized record key of a uint64 id: the encoding appendSerializedKey
/// uses for one non-null uint64 column.
std::string serializedKeyOf(uint64_t id);

/// Named counters kept in operator snapshots and emitted on "stats" at finish.
/// The stages emit them once per job: a snapshot taken after finish records
/// that, and a restore from it (the job's input had ended; the runtime calls
/// finish again) emits nothing, so the stats sink never counts twice.
class Counters {
 public:
  void add(const std::string& name, int64_t amount = 1) { values_[name] += amount; }
  int64_t get(const std::string& name) const;
  std::string encode() const;
  Status restore(std::string_view bytes);
  /// One stats row per counter (plus `texts`), on side output "stats".
  Status emit(Output& out, const std::map<std::string, std::string>& texts = {}) const;

 private:
  std::map<std::string, int64_t> values_;
};

/// `payments_reorder` (parallelism 1, after the single-reader source): the
/// spec's late decision and event-time reorder (EventTimeReorder). Emits the
/// records in reference order with `seq` set, then watermark WM - 1 (a later
/// record may still have ts == WM). Late records go to side output "late".
/// Incoming watermarks other than the final one are ignored: this stage owns
/// event time. Counters: txns (T released), late.
class ReorderOperator final : public Operator {
 public:
  explicit ReorderOperator(int64_t outOfOrdernessMs) : reorder_(outOfOrdernessMs) {}
  Status restoreState(const OperatorSnapshot& snapshot) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status processWatermark(int64_t timestamp, Output& out) override;
  Status snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) override;
  Status finish(Output& out) override;

 private:
  Status flush(Output& out);
  EventTimeReorder reorder_;
  PaymentRowBatchBuilder released_;
  RecordBatchBuilder late_{lateRecordSchema()};
  Counters counters_;
  int64_t emittedWatermark_ = kMinWatermark;
  bool countersEmitted_ = false;  // finish ran; restored from a snapshot taken after it
};

/// Default memory budget of a keyed stage's state cache, per subtask
/// (option `state_cache_mb`).
inline constexpr int64_t kDefaultStateCacheBytes = int64_t{256} << 20;

/// Value state of one key of a keyed stage, as a blob (the stage's encoded
/// history); the record key is the uint64 id. A write-back cache of at most
/// `budgetBytes` (blob bytes plus a fixed per-entry overhead) sits in front of
/// the backend (measured: a RocksDB get+put per record cost about 4x the whole
/// job on the sample, and a 65,536-key cache missed most records at 1 M
/// accounts); flush() writes every dirty entry, and the stages call it in
/// snapshotState, so the backend holds everything when a snapshot is taken.
/// When the budget is exceeded, dirty entries are written back and the cache
/// starts over. Not thread-safe.
class KeyedBlobState {
 public:
  /// Approximate heap cost of one cached entry besides its blob (hash node, string).
  static constexpr int64_t kEntryOverheadBytes = 96;
  explicit KeyedBlobState(int64_t budgetBytes = kDefaultStateCacheBytes) : budgetBytes_(budgetBytes) {}
  Status open(KeyedStateBackend* backend, const std::string& name);
  /// The value, or nullptr when the key has none. Valid until the next call.
  Result<const std::string*> get(int keyGroup, uint64_t id);
  Status put(int keyGroup, uint64_t id, std::string value);
  Status flush();
  int64_t cachedBytes() const { return bytes_; }
  size_t cachedKeys() const { return cache_.size(); }

 private:
  struct Entry {
    std::string value;
    int keyGroup = 0;
    bool present = false;
    bool dirty = false;
  };
  Status makeRoom();
  KeyedStateBackend* backend_ = nullptr;
  int state_ = -1;
  int64_t budgetBytes_;
  int64_t bytes_ = 0;
  std::unordered_map<uint64_t, Entry> cache_;
};

/// Like KeyedBlobState, but caches decoded objects (`History` with
/// `std::string encode() const`, `static Result<History> decode(std::string_view)`
/// and `int64_t memoryBytes() const`), so a hit costs neither decoding nor
/// encoding; objects are encoded when written back. For state with few, hot
/// keys (merchants): an object costs more memory than its blob. The budget
/// counts each object's memoryBytes() when it is loaded or created, at least
/// kMinEntryBytes. Not thread-safe.
template <typename History>
class KeyedObjectCache {
 public:
  static constexpr int64_t kMinEntryBytes = 1024;
  explicit KeyedObjectCache(int64_t budgetBytes = kDefaultStateCacheBytes) : budgetBytes_(budgetBytes) {}
  Status open(KeyedStateBackend* backend, const std::string& name) {
    if (backend == nullptr) return Status::internal("payment stage '" + name + "' runs without keyed state");
    backend_ = backend;
    SLUICE_ASSIGN_OR_RETURN(state_, backend->registerState(StateDescriptor{name, StateKind::kValue, std::nullopt}));
    return Status::OK();
  }
  /// The key's history (empty when it has none), for update: it is written
  /// back at the next flush. Valid until the next call.
  Result<History*> update(int keyGroup, uint64_t id) {
    auto found = cache_.find(id);
    if (found == cache_.end()) {
      SLUICE_RETURN_NOT_OK(makeRoom());
      std::string key = serializedKeyOf(id);
      SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> stored, backend_->get(StateKey{state_, keyGroup, key, {}}));
      Entry entry;
      entry.keyGroup = keyGroup;
      if (stored) {
        SLUICE_ASSIGN_OR_RETURN(entry.history, History::decode(*stored));
      }
      bytes_ += std::max(kMinEntryBytes, entry.history.memoryBytes());
      found = cache_.emplace(id, std::move(entry)).first;
    }
    found->second.dirty = true;
    return &found->second.history;
  }
  Status flush() {
    for (auto& [id, entry] : cache_) {
      if (!entry.dirty) continue;
      std::string key = serializedKeyOf(id);
      SLUICE_RETURN_NOT_OK(backend_->put(StateKey{state_, entry.keyGroup, key, {}}, entry.history.encode()));
      entry.dirty = false;
    }
    return Status::OK();
  }

 private:
  struct Entry {
    History history;
    int keyGroup = 0;
    bool dirty = false;
  };
  Status makeRoom() {
    if (bytes_ < budgetBytes_) return Status::OK();
    SLUICE_RETURN_NOT_OK(flush());
    cache_.clear();
    bytes_ = 0;
    return Status::OK();
  }
  KeyedStateBackend* backend_ = nullptr;
  int state_ = -1;
  int64_t budgetBytes_;
  int64_t bytes_ = 0;
  std::unordered_map<uint64_t, Entry> cache_;
};

/// `merchant_stage` (keyed by merchant_id): MerchantHistory per merchant in
/// keyed state "merchant-history", cached decoded (KeyedObjectCache). Its input comes from the reorder stage
/// (one subtask, so rows arrive in sequence order) and is processed on
/// arrival. T rows get m_tx_24h, m_tx_30d, m_fraud_30d; L rows update the
/// fraud count and are forwarded when `forwardLabels`.
class MerchantStageOperator final : public Operator {
 public:
  MerchantStageOperator(bool forwardLabels, int64_t cacheBytes) : forwardLabels_(forwardLabels), state_(cacheBytes) {}
  Status open(const OperatorContext& context) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) override;

 private:
  bool forwardLabels_;
  int maxParallelism_ = 128;
  KeyedObjectCache<MerchantHistory> state_;
};

/// `account_stage` (keyed by account_id): rows from several merchant subtasks
/// wait in a SequenceBuffer (snapshot blob "account-buffer") until the
/// watermark passes them, then run in sequence order through the account's
/// AccountHistory (keyed state "account-history"). Emits T rows with every
/// feature, and L rows when `forwardLabels`, then forwards the watermark.
class AccountStageOperator final : public Operator {
 public:
  AccountStageOperator(bool forwardLabels, int64_t cacheBytes) : forwardLabels_(forwardLabels), state_(cacheBytes) {}
  Status restoreState(const OperatorSnapshot& snapshot) override;
  Status open(const OperatorContext& context) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status processWatermark(int64_t timestamp, Output& out) override;
  Status snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) override;

 private:
  bool forwardLabels_;
  int maxParallelism_ = 128;
  KeyedBlobState state_;
  SequenceBuffer buffer_;
};

/// `risk_score` (F1, stateless, chained after the account stage): scores T
/// rows with a fixed ScoringModel, logreg-v1 or XGBoost (model_version 0),
/// and drops L rows. Subtask 0 reports final_model (the fixed model) at finish.
class ScoreOperator final : public Operator {
 public:
  explicit ScoreOperator(std::shared_ptr<const ScoringModel> model) : model_(std::move(model)) {}
  Status open(const OperatorContext& context) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status finish(Output& out) override;

 private:
  std::shared_ptr<const ScoringModel> model_;
  int subtaskIndex_ = 0;
};

/// `online_learner` (F2, parallelism 1): restores the reference order of the
/// account stages' output with a SequenceBuffer, then runs OnlineLearner:
/// T rows leave scored with the epoch's published model; L rows train it.
/// Keyed by txn_id: the pending feature vectors and the MATURE timers are in
/// keyed state (see OnlineLearner); the buffer, model, published snapshot,
/// timer-queue positions and counters are in the operator snapshot blob
/// "online-learner". Counters: model_updates, late_labels, final_model.
class OnlineLearnerOperator final : public Operator {
 public:
  OnlineLearnerOperator(const LogisticModel& initial, int64_t maturityMs, int64_t publishMs)
      : learner_(initial, maturityMs, publishMs) {}
  Status open(const OperatorContext& context) override;
  Status restoreState(const OperatorSnapshot& snapshot) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status processWatermark(int64_t timestamp, Output& out) override;
  Status snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) override;
  Status finish(Output& out) override;

 private:
  SequenceBuffer buffer_;
  OnlineLearner learner_;
  bool countersEmitted_ = false;  // finish ran; restored from a snapshot taken after it
};

/// `risk_rules` (stateless but for its counter): evaluates the RuleSet on each
/// scored T row and emits one alert per BLOCK or REVIEW decision. Counters:
/// alerts, and each alert's in-engine latency (ingest_ns to emission into the
/// chained alert sink) as alert_latency buckets.
class RulesOperator final : public Operator {
 public:
  explicit RulesOperator(std::shared_ptr<const RuleSet> rules) : rules_(std::move(rules)) {}
  Status restoreState(const OperatorSnapshot& snapshot) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) override;
  Status finish(Output& out) override;

 private:
  std::shared_ptr<const RuleSet> rules_;
  Counters counters_;
  bool countersEmitted_ = false;  // finish ran; restored from a snapshot taken after it
};

}  // namespace sluice::payments
