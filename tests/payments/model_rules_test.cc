// Unit tests of the logistic model file and scorer, the rule engine, the SGD
// learner and splitmix64.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "operators/payments/online_learner.h"
#include "operators/payments/risk_model.h"
#include "operators/payments/rule_set.h"
#include "runtime/task/stream_element.h"

namespace sluice::payments {
namespace {

const std::string kExamples = std::string(SLUICE_SOURCE_DIR) + "/examples/payments";

std::string modelText(const std::string& features, const std::string& weights,
                      const std::string& format = "logreg-v1") {
  return R"({"format":")" + format + R"(","bias":-7.5,"features":)" + features + R"(,"weights":)" + weights + "}";
}

std::string namesJson(int count, const std::string& replaceFirst = "") {
  std::string out = "[";
  for (int i = 0; i < count; ++i) {
    std::string name = i == 0 && !replaceFirst.empty() ? replaceFirst : std::string(modelFeatureNames()[i % 20]);
    out += (i ? ",\"" : "\"") + name + "\"";
  }
  return out + "]";
}

std::string weightsJson(int count) {
  std::string out = "[";
  for (int i = 0; i < count; ++i) out += (i ? ",0.5" : "0.5");
  return out + "]";
}

TEST(LogisticModelTest, LoadsTheSampleModel) {
  auto model = loadLogisticModel(kExamples + "/model.json");
  ASSERT_TRUE(model.ok()) << model.status().toString();
  EXPECT_EQ(model->bias, -7.5);
  EXPECT_EQ(model->weights[0], 0.6);
  EXPECT_EQ(model->weights[19], 6.0);
}

TEST(LogisticModelTest, RejectsMismatchedModels) {
  auto check = [](const std::string& text, const std::string& needle) {
    auto model = parseLogisticModel(text);
    ASSERT_FALSE(model.ok());
    EXPECT_NE(model.status().message().find(needle), std::string::npos) << model.status().message();
  };
  check("{", "not valid JSON");
  check(modelText(namesJson(20), weightsJson(20), "logreg-v2"), "logreg-v2");
  check(modelText(namesJson(19), weightsJson(20)), "lists 19 features");
  check(modelText(namesJson(20), weightsJson(19)), "19 weights");
  check(modelText(namesJson(20, "ln_cnt_5m"), weightsJson(20)), "model feature 0 is \"ln_cnt_5m\"");
  check(R"({"format":"logreg-v1","bias":"x","features":[],"weights":[]})", "bias");
  check(R"({"format":"logreg-v1","bias":1,"features":[],"weights":[],"extra":1})", "unknown key 'extra'");
  EXPECT_TRUE(parseLogisticModel(modelText(namesJson(20), weightsJson(20))).ok());
  auto missing = loadLogisticModel("/nonexistent/model.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/model.json"), std::string::npos);
}

TEST(LogisticModelTest, ScoresInIndexOrder) {
  LogisticModel model;
  model.bias = -1;
  FeatureVector x{};
  for (int i = 0; i < kNumModelFeatures; ++i) {
    model.weights[i] = 0.1 * i;
    x[i] = 1.0 / (i + 1);
  }
  double z = -1;
  for (int i = 0; i < kNumModelFeatures; ++i) z += model.weights[i] * x[i];
  EXPECT_EQ(model.probability(x), 1 / (1 + std::exp(-z)));
}

TEST(LogisticModelTest, ScoreMilliFloorsAndCaps) {
  EXPECT_EQ(scoreMilli(0.0), 0);
  EXPECT_EQ(scoreMilli(0.4139), 413);
  EXPECT_EQ(scoreMilli(0.9999), 999);
  EXPECT_EQ(scoreMilli(1.0), 999);
}

TEST(Splitmix64Test, KnownValues) {
  EXPECT_EQ(splitmix64(0), 0xE220A8397B1DCDAFULL);
  EXPECT_NE(splitmix64(1), splitmix64(2));
}

TEST(SgdTest, OneStepAsWritten) {
  LogisticModel model;
  model.bias = 0.5;
  FeatureVector x{};
  for (int i = 0; i < kNumModelFeatures; ++i) {
    model.weights[i] = 0.01 * i;
    x[i] = i % 3;
  }
  LogisticModel before = model;
  double g = (before.probability(x) - 1.0) * 2.0;
  sgdStep(model, x, 1.0, 2.0);
  EXPECT_EQ(model.bias, 0.5 - 0.001 * g);
  for (int i = 0; i < kNumModelFeatures; ++i) {
    EXPECT_EQ(model.weights[i], before.weights[i] - 0.001 * (g * x[i] + 1e-4 * before.weights[i])) << i;
  }
}

PaymentRow quietTransaction() {
  PaymentRow row;
  row.kind = kTransactionKind;
  row.amountMinor = 1000;
  row.features.gapMs = 1000;
  row.features.merchantTx30d = 1;
  return row;
}

TEST(RuleSetTest, SampleRulesAtTheirThresholds) {
  auto rules = RuleSet::load(kExamples + "/rules.json");
  ASSERT_TRUE(rules.ok()) << rules.status().toString();
  ASSERT_EQ(rules->numRules(), 8);
  EXPECT_EQ(rules->ruleName(0), "CARD_TESTING");
  EXPECT_EQ(rules->ruleAction(2), RuleAction::kBlock);

  PaymentRow row = quietTransaction();
  EXPECT_EQ(rules->evaluate(row).action, RuleAction::kAllow);
  EXPECT_EQ(rules->evaluate(row).primaryRule, -1);

  row.features.smallCount10m = 4;
  EXPECT_EQ(rules->evaluate(row).mask, 0u);
  row.features.smallCount10m = 5;
  RuleDecision card = rules->evaluate(row);
  EXPECT_EQ(card.mask, 1u);
  EXPECT_EQ(card.action, RuleAction::kBlock);
  EXPECT_EQ(card.primaryRule, 0);

  // 20 * m_fraud_30d >= m_tx_30d, exact integers.
  row = quietTransaction();
  row.features.merchantFraud30d = 3;
  row.features.merchantTx30d = 60;
  EXPECT_EQ(rules->evaluate(row).mask, 1u << 6);
  row.features.merchantTx30d = 61;
  EXPECT_EQ(rules->evaluate(row).mask, 0u);
  row.features.merchantFraud30d = 2;
  row.features.merchantTx30d = 2;
  EXPECT_EQ(rules->evaluate(row).mask, 0u);

  // ML thresholds on p; REVIEW rules lose to a BLOCK rule of higher index.
  row = quietTransaction();
  row.probability = 0.7;
  EXPECT_EQ(rules->evaluate(row).mask, 1u << 7);
  row.features.count1h = 10;
  row.probability = 0.9;
  RuleDecision both = rules->evaluate(row);
  EXPECT_EQ(both.mask, (1u << 2) | (1u << 3) | (1u << 7));
  EXPECT_EQ(both.action, RuleAction::kBlock);
  EXPECT_EQ(both.primaryRule, 2);
  row.probability = 0.8999;
  RuleDecision review = rules->evaluate(row);
  EXPECT_EQ(review.action, RuleAction::kReview);
  EXPECT_EQ(review.primaryRule, 3);

  // ATO: gap >= 0, new device, (new country or 2 countries), amount >= 20000.
  row = quietTransaction();
  row.amountMinor = 20000;
  row.features.newDevice = 1;
  row.features.distinctCountries24h = 2;
  EXPECT_EQ(rules->evaluate(row).mask, 1u << 5);
  row.features.gapMs = -1;
  EXPECT_EQ(rules->evaluate(row).mask, 0u);
  row.features.gapMs = 0;
  row.amountMinor = 19999;
  EXPECT_EQ(rules->evaluate(row).mask, 0u);

  // Impossible travel needs both distance and speed.
  row = quietTransaction();
  row.features.geoDistanceKm = 500.0;
  row.features.geoSpeedKmh = 899.999;
  EXPECT_EQ(rules->evaluate(row).mask, 0u);
  row.features.geoSpeedKmh = 900.0;
  EXPECT_EQ(rules->evaluate(row).mask, 1u << 1);
}

TEST(RuleSetTest, RejectsMalformedRuleSets) {
  auto check = [](const std::string& text, const std::string& needle) {
    auto rules = RuleSet::parse(text);
    ASSERT_FALSE(rules.ok()) << text;
    EXPECT_NE(rules.status().message().find(needle), std::string::npos) << rules.status().message();
  };
  auto wrap = [](const std::string& rule) { return R"({"format":"rules-v1","rules":[)" + rule + "]}"; };
  check("[", "not valid JSON");
  check(R"({"rules":[]})", "rules-v1");
  check(R"({"format":"rules-v1","rules":[]})", "non-empty");
  check(wrap(R"({"name":"A","action":"DENY","when":{"feature":"cnt_1h","op":">=","value":1}})"), "BLOCK");
  check(wrap(R"({"name":"A","action":"BLOCK","when":{"feature":"cnt_2h","op":">=","value":1}})"),
        "unknown feature 'cnt_2h'");
  check(wrap(R"({"name":"A","action":"BLOCK","when":{"feature":"cnt_1h","op":"=>","value":1}})"), "unknown op");
  check(wrap(R"({"name":"A","action":"BLOCK","when":{"feature":"cnt_1h","op":">=","value":1,"other":"cnt_24h"}})"),
        "exactly one of");
  check(wrap(R"({"name":"A","action":"BLOCK","when":{"all":[]}})"), "non-empty list");
  check(wrap(R"({"name":"A","action":"BLOCK"})"), "needs a \"when\"");
  check(wrap(R"({"name":"A","action":"BLOCK","when":{"feature":"p","op":">=","value":"high"}})"), "must be a number");
  check(wrap(R"({"name":"A","action":"BLOCK","when":{"feature":"p","op":">=","value":1}},)"
             R"({"name":"A","action":"REVIEW","when":{"feature":"p","op":">=","value":1}})"),
        "used twice");
  std::string many;
  for (int i = 0; i < 65; ++i) {
    many += (i ? "," : "") + std::string(R"({"name":"R)") + std::to_string(i) +
            R"(","action":"REVIEW","when":{"feature":"p","op":">=","value":1}})";
  }
  check(wrap(many), "at most 64");
  EXPECT_FALSE(RuleSet::load("/nonexistent/rules.json").ok());
}

}  // namespace
}  // namespace sluice::payments
