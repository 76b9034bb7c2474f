// registerPaymentsOperators: the node kinds of the payment-risk job.
#pragma once

namespace sluice {

/// Registers sources `payments_csv` and `payments_generator`, operators `payments_reorder`,
/// `merchant_stage`, `account_stage`, `risk_score`, `online_learner`,
/// `risk_rules`, and sink `payments_stats` (see operators/payments/README.md).
/// Idempotent and thread-safe.
void registerPaymentsOperators();

}  // namespace sluice
