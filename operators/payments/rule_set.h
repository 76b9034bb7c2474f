// The rule engine of the payment job: a rule set loaded from JSON (rules are
// data, SPEC section 6), evaluated on a scored T record into a rules mask and
// a decision.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "operators/payments/payment_record.h"
#include "runtime/base/result.h"

namespace sluice::payments {

enum class RuleAction : uint8_t { kAllow = 0, kReview = 1, kBlock = 2 };
std::string_view ruleActionName(RuleAction action);

/// What the rules say about one transaction.
struct RuleDecision {
  uint64_t mask = 0;  // bit k set when rule k matched
  RuleAction action = RuleAction::kAllow;
  int primaryRule = -1;  // index of the deciding rule; -1 for ALLOW
};

/// A compiled rule set. Immutable after parsing; safe to share between threads.
///
/// File format (`rules-v1`):
///   {"format": "rules-v1", "rules": [
///     {"name": "CARD_TESTING", "action": "BLOCK", "when": CONDITION}, ...]}
/// CONDITION is one of
///   {"all": [CONDITION, ...]}   every one holds
///   {"any": [CONDITION, ...]}   at least one holds
///   {"feature": F, "op": OP, "value": NUMBER}
///   {"feature": F, "times": INTEGER, "op": OP, "other": G}   (times * F) OP G
/// with OP one of >=, >, <=, <, ==, != and F, G feature names (ruleFeatureNames()).
/// Integer features compared with integers compare exactly as int64; anything
/// involving a float64 feature or a non-integer number compares as double.
/// Rule k sets bit k (at most 64 rules). The decision is BLOCK when any BLOCK
/// rule matched (primary: the lowest such index), else REVIEW when any REVIEW
/// rule matched (likewise), else ALLOW.
class RuleSet {
 public:
  ~RuleSet();
  RuleSet(RuleSet&&) noexcept;
  RuleSet& operator=(RuleSet&&) noexcept;

  /// Errors are one line naming the rule and what is wrong.
  static Result<RuleSet> parse(std::string_view json);
  /// Reads and parses a rule file; errors start with the path.
  static Result<RuleSet> load(const std::string& path);

  RuleDecision evaluate(const PaymentRow& row) const;
  int numRules() const;
  const std::string& ruleName(int index) const;
  RuleAction ruleAction(int index) const;

  struct Condition;
  struct Rule;

 private:
  RuleSet();
  std::vector<Rule> rules_;
};

/// The feature names rules may use.
std::vector<std::string> ruleFeatureNames();

}  // namespace sluice::payments
