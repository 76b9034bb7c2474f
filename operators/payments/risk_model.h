// The risk model of the payment job: a logistic regression over the 20
// features (the `logreg-v1` model file), its score, the SGD step of the
// online learner and splitmix64 (SPEC sections 5 and 7). Compiled with
// -ffp-contract=off.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "operators/payments/features.h"
#include "runtime/base/result.h"

namespace sluice::payments {

/// A logistic-regression model. A plain value; copy it freely.
struct LogisticModel {
  double bias = 0;
  std::array<double, kNumModelFeatures> weights{};

  /// p = 1 / (1 + exp(-z)), z = bias + w[0]*x[0] + ... in index order.
  double probability(const FeatureVector& x) const;
  bool operator==(const LogisticModel&) const = default;
};

/// Parses a `logreg-v1` model: {"format":"logreg-v1","bias":b,"features":[20
/// names in modelFeatureNames() order],"weights":[20 numbers]}. Errors are one
/// line saying what is wrong (wrong format, a feature name that differs, the
/// wrong number of weights, ...).
Result<LogisticModel> parseLogisticModel(std::string_view json);
/// Reads and parses a model file; errors start with the path.
Result<LogisticModel> loadLogisticModel(const std::string& path);

/// The model as JSON {"bias":..,"weights":[..]} in shortest round-trip form.
std::string modelToJson(const LogisticModel& model);

/// min(999, floor(p * 1000)).
int64_t scoreMilli(double probability);

/// splitmix64 as in the spec (mod 2^64 arithmetic).
uint64_t splitmix64(uint64_t value);

inline constexpr double kLearningRate = 0.001;
inline constexpr double kL2 = 1e-4;

/// One SGD step on `model`: g = (p(x) - y) * weight; bias -= eta*g;
/// w_i -= eta * (g*x_i + lambda*w_i).
void sgdStep(LogisticModel& model, const FeatureVector& x, double label, double weight);

}  // namespace sluice::payments
