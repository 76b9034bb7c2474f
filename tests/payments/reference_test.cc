// Runs the payment building blocks sequentially (the spec's reference
// semantics, no engine) over the sample and compares with the expected alerts
// and counters: the features, model, rules and learner together.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "operators/payments/event_order.h"
#include "operators/payments/features.h"
#include "operators/payments/online_learner.h"
#include "operators/payments/risk_model.h"
#include "operators/payments/rule_set.h"
#include "runtime/state/keyed_state_backend.h"
#include "runtime/task/stream_element.h"
#include "tests/testing/temp_dir.h"

namespace sluice::payments {
namespace {

const std::string kDataDir = std::string(SLUICE_SOURCE_DIR) + "/tests/data/payments";

std::vector<PaymentRow> readEvents() {
  std::ifstream in(kDataDir + "/events.csv");
  std::vector<PaymentRow> rows;
  std::string line;
  while (std::getline(in, line)) {
    PaymentRow row;
    auto parsed = parsePaymentLine(line, row);
    EXPECT_TRUE(parsed.ok()) << parsed.status().toString();
    if (parsed.ok() && *parsed) rows.push_back(row);
  }
  return rows;
}

nlohmann::json alertJson(const PaymentRow& row, const RuleDecision& decision, const RuleSet& rules) {
  const Features& f = row.features;
  return nlohmann::json{{"txn_id", row.txnId},
                        {"ts_ms", row.timestampMs},
                        {"account_id", row.accountId},
                        {"decision", std::string(ruleActionName(decision.action))},
                        {"primary_rule", rules.ruleName(decision.primaryRule)},
                        {"rules_mask", decision.mask},
                        {"score_milli", row.scoreMilli},
                        {"model_version", row.modelVersion},
                        {"cnt_10m", f.count10m},
                        {"cnt_1h", f.count1h},
                        {"cnt_24h", f.count24h},
                        {"sum_24h_minor", f.sum24hMinor},
                        {"cnt_7d", f.count7d},
                        {"small_cnt_10m", f.smallCount10m},
                        {"dmerch_24h", f.distinctMerchants24h},
                        {"dcountry_24h", f.distinctCountries24h},
                        {"ddevice_24h", f.distinctDevices24h},
                        {"amount_minor", row.amountMinor},
                        {"amt_z", f.amountZ},
                        {"new_merchant", f.newMerchant},
                        {"new_device", f.newDevice},
                        {"new_country", f.newCountry},
                        {"geo_dist_km", f.geoDistanceKm},
                        {"geo_speed_kmh", f.geoSpeedKmh},
                        {"gap_ms", f.gapMs},
                        {"is_night", f.isNight},
                        {"is_ecom", f.isEcom},
                        {"m_tx_24h", f.merchantTx24h},
                        {"m_fraud_30d", f.merchantFraud30d},
                        {"m_tx_30d", f.merchantTx30d}};
}

struct ReferenceResult {
  std::map<uint64_t, nlohmann::json> alerts;  // by txn_id
  int64_t txns = 0;
  int64_t late = 0;
  int64_t lateLabels = 0;
  int64_t modelUpdates = 0;
  LogisticModel finalModel;
};

ReferenceResult runReference(bool online) {
  auto model = loadLogisticModel(kDataDir + "/model.json");
  EXPECT_TRUE(model.ok()) << model.status().toString();
  auto rules = RuleSet::load(std::string(SLUICE_SOURCE_DIR) + "/examples/payments/rules.json");
  EXPECT_TRUE(rules.ok()) << rules.status().toString();
  ReferenceResult result;
  std::unordered_map<uint64_t, MerchantHistory> merchants;
  std::unordered_map<uint64_t, AccountHistory> accounts;
  OnlineLearner learner(*model, 604800000, 3600000);
  // The learner keeps pending vectors and timers in keyed state: an in-memory backend here.
  testing::TempDir temp;
  StateBackendOptions stateOptions;
  stateOptions.type = "hashmap";
  stateOptions.directory = temp.file("state");
  stateOptions.keyGroups = KeyGroupRange{0, stateOptions.maxParallelism - 1};
  auto backend = createKeyedStateBackend(stateOptions);
  EXPECT_TRUE(backend.ok()) << backend.status().toString();
  if (!backend.ok()) return result;
  Status learnerStatus = learner.open(backend->get(), stateOptions.maxParallelism);
  EXPECT_TRUE(learnerStatus.ok()) << learnerStatus.toString();
  auto learn = [&](PaymentRow& row) {
    Status status = learner.process(row);
    EXPECT_TRUE(status.ok()) << status.toString();
  };
  EventTimeReorder reorder(5000);
  auto process = [&](const PaymentRow& released) {
    PaymentRow row = released;
    if (row.kind == kLabelKind) {
      merchants[row.merchantId].observeLabel(row.timestampMs, row.label);
      if (online) learn(row);
      return;
    }
    result.txns += 1;
    merchants[row.merchantId].observeTransaction(row.timestampMs, row.features);
    accounts[row.accountId].observeTransaction(row);
    if (online) {
      learn(row);
    } else {
      row.probability = model->probability(modelInput(row));
      row.scoreMilli = scoreMilli(row.probability);
    }
    RuleDecision decision = rules->evaluate(row);
    if (decision.action != RuleAction::kAllow) result.alerts[row.txnId] = alertJson(row, decision, *rules);
  };
  for (const PaymentRow& row : readEvents()) {
    reorder.add(row, process, [&](const PaymentRow&) { result.late += 1; });
  }
  reorder.finish(process);
  learnerStatus = learner.advanceTo(kMaxWatermark);
  EXPECT_TRUE(learnerStatus.ok()) << learnerStatus.toString();
  result.lateLabels = online ? learner.lateLabels() : 0;
  result.modelUpdates = online ? learner.modelUpdates() : 0;
  result.finalModel = online ? learner.model() : *model;
  return result;
}

void expectMatches(const ReferenceResult& result, const std::string& alertsFile, const std::string& statsFile) {
  std::ifstream in(kDataDir + "/expected/" + alertsFile);
  std::string line;
  int64_t expectedCount = 0;
  int mismatches = 0;
  while (std::getline(in, line)) {
    nlohmann::json expected = nlohmann::json::parse(line);
    expectedCount += 1;
    auto found = result.alerts.find(expected["txn_id"].get<uint64_t>());
    if (found == result.alerts.end()) {
      if (++mismatches <= 5) ADD_FAILURE() << "missing alert " << line;
      continue;
    }
    for (const auto& [key, value] : expected.items()) {
      const nlohmann::json& actual = found->second[key];
      bool equal =
          value.is_number_float() ? std::abs(value.get<double>() - actual.get<double>()) <= 1e-6 : value == actual;
      if (!equal && ++mismatches <= 5) {
        ADD_FAILURE() << "txn " << expected["txn_id"] << " field " << key << ": expected " << value << ", got "
                      << actual;
      }
    }
  }
  EXPECT_EQ(static_cast<int64_t>(result.alerts.size()), expectedCount);
  std::ifstream statsIn(kDataDir + "/expected/" + statsFile);
  nlohmann::json stats = nlohmann::json::parse(statsIn);
  EXPECT_EQ(result.txns, stats["txns"].get<int64_t>());
  EXPECT_EQ(result.late, stats["late"].get<int64_t>());
  EXPECT_EQ(static_cast<int64_t>(result.alerts.size()), stats["alerts"].get<int64_t>());
  EXPECT_EQ(result.lateLabels, stats["late_labels"].get<int64_t>());
  EXPECT_EQ(result.modelUpdates, stats["model_updates"].get<int64_t>());
  EXPECT_NEAR(result.finalModel.bias, stats["final_model"]["bias"].get<double>(), 1e-6);
  for (int i = 0; i < kNumModelFeatures; ++i) {
    EXPECT_NEAR(result.finalModel.weights[i], stats["final_model"]["weights"][i].get<double>(), 1e-6) << i;
  }
}

TEST(ReferenceTest, FixedModelMatchesExpectedAlerts) {
  expectMatches(runReference(false), "alerts_fixed.jsonl", "stats_fixed.json");
}

TEST(ReferenceTest, OnlineModelMatchesExpectedAlerts) {
  expectMatches(runReference(true), "alerts_online.jsonl", "stats_online.json");
}

}  // namespace
}  // namespace sluice::payments
