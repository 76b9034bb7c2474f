// ScoringModel: format detection and dispatch; see scoring_model.h.
#include "operators/payments/scoring_model.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sluice::payments {

Result<ScoringModel> ScoringModel::parse(std::string_view json) {
  nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Status::invalidArgument("model is not valid JSON");
  if (!parsed.is_object()) return Status::invalidArgument("model must be a JSON object");
  ScoringModel model;
  if (parsed.contains("format")) {
    SLUICE_ASSIGN_OR_RETURN(LogisticModel logistic, parseLogisticModel(json));
    model.logistic_ = logistic;
    return model;
  }
  if (parsed.contains("learner")) {
    auto xgboost = XgboostModel::parse(json, kNumModelFeatures);
    if (!xgboost.ok()) return xgboost.status().withContext("XGBoost model");
    model.xgboost_ = std::make_shared<const XgboostModel>(std::move(*xgboost));
    return model;
  }
  return Status::invalidArgument(
      "model is neither logreg-v1 (a \"format\" field) nor an XGBoost JSON model (a \"learner\" field)");
}

Result<ScoringModel> ScoringModel::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::notFound(fmt::format("model file '{}' cannot be read", path));
  std::stringstream text;
  text << in.rdbuf();
  auto model = parse(text.str());
  if (!model.ok()) return model.status().withContext("model file '" + path + "'");
  return model;
}

std::string_view ScoringModel::formatName() const { return logistic_ ? "logreg-v1" : "xgboost"; }

double ScoringModel::probability(const FeatureVector& x) const {
  if (logistic_) return logistic_->probability(x);
  return xgboost_->predict(x.data());
}

std::string ScoringModel::toJson() const {
  if (logistic_) return modelToJson(*logistic_);
  return fmt::format(R"({{"format":"xgboost","trees":{},"base_score":{}}})", xgboost_->numTrees(),
                     xgboost_->baseScore());
}

}  // namespace sluice::payments
