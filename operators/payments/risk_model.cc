// Logistic model parsing, scoring and the SGD step; see risk_model.h.
#include "operators/payments/risk_model.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sluice::payments {

double LogisticModel::probability(const FeatureVector& x) const {
  double z = bias;
  for (int i = 0; i < kNumModelFeatures; ++i) z += weights[i] * x[i];
  return 1 / (1 + std::exp(-z));
}

Result<LogisticModel> parseLogisticModel(std::string_view text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Status::invalidArgument("model is not valid JSON");
  if (!json.is_object()) return Status::invalidArgument("model must be a JSON object");
  auto format = json.find("format");
  if (format == json.end() || !format->is_string()) {
    return Status::invalidArgument("model has no \"format\" (expected \"logreg-v1\")");
  }
  if (*format != "logreg-v1") {
    return Status::invalidArgument(
        fmt::format("model format '{}' is not supported (expected \"logreg-v1\")", format->get<std::string>()));
  }
  for (const auto& [key, value] : json.items()) {
    if (key != "format" && key != "bias" && key != "features" && key != "weights") {
      return Status::invalidArgument(fmt::format("model has an unknown key '{}'", key));
    }
  }
  LogisticModel model;
  auto bias = json.find("bias");
  if (bias == json.end() || !bias->is_number()) return Status::invalidArgument("model \"bias\" must be a number");
  model.bias = bias->get<double>();
  auto features = json.find("features");
  if (features == json.end() || !features->is_array()) {
    return Status::invalidArgument("model \"features\" must be a list of the 20 feature names");
  }
  const auto& names = modelFeatureNames();
  if (features->size() != names.size()) {
    return Status::invalidArgument(
        fmt::format("model lists {} features, the job computes {}", features->size(), names.size()));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    const auto& name = (*features)[i];
    if (!name.is_string() || name.get<std::string>() != names[i]) {
      return Status::invalidArgument(
          fmt::format("model feature {} is {}, the job computes '{}' there", i, name.dump(), names[i]));
    }
  }
  auto weights = json.find("weights");
  if (weights == json.end() || !weights->is_array()) {
    return Status::invalidArgument("model \"weights\" must be a list of 20 numbers");
  }
  if (weights->size() != names.size()) {
    return Status::invalidArgument(fmt::format("model has {} weights for {} features", weights->size(), names.size()));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    const auto& weight = (*weights)[i];
    if (!weight.is_number()) return Status::invalidArgument(fmt::format("model weight {} is not a number", i));
    model.weights[i] = weight.get<double>();
    if (!std::isfinite(model.weights[i]))
      return Status::invalidArgument(fmt::format("model weight {} is not finite", i));
  }
  if (!std::isfinite(model.bias)) return Status::invalidArgument("model \"bias\" is not finite");
  return model;
}

Result<LogisticModel> loadLogisticModel(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::notFound(fmt::format("model file '{}' cannot be read", path));
  std::stringstream text;
  text << in.rdbuf();
  auto model = parseLogisticModel(text.str());
  if (!model.ok()) return model.status().withContext("model file '" + path + "'");
  return model;
}

std::string modelToJson(const LogisticModel& model) {
  std::string out = fmt::format("{{\"bias\":{},\"weights\":[", model.bias);
  for (int i = 0; i < kNumModelFeatures; ++i) out += fmt::format("{}{}", i == 0 ? "" : ",", model.weights[i]);
  out += "]}";
  return out;
}

int64_t scoreMilli(double probability) {
  double milli = std::floor(probability * 1000);
  return milli >= 999 ? 999 : static_cast<int64_t>(milli);
}

uint64_t splitmix64(uint64_t value) {
  uint64_t z = value + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void sgdStep(LogisticModel& model, const FeatureVector& x, double label, double weight) {
  const double g = (model.probability(x) - label) * weight;
  model.bias -= kLearningRate * g;
  for (int i = 0; i < kNumModelFeatures; ++i) {
    model.weights[i] -= kLearningRate * (g * x[i] + kL2 * model.weights[i]);
  }
}

}  // namespace sluice::payments
