// registerPaymentsOperators: maps the payment node kinds to their factories.
#include "operators/payments/payments_operators.h"

#include <mutex>

#include "operators/payments/generator_source.h"
#include "operators/payments/payments_factories.h"
#include "runtime/job/node_factory.h"

namespace sluice {

void registerPaymentsOperators() {
  static std::once_flag once;
  std::call_once(once, [] {
    NodeRegistry& registry = NodeRegistry::instance();
    registry.registerSource("payments_csv", payments::planPaymentsCsvSource);
    registry.registerOperator("payments_reorder", payments::planReorderNode);
    registry.registerOperator("merchant_stage", payments::planMerchantStageNode);
    registry.registerOperator("account_stage", payments::planAccountStageNode);
    registry.registerOperator("risk_score", payments::planScoreNode);
    registry.registerOperator("online_learner", payments::planOnlineLearnerNode);
    registry.registerOperator("risk_rules", payments::planRulesNode);
    registry.registerSink("payments_stats", payments::planStatsSink);
  });
  registerPaymentsGeneratorSource();
}

}  // namespace sluice
