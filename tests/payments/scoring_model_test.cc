// The scorer's model choice (logreg-v1 or XGBoost JSON, told apart by the file's fields), XGBoost
// scoring through the risk_score operator against Debian xgboost's reference predictions, the
// online learner's refusal of XGBoost, counters emitted once across a restore, and the CSV
// source's rate limit.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "operators/payments/payments_factories.h"
#include "operators/payments/scoring_model.h"
#include "operators/payments/stage_operators.h"
#include "runtime/job/configuration.h"
#include "tests/testing/operator_harness.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice::payments {
namespace {

const std::string kData = std::string(SLUICE_SOURCE_DIR) + "/tests/data/payments";
const std::string kXgboostModel = kData + "/xgboost/model.json";

NodeSpec operatorSpec(const std::string& id, const std::string& yaml) {
  NodeSpec spec;
  spec.id = id;
  spec.role = NodeRole::kOperator;
  spec.options = YAML::Load(yaml);
  return spec;
}

TEST(ScoringModelTest, TheFileFieldsDecideTheFormat) {
  ASSERT_OK_AND_ASSIGN(ScoringModel logistic, ScoringModel::load(kData + "/model.json"));
  EXPECT_EQ(logistic.kind(), ScoringModel::Kind::kLogistic);
  EXPECT_EQ(logistic.formatName(), "logreg-v1");
  ASSERT_NE(logistic.logistic(), nullptr);
  EXPECT_EQ(logistic.logistic()->bias, -7.5);
  EXPECT_EQ(logistic.toJson(), modelToJson(*logistic.logistic()));

  ASSERT_OK_AND_ASSIGN(ScoringModel xgboost, ScoringModel::load(kXgboostModel));
  EXPECT_EQ(xgboost.kind(), ScoringModel::Kind::kXgboost);
  EXPECT_EQ(xgboost.formatName(), "xgboost");
  EXPECT_EQ(xgboost.logistic(), nullptr);
  EXPECT_EQ(xgboost.toJson(), R"({"format":"xgboost","trees":20,"base_score":0.5})");
}

TEST(ScoringModelTest, RefusesWhatIsNeitherFormatWithOneLine) {
  struct Case {
    std::string text;
    std::string message;
  };
  for (const Case& bad : std::vector<Case>{
           {"not json", "not valid JSON"},
           {"[1, 2]", "must be a JSON object"},
           {R"({"bias": 1})", "neither logreg-v1"},
           {R"({"format": "logreg-v2"})", "logreg-v1"},
           {R"({"learner": {}})", "XGBoost model"},
           {R"({"learner": 7, "version": [2, 0, 0]})", "XGBoost model"},
       }) {
    auto model = ScoringModel::parse(bad.text);
    ASSERT_FALSE(model.ok()) << bad.text;
    EXPECT_NE(model.status().message().find(bad.message), std::string::npos) << model.status().message();
    EXPECT_EQ(model.status().message().find('\n'), std::string::npos) << model.status().message();
  }
  auto missing = ScoringModel::load(kData + "/no-such-model.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no-such-model.json"), std::string::npos);
}

/// A test row of the XGBoost fixture: its feature vector (NaN = missing) and the CLI's prediction.
struct FixtureRow {
  FeatureVector x;
  double prediction = 0;
};

std::vector<FixtureRow> fixtureRows() {
  std::vector<FixtureRow> rows;
  std::ifstream features(kData + "/xgboost/test.libsvm");
  std::ifstream predictions(kData + "/xgboost/pred.txt");
  std::string line;
  while (std::getline(features, line)) {
    FixtureRow row;
    row.x.fill(std::numeric_limits<double>::quiet_NaN());
    std::istringstream fields(line);
    std::string field;
    fields >> field;  // the label
    while (fields >> field) {
      auto colon = field.find(':');
      row.x[std::stoi(field.substr(0, colon))] = std::stod(field.substr(colon + 1));
    }
    predictions >> row.prediction;
    rows.push_back(row);
  }
  return rows;
}

/// A transaction whose modelInput() is as close to `x` as the job's integer fields allow (counts,
/// minor units and milliseconds are rounded; NaN features come from a missing speed, z-score or
/// merchant fraud rate, as in the job).
PaymentRow rowFor(const FeatureVector& x, uint64_t txnId) {
  auto count = [](double value) { return static_cast<int64_t>(std::llround(std::expm1(value))); };
  PaymentRow row;
  row.txnId = txnId;
  row.timestampMs = 1704067200000 + static_cast<int64_t>(txnId);
  row.accountId = txnId;
  row.merchantId = 100000;
  Features& f = row.features;
  f.count10m = count(x[0]);
  f.count1h = count(x[1]);
  f.count24h = count(x[2]);
  f.sum24hMinor = std::llround(std::expm1(x[3]) * 100);
  f.count7d = count(x[4]);
  f.smallCount10m = count(x[5]);
  f.distinctMerchants24h = count(x[6]);
  f.distinctCountries24h = count(x[7]);
  f.distinctDevices24h = count(x[8]);
  row.amountMinor = std::llround(std::expm1(x[9]) * 100);
  f.amountZ = x[10];
  f.newMerchant = static_cast<int64_t>(x[11]);
  f.newDevice = static_cast<int64_t>(x[12]);
  f.newCountry = static_cast<int64_t>(x[13]);
  f.geoSpeedKmh = std::isnan(x[14]) ? x[14] : std::expm1(x[14]);
  f.gapMs = std::llround(std::expm1(x[15]) * 1000);
  f.isNight = static_cast<int64_t>(x[16]);
  f.isEcom = static_cast<int64_t>(x[17]);
  f.merchantTx24h = count(x[18]);
  if (std::isnan(x[19])) {
    f.merchantFraud30d = 0;  // 0 / 0
    f.merchantTx30d = 0;
  } else {
    f.merchantTx30d = int64_t{1} << 40;  // x[19] is a float32, so x * 2^40 is an integer
    f.merchantFraud30d = static_cast<int64_t>(x[19] * static_cast<double>(f.merchantTx30d));
  }
  return row;
}

TEST(ScoreOperatorTest, XgboostModelScoresThroughTheOperatorLikeTheXgboostCli) {
  ASSERT_OK_AND_ASSIGN(ScoringModel loaded, ScoringModel::load(kXgboostModel));
  auto model = std::make_shared<const ScoringModel>(std::move(loaded));
  ASSERT_OK_AND_ASSIGN(XgboostModel reference, XgboostModel::load(kXgboostModel));
  std::vector<FixtureRow> fixture = fixtureRows();
  ASSERT_EQ(fixture.size(), 211u);

  // The job's features are integers (counts, minor units, ms): a rebuilt row reproduces the
  // fixture's vector up to rounding. Rows the job cannot produce (flags of 0.5 on split
  // thresholds, every feature missing) or whose rounding crosses a split are left out; the rest
  // must score exactly as the CLI predicted.
  PaymentRowBatchBuilder input;
  std::vector<size_t> compared;
  for (size_t i = 0; i < fixture.size(); ++i) {
    PaymentRow row = rowFor(fixture[i].x, i + 1);
    FeatureVector rebuilt = modelInput(row);
    bool sameMissing = true;
    for (int f = 0; f < kNumModelFeatures; ++f) sameMissing &= std::isnan(rebuilt[f]) == std::isnan(fixture[i].x[f]);
    if (!sameMissing) continue;  // e.g. the all-missing row: the job never lacks a count
    if (reference.margin(rebuilt.data()) != reference.margin(fixture[i].x.data())) continue;
    input.append(row);
    compared.push_back(i);
  }
  EXPECT_GE(compared.size(), 180u) << "too few fixture rows reproducible from integer features";
  RecordProperty("compared_rows", static_cast<int>(compared.size()));
  PaymentRow label;
  label.kind = kLabelKind;
  label.txnId = 1;
  input.append(label);  // dropped by the scorer

  OperatorContext context;
  context.subtaskIndex = 0;
  testing::OperatorHarness harness(std::make_unique<ScoreOperator>(model), context);
  ASSERT_OK(harness.open());
  ASSERT_OK(harness.processBatch(input.finish()));
  ASSERT_OK(harness.endInput());
  std::vector<PaymentRow> scored;
  for (const RecordBatch& batch : harness.output().batches) {
    for (int64_t r = 0; r < batch.numRows(); ++r) scored.push_back(readPaymentRow(batch, r));
  }
  ASSERT_EQ(scored.size(), compared.size());
  int highScores = 0;
  for (size_t k = 0; k < compared.size(); ++k) {
    const double expected = fixture[compared[k]].prediction;  // printed with 9 significant digits
    EXPECT_NEAR(scored[k].probability, expected, 1e-6) << "fixture row " << compared[k];
    EXPECT_EQ(scored[k].scoreMilli, std::min<int64_t>(999, static_cast<int64_t>(std::floor(expected * 1000))))
        << "fixture row " << compared[k] << " p=" << expected;
    EXPECT_EQ(scored[k].modelVersion, 0);
    highScores += scored[k].scoreMilli >= 700 ? 1 : 0;
  }
  EXPECT_GT(highScores, 0) << "the fixture should reach the ML rules' range";

  // final_model names the XGBoost model in the stats.
  auto stats = harness.output().sides.find(std::string(kStatsTag));
  ASSERT_NE(stats, harness.output().sides.end());
  bool named = false;
  for (const RecordBatch& batch : stats->second) {
    for (int64_t r = 0; r < batch.numRows(); ++r) {
      if (batch.column(0)->stringAt(r) == "final_model") {
        named = batch.column(2)->stringAt(r).find("\"xgboost\"") != std::string_view::npos;
      }
    }
  }
  EXPECT_TRUE(named);
}

TEST(ScoreOperatorTest, PlannerAcceptsXgboostForTheScorerAndRefusesItForTheLearner) {
  std::vector<StreamInfo> inputs = {StreamInfo{paymentRowSchema(), paymentEventTimeIndex()}};
  ASSERT_OK_AND_ASSIGN(PlannedNode score,
                       planScoreNode(operatorSpec("score", "{model: " + kXgboostModel + "}"), inputs, PlanContext{}));
  EXPECT_NE(score.createOperator(), nullptr);
  ASSERT_OK(planOnlineLearnerNode(
                operatorSpec("learner", "{model: " + kData + "/model.json, maturity_ms: 1000, publish_ms: 1000}"),
                inputs, PlanContext{})
                .status());

  auto refused = planOnlineLearnerNode(
      operatorSpec("learner", "{model: " + kXgboostModel + ", maturity_ms: 1000, publish_ms: 1000}"), inputs,
      PlanContext{});
  ASSERT_FALSE(refused.ok());
  const std::string& message = refused.status().message();
  EXPECT_NE(message.find("learner"), std::string::npos) << message;
  EXPECT_NE(message.find("logreg-v1"), std::string::npos) << message;
  EXPECT_NE(message.find("XGBoost"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;

  testing::TempDir dir;
  std::ofstream(dir.file("broken.json")) << R"({"learner": {"objective": {"name": "reg:squarederror"}}})";
  auto broken = planScoreNode(operatorSpec("score", "{model: " + dir.file("broken.json") + "}"), inputs, PlanContext{});
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("score"), std::string::npos) << broken.status().message();
  EXPECT_NE(broken.status().message().find("broken.json"), std::string::npos) << broken.status().message();
}

/// The stats rows of `output` as name → summed value.
std::map<std::string, int64_t> statsOf(const testing::CollectingOutput& output) {
  std::map<std::string, int64_t> sums;
  auto found = output.sides.find(std::string(kStatsTag));
  if (found == output.sides.end()) return sums;
  for (const RecordBatch& batch : found->second) {
    for (int64_t r = 0; r < batch.numRows(); ++r) {
      sums[std::string(batch.column(0)->stringAt(r))] += batch.column(1)->int64s()[r];
    }
  }
  return sums;
}

TEST(CountersTest, AStageRestoredAfterItsFinishDoesNotEmitItsCountersAgain) {
  ASSERT_OK_AND_ASSIGN(RuleSet loaded, RuleSet::load(std::string(SLUICE_SOURCE_DIR) + "/examples/payments/rules.json"));
  auto rules = std::make_shared<const RuleSet>(std::move(loaded));
  PaymentRow risky;
  risky.txnId = 7;
  risky.features.smallCount10m = 9;  // CARD_TESTING
  PaymentRowBatchBuilder input;
  input.append(risky);

  OperatorSnapshot beforeFinish;
  OperatorSnapshot afterFinish;
  {
    testing::OperatorHarness harness(std::make_unique<RulesOperator>(rules));
    ASSERT_OK(harness.open());
    ASSERT_OK(harness.processBatch(input.finish()));
    ASSERT_OK(harness.snapshot(1, beforeFinish));
    ASSERT_OK(harness.endInput());
    ASSERT_OK(harness.snapshot(2, afterFinish));
    EXPECT_EQ(statsOf(harness.output())["alerts"], 1);
  }
  // Restored mid-run: the counter is still to be emitted, once.
  auto resumed = std::make_unique<RulesOperator>(rules);
  ASSERT_OK(resumed->restoreState(beforeFinish));
  testing::OperatorHarness midRun(std::move(resumed));
  ASSERT_OK(midRun.open());
  ASSERT_OK(midRun.endInput());
  EXPECT_EQ(statsOf(midRun.output())["alerts"], 1);
  // Restored from the snapshot taken after finish: the stats sink has the counter already.
  auto finished = std::make_unique<RulesOperator>(rules);
  ASSERT_OK(finished->restoreState(afterFinish));
  testing::OperatorHarness again(std::move(finished));
  ASSERT_OK(again.open());
  ASSERT_OK(again.endInput());
  EXPECT_TRUE(statsOf(again.output()).empty());

  // The same for the reorder stage (txns, late).
  OperatorSnapshot reorderFinished;
  {
    testing::OperatorHarness harness(std::make_unique<ReorderOperator>(5000));
    ASSERT_OK(harness.open());
    PaymentRowBatchBuilder transactions;
    transactions.append(risky);
    ASSERT_OK(harness.processBatch(transactions.finish()));
    ASSERT_OK(harness.endInput());
    EXPECT_EQ(statsOf(harness.output())["txns"], 1);
    ASSERT_OK(harness.snapshot(3, reorderFinished));
  }
  auto reorder = std::make_unique<ReorderOperator>(5000);
  ASSERT_OK(reorder->restoreState(reorderFinished));
  testing::OperatorHarness reorderAgain(std::move(reorder));
  ASSERT_OK(reorderAgain.open());
  ASSERT_OK(reorderAgain.endInput());
  EXPECT_TRUE(statsOf(reorderAgain.output()).empty());
  EXPECT_EQ(reorderAgain.output().numRows(), 0);
}

TEST(PaymentsCsvSourceTest, RateLimitPacesTheSingleReader) {
  testing::TempDir dir;
  std::string events = dir.file("events.csv");
  {
    std::ifstream sample(kData + "/events.csv");
    std::ofstream head(events);
    std::string line;
    for (int i = 0; i < 301 && std::getline(sample, line); ++i) head << line << '\n';  // header + 300 records
  }
  NodeSpec spec;
  spec.id = "transactions";
  spec.role = NodeRole::kSource;
  spec.options = YAML::Load("{path: " + events + "}");

  Configuration config;
  ASSERT_OK(config.set("sluice.source.rate-limit", "1000"));
  PlanContext context;
  context.config = &config;
  ASSERT_OK_AND_ASSIGN(PlannedNode node, planPaymentsCsvSource(spec, {}, context));
  auto reader = node.createReader(0, 1);
  ASSERT_OK(reader->open(OperatorContext{}));
  testing::CollectingOutput out;
  auto started = std::chrono::steady_clock::now();
  int polls = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(bool more, reader->pollNext(out));
    ++polls;
    if (!more) break;
  }
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(out.numRows(), 300);
  EXPECT_EQ(reader->recordsRead(), 300);
  EXPECT_GE(polls, 6);                                 // batches of about 50 ms of records
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));  // 300 records at 1000/s
  EXPECT_FALSE(reader->snapshotPosition().empty());

  // Unpaced (0 = no limit): one batch.
  ASSERT_OK(config.set("sluice.source.rate-limit", "0"));
  ASSERT_OK_AND_ASSIGN(PlannedNode unpaced, planPaymentsCsvSource(spec, {}, context));
  auto fast = unpaced.createReader(0, 1);
  ASSERT_OK(fast->open(OperatorContext{}));
  testing::CollectingOutput all;
  ASSERT_OK_AND_ASSIGN(bool more, fast->pollNext(all));
  EXPECT_EQ(all.numRows(), 300);
  (void)more;
}

}  // namespace
}  // namespace sluice::payments
