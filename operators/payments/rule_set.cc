// Rule set parsing and evaluation; see rule_set.h.
#include "operators/payments/rule_set.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sluice::payments {
namespace {

/// A feature a rule can read from a scored row.
struct FeatureAccessor {
  const char* name;
  bool isInteger;
  int64_t (*integer)(const PaymentRow&);
  double (*real)(const PaymentRow&);
};

#define SLUICE_INTEGER_FEATURE(name, expression)                                   \
  FeatureAccessor {                                                                \
    name, true, [](const PaymentRow& r) -> int64_t { return expression; }, nullptr \
  }
#define SLUICE_REAL_FEATURE(name, expression)                                      \
  FeatureAccessor {                                                                \
    name, false, nullptr, [](const PaymentRow& r) -> double { return expression; } \
  }

const std::vector<FeatureAccessor>& accessors() {
  static const std::vector<FeatureAccessor> list = {
      SLUICE_INTEGER_FEATURE("cnt_10m", r.features.count10m),
      SLUICE_INTEGER_FEATURE("cnt_1h", r.features.count1h),
      SLUICE_INTEGER_FEATURE("cnt_24h", r.features.count24h),
      SLUICE_INTEGER_FEATURE("sum_24h_minor", r.features.sum24hMinor),
      SLUICE_INTEGER_FEATURE("cnt_7d", r.features.count7d),
      SLUICE_INTEGER_FEATURE("small_cnt_10m", r.features.smallCount10m),
      SLUICE_INTEGER_FEATURE("dmerch_24h", r.features.distinctMerchants24h),
      SLUICE_INTEGER_FEATURE("dcountry_24h", r.features.distinctCountries24h),
      SLUICE_INTEGER_FEATURE("ddevice_24h", r.features.distinctDevices24h),
      SLUICE_INTEGER_FEATURE("amount_minor", r.amountMinor),
      SLUICE_INTEGER_FEATURE("mcc", r.mcc),
      SLUICE_REAL_FEATURE("amt_z", r.features.amountZ),
      SLUICE_INTEGER_FEATURE("new_merchant", r.features.newMerchant),
      SLUICE_INTEGER_FEATURE("new_device", r.features.newDevice),
      SLUICE_INTEGER_FEATURE("new_country", r.features.newCountry),
      SLUICE_REAL_FEATURE("geo_dist_km", r.features.geoDistanceKm),
      SLUICE_REAL_FEATURE("geo_speed_kmh", r.features.geoSpeedKmh),
      SLUICE_INTEGER_FEATURE("gap_ms", r.features.gapMs),
      SLUICE_INTEGER_FEATURE("is_night", r.features.isNight),
      SLUICE_INTEGER_FEATURE("is_ecom", r.features.isEcom),
      SLUICE_INTEGER_FEATURE("m_tx_24h", r.features.merchantTx24h),
      SLUICE_INTEGER_FEATURE("m_tx_30d", r.features.merchantTx30d),
      SLUICE_INTEGER_FEATURE("m_fraud_30d", r.features.merchantFraud30d),
      SLUICE_REAL_FEATURE("p", r.probability),
      SLUICE_INTEGER_FEATURE("score_milli", r.scoreMilli),
  };
  return list;
}

#undef SLUICE_INTEGER_FEATURE
#undef SLUICE_REAL_FEATURE

const FeatureAccessor* findAccessor(const std::string& name) {
  for (const FeatureAccessor& accessor : accessors()) {
    if (name == accessor.name) return &accessor;
  }
  return nullptr;
}

enum class Comparison : uint8_t { kGreaterEqual, kGreater, kLessEqual, kLess, kEqual, kNotEqual };

template <typename T>
bool compare(Comparison op, T left, T right) {
  switch (op) {
    case Comparison::kGreaterEqual: return left >= right;
    case Comparison::kGreater: return left > right;
    case Comparison::kLessEqual: return left <= right;
    case Comparison::kLess: return left < right;
    case Comparison::kEqual: return left == right;
    case Comparison::kNotEqual: return left != right;
  }
  return false;
}

}  // namespace

struct RuleSet::Condition {
  enum class Kind : uint8_t { kAll, kAny, kCompare } kind = Kind::kCompare;
  std::vector<Condition> children;
  const FeatureAccessor* feature = nullptr;
  int64_t times = 1;
  Comparison op = Comparison::kGreaterEqual;
  const FeatureAccessor* other = nullptr;  // else the constant
  bool constantIsInteger = false;
  int64_t integerConstant = 0;
  double realConstant = 0;

  bool holds(const PaymentRow& row) const {
    switch (kind) {
      case Kind::kAll:
        for (const Condition& child : children) {
          if (!child.holds(row)) return false;
        }
        return true;
      case Kind::kAny:
        for (const Condition& child : children) {
          if (child.holds(row)) return true;
        }
        return false;
      case Kind::kCompare: break;
    }
    bool rightIsInteger = other != nullptr ? other->isInteger : constantIsInteger;
    if (feature->isInteger && rightIsInteger) {
      int64_t left = times * feature->integer(row);
      int64_t right = other != nullptr ? other->integer(row) : integerConstant;
      return compare(op, left, right);
    }
    double leftValue = feature->isInteger ? static_cast<double>(feature->integer(row)) : feature->real(row);
    if (times != 1) leftValue = static_cast<double>(times) * leftValue;
    double right = other != nullptr ? (other->isInteger ? static_cast<double>(other->integer(row)) : other->real(row))
                   : constantIsInteger ? static_cast<double>(integerConstant)
                                       : realConstant;
    return compare(op, leftValue, right);
  }
};

struct RuleSet::Rule {
  std::string name;
  RuleAction action = RuleAction::kReview;
  Condition condition;
};

namespace {

Result<RuleSet::Condition> parseCondition(const nlohmann::json& json, const std::string& where) {
  using Condition = RuleSet::Condition;
  if (!json.is_object()) return Status::invalidArgument(where + ": a condition must be a JSON object");
  Condition condition;
  for (const char* group : {"all", "any"}) {
    auto found = json.find(group);
    if (found == json.end()) continue;
    if (json.size() != 1) return Status::invalidArgument(where + ": '" + group + "' must be the condition's only key");
    if (!found->is_array() || found->empty()) {
      return Status::invalidArgument(where + ": '" + group + "' needs a non-empty list of conditions");
    }
    condition.kind = std::string_view(group) == "all" ? Condition::Kind::kAll : Condition::Kind::kAny;
    for (size_t i = 0; i < found->size(); ++i) {
      SLUICE_ASSIGN_OR_RETURN(Condition child, parseCondition((*found)[i], fmt::format("{}.{}[{}]", where, group, i)));
      condition.children.push_back(std::move(child));
    }
    return condition;
  }
  for (const auto& [key, value] : json.items()) {
    if (key != "feature" && key != "op" && key != "value" && key != "times" && key != "other") {
      return Status::invalidArgument(
          fmt::format("{}: unknown key '{}' (use all, any, or feature/op/value/times/other)", where, key));
    }
  }
  auto feature = json.find("feature");
  if (feature == json.end() || !feature->is_string()) {
    return Status::invalidArgument(where + ": a comparison needs \"feature\" (a feature name)");
  }
  condition.feature = findAccessor(feature->get<std::string>());
  if (condition.feature == nullptr) {
    return Status::invalidArgument(fmt::format("{}: unknown feature '{}'", where, feature->get<std::string>()));
  }
  auto op = json.find("op");
  if (op == json.end() || !op->is_string()) return Status::invalidArgument(where + ": a comparison needs \"op\"");
  const std::string opText = op->get<std::string>();
  static const std::pair<const char*, Comparison> kOps[] = {
      {">=", Comparison::kGreaterEqual}, {">", Comparison::kGreater}, {"<=", Comparison::kLessEqual},
      {"<", Comparison::kLess},          {"==", Comparison::kEqual},  {"!=", Comparison::kNotEqual}};
  bool knownOp = false;
  for (const auto& [text, comparison] : kOps) {
    if (opText == text) {
      condition.op = comparison;
      knownOp = true;
    }
  }
  if (!knownOp)
    return Status::invalidArgument(fmt::format("{}: unknown op '{}' (>=, >, <=, <, ==, !=)", where, opText));
  auto times = json.find("times");
  if (times != json.end()) {
    if (!times->is_number_integer()) return Status::invalidArgument(where + ": \"times\" must be an integer");
    condition.times = times->get<int64_t>();
  }
  auto value = json.find("value");
  auto other = json.find("other");
  if ((value == json.end()) == (other == json.end())) {
    return Status::invalidArgument(where + ": a comparison needs exactly one of \"value\" and \"other\"");
  }
  if (other != json.end()) {
    if (!other->is_string()) return Status::invalidArgument(where + ": \"other\" must be a feature name");
    condition.other = findAccessor(other->get<std::string>());
    if (condition.other == nullptr) {
      return Status::invalidArgument(fmt::format("{}: unknown feature '{}'", where, other->get<std::string>()));
    }
  } else if (value->is_number_integer()) {
    condition.constantIsInteger = true;
    condition.integerConstant = value->get<int64_t>();
  } else if (value->is_number()) {
    condition.realConstant = value->get<double>();
    if (!std::isfinite(condition.realConstant)) return Status::invalidArgument(where + ": \"value\" is not finite");
  } else {
    return Status::invalidArgument(where + ": \"value\" must be a number");
  }
  return condition;
}

}  // namespace

RuleSet::RuleSet() = default;
RuleSet::~RuleSet() = default;
RuleSet::RuleSet(RuleSet&&) noexcept = default;
RuleSet& RuleSet::operator=(RuleSet&&) noexcept = default;

std::string_view ruleActionName(RuleAction action) {
  switch (action) {
    case RuleAction::kAllow: return "ALLOW";
    case RuleAction::kReview: return "REVIEW";
    case RuleAction::kBlock: return "BLOCK";
  }
  return "ALLOW";
}

Result<RuleSet> RuleSet::parse(std::string_view text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Status::invalidArgument("rule set is not valid JSON");
  if (!json.is_object()) return Status::invalidArgument("rule set must be a JSON object");
  auto format = json.find("format");
  if (format == json.end() || !format->is_string() || *format != "rules-v1") {
    return Status::invalidArgument("rule set needs \"format\": \"rules-v1\"");
  }
  for (const auto& [key, value] : json.items()) {
    if (key != "format" && key != "rules") return Status::invalidArgument("rule set has an unknown key '" + key + "'");
  }
  auto rules = json.find("rules");
  if (rules == json.end() || !rules->is_array() || rules->empty()) {
    return Status::invalidArgument("rule set needs a non-empty \"rules\" list");
  }
  if (rules->size() > 64) {
    return Status::invalidArgument(fmt::format("rule set has {} rules, at most 64 fit the mask", rules->size()));
  }
  RuleSet set;
  std::set<std::string> names;
  for (size_t i = 0; i < rules->size(); ++i) {
    const nlohmann::json& entry = (*rules)[i];
    std::string where = fmt::format("rule {}", i);
    if (!entry.is_object()) return Status::invalidArgument(where + " must be a JSON object");
    for (const auto& [key, value] : entry.items()) {
      if (key != "name" && key != "action" && key != "when") {
        return Status::invalidArgument(where + " has an unknown key '" + key + "' (name, action, when)");
      }
    }
    Rule rule;
    auto name = entry.find("name");
    if (name == entry.end() || !name->is_string() || name->get<std::string>().empty()) {
      return Status::invalidArgument(where + " needs a \"name\"");
    }
    rule.name = name->get<std::string>();
    where = fmt::format("rule {} ({})", i, rule.name);
    if (!names.insert(rule.name).second) return Status::invalidArgument(where + ": the name is used twice");
    auto action = entry.find("action");
    std::string actionText = action != entry.end() && action->is_string() ? action->get<std::string>() : "";
    if (actionText == "BLOCK") {
      rule.action = RuleAction::kBlock;
    } else if (actionText == "REVIEW") {
      rule.action = RuleAction::kReview;
    } else {
      return Status::invalidArgument(where + ": \"action\" must be \"BLOCK\" or \"REVIEW\"");
    }
    auto when = entry.find("when");
    if (when == entry.end()) return Status::invalidArgument(where + " needs a \"when\" condition");
    SLUICE_ASSIGN_OR_RETURN(rule.condition, parseCondition(*when, where));
    set.rules_.push_back(std::move(rule));
  }
  return set;
}

Result<RuleSet> RuleSet::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::notFound(fmt::format("rule file '{}' cannot be read", path));
  std::stringstream text;
  text << in.rdbuf();
  auto set = parse(text.str());
  if (!set.ok()) return set.status().withContext("rule file '" + path + "'");
  return set;
}

RuleDecision RuleSet::evaluate(const PaymentRow& row) const {
  RuleDecision decision;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Rule& rule = rules_[i];
    if (!rule.condition.holds(row)) continue;
    decision.mask |= uint64_t{1} << i;
    if (rule.action > decision.action) {
      decision.action = rule.action;
      decision.primaryRule = static_cast<int>(i);
    }
  }
  return decision;
}

int RuleSet::numRules() const { return static_cast<int>(rules_.size()); }
const std::string& RuleSet::ruleName(int index) const { return rules_[index].name; }
RuleAction RuleSet::ruleAction(int index) const { return rules_[index].action; }

std::vector<std::string> ruleFeatureNames() {
  std::vector<std::string> names;
  for (const FeatureAccessor& accessor : accessors()) names.emplace_back(accessor.name);
  return names;
}

}  // namespace sluice::payments
