// The table of known configuration options, their validation, and duration parsing.
#include "runtime/job/configuration.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/base/check.h"

namespace sluice {
namespace {

constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();

/// A known option plus the integer range it accepts (for kInteger only).
struct OptionRule {
  ConfigOption option;
  int64_t minimum = 0;
  int64_t maximum = kNoLimit;
};

OptionRule duration(std::string key, std::optional<std::string> defaultValue, std::string description) {
  return {ConfigOption{std::move(key), ConfigType::kDuration, std::move(defaultValue), std::move(description), {}}};
}

OptionRule integer(std::string key, std::optional<std::string> defaultValue, int64_t minimum, int64_t maximum,
                   std::string description) {
  return {ConfigOption{std::move(key), ConfigType::kInteger, std::move(defaultValue), std::move(description), {}},
          minimum, maximum};
}

OptionRule string(std::string key, std::optional<std::string> defaultValue, std::string description) {
  return {ConfigOption{std::move(key), ConfigType::kString, std::move(defaultValue), std::move(description), {}}};
}

OptionRule enumeration(std::string key, std::string defaultValue, std::vector<std::string> allowed,
                       std::string description) {
  return {ConfigOption{std::move(key), ConfigType::kEnum, std::move(defaultValue), std::move(description),
                       std::move(allowed)}};
}

OptionRule boolean(std::string key, std::string defaultValue, std::string description) {
  return {ConfigOption{std::move(key), ConfigType::kBool, std::move(defaultValue), std::move(description), {}}};
}

const std::vector<OptionRule>& optionRules() {
  static const std::vector<OptionRule> rules = {
      // Checkpointing.
      duration("execution.checkpointing.interval", std::nullopt,
               "Time between the starts of two checkpoints. Checkpointing is off when unset."),
      duration("execution.checkpointing.timeout", "10min",
               "A checkpoint that has not completed after this long is aborted."),
      duration("execution.checkpointing.min-pause", "0",
               "Least time between the end of one checkpoint and the start of the next."),
      integer("execution.checkpointing.max-concurrent-checkpoints", "1", 1, kNoLimit,
              "How many checkpoints may be in progress at once."),
      boolean("execution.checkpointing.unaligned.enabled", "false",
              "Lets barriers overtake buffered data under backpressure (unaligned checkpoints)."),
      string("state.checkpoints.dir", std::nullopt,
             "Directory that holds <job-id>/chk-<n>/ checkpoint directories; the job manager's "
             "--checkpoint-dir sets it."),
      integer("state.checkpoints.num-retained", "1", 1, kNoLimit, "How many completed checkpoints are kept."),
      enumeration("execution.checkpointing.externalized-checkpoint-retention", "retain_on_cancellation",
                  {"retain_on_cancellation", "delete_on_cancellation"},
                  "Whether the retained checkpoints stay after the job ends (to resume with -s) or are deleted."),
      string("state.savepoints.dir", std::nullopt, "Default target directory of savepoints when none is given."),
      enumeration("state.backend.type", "rocksdb", {"rocksdb", "hashmap"},
                  "Keyed state backend: 'rocksdb' (on disk, incremental checkpoints) or 'hashmap' (in memory)."),
      // Failure recovery.
      enumeration("restart-strategy.type", "fixed-delay", {"none", "fixed-delay", "exponential-delay"},
                  "How a failed job is restarted from its latest checkpoint: 'none' fails the job, "
                  "'fixed-delay' waits a fixed time between a bounded number of attempts, "
                  "'exponential-delay' doubles the wait after every attempt."),
      integer("restart-strategy.fixed-delay.attempts", "3", 0, kNoLimit,
              "Restarts allowed before the job fails (fixed-delay)."),
      duration("restart-strategy.fixed-delay.delay", "1s", "Wait before each restart (fixed-delay)."),
      duration("restart-strategy.exponential-delay.initial-backoff", "1s",
               "Wait before the first restart (exponential-delay)."),
      duration("restart-strategy.exponential-delay.max-backoff", "1min",
               "Upper bound of the doubling wait (exponential-delay)."),
      integer("restart-strategy.exponential-delay.attempts-before-reset-backoff", std::nullopt, 0, kNoLimit,
              "Restarts allowed before the job fails (exponential-delay); unlimited when unset."),
      // Parallelism and data exchange.
      integer("parallelism.default", "1", 1, kNoLimit,
              "Parallelism of nodes that set none themselves and are not given -p."),
      integer("pipeline.max-parallelism", "128", 1, 32768,
              "Number of key groups; the upper bound of any keyed node's parallelism. Fixed for the life of a "
              "job's state."),
      duration("execution.buffer-timeout", "5ms",
               "Longest time an output buffer waits for more records before it is sent."),
      // Sources.
      integer("sluice.source.rate-limit", std::nullopt, 0, kNoLimit,
              "Records per second each source subtask emits at most (for tests and demos); 0 or unset means "
              "unlimited."),
      integer("sluice.source.batch-size", "4096", 1, kNoLimit, "Rows per batch a source emits at most."),
      // Cluster.
      duration("heartbeat.interval", "1s", "Time between two heartbeats of a worker to the job manager."),
      duration("heartbeat.timeout", "3s", "A worker that has not sent a heartbeat for this long is lost."),
      integer("taskmanager.numberOfTaskSlots", "1", 1, kNoLimit,
              "Slots a worker offers when --slots is not given; each slot runs one task chain per job."),
      string("jobmanager.rpc.address", "127.0.0.1", "Host of the job manager that clients and workers connect to."),
      integer("jobmanager.rpc.port", "6123", 0, 65535, "Port of the job manager; 0 picks a free port."),
      duration("slot.request.timeout", "1min", "A job that cannot get all the slots it needs for this long fails."),
  };
  return rules;
}

const OptionRule* findRule(const std::string& key) {
  for (const OptionRule& rule : optionRules()) {
    if (rule.option.key == key) return &rule;
  }
  return nullptr;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

std::string toLower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

/// Parses a whole string as a (possibly signed) decimal integer.
std::optional<int64_t> parseInteger(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> parseBool(std::string_view text) {
  std::string lower = toLower(trim(text));
  if (lower == "true") return true;
  if (lower == "false") return false;
  return std::nullopt;
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> previous(b.size() + 1);
  std::vector<size_t> current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

/// The known key the user most likely meant, or "" when none is close.
std::string suggestKey(const std::string& key) {
  std::string lowerKey = toLower(key);
  std::string best;
  size_t bestDistance = std::numeric_limits<size_t>::max();
  for (const OptionRule& rule : optionRules()) {
    const std::string& known = rule.option.key;
    // A key given without its leading section ("checkpointing.interval").
    if (known.size() > key.size() && known.ends_with("." + key)) return known;
    size_t distance = editDistance(lowerKey, toLower(known));
    if (distance < bestDistance) {
      bestDistance = distance;
      best = known;
    }
  }
  return bestDistance <= std::max<size_t>(3, key.size() / 4) ? best : "";
}

std::string describeRange(const OptionRule& rule) {
  if (rule.minimum == 1 && rule.maximum == kNoLimit) return "a positive integer";
  if (rule.minimum == 0 && rule.maximum == kNoLimit) return "a non-negative integer";
  if (rule.maximum == kNoLimit) return fmt::format("an integer of at least {}", rule.minimum);
  return fmt::format("an integer from {} to {}", rule.minimum, rule.maximum);
}

/// Checks `value` against the option's type; returns the value to store (trimmed,
/// enums and booleans in lower case).
Result<std::string> normalize(const OptionRule& rule, const std::string& value) {
  const ConfigOption& option = rule.option;
  auto invalid = [&](const std::string& expected) {
    return Status::invalidArgument(
        fmt::format("configuration key '{}': expected {}, got '{}'", option.key, expected, value));
  };
  std::string trimmed(trim(value));
  switch (option.type) {
    case ConfigType::kDuration:
      if (!parseDuration(trimmed).ok()) return invalid("a duration such as '200ms', '10s', '1min' or '2h'");
      return trimmed;
    case ConfigType::kInteger: {
      std::optional<int64_t> number = parseInteger(trimmed);
      if (!number || *number < rule.minimum || *number > rule.maximum) return invalid(describeRange(rule));
      return std::to_string(*number);
    }
    case ConfigType::kString: return value;
    case ConfigType::kEnum: {
      std::string lower = toLower(trimmed);
      if (std::find(option.allowed.begin(), option.allowed.end(), lower) == option.allowed.end()) {
        return invalid(fmt::format("one of {}", fmt::join(option.allowed, ", ")));
      }
      return lower;
    }
    case ConfigType::kBool: {
      std::optional<bool> flag = parseBool(trimmed);
      if (!flag) return invalid("true or false");
      return std::string(*flag ? "true" : "false");
    }
  }
  return Status::internal(fmt::format("configuration key '{}' has an unknown type", option.key));
}

const OptionRule& requireRule(const std::string& key, ConfigType type) {
  const OptionRule* rule = findRule(key);
  SLUICE_CHECK(rule != nullptr, "unknown configuration key '" + key + "'");
  SLUICE_CHECK(rule->option.type == type, "configuration key '" + key + "' read with the wrong type");
  return *rule;
}

}  // namespace

const std::vector<ConfigOption>& Configuration::knownOptions() {
  static const std::vector<ConfigOption> options = [] {
    std::vector<ConfigOption> result;
    for (const OptionRule& rule : optionRules()) result.push_back(rule.option);
    return result;
  }();
  return options;
}

Status Configuration::set(const std::string& key, const std::string& value) {
  const OptionRule* rule = findRule(key);
  if (rule == nullptr) {
    std::string suggestion = suggestKey(key);
    return Status::invalidArgument(
        suggestion.empty() ? fmt::format("unknown configuration key '{}'", key)
                           : fmt::format("unknown configuration key '{}' (did you mean '{}'?)", key, suggestion));
  }
  SLUICE_ASSIGN_OR_RETURN(std::string normalized, normalize(*rule, value));
  values_[key] = std::move(normalized);
  return Status::OK();
}

void Configuration::overlay(const Configuration& higher) {
  for (const auto& [key, value] : higher.values_) values_[key] = value;
}

std::optional<std::string> Configuration::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it != values_.end()) return it->second;
  const OptionRule* rule = findRule(key);
  if (rule == nullptr) return std::nullopt;
  return rule->option.defaultValue;
}

std::optional<std::chrono::milliseconds> Configuration::getDuration(const std::string& key) const {
  requireRule(key, ConfigType::kDuration);
  std::optional<std::string> text = get(key);
  if (!text) return std::nullopt;
  Result<std::chrono::milliseconds> parsed = parseDuration(*text);
  SLUICE_CHECK(parsed.ok(), parsed.status().toString());
  return *parsed;
}

std::optional<int64_t> Configuration::getInteger(const std::string& key) const {
  requireRule(key, ConfigType::kInteger);
  std::optional<std::string> text = get(key);
  if (!text) return std::nullopt;
  std::optional<int64_t> value = parseInteger(*text);
  SLUICE_CHECK(value.has_value(), "configuration key '" + key + "' holds '" + *text + "'");
  return value;
}

std::optional<bool> Configuration::getBool(const std::string& key) const {
  requireRule(key, ConfigType::kBool);
  std::optional<std::string> text = get(key);
  if (!text) return std::nullopt;
  std::optional<bool> value = parseBool(*text);
  SLUICE_CHECK(value.has_value(), "configuration key '" + key + "' holds '" + *text + "'");
  return value;
}

Result<std::chrono::milliseconds> parseDuration(const std::string& text) {
  auto invalid = [&] {
    return Status::invalidArgument(fmt::format(
        "invalid duration '{}': expected a non-negative number with a unit such as 200ms, 10s, 1min or 2h", text));
  };
  std::string_view rest = trim(text);
  size_t digits = 0;
  while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
  if (digits == 0) return invalid();
  std::optional<int64_t> amount = parseInteger(rest.substr(0, digits));
  if (!amount) return invalid();  // too many digits
  std::string unit = toLower(trim(rest.substr(digits)));

  struct Unit {
    std::string_view name;
    int64_t milliseconds;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"ms", 1},
      {"milli", 1},
      {"millis", 1},
      {"millisecond", 1},
      {"milliseconds", 1},
      {"s", 1000},
      {"sec", 1000},
      {"secs", 1000},
      {"second", 1000},
      {"seconds", 1000},
      {"m", 60'000},
      {"min", 60'000},
      {"mins", 60'000},
      {"minute", 60'000},
      {"minutes", 60'000},
      {"h", 3'600'000},
      {"hour", 3'600'000},
      {"hours", 3'600'000},
      {"d", 86'400'000},
      {"day", 86'400'000},
      {"days", 86'400'000},
  };
  for (const Unit& candidate : kUnits) {
    if (candidate.name != unit) continue;
    if (*amount > std::numeric_limits<int64_t>::max() / candidate.milliseconds) return invalid();
    return std::chrono::milliseconds(*amount * candidate.milliseconds);
  }
  return invalid();
}

}  // namespace sluice
