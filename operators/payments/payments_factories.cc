// Planner factories of the payment node kinds; see payments_factories.h.
#include "operators/payments/payments_factories.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>

#include "operators/option_reader.h"
#include "operators/payments/payments_io.h"
#include "operators/payments/stage_operators.h"
#include "operators/rate_limiter.h"
#include "operators/split_line_reader.h"

namespace sluice::payments {
namespace {

std::string resolvePath(const std::string& path, const PlanContext& context) {
  std::filesystem::path resolved(path);
  if (resolved.is_relative() && !context.workingDirectory.empty()) {
    resolved = std::filesystem::path(context.workingDirectory) / resolved;
  }
  return resolved.string();
}

Status checkPaymentInput(const NodeSpec& spec, const std::vector<StreamInfo>& inputs, const std::string& kind) {
  if (inputs.size() != 1) {
    return Status::invalidArgument("node '" + spec.id + "': a " + kind + " node takes exactly one input, got " +
                                   std::to_string(inputs.size()));
  }
  if (inputs[0].schema == nullptr || !(*inputs[0].schema == *paymentRowSchema())) {
    return Status::invalidArgument("node '" + spec.id + "': a " + kind +
                                   " node needs the payment record stream (from payments_csv and the payment stages)");
  }
  return Status::OK();
}

Result<std::string> requiredString(OptionReader& reader, const std::string& key, const std::string& what) {
  SLUICE_ASSIGN_OR_RETURN(auto value, reader.string(key));
  if (!value.has_value() || value->empty()) return reader.error("missing '" + key + "' (" + what + ")");
  return *value;
}

Result<bool> optionalFlag(OptionReader& reader, const std::string& key, bool fallback) {
  SLUICE_ASSIGN_OR_RETURN(auto value, reader.string(key));
  if (!value.has_value()) return fallback;
  if (*value == "true") return true;
  if (*value == "false") return false;
  return reader.error("'" + key + "' must be true or false, not '" + *value + "'");
}

/// `state_cache_mb`: the keyed stage's state cache budget per subtask, in MiB (>= 1).
Result<int64_t> stateCacheBytes(OptionReader& reader) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<int64_t> megabytes, reader.integer("state_cache_mb"));
  if (!megabytes.has_value()) return kDefaultStateCacheBytes;
  if (*megabytes < 1 || *megabytes > (int64_t{1} << 30)) {
    return reader.error("'state_cache_mb' (state cache per subtask, MiB) must be between 1 and 2^30, not " +
                        std::to_string(*megabytes));
  }
  return *megabytes << 20;
}

PlannedNode paymentNode(const NodeSpec& spec, const StreamInfo& input, InputPartitioning partitioning) {
  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kOperator;
  node.outputs[""] = input;
  node.inputs.push_back(std::move(partitioning));
  return node;
}

constexpr const char* kRateLimitKey = "sluice.source.rate-limit";

/// Paces a reader to `recordsPerSecond` (sluice.source.rate-limit): after each
/// poll it sleeps until the records read so far are due. Everything else is
/// the wrapped reader's. The factory keeps batches at about 50 ms of records,
/// so a sleep stays short and checkpoints are not held up.
class PacedSourceReader final : public SourceReader {
 public:
  PacedSourceReader(std::unique_ptr<SourceReader> reader, double recordsPerSecond)
      : reader_(std::move(reader)), limiter_(recordsPerSecond) {}
  Status open(const OperatorContext& context) override { return reader_->open(context); }
  Result<bool> pollNext(Output& out) override {
    SLUICE_ASSIGN_OR_RETURN(bool more, reader_->pollNext(out));
    const int64_t read = reader_->recordsRead();
    if (read > paced_) limiter_.acquire(read - paced_);
    paced_ = read;
    return more;
  }
  std::string snapshotPosition() const override { return reader_->snapshotPosition(); }
  Status restorePosition(const std::string& position) override { return reader_->restorePosition(position); }
  Status close() override { return reader_->close(); }
  int64_t recordsRead() const override { return reader_->recordsRead(); }

 private:
  std::unique_ptr<SourceReader> reader_;
  RateLimiter limiter_;
  int64_t paced_ = 0;
};

/// sluice.source.rate-limit in records per second; nullopt when unset or 0.
Result<std::optional<double>> configuredRateLimit(const PlanContext& context) {
  if (context.config == nullptr) return std::optional<double>();
  auto configured = context.config->get(kRateLimitKey);
  if (!configured) return std::optional<double>();
  double value = 0;
  auto [end, error] = std::from_chars(configured->data(), configured->data() + configured->size(), value);
  if (error != std::errc() || end != configured->data() + configured->size() || value < 0) {
    return Status::invalidArgument(std::string(kRateLimitKey) + ": expected records per second, not '" + *configured +
                                   "'");
  }
  return value > 0 ? std::optional<double>(value) : std::optional<double>();
}

StreamInfo statsStream() { return StreamInfo{statsSchema(), -1}; }

/// The `model` option: a logreg-v1 or XGBoost JSON model file (ScoringModel).
Result<std::shared_ptr<const ScoringModel>> loadModelOption(OptionReader& reader, const NodeSpec& spec,
                                                            const PlanContext& context) {
  SLUICE_ASSIGN_OR_RETURN(std::string path, requiredString(reader, "model", "a logreg-v1 or XGBoost JSON model file"));
  auto model = ScoringModel::load(resolvePath(path, context));
  if (!model.ok()) return model.status().withContext("node '" + spec.id + "'");
  return std::make_shared<const ScoringModel>(std::move(*model));
}

}  // namespace

Result<PlannedNode> planPaymentsCsvSource(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                          const PlanContext& context) {
  (void)inputs;
  OptionReader reader = OptionReader::forSpec(spec);
  SLUICE_ASSIGN_OR_RETURN(std::string path, requiredString(reader, "path", "the transactions CSV file"));
  SLUICE_ASSIGN_OR_RETURN(auto batchSize, reader.integer("batch_size"));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  if (batchSize.has_value() && *batchSize <= 0) return reader.error("'batch_size' must be positive");
  std::string resolved = resolvePath(path, context);
  Status readable = SplitLineReader::checkReadable(resolved);
  if (!readable.ok()) return readable.withContext("source '" + spec.id + "'");
  int64_t rows = batchSize.value_or(4096);
  SLUICE_ASSIGN_OR_RETURN(std::optional<double> rateLimit, configuredRateLimit(context));
  if (rateLimit) rows = std::min(rows, RateLimiter(*rateLimit).maxRecordsPerPoll());
  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kSource;
  node.outputs[""] = StreamInfo{paymentRowSchema(), paymentEventTimeIndex()};
  node.fixedParallelism = 1;  // "late" is decided in file order
  node.createReader = [resolved, rows, rateLimit](int split, int numSplits) -> std::unique_ptr<SourceReader> {
    (void)split;
    (void)numSplits;
    auto reader = std::make_unique<PaymentsCsvReader>(resolved, rows);
    if (!rateLimit) return reader;
    return std::make_unique<PacedSourceReader>(std::move(reader), *rateLimit);
  };
  return node;
}

Result<PlannedNode> planReorderNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                    const PlanContext& context) {
  (void)context;
  SLUICE_RETURN_NOT_OK(checkPaymentInput(spec, inputs, "payments_reorder"));
  OptionReader reader = OptionReader::forSpec(spec);
  SLUICE_ASSIGN_OR_RETURN(auto bound, reader.duration("out_of_orderness_ms"));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  int64_t outOfOrderness = bound.has_value() ? bound->count() : 5000;
  if (outOfOrderness < 0) return reader.error("'out_of_orderness_ms' must be >= 0");
  PlannedNode node = paymentNode(spec, inputs[0], InputPartitioning{PartitionKind::kForward, {}});
  node.outputs[std::string(kLateTag)] = StreamInfo{lateRecordSchema(), -1};
  node.outputs[std::string(kStatsTag)] = statsStream();
  node.fixedParallelism = 1;
  node.createOperator = [outOfOrderness]() -> std::unique_ptr<Operator> {
    return std::make_unique<ReorderOperator>(outOfOrderness);
  };
  return node;
}

Result<PlannedNode> planMerchantStageNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                          const PlanContext& context) {
  (void)context;
  SLUICE_RETURN_NOT_OK(checkPaymentInput(spec, inputs, "merchant_stage"));
  OptionReader reader = OptionReader::forSpec(spec);
  SLUICE_ASSIGN_OR_RETURN(bool forwardLabels, optionalFlag(reader, "forward_labels", true));
  SLUICE_ASSIGN_OR_RETURN(int64_t cacheBytes, stateCacheBytes(reader));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  PlannedNode node = paymentNode(spec, inputs[0], InputPartitioning{PartitionKind::kHash, {paymentMerchantIndex()}});
  node.keyed = true;
  node.createOperator = [forwardLabels, cacheBytes]() -> std::unique_ptr<Operator> {
    return std::make_unique<MerchantStageOperator>(forwardLabels, cacheBytes);
  };
  return node;
}

Result<PlannedNode> planAccountStageNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                         const PlanContext& context) {
  (void)context;
  SLUICE_RETURN_NOT_OK(checkPaymentInput(spec, inputs, "account_stage"));
  OptionReader reader = OptionReader::forSpec(spec);
  SLUICE_ASSIGN_OR_RETURN(bool forwardLabels, optionalFlag(reader, "forward_labels", true));
  SLUICE_ASSIGN_OR_RETURN(int64_t cacheBytes, stateCacheBytes(reader));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  PlannedNode node = paymentNode(spec, inputs[0], InputPartitioning{PartitionKind::kHash, {paymentAccountIndex()}});
  node.keyed = true;
  node.createOperator = [forwardLabels, cacheBytes]() -> std::unique_ptr<Operator> {
    return std::make_unique<AccountStageOperator>(forwardLabels, cacheBytes);
  };
  return node;
}

Result<PlannedNode> planScoreNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                  const PlanContext& context) {
  SLUICE_RETURN_NOT_OK(checkPaymentInput(spec, inputs, "risk_score"));
  OptionReader reader = OptionReader::forSpec(spec);
  SLUICE_ASSIGN_OR_RETURN(auto model, loadModelOption(reader, spec, context));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  PlannedNode node = paymentNode(spec, inputs[0], InputPartitioning{PartitionKind::kForward, {}});
  node.outputs[std::string(kStatsTag)] = statsStream();
  node.createOperator = [model]() -> std::unique_ptr<Operator> { return std::make_unique<ScoreOperator>(model); };
  return node;
}

Result<PlannedNode> planOnlineLearnerNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                          const PlanContext& context) {
  SLUICE_RETURN_NOT_OK(checkPaymentInput(spec, inputs, "online_learner"));
  OptionReader reader = OptionReader::forSpec(spec);
  SLUICE_ASSIGN_OR_RETURN(auto model, loadModelOption(reader, spec, context));
  if (model->logistic() == nullptr) {
    return reader.error(
        "learns online only with a logreg-v1 model; the 'model' file is an XGBoost model, "
        "which only risk_score (fixed model, risk.yaml) can use");
  }
  SLUICE_ASSIGN_OR_RETURN(auto maturity, reader.duration("maturity_ms"));
  SLUICE_ASSIGN_OR_RETURN(auto publish, reader.duration("publish_ms"));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  if (!maturity.has_value() || maturity->count() <= 0) {
    return reader.error("'maturity_ms' (M, when an unlabelled transaction counts as genuine) must be positive");
  }
  if (!publish.has_value() || publish->count() <= 0) {
    return reader.error("'publish_ms' (P, the model publication period) must be positive");
  }
  int64_t maturityMs = maturity->count();
  int64_t publishMs = publish->count();
  // Keyed by txn_id: the pending feature vectors live in keyed state (the one
  // subtask owns every key group, so the hash exchange only routes to it).
  PlannedNode node = paymentNode(spec, inputs[0], InputPartitioning{PartitionKind::kHash, {paymentTxnIdIndex()}});
  node.keyed = true;
  node.outputs[std::string(kStatsTag)] = statsStream();
  node.fixedParallelism = 1;  // one global, sequential model
  node.createOperator = [model, maturityMs, publishMs]() -> std::unique_ptr<Operator> {
    return std::make_unique<OnlineLearnerOperator>(*model->logistic(), maturityMs, publishMs);
  };
  return node;
}

Result<PlannedNode> planRulesNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                  const PlanContext& context) {
  SLUICE_RETURN_NOT_OK(checkPaymentInput(spec, inputs, "risk_rules"));
  OptionReader reader = OptionReader::forSpec(spec);
  SLUICE_ASSIGN_OR_RETURN(std::string path, requiredString(reader, "rules", "a rules-v1 rule file"));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  auto rules = RuleSet::load(resolvePath(path, context));
  if (!rules.ok()) return rules.status().withContext("node '" + spec.id + "'");
  auto shared = std::make_shared<const RuleSet>(std::move(*rules));
  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kOperator;
  node.outputs[""] = StreamInfo{alertSchema(), -1};
  node.outputs[std::string(kStatsTag)] = statsStream();
  node.inputs.push_back(InputPartitioning{PartitionKind::kForward, {}});
  node.createOperator = [shared]() -> std::unique_ptr<Operator> { return std::make_unique<RulesOperator>(shared); };
  return node;
}

Result<PlannedNode> planStatsSink(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                  const PlanContext& context) {
  OptionReader reader = OptionReader::forSpec(spec);
  SLUICE_ASSIGN_OR_RETURN(std::string path, requiredString(reader, "path", "the stats JSON file"));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  if (inputs.empty()) return reader.error("needs at least one stats stream in 'from'");
  for (const StreamInfo& input : inputs) {
    if (input.schema == nullptr || !(*input.schema == *statsSchema())) {
      return reader.error("every input must be a payment stage's 'stats' output (e.g. from: [reorder.stats])");
    }
  }
  std::string resolved = resolvePath(path, context);
  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kSink;
  for (size_t i = 0; i < inputs.size(); ++i) node.inputs.push_back(InputPartitioning{PartitionKind::kRebalance, {}});
  node.fixedParallelism = 1;
  node.createOperator = [resolved]() -> std::unique_ptr<Operator> { return std::make_unique<StatsSink>(resolved); };
  return node;
}

}  // namespace sluice::payments
