// Tests of the XGBoost model reader: predictions against Debian's xgboost CLI (fixtures in
// tests/data/payments/xgboost/), float32 and missing-value semantics, and refusals of bad models.
#include "operators/payments/xgboost_model.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice::payments {
namespace {

using Json = nlohmann::json;
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

std::string fixture(const std::string& name) { return testing::testDataDir() + "/payments/xgboost/" + name; }

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> result;
  for (std::string line; std::getline(in, line);) result.push_back(line);
  return result;
}

/// A libsvm row ("label index:value ...") as a 20-value vector with NaN for absent features.
std::vector<double> parseLibsvm(const std::string& line) {
  std::vector<double> x(kXgboostPaymentFeatures, kNan);
  std::istringstream in(line);
  std::string token;
  in >> token;  // the label
  while (in >> token) {
    const auto colon = token.find(':');
    x.at(std::stoi(token.substr(0, colon))) = std::stod(token.substr(colon + 1));
  }
  return x;
}

TEST(XgboostModelTest, MatchesTheXgboostCommandLinePredictions) {
  ASSERT_OK_AND_ASSIGN(XgboostModel model, XgboostModel::load(fixture("model.json")));
  EXPECT_EQ(model.numFeatures(), 20);
  EXPECT_EQ(model.numTrees(), 20);
  EXPECT_EQ(model.baseScore(), 0.5);
  EXPECT_EQ(model.baseMargin(), 0.0f);
  const auto rows = lines(fixture("test.libsvm"));
  const auto probabilities = lines(fixture("pred.txt"));
  const auto margins = lines(fixture("margin.txt"));
  ASSERT_GT(rows.size(), 200u);
  ASSERT_EQ(rows.size(), probabilities.size());
  ASSERT_EQ(rows.size(), margins.size());
  double lowest = 1;
  double highest = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto x = parseLibsvm(rows[i]);
    const double p = model.predict(x.data());
    EXPECT_NEAR(p, std::stod(probabilities[i]), 1e-6) << "row " << i << ": " << rows[i];
    EXPECT_NEAR(model.margin(x.data()), std::stod(margins[i]), 1e-5) << "row " << i;
    lowest = std::min(lowest, p);
    highest = std::max(highest, p);
  }
  // The fixture spans the score range, so a wrong branch would show.
  EXPECT_LT(lowest, 0.05);
  EXPECT_GT(highest, 0.9);
}

std::string readFixture(const std::string& name) { return testing::readFile(fixture(name)); }

TEST(XgboostModelTest, AcceptsBaseScoreAsAListAndShiftsTheMarginByItsLogit) {
  Json document = Json::parse(readFixture("model.json"));
  ASSERT_OK_AND_ASSIGN(XgboostModel original, XgboostModel::parse(document.dump()));
  auto& baseScore = document["learner"]["learner_model_param"]["base_score"];
  baseScore = "[5E-1]";
  ASSERT_OK_AND_ASSIGN(XgboostModel listed, XgboostModel::parse(document.dump()));
  baseScore = "2.5E-1";
  ASSERT_OK_AND_ASSIGN(XgboostModel shifted, XgboostModel::parse(document.dump()));
  EXPECT_FLOAT_EQ(shifted.baseMargin(), std::log(0.25f / 0.75f));
  const auto x = parseLibsvm(lines(fixture("test.libsvm"))[0]);
  EXPECT_EQ(listed.predict(x.data()), original.predict(x.data()));
  EXPECT_NEAR(shifted.margin(x.data()) - original.margin(x.data()), std::log(1.0 / 3.0), 1e-6);
}

/// A one-split model: x[3] < 0.1f → -1 (default left for NaN) else +2, with base_score 0.5.
Json oneSplitModel() {
  Json tree = {{"left_children", {1, -1, -1}},
               {"right_children", {2, -1, -1}},
               {"split_indices", {3, 0, 0}},
               {"split_conditions", {0.1f, -1.0, 2.0}},
               {"default_left", {1, 0, 0}},
               {"split_type", {0, 0, 0}},
               {"tree_param", {{"num_nodes", "3"}, {"size_leaf_vector", "0"}}}};
  return {{"learner",
           {{"learner_model_param", {{"base_score", "5E-1"}, {"num_class", "0"}, {"num_feature", "20"}}},
            {"objective", {{"name", "binary:logistic"}}},
            {"gradient_booster",
             {{"name", "gbtree"},
              {"model", {{"gbtree_model_param", {{"num_trees", "1"}}}, {"tree_info", {0}}, {"trees", {tree}}}}}}}}};
}

TEST(XgboostModelTest, ComparesInFloat32AndSendsMissingValuesTheDefaultWay) {
  ASSERT_OK_AND_ASSIGN(XgboostModel model, XgboostModel::parse(oneSplitModel().dump()));
  std::vector<double> x(20, 0.0);
  x[3] = 0.05;
  EXPECT_EQ(model.margin(x.data()), -1.0f);
  EXPECT_DOUBLE_EQ(model.predict(x.data()), 1.0 / (1.0 + std::exp(1.0)));
  // 0.1 < 0.1f in double, but float(0.1) == 0.1f, which is not less: right.
  x[3] = 0.1;
  EXPECT_EQ(model.margin(x.data()), 2.0f);
  x[3] = kNan;
  EXPECT_EQ(model.margin(x.data()), -1.0f);
  Json rightByDefault = oneSplitModel();
  rightByDefault["learner"]["gradient_booster"]["model"]["trees"][0]["default_left"] = {false, false, false};
  ASSERT_OK_AND_ASSIGN(XgboostModel right, XgboostModel::parse(rightByDefault.dump()));
  EXPECT_EQ(right.margin(x.data()), 2.0f);
}

TEST(XgboostModelTest, RefusesMalformedOrMismatchedModelsWithOneLine) {
  struct Case {
    std::string name;
    std::function<void(Json&)> change;
    std::string message;
  };
  auto tree = [](Json& model) -> Json& { return model["learner"]["gradient_booster"]["model"]["trees"][0]; };
  const std::vector<Case> cases = {
      {"feature count", [](Json& m) { m["learner"]["learner_model_param"]["num_feature"] = "21"; },
       "it has 21 features, the payment feature vector has 20"},
      {"objective", [](Json& m) { m["learner"]["objective"]["name"] = "reg:squarederror"; },
       "objective 'reg:squarederror' is not supported"},
      {"booster", [](Json& m) { m["learner"]["gradient_booster"]["name"] = "gblinear"; },
       "booster 'gblinear' is not supported"},
      {"multi-class", [](Json& m) { m["learner"]["learner_model_param"]["num_class"] = "3"; },
       "multi-class models (num_class 3)"},
      {"categorical",
       [&](Json& m) {
         tree(m)["split_type"] = {1, 0, 0};
       },
       "categorical split"},
      {"length",
       [&](Json& m) {
         tree(m)["split_conditions"] = {0.1, 1.0};
       },
       "split_conditions has 2 entries, left_children has 3"},
      {"child range",
       [&](Json& m) {
         tree(m)["right_children"] = {7, -1, -1};
       },
       "child index out of range"},
      {"cycle",
       [&](Json& m) {
         tree(m)["right_children"] = {0, -1, -1};
       },
       "node 0 has more than one parent"},
      {"feature index",
       [&](Json& m) {
         tree(m)["split_indices"] = {20, 0, 0};
       },
       "splits on feature 20, outside 0..19"},
      {"base score text", [](Json& m) { m["learner"]["learner_model_param"]["base_score"] = "half"; },
       "base_score 'half' is not a number"},
      {"base score range", [](Json& m) { m["learner"]["learner_model_param"]["base_score"] = "1.5E0"; },
       "must lie in (0, 1)"},
      {"missing trees", [](Json& m) { m["learner"]["gradient_booster"]["model"].erase("trees"); },
       "missing field 'learner.gradient_booster.model.trees'"},
      {"tree count",
       [](Json& m) { m["learner"]["gradient_booster"]["model"]["gbtree_model_param"]["num_trees"] = "2"; },
       "num_trees is 2 but there are 1 trees"},
      {"condition type",
       [&](Json& m) {
         tree(m)["split_conditions"] = {"x", 1.0, 2.0};
       },
       "split_conditions must be numbers"},
  };
  for (const auto& testCase : cases) {
    Json model = oneSplitModel();
    testCase.change(model);
    auto parsed = XgboostModel::parse(model.dump());
    ASSERT_FALSE(parsed.ok()) << testCase.name;
    EXPECT_NE(parsed.status().message().find(testCase.message), std::string::npos)
        << testCase.name << ": " << parsed.status().message();
    EXPECT_EQ(parsed.status().message().find('\n'), std::string::npos) << testCase.name;
  }
  auto notJson = XgboostModel::parse("{\"learner\": ");
  ASSERT_FALSE(notJson.ok());
  EXPECT_NE(notJson.status().message().find("not valid JSON"), std::string::npos);
  auto notObject = XgboostModel::parse("[1, 2]");
  ASSERT_FALSE(notObject.ok());
  EXPECT_NE(notObject.status().message().find("must be an object"), std::string::npos) << notObject.status().message();

  testing::TempDir dir;
  auto missing = XgboostModel::load(dir.file("nope.json"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIOError);
  EXPECT_NE(missing.status().message().find("nope.json"), std::string::npos);
  {
    std::ofstream out(dir.file("bad.json"));
    out << "{}";
  }
  auto bad = XgboostModel::load(dir.file("bad.json"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.json"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("missing field 'learner'"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace sluice::payments
