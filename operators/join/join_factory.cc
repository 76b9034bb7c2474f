// Join factories: YAML options → JoinPlan compiled once → one operator per subtask.
#include "operators/join/join_factory.h"

#include "operators/join/stream_join_operator.h"
#include "operators/join/window_join_operator.h"
#include "operators/option_reader.h"

namespace sluice {
namespace {

/// A duration that may be negative: "-5s", "2s", "0".
Result<std::optional<int64_t>> signedDuration(OptionReader& reader, const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> text, reader.string(key));
  if (!text.has_value()) return std::optional<int64_t>();
  std::string magnitude = *text;
  bool negative = !magnitude.empty() && magnitude[0] == '-';
  if (negative || (!magnitude.empty() && magnitude[0] == '+')) magnitude.erase(0, 1);
  auto parsed = parseDuration(magnitude);
  if (!parsed.ok()) return reader.error(key + ": expected a duration such as -5s or 1500ms, not '" + *text + "'");
  return std::optional<int64_t>(negative ? -parsed->count() : parsed->count());
}

Status readKeys(OptionReader& reader, JoinOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<OptionReader> on, reader.mapping("on"));
  SLUICE_ASSIGN_OR_RETURN(auto leftKey, reader.stringList("left_key"));
  SLUICE_ASSIGN_OR_RETURN(auto rightKey, reader.stringList("right_key"));
  if (on.has_value()) {
    if (leftKey.has_value() || rightKey.has_value())
      return reader.error("give 'on' or 'left_key'/'right_key', not both");
    SLUICE_ASSIGN_OR_RETURN(leftKey, on->stringList("left"));
    SLUICE_ASSIGN_OR_RETURN(rightKey, on->stringList("right"));
    SLUICE_RETURN_NOT_OK(on->checkAllRead());
  }
  if (!leftKey.has_value() || !rightKey.has_value()) {
    return reader.error("name the join keys: on: {left: [field...], right: [field...]} (or left_key / right_key)");
  }
  options.leftKeys = *leftKey;
  options.rightKeys = *rightKey;
  return Status::OK();
}

Status readSelect(OptionReader& reader, JoinOptions& options) {
  YAML::Node select = reader.take("select");
  if (!select.IsDefined() || select.IsNull()) {
    return reader.error("select: name the output fields, e.g. {name: left.name, id: right.id}");
  }
  if (select.IsSequence()) {
    for (const auto& item : select) {
      if (!item.IsScalar()) return reader.error("select: a list holds references such as left.name");
      const std::string& text = item.Scalar();
      size_t dot = text.find('.');
      options.select.emplace_back(dot == std::string::npos ? text : text.substr(dot + 1), text);
    }
  } else if (select.IsMap()) {
    for (const auto& entry : select) {
      if (!entry.first.IsScalar() || !entry.second.IsScalar()) {
        return reader.error("select: expected output names mapped to references such as left.name");
      }
      options.select.emplace_back(entry.first.Scalar(), entry.second.Scalar());
    }
  } else {
    return reader.error("select: expected a mapping of output names to references");
  }
  return Status::OK();
}

Status readWindow(OptionReader& reader, JoinOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<OptionReader> window, reader.mapping("window"));
  if (!window.has_value()) return reader.error("window: required, e.g. {tumble: 10s} or {hop: 10s, slide: 2s}");
  SLUICE_ASSIGN_OR_RETURN(auto tumble, window->duration("tumble"));
  SLUICE_ASSIGN_OR_RETURN(auto hop, window->duration("hop"));
  SLUICE_ASSIGN_OR_RETURN(auto slide, window->duration("slide"));
  SLUICE_RETURN_NOT_OK(window->checkAllRead());
  if (tumble.has_value() == hop.has_value()) return window->error("give exactly one of 'tumble' or 'hop'");
  if (tumble.has_value()) {
    if (slide.has_value()) return window->error("'slide' goes with 'hop', not 'tumble'");
    options.windowSize = options.windowSlide = tumble->count();
  } else {
    if (!slide.has_value()) return window->error("'hop' needs a 'slide'");
    options.windowSize = hop->count();
    options.windowSlide = slide->count();
  }
  return Status::OK();
}

Status readDistinct(OptionReader& reader, JoinOptions& options) {
  YAML::Node distinct = reader.take("distinct");
  if (!distinct.IsDefined() || distinct.IsNull()) return Status::OK();
  std::vector<std::string> sides;
  if (distinct.IsScalar()) {
    const std::string& text = distinct.Scalar();
    if (text == "true") {
      sides = {"left", "right"};
    } else if (text != "false") {
      sides = {text};
    }
  } else if (distinct.IsSequence()) {
    for (const auto& item : distinct) sides.push_back(item.IsScalar() ? item.Scalar() : std::string("?"));
  } else {
    return reader.error("distinct: expected true, false, left, right or [left, right]");
  }
  for (const std::string& side : sides) {
    if (side == "left" || side == options.aliases[kLeftSide]) {
      options.distinct[kLeftSide] = true;
    } else if (side == "right" || side == options.aliases[kRightSide]) {
      options.distinct[kRightSide] = true;
    } else {
      return reader.error("distinct: unknown input '" + side + "' (expected true, left, right or [left, right])");
    }
  }
  return Status::OK();
}

}  // namespace

Result<JoinOptions> parseJoinOptions(const NodeSpec& spec, JoinKind kind) {
  OptionReader reader = OptionReader::forSpec(spec);
  JoinOptions options;
  options.kind = kind;
  SLUICE_RETURN_NOT_OK(readKeys(reader, options));
  SLUICE_ASSIGN_OR_RETURN(auto aliases, reader.mapping("alias"));
  if (aliases.has_value()) {
    SLUICE_ASSIGN_OR_RETURN(auto left, aliases->string("left"));
    SLUICE_ASSIGN_OR_RETURN(auto right, aliases->string("right"));
    SLUICE_RETURN_NOT_OK(aliases->checkAllRead());
    options.aliases = {left.value_or(""), right.value_or("")};
  }
  SLUICE_RETURN_NOT_OK(readSelect(reader, options));

  const std::string kindName(joinKindName(kind));
  auto onlyFor = [&](const char* key, JoinKind owner) -> Status {
    if (kind == owner || !reader.has(key)) return Status::OK();
    return reader.error("option '" + std::string(key) + "' applies to type " + std::string(joinKindName(owner)) +
                        ", not " + kindName);
  };
  SLUICE_RETURN_NOT_OK(onlyFor("ttl", JoinKind::kRegular));
  SLUICE_RETURN_NOT_OK(onlyFor("lower", JoinKind::kInterval));
  SLUICE_RETURN_NOT_OK(onlyFor("upper", JoinKind::kInterval));
  SLUICE_RETURN_NOT_OK(onlyFor("window", JoinKind::kWindow));
  SLUICE_RETURN_NOT_OK(onlyFor("distinct", JoinKind::kWindow));
  switch (kind) {
    case JoinKind::kRegular: {
      SLUICE_ASSIGN_OR_RETURN(options.ttl, reader.duration("ttl"));
      break;
    }
    case JoinKind::kInterval: {
      SLUICE_ASSIGN_OR_RETURN(auto lower, signedDuration(reader, "lower"));
      SLUICE_ASSIGN_OR_RETURN(auto upper, signedDuration(reader, "upper"));
      if (!lower.has_value() || !upper.has_value()) {
        return reader.error(
            "an interval_join needs 'lower' and 'upper' (left.t BETWEEN right.t + lower AND "
            "right.t + upper)");
      }
      options.lower = *lower;
      options.upper = *upper;
      break;
    }
    case JoinKind::kWindow: {
      SLUICE_RETURN_NOT_OK(readWindow(reader, options));
      SLUICE_RETURN_NOT_OK(readDistinct(reader, options));
      break;
    }
  }
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  return options;
}

Result<PlannedNode> planJoinNode(JoinKind kind, const NodeSpec& spec, const std::vector<StreamInfo>& inputs) {
  const std::string prefix = "node '" + spec.id + "'";
  if (inputs.size() != 2) {
    return Status::invalidArgument(prefix + ": a " + std::string(joinKindName(kind)) +
                                   " takes exactly two inputs (from: [left, right]), got " +
                                   std::to_string(inputs.size()));
  }
  SLUICE_ASSIGN_OR_RETURN(JoinOptions options, parseJoinOptions(spec, kind));
  auto plan = JoinPlan::make(options, inputs[kLeftSide], inputs[kRightSide]);
  if (!plan.ok()) return plan.status().withContext(prefix);

  std::shared_ptr<const JoinPlan> compiled = *plan;
  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kOperator;
  node.outputs[""] = StreamInfo{compiled->outputSchema(), compiled->outputEventTimeIndex()};
  node.inputs.push_back(InputPartitioning{PartitionKind::kHash, compiled->side(kLeftSide).keyColumns});
  node.inputs.push_back(InputPartitioning{PartitionKind::kHash, compiled->side(kRightSide).keyColumns});
  node.keyed = true;
  if (kind == JoinKind::kWindow) {
    node.createOperator = [compiled]() -> std::unique_ptr<Operator> {
      return std::make_unique<WindowJoinOperator>(compiled);
    };
  } else {
    node.createOperator = [compiled]() -> std::unique_ptr<Operator> {
      return std::make_unique<StreamJoinOperator>(compiled);
    };
  }
  return node;
}

Result<PlannedNode> planRegularJoinNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                        const PlanContext& context) {
  (void)context;
  return planJoinNode(JoinKind::kRegular, spec, inputs);
}

Result<PlannedNode> planIntervalJoinNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                         const PlanContext& context) {
  (void)context;
  return planJoinNode(JoinKind::kInterval, spec, inputs);
}

Result<PlannedNode> planWindowJoinNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                       const PlanContext& context) {
  (void)context;
  return planJoinNode(JoinKind::kWindow, spec, inputs);
}

}  // namespace sluice
