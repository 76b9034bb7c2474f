// The `dedup` keyed process function: first row per key within a TTL, decided
// in event-time order when the watermark passes, with timers and list state.
#include <algorithm>
#include <optional>

#include "examples/plugin/example_plugin.h"
#include "runtime/state/state_serializer.h"

namespace sluice::example {
namespace {

/// Per key: `pending` holds rows not yet decided, each as [event time, 8
/// order-preserving bytes][encoded row], so sorting the strings sorts by time
/// and then by content; `last_kept` is the event time of the last kept row.
/// One event-time timer per pending row time decides the rows up to it; a
/// timer at last_kept + ttl drops last_kept once it can no longer matter.
class DedupFunction final : public KeyedProcessFunction {
 public:
  explicit DedupFunction(int64_t ttl) : ttl_(ttl) {}

  Status open(ProcessContext& context) override {
    SLUICE_ASSIGN_OR_RETURN(auto pending, context.listState<std::string>("pending"));
    SLUICE_ASSIGN_OR_RETURN(auto lastKept, context.valueState<int64_t>("last_kept"));
    pending_.emplace(std::move(pending));
    lastKept_.emplace(std::move(lastKept));
    return Status::OK();
  }

  Status processKey(const RecordBatch& batch, std::span<const int32_t> rows, ProcessContext& context,
                    Collector& out) override {
    for (int32_t index : rows) {
      RowView row(batch, index);
      const int64_t time = row.eventTime();
      if (time <= context.currentWatermark()) {
        SLUICE_RETURN_NOT_OK(out.side("late", row));
        continue;
      }
      std::string entry = serializeState<int64_t>(time);
      entry += context.encodeRow(row);
      SLUICE_RETURN_NOT_OK(pending_->add(entry));
      SLUICE_RETURN_NOT_OK(context.registerEventTimeTimer(time));
    }
    return Status::OK();
  }

  Status onTimer(int64_t timestamp, TimeDomain domain, ProcessContext& context, Collector& out) override {
    if (domain != TimeDomain::kEventTime) return Status::OK();
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> entries, pending_->get());
    std::vector<std::string> due;
    std::vector<std::string> later;
    for (std::string& entry : entries) {
      SLUICE_ASSIGN_OR_RETURN(int64_t time, timeOf(entry));
      (time <= timestamp ? due : later).push_back(std::move(entry));
    }
    SLUICE_ASSIGN_OR_RETURN(std::optional<int64_t> lastKept, lastKept_->value());
    std::sort(due.begin(), due.end());
    SLUICE_ASSIGN_OR_RETURN(OutputRows * duplicates, out.side("duplicates"));
    for (const std::string& entry : due) {
      SLUICE_ASSIGN_OR_RETURN(int64_t time, timeOf(entry));
      std::string_view row = std::string_view(entry).substr(8);
      if (!lastKept || time >= *lastKept + ttl_) {
        SLUICE_RETURN_NOT_OK(out.main().appendEncoded(row));
        lastKept = time;
        SLUICE_RETURN_NOT_OK(lastKept_->update(time));
        SLUICE_RETURN_NOT_OK(context.registerEventTimeTimer(time + ttl_));
      } else {
        SLUICE_RETURN_NOT_OK(duplicates->appendEncoded(row));
      }
    }
    if (!due.empty()) {
      SLUICE_RETURN_NOT_OK(later.empty() ? pending_->clear() : pending_->update(later));
    }
    if (later.empty() && lastKept && *lastKept + ttl_ <= timestamp) SLUICE_RETURN_NOT_OK(lastKept_->clear());
    return Status::OK();
  }

 private:
  static Result<int64_t> timeOf(std::string_view entry) {
    if (entry.size() < 8) return Status::corruption("dedup: malformed pending row");
    return StateSerializer<int64_t>::deserialize(entry.substr(0, 8));
  }

  int64_t ttl_;
  std::optional<ListState<std::string>> pending_;
  std::optional<ValueState<int64_t>> lastKept_;
};

}  // namespace

Result<ProcessFunctionPlan> planDedup(ProcessFunctionRequest& request) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<int64_t> ttl, request.options.durationMillis("ttl"));
  if (!ttl) return request.options.error("dedup needs 'ttl', e.g. ttl: 10s");
  if (*ttl <= 0) return request.options.error("ttl must be positive");
  if (request.input.eventTimeIndex < 0) {
    return request.options.error("dedup needs an input with event time (its source sets event_time)");
  }
  ProcessFunctionPlan plan;
  plan.output = request.input;
  plan.sideOutputs["duplicates"] = request.input;
  plan.sideOutputs["late"] = request.input;
  const int64_t ttlMillis = *ttl;
  plan.createFunction = [ttlMillis] { return std::make_unique<DedupFunction>(ttlMillis); };
  return plan;
}

}  // namespace sluice::example
