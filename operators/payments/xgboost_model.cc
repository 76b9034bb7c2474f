// XgboostModel: JSON model validation (nlohmann::json without exceptions) and float32 tree traversal
// that reproduces XGBoost's CPU predictor.
#include "operators/payments/xgboost_model.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace sluice::payments {
namespace {

using Json = nlohmann::json;

/// Walks the model's JSON with one-line errors that name the path of the offending field.
class Reader {
 public:
  static Result<const Json*> field(const Json& parent, const std::string& parentPath, const std::string& name) {
    if (!parent.is_object()) return Status::parseError("XGBoost model: '" + parentPath + "' must be an object");
    auto found = parent.find(name);
    if (found == parent.end()) {
      return Status::parseError("XGBoost model: missing field '" + join(parentPath, name) + "'");
    }
    return &*found;
  }

  static Result<std::string> string(const Json& parent, const std::string& parentPath, const std::string& name) {
    SLUICE_ASSIGN_OR_RETURN(const Json* value, field(parent, parentPath, name));
    if (!value->is_string()) {
      return Status::parseError("XGBoost model: '" + join(parentPath, name) + "' must be a string");
    }
    return value->get<std::string>();
  }

  /// An integer written as a JSON number or, as XGBoost writes parameters, a decimal string.
  static Result<int64_t> integer(const Json& parent, const std::string& parentPath, const std::string& name) {
    SLUICE_ASSIGN_OR_RETURN(const Json* value, field(parent, parentPath, name));
    if (value->is_number_integer()) return value->get<int64_t>();
    if (value->is_string()) {
      const std::string text = value->get<std::string>();
      int64_t parsed = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
      if (error == std::errc() && end == text.data() + text.size()) return parsed;
    }
    return Status::parseError("XGBoost model: '" + join(parentPath, name) + "' must be an integer");
  }

  static Result<const Json*> array(const Json& parent, const std::string& parentPath, const std::string& name) {
    SLUICE_ASSIGN_OR_RETURN(const Json* value, field(parent, parentPath, name));
    if (!value->is_array())
      return Status::parseError("XGBoost model: '" + join(parentPath, name) + "' must be an array");
    return value;
  }

  static std::string join(const std::string& parentPath, const std::string& name) {
    return parentPath.empty() ? name : parentPath + "." + name;
  }
};

/// "5E-1" or "[5E-1]" (XGBoost ≥ 2.0 writes a vector).
Result<double> parseBaseScore(std::string text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::parseError("XGBoost model: base_score '" + text + "' is not a number (expected e.g. \"5E-1\")");
  }
  if (!(value > 0 && value < 1)) {
    return Status::invalidArgument("XGBoost model: base_score " + text + " must lie in (0, 1) for binary:logistic");
  }
  return value;
}

}  // namespace

Result<XgboostModel> XgboostModel::parse(std::string_view text, int expectedFeatures) {
  // nlohmann::json is used with exceptions disabled (parse returns a discarded value; every access
  // is type-checked first); the catch is a last line of defence at this boundary.
  try {
    const Json document = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) return Status::parseError("XGBoost model: not valid JSON");
    XgboostModel model;

    SLUICE_ASSIGN_OR_RETURN(const Json* learner, Reader::field(document, "", "learner"));
    SLUICE_ASSIGN_OR_RETURN(const Json* parameters, Reader::field(*learner, "learner", "learner_model_param"));
    const std::string parametersPath = "learner.learner_model_param";
    SLUICE_ASSIGN_OR_RETURN(int64_t numFeatures, Reader::integer(*parameters, parametersPath, "num_feature"));
    if (numFeatures != expectedFeatures) {
      return Status::invalidArgument("XGBoost model: it has " + std::to_string(numFeatures) +
                                     " features, the payment feature vector has " + std::to_string(expectedFeatures));
    }
    model.numFeatures_ = static_cast<int>(numFeatures);
    if (parameters->contains("num_class")) {
      SLUICE_ASSIGN_OR_RETURN(int64_t numClass, Reader::integer(*parameters, parametersPath, "num_class"));
      if (numClass > 1) {
        return Status::invalidArgument("XGBoost model: multi-class models (num_class " + std::to_string(numClass) +
                                       ") are not supported; train with objective binary:logistic");
      }
    }
    if (parameters->contains("num_target")) {
      SLUICE_ASSIGN_OR_RETURN(int64_t numTarget, Reader::integer(*parameters, parametersPath, "num_target"));
      if (numTarget != 1) {
        return Status::invalidArgument("XGBoost model: multi-target models (num_target " + std::to_string(numTarget) +
                                       ") are not supported");
      }
    }
    SLUICE_ASSIGN_OR_RETURN(std::string baseScore, Reader::string(*parameters, parametersPath, "base_score"));
    SLUICE_ASSIGN_OR_RETURN(model.baseScore_, parseBaseScore(baseScore));
    const float base = static_cast<float>(model.baseScore_);
    model.baseMargin_ = -std::log(1.0f / base - 1.0f);  // XGBoost's ProbToMargin, in float32

    SLUICE_ASSIGN_OR_RETURN(const Json* objective, Reader::field(*learner, "learner", "objective"));
    SLUICE_ASSIGN_OR_RETURN(std::string objectiveName, Reader::string(*objective, "learner.objective", "name"));
    if (objectiveName != "binary:logistic") {
      return Status::invalidArgument("XGBoost model: objective '" + objectiveName +
                                     "' is not supported (only binary:logistic)");
    }

    SLUICE_ASSIGN_OR_RETURN(const Json* booster, Reader::field(*learner, "learner", "gradient_booster"));
    SLUICE_ASSIGN_OR_RETURN(std::string boosterName, Reader::string(*booster, "learner.gradient_booster", "name"));
    if (boosterName != "gbtree") {
      return Status::invalidArgument("XGBoost model: booster '" + boosterName + "' is not supported (only gbtree)");
    }
    const std::string modelPath = "learner.gradient_booster.model";
    SLUICE_ASSIGN_OR_RETURN(const Json* treeModel, Reader::field(*booster, "learner.gradient_booster", "model"));
    SLUICE_ASSIGN_OR_RETURN(const Json* trees, Reader::array(*treeModel, modelPath, "trees"));
    if (treeModel->contains("tree_info")) {
      SLUICE_ASSIGN_OR_RETURN(const Json* treeInfo, Reader::array(*treeModel, modelPath, "tree_info"));
      for (const auto& group : *treeInfo) {
        if (!group.is_number_integer() || group.get<int64_t>() != 0) {
          return Status::invalidArgument(
              "XGBoost model: tree_info names an output group other than 0 "
              "(multi-class models are not supported)");
        }
      }
    }
    if (treeModel->contains("gbtree_model_param")) {
      SLUICE_ASSIGN_OR_RETURN(const Json* treeParameters, Reader::field(*treeModel, modelPath, "gbtree_model_param"));
      SLUICE_ASSIGN_OR_RETURN(int64_t numTrees,
                              Reader::integer(*treeParameters, modelPath + ".gbtree_model_param", "num_trees"));
      if (numTrees != static_cast<int64_t>(trees->size())) {
        return Status::parseError("XGBoost model: num_trees is " + std::to_string(numTrees) + " but there are " +
                                  std::to_string(trees->size()) + " trees");
      }
    }

    for (size_t t = 0; t < trees->size(); ++t) {
      const Json& tree = (*trees)[t];
      const std::string treePath = modelPath + ".trees[" + std::to_string(t) + "]";
      SLUICE_ASSIGN_OR_RETURN(const Json* left, Reader::array(tree, treePath, "left_children"));
      SLUICE_ASSIGN_OR_RETURN(const Json* right, Reader::array(tree, treePath, "right_children"));
      SLUICE_ASSIGN_OR_RETURN(const Json* indices, Reader::array(tree, treePath, "split_indices"));
      SLUICE_ASSIGN_OR_RETURN(const Json* conditions, Reader::array(tree, treePath, "split_conditions"));
      SLUICE_ASSIGN_OR_RETURN(const Json* defaultLeft, Reader::array(tree, treePath, "default_left"));
      const size_t size = left->size();
      if (size == 0) return Status::parseError("XGBoost model: " + treePath + " has no nodes");
      if (size > static_cast<size_t>(INT32_MAX / 2))
        return Status::parseError("XGBoost model: " + treePath + " is too large");
      for (const auto& [name, array] :
           {std::pair{"right_children", right}, std::pair{"split_indices", indices},
            std::pair{"split_conditions", conditions}, std::pair{"default_left", defaultLeft}}) {
        if (array->size() != size) {
          return Status::parseError("XGBoost model: " + treePath + "." + name + " has " +
                                    std::to_string(array->size()) + " entries, left_children has " +
                                    std::to_string(size));
        }
      }
      if (tree.contains("split_type")) {
        SLUICE_ASSIGN_OR_RETURN(const Json* splitTypes, Reader::array(tree, treePath, "split_type"));
        for (const auto& splitType : *splitTypes) {
          if (!splitType.is_number_integer() || splitType.get<int64_t>() != 0) {
            return Status::invalidArgument("XGBoost model: " + treePath +
                                           " has a categorical split (split_type 1); only numerical splits are "
                                           "supported");
          }
        }
      }
      if (tree.contains("tree_param")) {
        const Json& treeParameters = tree["tree_param"];
        if (treeParameters.is_object() && treeParameters.contains("size_leaf_vector")) {
          SLUICE_ASSIGN_OR_RETURN(int64_t leafVector,
                                  Reader::integer(treeParameters, treePath + ".tree_param", "size_leaf_vector"));
          if (leafVector > 1) {
            return Status::invalidArgument("XGBoost model: " + treePath + " has vector leaves (multi-target)");
          }
        }
      }

      const auto offset = static_cast<int32_t>(model.nodes_.size());
      std::vector<Node> nodes(size);
      for (size_t i = 0; i < size; ++i) {
        const std::string nodePath = treePath + " node " + std::to_string(i);
        const Json& leftChild = (*left)[i];
        const Json& rightChild = (*right)[i];
        const Json& condition = (*conditions)[i];
        const Json& missingLeft = (*defaultLeft)[i];
        if (!leftChild.is_number_integer() || !rightChild.is_number_integer()) {
          return Status::parseError("XGBoost model: " + nodePath + ": children must be integers");
        }
        if (!condition.is_number()) {
          return Status::parseError("XGBoost model: " + nodePath + ": split_conditions must be numbers");
        }
        const int64_t leftIndex = leftChild.get<int64_t>();
        const int64_t rightIndex = rightChild.get<int64_t>();
        Node& node = nodes[i];
        node.value = static_cast<float>(condition.get<double>());
        if (!std::isfinite(node.value)) {
          return Status::parseError("XGBoost model: " + nodePath + ": split condition is not a finite float");
        }
        if (leftIndex == -1) continue;  // a leaf: its value is split_conditions[i]
        if (leftIndex < 0 || leftIndex >= static_cast<int64_t>(size) || rightIndex < 0 ||
            rightIndex >= static_cast<int64_t>(size)) {
          return Status::parseError("XGBoost model: " + nodePath + ": child index out of range");
        }
        const Json& feature = (*indices)[i];
        if (!feature.is_number_integer() || feature.get<int64_t>() < 0 || feature.get<int64_t>() >= numFeatures) {
          return Status::invalidArgument("XGBoost model: " + nodePath + " splits on feature " + feature.dump() +
                                         ", outside 0.." + std::to_string(numFeatures - 1));
        }
        if (missingLeft.is_boolean()) {
          node.defaultLeft = missingLeft.get<bool>();
        } else if (missingLeft.is_number_integer()) {
          node.defaultLeft = missingLeft.get<int64_t>() != 0;
        } else {
          return Status::parseError("XGBoost model: " + nodePath + ": default_left must be 0/1 or a boolean");
        }
        node.left = static_cast<int32_t>(leftIndex) + offset;
        node.right = static_cast<int32_t>(rightIndex) + offset;
        node.feature = static_cast<int32_t>(feature.get<int64_t>());
      }
      // The children must form a tree rooted at node 0 (every node reached at most once), so that
      // traversal always ends at a leaf.
      std::vector<uint8_t> reached(size, 0);
      std::vector<int32_t> stack = {0};
      reached[0] = 1;
      while (!stack.empty()) {
        const Node& node = nodes[stack.back()];
        stack.pop_back();
        if (node.left < 0) continue;
        for (int32_t child : {node.left - offset, node.right - offset}) {
          if (reached[child] != 0) {
            return Status::parseError("XGBoost model: " + treePath + ": node " + std::to_string(child) +
                                      " has more than one parent");
          }
          reached[child] = 1;
          stack.push_back(child);
        }
      }
      model.treeRoots_.push_back(offset);
      model.nodes_.insert(model.nodes_.end(), nodes.begin(), nodes.end());
    }
    return model;
  } catch (const std::exception& error) {
    return Status::parseError(std::string("XGBoost model: ") + error.what());
  }
}

Result<XgboostModel> XgboostModel::load(const std::string& path, int expectedFeatures) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::ioError(path + ": cannot open the XGBoost model file");
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return Status::ioError(path + ": cannot read the XGBoost model file");
  auto model = parse(contents.str(), expectedFeatures);
  if (!model.ok()) return model.status().withContext(path);
  return model;
}

float XgboostModel::margin(const double* x) const {
  float sum = baseMargin_;
  for (int32_t root : treeRoots_) {
    const Node* node = &nodes_[root];
    while (node->left >= 0) {
      const float value = static_cast<float>(x[node->feature]);
      const bool goLeft = std::isnan(value) ? node->defaultLeft : value < node->value;
      node = &nodes_[goLeft ? node->left : node->right];
    }
    sum += node->value;
  }
  return sum;
}

double XgboostModel::predict(const double* x) const {
  const double z = static_cast<double>(margin(x));
  return 1.0 / (1.0 + std::exp(-z));
}

}  // namespace sluice::payments
