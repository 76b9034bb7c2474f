// Planner factories of the payment node kinds: option parsing, validation
// (model and rule files are loaded and checked here, at job start) and
// PlannedNode construction.
#pragma once

#include <vector>

#include "runtime/job/node_factory.h"

namespace sluice::payments {

Result<PlannedNode> planPaymentsCsvSource(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                          const PlanContext& context);
Result<PlannedNode> planReorderNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                    const PlanContext& context);
Result<PlannedNode> planMerchantStageNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                          const PlanContext& context);
Result<PlannedNode> planAccountStageNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                         const PlanContext& context);
Result<PlannedNode> planScoreNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                  const PlanContext& context);
Result<PlannedNode> planOnlineLearnerNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                          const PlanContext& context);
Result<PlannedNode> planRulesNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                  const PlanContext& context);
Result<PlannedNode> planStatsSink(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                  const PlanContext& context);

}  // namespace sluice::payments
