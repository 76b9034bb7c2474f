// Source factories: option parsing and the PlannedNode that creates readers per split.
#include "operators/source_factories.h"

#include <charconv>
#include <filesystem>

#include "operators/option_reader.h"

namespace sluice {
namespace {

constexpr const char* kBatchSizeKey = "sluice.source.batch-size";
constexpr const char* kRateLimitKey = "sluice.source.rate-limit";
constexpr int64_t kDefaultBatchSize = 4096;

/// A configuration value, or nullopt when unset or not a key this build knows.
std::optional<std::string> configValue(const PlanContext& context, const std::string& key) {
  if (context.config == nullptr) return std::nullopt;
  for (const auto& option : Configuration::knownOptions()) {
    if (option.key == key) return context.config->get(key);
  }
  return std::nullopt;
}

std::string resolvePath(const std::string& path, const PlanContext& context) {
  std::filesystem::path resolved(path);
  if (resolved.is_relative() && !context.workingDirectory.empty()) {
    resolved = std::filesystem::path(context.workingDirectory) / resolved;
  }
  return resolved.lexically_normal().string();
}

/// Reads the options every source shares: watermark, batch_size, and the rate limit from the configuration.
Status readCommonSourceOptions(OptionReader& reader, const PlanContext& context, int64_t& maxOutOfOrdernessMs,
                               int64_t& batchSize, std::optional<double>& rateLimit) {
  maxOutOfOrdernessMs = 0;
  SLUICE_ASSIGN_OR_RETURN(auto watermark, reader.mapping("watermark"));
  if (watermark.has_value()) {
    SLUICE_ASSIGN_OR_RETURN(auto bound, watermark->duration("max_out_of_orderness"));
    if (bound.has_value()) maxOutOfOrdernessMs = bound->count();
    if (maxOutOfOrdernessMs < 0) return watermark->error("max_out_of_orderness must not be negative");
    SLUICE_RETURN_NOT_OK(watermark->checkAllRead());
  }

  batchSize = kDefaultBatchSize;
  if (auto configured = configValue(context, kBatchSizeKey)) {
    int64_t value = 0;
    auto [end, error] = std::from_chars(configured->data(), configured->data() + configured->size(), value);
    if (error == std::errc() && end == configured->data() + configured->size() && value > 0) batchSize = value;
  }
  SLUICE_ASSIGN_OR_RETURN(auto ownBatchSize, reader.integer("batch_size"));
  if (ownBatchSize.has_value()) {
    if (*ownBatchSize < 1) return reader.error("batch_size must be positive");
    batchSize = *ownBatchSize;
  }

  rateLimit.reset();
  if (auto configured = configValue(context, kRateLimitKey)) {
    double value = 0;
    auto [end, error] = std::from_chars(configured->data(), configured->data() + configured->size(), value);
    if (error != std::errc() || end != configured->data() + configured->size() || value < 0) {
      return Status::invalidArgument(std::string(kRateLimitKey) + ": expected records per second, not '" + *configured +
                                     "'");
    }
    if (value > 0) rateLimit = value;
  }
  return Status::OK();
}

/// The index of the event-time field `name` in `schema`, checked to be int64 or timestamp.
Result<int> eventTimeIndex(const OptionReader& reader, const std::string& where, const Schema& schema,
                           const std::optional<std::string>& name) {
  if (!name.has_value()) return -1;
  auto index = schema.indexOf(*name);
  if (!index.has_value()) {
    return reader.error(where + "event_time: no field '" + *name + "' in the schema (fields: " + schema.toString() +
                        ")");
  }
  if (!isInt64Like(schema.field(*index).type)) {
    return reader.error(where + "event_time: field '" + *name + "' must be int64 or timestamp, not " +
                        std::string(dataTypeName(schema.field(*index).type)));
  }
  return *index;
}

Status noInputs(const OptionReader& reader, const std::vector<StreamInfo>& inputs) {
  if (!inputs.empty()) return reader.error("a source takes no inputs");
  return Status::OK();
}

}  // namespace

Result<FileSourceOptions> parseFileSourceOptions(const NodeSpec& spec, const PlanContext& context) {
  OptionReader reader = OptionReader::forSpec(spec);
  FileSourceOptions options;
  options.sourceId = spec.id;

  SLUICE_ASSIGN_OR_RETURN(auto path, reader.string("path"));
  SLUICE_ASSIGN_OR_RETURN(auto format, reader.string("format"));
  SLUICE_ASSIGN_OR_RETURN(auto schema, reader.schema("schema"));
  SLUICE_ASSIGN_OR_RETURN(auto eventTime, reader.string("event_time"));
  SLUICE_ASSIGN_OR_RETURN(auto discriminator, reader.string("discriminator"));
  YAML::Node kinds = reader.take("kinds");
  SLUICE_ASSIGN_OR_RETURN(auto onError, reader.string("on_error"));
  SLUICE_ASSIGN_OR_RETURN(auto skipPrefixes, reader.stringList("skip_prefixes"));
  SLUICE_RETURN_NOT_OK(
      readCommonSourceOptions(reader, context, options.maxOutOfOrdernessMs, options.batchSize, options.rateLimit));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());

  if (!path.has_value() || path->empty()) return reader.error("missing option 'path' (the input file)");
  options.path = resolvePath(*path, context);
  if (format.has_value()) {
    auto parsed = parseFileFormat(*format);
    if (!parsed.has_value()) return reader.error("format: unknown format '" + *format + "' (formats: jsonl, csv)");
    options.format = *parsed;
  } else {
    options.format = options.path.ends_with(".csv") ? FileFormat::kCsv : FileFormat::kJsonLines;
  }
  if (onError.has_value()) {
    if (*onError == "fail") {
      options.onError = ErrorPolicy::kFail;
    } else if (*onError == "skip") {
      options.onError = ErrorPolicy::kSkip;
    } else {
      return reader.error("on_error: expected fail or skip, not '" + *onError + "'");
    }
  }
  if (skipPrefixes.has_value()) {
    for (const auto& prefix : *skipPrefixes) {
      if (prefix.empty()) return reader.error("skip_prefixes: an empty prefix would skip every line");
    }
    options.skipPrefixes = std::move(*skipPrefixes);
  }

  const bool hasKinds = kinds.IsDefined() && !kinds.IsNull();
  if (schema.has_value() == hasKinds) {
    return reader.error("declare either 'schema' (one kind of record) or 'kinds' (several), not " +
                        std::string(hasKinds ? "both" : "neither"));
  }
  if (schema.has_value()) {
    if (discriminator.has_value()) return reader.error("'discriminator' needs 'kinds'");
    SLUICE_ASSIGN_OR_RETURN(int index, eventTimeIndex(reader, "", **schema, eventTime));
    options.kinds.push_back({"", *schema, index});
  } else {
    if (eventTime.has_value()) return reader.error("with 'kinds', set 'event_time' per kind");
    if (!kinds.IsMap() || kinds.size() == 0) return reader.error("option 'kinds' must be a non-empty mapping");
    if (options.format == FileFormat::kJsonLines) {
      if (!discriminator.has_value() || discriminator->empty()) {
        return reader.error("'kinds' needs 'discriminator': the JSON field that names each record's kind");
      }
      options.discriminator = *discriminator;
    }
    for (const auto& entry : kinds) {
      if (!entry.first.IsScalar() || entry.first.Scalar().empty()) return reader.error("kinds: invalid kind name");
      const std::string name = entry.first.Scalar();
      OptionReader kindReader(entry.second, reader.context() + ": kinds: " + name);
      if (!entry.second.IsMap()) return kindReader.error("expected a mapping with 'schema' and 'event_time'");
      SLUICE_ASSIGN_OR_RETURN(auto kindSchema, kindReader.schema("schema"));
      SLUICE_ASSIGN_OR_RETURN(auto kindEventTime, kindReader.string("event_time"));
      SLUICE_RETURN_NOT_OK(kindReader.checkAllRead());
      if (!kindSchema.has_value()) return kindReader.error("missing option 'schema'");
      SLUICE_ASSIGN_OR_RETURN(int index, eventTimeIndex(kindReader, "", **kindSchema, kindEventTime));
      options.kinds.push_back({name, *kindSchema, index});
    }
  }
  return options;
}

Result<PlannedNode> planFileSource(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                   const PlanContext& context) {
  SLUICE_RETURN_NOT_OK(noInputs(OptionReader::forSpec(spec), inputs));
  SLUICE_ASSIGN_OR_RETURN(FileSourceOptions parsed, parseFileSourceOptions(spec, context));
  Status readable = SplitLineReader::checkReadable(parsed.path);
  if (!readable.ok()) return readable.withContext("source '" + spec.id + "'");

  auto options = std::make_shared<const FileSourceOptions>(std::move(parsed));
  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kSource;
  for (const auto& kind : options->kinds) node.outputs[kind.name] = StreamInfo{kind.schema, kind.eventTimeIndex};
  node.createReader = [options](int split, int numSplits) -> std::unique_ptr<SourceReader> {
    return std::make_unique<FileSourceReader>(options, split, numSplits);
  };
  return node;
}

Result<GeneratorOptions> parseGeneratorOptions(const NodeSpec& spec, const PlanContext& context) {
  OptionReader reader = OptionReader::forSpec(spec);
  GeneratorOptions options;
  options.sourceId = spec.id;
  SLUICE_ASSIGN_OR_RETURN(auto count, reader.integer("count"));
  SLUICE_ASSIGN_OR_RETURN(auto keys, reader.integer("keys"));
  SLUICE_ASSIGN_OR_RETURN(auto startTime, reader.integer("start_time"));
  SLUICE_ASSIGN_OR_RETURN(auto intervalMs, reader.integer("interval_ms"));
  SLUICE_RETURN_NOT_OK(
      readCommonSourceOptions(reader, context, options.maxOutOfOrdernessMs, options.batchSize, options.rateLimit));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  if (count.has_value()) {
    if (*count < 0) return reader.error("count must not be negative");
    options.count = *count;
  }
  if (keys.has_value()) {
    if (*keys < 1) return reader.error("keys must be positive");
    options.keys = *keys;
  }
  if (startTime.has_value()) options.startTime = *startTime;
  if (intervalMs.has_value()) {
    if (*intervalMs < 0) return reader.error("interval_ms must not be negative");
    options.intervalMs = *intervalMs;
  }
  return options;
}

Result<PlannedNode> planGeneratorSource(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                        const PlanContext& context) {
  SLUICE_RETURN_NOT_OK(noInputs(OptionReader::forSpec(spec), inputs));
  SLUICE_ASSIGN_OR_RETURN(GeneratorOptions parsed, parseGeneratorOptions(spec, context));
  auto options = std::make_shared<const GeneratorOptions>(std::move(parsed));
  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kSource;
  node.outputs[""] = StreamInfo{generatorSchema(), kGeneratorEventTimeIndex};
  node.createReader = [options](int split, int numSplits) -> std::unique_ptr<SourceReader> {
    return std::make_unique<GeneratorSourceReader>(options, split, numSplits);
  };
  return node;
}

}  // namespace sluice
