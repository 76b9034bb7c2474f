// NexmarkSourceReader and its planner factory: event numbers of one split → three record batches per poll.
#include "operators/nexmark/nexmark_source.h"

#include <array>
#include <atomic>

#include "operators/option_reader.h"
#include "operators/source_position.h"

namespace sluice {
namespace {

constexpr std::string_view kPositionVersion = "nexmark-v1";
constexpr int kPerson = 0;
constexpr int kAuction = 1;
constexpr int kBid = 2;
// Storage blocks kept per column for reuse; batches held longer downstream get fresh, unpooled storage.
constexpr size_t kPooledStorage = 8;

std::vector<NexmarkKind> makeKinds() {
  auto schema = [](std::vector<Field> fields) { return *Schema::make(std::move(fields)); };
  const SchemaPtr person = schema({{"id", DataType::kInt64},
                                   {"name", DataType::kString},
                                   {"emailAddress", DataType::kString},
                                   {"creditCard", DataType::kString},
                                   {"city", DataType::kString},
                                   {"state", DataType::kString},
                                   {"dateTime", DataType::kTimestamp},
                                   {"extra", DataType::kString}});
  const SchemaPtr auction = schema({{"id", DataType::kInt64},
                                    {"itemName", DataType::kString},
                                    {"description", DataType::kString},
                                    {"initialBid", DataType::kInt64},
                                    {"reserve", DataType::kInt64},
                                    {"dateTime", DataType::kTimestamp},
                                    {"expires", DataType::kTimestamp},
                                    {"seller", DataType::kInt64},
                                    {"category", DataType::kInt64},
                                    {"extra", DataType::kString}});
  const SchemaPtr bid = schema({{"auction", DataType::kInt64},
                                {"bidder", DataType::kInt64},
                                {"price", DataType::kInt64},
                                {"channel", DataType::kString},
                                {"url", DataType::kString},
                                {"dateTime", DataType::kTimestamp},
                                {"extra", DataType::kString}});
  return {{"person", person, 6}, {"auction", auction, 5}, {"bid", bid, 5}};
}

}  // namespace

const std::vector<NexmarkKind>& nexmarkKinds() {
  static const std::vector<NexmarkKind> kinds = makeKinds();
  return kinds;
}

RecycledColumn::RecycledColumn(DataType type) : type_(type) { acquire(); }

void RecycledColumn::acquire() {
  for (const auto& storage : pool_) {
    if (storage.use_count() == 1) {
      // The last batch using it released it on another thread: see its writes before reusing the memory.
      std::atomic_thread_fence(std::memory_order_acquire);
      storage_ = storage;
      break;
    }
  }
  if (storage_ == nullptr) {
    storage_ = std::make_shared<Storage>();
    if (pool_.size() < kPooledStorage) pool_.push_back(storage_);
  }
  storage_->fixed.clear();
  storage_->offsets.clear();
  storage_->chars.clear();
  if (type_ == DataType::kString) storage_->offsets.push_back(0);
}

ColumnPtr RecycledColumn::finish() {
  std::shared_ptr<Storage> storage = std::move(storage_);
  acquire();
  if (type_ == DataType::kString) {
    const auto* offsets = reinterpret_cast<const uint8_t*>(storage->offsets.data());
    const auto* chars = reinterpret_cast<const uint8_t*>(storage->chars.data());
    const auto length = static_cast<int64_t>(storage->offsets.size()) - 1;
    return std::make_shared<const Column>(type_, length, Buffer(storage, offsets, storage->offsets.size() * 4),
                                          Buffer(storage, chars, storage->chars.size()), Buffer(), 0);
  }
  const auto* values = reinterpret_cast<const uint8_t*>(storage->fixed.data());
  const auto length = static_cast<int64_t>(storage->fixed.size());
  return std::make_shared<const Column>(type_, length, Buffer(storage, values, storage->fixed.size() * 8), Buffer(),
                                        Buffer(), 0);
}

RecycledBatchWriter::RecycledBatchWriter(SchemaPtr schema, int eventTimeIndex)
    : schema_(std::move(schema)), eventTimeIndex_(eventTimeIndex) {
  columns_.reserve(schema_->numFields());
  for (int field = 0; field < schema_->numFields(); ++field) columns_.emplace_back(schema_->field(field).type);
}

RecordBatch RecycledBatchWriter::finish() {
  std::vector<ColumnPtr> columns;
  columns.reserve(columns_.size());
  for (auto& column : columns_) columns.push_back(column.finish());
  const int64_t rows = rows_;
  rows_ = 0;
  return RecordBatch(schema_, rows, std::move(columns), eventTimeIndex_);
}

NexmarkSourceReader::NexmarkSourceReader(std::shared_ptr<const NexmarkSourceOptions> options, int split, int numSplits)
    : options_(std::move(options)),
      split_(split),
      numSplits_(numSplits),
      next_(split),
      generator_(options_->generator),
      watermarks_(options_->maxOutOfOrdernessMs) {
  for (const auto& kind : nexmarkKinds()) writers_.emplace_back(kind.schema, kind.eventTimeIndex);
  if (options_->rateLimit.has_value() && *options_->rateLimit > 0 && numSplits > 0) {
    rateLimiter_.emplace(*options_->rateLimit / numSplits);
  }
}

Status NexmarkSourceReader::open(const OperatorContext& context) {
  (void)context;
  return checkSplitInRange(options_->sourceId, split_, numSplits_);
}

Result<bool> NexmarkSourceReader::pollNext(Output& out) {
  const int64_t end = options_->events;
  if (next_ >= end) return false;
  int64_t limit = std::max<int64_t>(1, options_->batchSize);
  if (rateLimiter_.has_value()) limit = std::min(limit, rateLimiter_->maxRecordsPerPoll());
  const int64_t rows = std::min(limit, (end - next_ + numSplits_ - 1) / numSplits_);
  int64_t eventNumber = next_;
  for (int64_t i = 0; i < rows; ++i, eventNumber += numSplits_) {
    switch (nexmark::eventKindOf(eventNumber)) {
      case nexmark::EventKind::kPerson: {
        const nexmark::Person event = generator_.person(eventNumber);
        RecycledBatchWriter& builder = writers_[kPerson];
        builder.addRow();
        builder.column(0).appendInt64(event.id);
        builder.column(1).appendString(event.name);
        builder.column(2).appendString(event.emailAddress);
        builder.column(3).appendString(event.creditCard);
        builder.column(4).appendString(event.city);
        builder.column(5).appendString(event.state);
        builder.column(6).appendInt64(event.dateTime);
        builder.column(7).appendString(event.extra);
        break;
      }
      case nexmark::EventKind::kAuction: {
        const nexmark::Auction event = generator_.auction(eventNumber);
        RecycledBatchWriter& builder = writers_[kAuction];
        builder.addRow();
        builder.column(0).appendInt64(event.id);
        builder.column(1).appendString(event.itemName);
        builder.column(2).appendString(event.description);
        builder.column(3).appendInt64(event.initialBid);
        builder.column(4).appendInt64(event.reserve);
        builder.column(5).appendInt64(event.dateTime);
        builder.column(6).appendInt64(event.expires);
        builder.column(7).appendInt64(event.seller);
        builder.column(8).appendInt64(event.category);
        builder.column(9).appendString(event.extra);
        break;
      }
      case nexmark::EventKind::kBid: {
        const nexmark::Bid event = generator_.bid(eventNumber);
        RecycledBatchWriter& builder = writers_[kBid];
        builder.addRow();
        builder.column(0).appendInt64(event.auction);
        builder.column(1).appendInt64(event.bidder);
        builder.column(2).appendInt64(event.price);
        builder.column(3).appendString(event.channel);
        builder.column(4).appendString(event.url);
        builder.column(5).appendInt64(event.dateTime);
        builder.column(6).appendString(event.extra);
        break;
      }
    }
  }
  next_ = eventNumber;
  recordsRead_ += rows;
  // Event times grow with the event number, so the last one generated is the largest.
  watermarks_.observe(generator_.timestampOf(eventNumber - numSplits_));
  const auto& kinds = nexmarkKinds();
  for (size_t kind = 0; kind < writers_.size(); ++kind) {
    if (writers_[kind].numRows() == 0) continue;
    SLUICE_RETURN_NOT_OK(out.emitSide(kinds[kind].name, writers_[kind].finish()));
  }
  if (auto watermark = watermarks_.nextWatermark()) SLUICE_RETURN_NOT_OK(out.emitWatermark(*watermark));
  if (rateLimiter_.has_value()) rateLimiter_->acquire(rows);
  return next_ < end;
}

std::string NexmarkSourceReader::snapshotPosition() const {
  const std::array<int64_t, 4> values = {next_, recordsRead_, watermarks_.maxEventTime(),
                                         watermarks_.emittedWatermark()};
  return encodeSourcePosition(kPositionVersion, split_, numSplits_, values);
}

Status NexmarkSourceReader::restorePosition(const std::string& position) {
  if (position.empty()) return Status::OK();
  // The split must be valid before the event-number check below divides by numSplits_.
  SLUICE_RETURN_NOT_OK(checkSplitInRange(options_->sourceId, split_, numSplits_));
  std::array<int64_t, 4> values{};
  SLUICE_RETURN_NOT_OK(
      decodeSourcePosition(kPositionVersion, position, options_->sourceId, split_, numSplits_, values));
  const auto [next, recordsRead, maxEventTime, emittedWatermark] = values;
  if (next < split_ || (next - split_) % numSplits_ != 0 || next - numSplits_ >= options_->events) {
    return Status::corruption("source '" + options_->sourceId + "': saved position " + std::to_string(next) +
                              " is not an event number of split " + std::to_string(split_) + " of " +
                              std::to_string(numSplits_) + " below " + std::to_string(options_->events));
  }
  next_ = next;
  recordsRead_ = recordsRead;
  watermarks_.restore(maxEventTime, emittedWatermark);
  return Status::OK();
}

Result<NexmarkSourceOptions> parseNexmarkSourceOptions(const NodeSpec& spec, const PlanContext& context) {
  (void)context;
  OptionReader reader = OptionReader::forSpec(spec);
  NexmarkSourceOptions options;
  options.sourceId = spec.id;
  SLUICE_ASSIGN_OR_RETURN(auto events, reader.integer("events"));
  SLUICE_ASSIGN_OR_RETURN(auto rate, reader.integer("rate"));
  SLUICE_ASSIGN_OR_RETURN(auto rateLimit, reader.number("rate_limit"));
  SLUICE_ASSIGN_OR_RETURN(auto seed, reader.integer("seed"));
  SLUICE_ASSIGN_OR_RETURN(auto startTime, reader.integer("start_time"));
  SLUICE_ASSIGN_OR_RETURN(auto batchSize, reader.integer("batch_size"));
  SLUICE_ASSIGN_OR_RETURN(auto watermark, reader.mapping("watermark"));
  if (watermark.has_value()) {
    SLUICE_ASSIGN_OR_RETURN(auto bound, watermark->duration("max_out_of_orderness"));
    if (bound.has_value()) options.maxOutOfOrdernessMs = bound->count();
    if (options.maxOutOfOrdernessMs < 0) return watermark->error("max_out_of_orderness must not be negative");
    SLUICE_RETURN_NOT_OK(watermark->checkAllRead());
  }
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  if (events.has_value()) {
    if (*events < 0) return reader.error("events must not be negative, not " + std::to_string(*events));
    options.events = *events;
  }
  if (rate.has_value()) {
    if (*rate < 1) return reader.error("rate must be positive events per second, not " + std::to_string(*rate));
    options.generator.eventsPerSecond = *rate;
  }
  if (rateLimit.has_value()) {
    if (!(*rateLimit > 0)) return reader.error("rate_limit must be positive events per second");
    options.rateLimit = *rateLimit;
  }
  if (seed.has_value()) options.generator.seed = static_cast<uint64_t>(*seed);
  if (startTime.has_value()) {
    if (*startTime < 0) return reader.error("start_time must not be negative");
    options.generator.baseTime = *startTime;
  }
  if (batchSize.has_value()) {
    if (*batchSize < 1) return reader.error("batch_size must be positive");
    options.batchSize = *batchSize;
  }
  return options;
}

Result<PlannedNode> planNexmarkSource(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                      const PlanContext& context) {
  OptionReader reader = OptionReader::forSpec(spec);
  if (!inputs.empty()) return reader.error("a source takes no inputs");
  SLUICE_ASSIGN_OR_RETURN(NexmarkSourceOptions parsed, parseNexmarkSourceOptions(spec, context));
  auto options = std::make_shared<const NexmarkSourceOptions>(std::move(parsed));
  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kSource;
  for (const auto& kind : nexmarkKinds()) node.outputs[kind.name] = StreamInfo{kind.schema, kind.eventTimeIndex};
  node.createReader = [options](int split, int numSplits) -> std::unique_ptr<SourceReader> {
    return std::make_unique<NexmarkSourceReader>(options, split, numSplits);
  };
  return node;
}

}  // namespace sluice
