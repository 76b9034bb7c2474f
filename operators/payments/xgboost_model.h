// XgboostModel: a gradient-boosted tree model read from XGBoost's JSON model format (`model.json` as
// written by XGBoost 1.x/2.x), for the payment job's alternative risk model (SPEC, XGBoost section).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"

namespace sluice::payments {

/// The payment job's feature vector length (SPEC section 4).
inline constexpr int kXgboostPaymentFeatures = 20;

/// A `binary:logistic` gbtree model with numerical splits only. Prediction follows XGBoost: every
/// feature is cast to float32; at an internal node a NaN feature goes left iff default_left, else
/// left iff float(x) < split_condition (float32); the margin starts at logit(base_score) (float32)
/// and adds the leaf value of each tree in tree order, in float32; p = 1 / (1 + exp(-margin)).
/// Immutable after loading, so safe to share between threads.
class XgboostModel {
 public:
  /// Parses an XGBoost JSON model. Refuses, with one line naming what is wrong: text that is not
  /// JSON, a missing or mistyped field, a booster other than gbtree, an objective other than
  /// binary:logistic, multi-class or multi-target models, categorical splits (split_type 1), a
  /// feature count other than `expectedFeatures`, base_score outside (0, 1), and trees whose arrays
  /// disagree in length or whose children do not form a tree.
  static Result<XgboostModel> parse(std::string_view json, int expectedFeatures = kXgboostPaymentFeatures);
  /// Reads and parses a model file; errors start with the path.
  static Result<XgboostModel> load(const std::string& path, int expectedFeatures = kXgboostPaymentFeatures);

  /// The probability of class 1 for the feature vector `x` (numFeatures() values; NaN = missing).
  double predict(const double* x) const;
  /// The raw margin (log-odds, float32 as XGBoost accumulates it).
  float margin(const double* x) const;

  int numFeatures() const { return numFeatures_; }
  int numTrees() const { return static_cast<int>(treeRoots_.size()); }
  /// base_score as a probability, and its logit in float32.
  double baseScore() const { return baseScore_; }
  float baseMargin() const { return baseMargin_; }

 private:
  struct Node {
    int32_t left = -1;  // -1 for a leaf; indexes are into nodes_
    int32_t right = -1;
    int32_t feature = 0;
    float value = 0;  // the split condition, or the leaf value
    bool defaultLeft = false;
  };

  XgboostModel() = default;

  int numFeatures_ = 0;
  double baseScore_ = 0.5;
  float baseMargin_ = 0;
  std::vector<Node> nodes_;         // every tree's nodes, tree after tree
  std::vector<int32_t> treeRoots_;  // index of each tree's root in nodes_
};

}  // namespace sluice::payments
