// ScoringModel: the fixed risk model of the payment job's scorer, either a
// logreg-v1 logistic regression or an XGBoost JSON model; the file's fields
// decide which (SPEC sections 5 and "XGBoost models").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "operators/payments/features.h"
#include "operators/payments/risk_model.h"
#include "operators/payments/xgboost_model.h"
#include "runtime/base/result.h"

namespace sluice::payments {

/// A loaded risk model. Immutable after parsing, so one instance may be shared
/// by every scorer subtask (thread-safe for concurrent probability() calls).
class ScoringModel {
 public:
  enum class Kind { kLogistic, kXgboost };

  /// Parses a model file's text. A JSON object with a "format" field is a
  /// logreg-v1 model (parseLogisticModel), one with a "learner" field is an
  /// XGBoost JSON model (XgboostModel::parse, 20 features, binary:logistic);
  /// anything else is refused with one line saying which formats are accepted.
  static Result<ScoringModel> parse(std::string_view json);
  /// Reads and parses a model file; errors start with the path.
  static Result<ScoringModel> load(const std::string& path);

  Kind kind() const { return logistic_.has_value() ? Kind::kLogistic : Kind::kXgboost; }
  /// "logreg-v1" or "xgboost".
  std::string_view formatName() const;
  /// The logistic model, or nullptr for an XGBoost model.
  const LogisticModel* logistic() const { return logistic_ ? &*logistic_ : nullptr; }

  /// The probability of fraud for the model input `x` (modelInput of a row).
  double probability(const FeatureVector& x) const;
  /// The stats file's `final_model`: the logistic model as modelToJson, or
  /// {"format":"xgboost","trees":N,"base_score":b} for an XGBoost model.
  std::string toJson() const;

 private:
  std::optional<LogisticModel> logistic_;
  std::shared_ptr<const XgboostModel> xgboost_;
};

}  // namespace sluice::payments
