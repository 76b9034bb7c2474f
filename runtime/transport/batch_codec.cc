// Cap'n Proto encoding and validating, zero-copy decoding of stream messages. The
// only file that reads untrusted bytes: every kj::Exception stops here.
#include "runtime/transport/batch_codec.h"

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "transport_wire/stream.capnp.h"

namespace sluice::transport {

static_assert(std::endian::native == std::endian::little,
              "columns are read in place from Cap'n Proto lists, which are little-endian");

/// A MessageBuilder that builds into one malloc'd block sized from an estimate,
/// leaving the first word free for the segment table, so that a message that fits
/// (all of them, when the estimate holds) becomes an EncodedMessage without a copy.
/// Extra segments, should the estimate fall short, are flattened into a new block.
class MessageWriter final : public capnp::MessageBuilder {
 public:
  explicit MessageWriter(size_t estimatedWords) : firstSegmentWords_(std::max<size_t>(estimatedWords, 8)) {}

  kj::ArrayPtr<capnp::word> allocateSegment(unsigned minimumSize) override {
    if (!storage_ && minimumSize <= firstSegmentWords_) {
      // One extra word in front for the segment table.
      storage_ = allocateZeroedWords(firstSegmentWords_ + 1);
      return kj::arrayPtr(words(storage_.get()) + 1, firstSegmentWords_);
    }
    size_t size = std::max<size_t>(minimumSize, firstSegmentWords_);
    extraSegments_.push_back(allocateZeroedWords(size));
    return kj::arrayPtr(words(extraSegments_.back().get()), size);
  }

  /// The flat message: segment table followed by the segments.
  EncodedMessage finish() {
    auto segments = getSegmentsForOutput();
    if (segments.size() == 1 && storage_ && segments[0].begin() == words(storage_.get()) + 1) {
      uint32_t table[2] = {0, static_cast<uint32_t>(segments[0].size())};
      std::memcpy(storage_.get(), table, sizeof(table));
      return EncodedMessage(std::move(storage_), (segments[0].size() + 1) * sizeof(capnp::word));
    }
    // Segment table: count - 1, then each size, padded to a whole word.
    size_t tableWords = (segments.size() + 2) / 2;
    size_t totalWords = tableWords;
    for (const auto& segment : segments) totalWords += segment.size();
    auto flat = allocateZeroedWords(totalWords);
    auto* table = reinterpret_cast<uint32_t*>(flat.get());
    table[0] = static_cast<uint32_t>(segments.size() - 1);
    uint8_t* out = flat.get() + tableWords * sizeof(capnp::word);
    for (size_t i = 0; i < segments.size(); ++i) {
      table[i + 1] = static_cast<uint32_t>(segments[i].size());
      size_t bytes = segments[i].size() * sizeof(capnp::word);
      if (bytes > 0) std::memcpy(out, segments[i].begin(), bytes);
      out += bytes;
    }
    return EncodedMessage(std::move(flat), totalWords * sizeof(capnp::word));
  }

 private:
  using Storage = std::unique_ptr<uint8_t, EncodedMessage::FreeDeleter>;

  static Storage allocateZeroedWords(size_t count) {
    // Cap'n Proto requires zeroed segments; calloc gets them cheaply for large blocks.
    auto* block = static_cast<uint8_t*>(std::calloc(count, sizeof(capnp::word)));
    if (block == nullptr) throw std::bad_alloc();
    return Storage(block);
  }
  static capnp::word* words(uint8_t* block) { return reinterpret_cast<capnp::word*>(block); }

  size_t firstSegmentWords_;
  Storage storage_;
  std::vector<Storage> extraSegments_;
};

namespace {

namespace wire = ::sluice::transport::wire;

constexpr int64_t kMaxBlobBytes = (int64_t{1} << 29) - 1;
constexpr unsigned kControlMessageWords = 32;

/// The readable part of a Cap'n Proto error, on one line. Descriptions look like
/// "expected <condition>; Message contains out-of-bounds list pointer."
std::string describe(const kj::Exception& exception) {
  std::string text = exception.getDescription().cStr();
  size_t separator = text.rfind("; ");
  if (separator != std::string::npos && separator + 2 < text.size()) text = text.substr(separator + 2);
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

// ---------------------------------------------------------------------------
// Types

wire::ColumnType toWire(DataType type) {
  switch (type) {
    case DataType::kBool: return wire::ColumnType::BOOL;
    case DataType::kInt64: return wire::ColumnType::INT64;
    case DataType::kUInt64: return wire::ColumnType::UINT64;
    case DataType::kFloat64: return wire::ColumnType::FLOAT64;
    case DataType::kString: return wire::ColumnType::STRING;
    case DataType::kTimestamp: return wire::ColumnType::TIMESTAMP;
  }
  SLUICE_CHECK(false, "unknown DataType " + std::to_string(static_cast<int>(type)));
  return wire::ColumnType::BOOL;
}

std::optional<DataType> fromWire(wire::ColumnType type) {
  switch (type) {
    case wire::ColumnType::BOOL: return DataType::kBool;
    case wire::ColumnType::INT64: return DataType::kInt64;
    case wire::ColumnType::UINT64: return DataType::kUInt64;
    case wire::ColumnType::FLOAT64: return DataType::kFloat64;
    case wire::ColumnType::STRING: return DataType::kString;
    case wire::ColumnType::TIMESTAMP: return DataType::kTimestamp;
  }
  return std::nullopt;
}

std::string typeName(DataType type) { return std::string(dataTypeName(type)); }

std::string columnLabel(const Field& field) { return "column '" + field.name + "'"; }

// ---------------------------------------------------------------------------
// Encoding

template <typename T>
constexpr size_t structWords() {
  return T::_capnpPrivate::dataWordSize + T::_capnpPrivate::pointerCount;
}
constexpr size_t bytesToWords(size_t bytes) { return (bytes + 7) / 8; }

/// An upper bound of the words a batch message takes, so that it fits one segment.
size_t estimateBatchWords(const RecordBatch& batch) {
  auto rows = static_cast<size_t>(std::max<int64_t>(batch.numRows(), 0));
  size_t total = 1 + structWords<wire::StreamMessage>() + structWords<wire::Header>() + structWords<wire::Batch>();
  size_t numColumns = static_cast<size_t>(batch.numColumns());
  total += 2 + numColumns * (structWords<wire::Field>() + structWords<wire::Column>());
  for (int i = 0; i < batch.numColumns(); ++i) {
    if (batch.schema() && i < batch.schema()->numFields())
      total += bytesToWords(batch.schema()->field(i).name.size() + 1);
    const Column& column = *batch.column(i);
    if (column.hasNulls()) total += bytesToWords(static_cast<size_t>(bitmapBytes(static_cast<int64_t>(rows))));
    switch (column.type()) {
      case DataType::kBool: total += bytesToWords(static_cast<size_t>(bitmapBytes(static_cast<int64_t>(rows)))); break;
      case DataType::kString:
        total += bytesToWords((rows + 1) * sizeof(uint32_t)) + bytesToWords(column.data().size());
        break;
      default: total += rows; break;
    }
  }
  return total + 8;
}

/// Where a freshly initialised primitive list keeps its elements, for bulk copies.
template <typename List>
uint8_t* writableBytes(List list) {
  auto bytes = capnp::AnyList::Reader(list.asReader()).getRawBytes();
  // The bytes belong to the builder's own, writable segment.
  return const_cast<uint8_t*>(bytes.begin());
}

void copyBytes(uint8_t* target, const uint8_t* source, size_t size) {
  if (size > 0) std::memcpy(target, source, size);
}

Status tooShort(const Field& field, std::string_view what) {
  return Status::invalidArgument("cannot encode " + columnLabel(field) + ": its " + std::string(what) +
                                 " buffer is shorter than its length requires");
}

Status writeColumn(const Column& column, const Field& field, int64_t numRows, wire::Column::Builder out) {
  if (column.type() != field.type) {
    return Status::invalidArgument("cannot encode " + columnLabel(field) + ": it holds " + typeName(column.type()) +
                                   " but the schema says " + typeName(field.type));
  }
  if (column.length() != numRows) {
    return Status::invalidArgument("cannot encode " + columnLabel(field) + ": it has " +
                                   std::to_string(column.length()) + " rows, the batch " + std::to_string(numRows));
  }
  auto rows = static_cast<size_t>(numRows);
  auto bitmapSize = static_cast<size_t>(bitmapBytes(numRows));
  out.setType(toWire(column.type()));
  out.setNullCount(static_cast<uint64_t>(column.nullCount()));
  if (column.nullCount() > 0) {
    if (column.validity().size() < bitmapSize) return tooShort(field, "validity");
    auto validity = out.initValidity(static_cast<unsigned>(bitmapSize));
    copyBytes(validity.begin(), column.validity().data(), bitmapSize);
  }
  auto values = out.getValues();
  switch (column.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp:
    case DataType::kUInt64:
    case DataType::kFloat64: {
      if (column.values().size() < rows * 8) return tooShort(field, "value");
      uint8_t* target = column.type() == DataType::kUInt64    ? writableBytes(values.initUint64s(rows))
                        : column.type() == DataType::kFloat64 ? writableBytes(values.initFloat64s(rows))
                                                              : writableBytes(values.initInt64s(rows));
      copyBytes(target, column.values().data(), rows * 8);
      break;
    }
    case DataType::kBool: {
      if (column.values().size() < bitmapSize) return tooShort(field, "value");
      uint8_t* target = writableBytes(values.initBools(rows));
      copyBytes(target, column.values().data(), bitmapSize);
      // Bits past the last row stay zero, as Cap'n Proto expects.
      if (rows % 8 != 0) target[bitmapSize - 1] &= static_cast<uint8_t>((1u << (rows % 8)) - 1);
      break;
    }
    case DataType::kString: {
      if (column.values().size() < (rows + 1) * sizeof(uint32_t)) return tooShort(field, "offset");
      uint32_t end = column.stringOffsets()[rows];
      if (end > column.data().size()) return tooShort(field, "character");
      if (end > kMaxBlobBytes) {
        return Status::invalidArgument("cannot encode " + columnLabel(field) + ": it holds " + std::to_string(end) +
                                       " bytes of strings, more than one message can carry (512 MiB); use "
                                       "smaller batches");
      }
      auto strings = values.initStrings();
      copyBytes(writableBytes(strings.initOffsets(rows + 1)), column.values().data(), (rows + 1) * sizeof(uint32_t));
      copyBytes(strings.initData(end).begin(), column.data().data(), end);
      break;
    }
  }
  return Status::OK();
}

Status writeBatch(const RecordBatch& batch, wire::Batch::Builder out) {
  int numFields = batch.schema() ? batch.schema()->numFields() : 0;
  if (batch.numColumns() != numFields) {
    return Status::invalidArgument("cannot encode a batch with " + std::to_string(batch.numColumns()) +
                                   " columns for " + std::to_string(numFields) + " schema fields");
  }
  if (batch.numRows() < 0 || batch.numRows() > kMaxRowsPerMessage) {
    return Status::invalidArgument("cannot encode a batch of " + std::to_string(batch.numRows()) +
                                   " rows; one message carries at most " + std::to_string(kMaxRowsPerMessage));
  }
  if (batch.eventTimeIndex() < -1 || batch.eventTimeIndex() >= numFields) {
    return Status::invalidArgument("cannot encode a batch whose event-time index " +
                                   std::to_string(batch.eventTimeIndex()) + " is out of range");
  }
  auto fields = out.initFields(static_cast<unsigned>(numFields));
  for (int i = 0; i < numFields; ++i) {
    const Field& field = batch.schema()->field(i);
    fields[i].setName(capnp::Text::Reader(field.name.data(), field.name.size()));
    fields[i].setType(toWire(field.type));
  }
  out.setNumRows(static_cast<uint64_t>(batch.numRows()));
  out.setEventTimeIndex(batch.eventTimeIndex());
  auto columns = out.initColumns(static_cast<unsigned>(numFields));
  for (int i = 0; i < numFields; ++i) {
    SLUICE_RETURN_NOT_OK(writeColumn(*batch.column(i), batch.schema()->field(i), batch.numRows(), columns[i]));
  }
  return Status::OK();
}

void writeHeader(const FrameHeader& header, wire::Header::Builder out) {
  out.setVersion(kWireFormatVersion);
  out.setJobAttempt(header.jobAttempt);
  out.setChannelId(header.channelId);
  out.setSequence(header.sequence);
  out.setJobKey(header.jobKey);
}

/// Runs `build` on a fresh message and flattens it, turning library exceptions into a Status.
template <typename Build>
Result<EncodedMessage> buildMessage(size_t estimatedWords, const FrameHeader& header, Build&& build) {
  try {
    MessageWriter writer(estimatedWords);
    auto message = writer.initRoot<wire::StreamMessage>();
    writeHeader(header, message.initHeader());
    SLUICE_RETURN_NOT_OK(build(message.initBody()));
    return writer.finish();
  } catch (const kj::Exception& exception) {
    return Status::invalidArgument("cannot encode stream message: " + describe(exception));
  } catch (const std::bad_alloc&) {
    return Status::internal("out of memory encoding a stream message");
  }
}

// ---------------------------------------------------------------------------
// Decoding

Status corrupt(std::string message) { return Status::corruption("stream message: " + std::move(message)); }

/// A Buffer over a primitive list's elements inside the message, after checking
/// that they are packed exactly as the Column layout expects.
template <typename List>
Result<Buffer> listBuffer(List list, capnp::ElementSize elementSize, int64_t expectedCount, const Field& field,
                          std::string_view what, const std::shared_ptr<const void>& owner) {
  capnp::AnyList::Reader any(list);
  if (static_cast<int64_t>(any.size()) != expectedCount) {
    return corrupt(columnLabel(field) + " has " + std::to_string(any.size()) + " " + std::string(what) + ", expected " +
                   std::to_string(expectedCount));
  }
  if (expectedCount == 0) return Buffer();
  if (any.getElementSize() != elementSize) {
    return corrupt(columnLabel(field) + " " + std::string(what) + " are not a packed list of the column's type");
  }
  auto bytes = any.getRawBytes();
  return Buffer(owner, bytes.begin(), bytes.size());
}

Status wrongLayout(const Field& field) {
  return corrupt(columnLabel(field) + " of type " + typeName(field.type) + " carries values of another type");
}

Result<ColumnPtr> readColumn(wire::Column::Reader in, const Field& field, int64_t numRows,
                             const std::shared_ptr<const void>& owner) {
  auto wireType = in.getType();
  auto type = fromWire(wireType);
  if (!type) {
    return corrupt(columnLabel(field) + " has unknown type code " + std::to_string(static_cast<unsigned>(wireType)));
  }
  if (*type != field.type) {
    return corrupt(columnLabel(field) + " holds " + typeName(*type) + " but its field says " + typeName(field.type));
  }
  uint64_t nullCount = in.getNullCount();
  if (nullCount > static_cast<uint64_t>(numRows)) {
    return corrupt(columnLabel(field) + " has " + std::to_string(nullCount) + " nulls in " + std::to_string(numRows) +
                   " rows");
  }
  Buffer values;
  Buffer data;
  auto valuesIn = in.getValues();
  using Which = wire::Column::Values::Which;
  switch (*type) {
    case DataType::kInt64:
    case DataType::kTimestamp: {
      if (valuesIn.which() != Which::INT64S) return wrongLayout(field);
      SLUICE_ASSIGN_OR_RETURN(
          values, listBuffer(valuesIn.getInt64s(), capnp::ElementSize::EIGHT_BYTES, numRows, field, "values", owner));
      break;
    }
    case DataType::kUInt64: {
      if (valuesIn.which() != Which::UINT64S) return wrongLayout(field);
      SLUICE_ASSIGN_OR_RETURN(
          values, listBuffer(valuesIn.getUint64s(), capnp::ElementSize::EIGHT_BYTES, numRows, field, "values", owner));
      break;
    }
    case DataType::kFloat64: {
      if (valuesIn.which() != Which::FLOAT64S) return wrongLayout(field);
      SLUICE_ASSIGN_OR_RETURN(
          values, listBuffer(valuesIn.getFloat64s(), capnp::ElementSize::EIGHT_BYTES, numRows, field, "values", owner));
      break;
    }
    case DataType::kBool: {
      if (valuesIn.which() != Which::BOOLS) return wrongLayout(field);
      SLUICE_ASSIGN_OR_RETURN(
          values, listBuffer(valuesIn.getBools(), capnp::ElementSize::BIT, numRows, field, "values", owner));
      break;
    }
    case DataType::kString: {
      if (valuesIn.which() != Which::STRINGS) return wrongLayout(field);
      auto strings = valuesIn.getStrings();
      SLUICE_ASSIGN_OR_RETURN(values, listBuffer(strings.getOffsets(), capnp::ElementSize::FOUR_BYTES, numRows + 1,
                                                 field, "string offsets", owner));
      auto characters = strings.getData();
      data = Buffer(owner, characters.begin(), characters.size());
      break;
    }
  }
  Buffer validity;
  if (nullCount > 0) {
    auto bitmap = in.getValidity();
    if (static_cast<int64_t>(bitmap.size()) < bitmapBytes(numRows)) {
      return corrupt(columnLabel(field) + " has a validity bitmap of " + std::to_string(bitmap.size()) + " bytes for " +
                     std::to_string(numRows) + " rows");
    }
    validity = Buffer(owner, bitmap.begin(), bitmap.size());
  }
  auto column = std::make_shared<const Column>(*type, numRows, std::move(values), std::move(data), std::move(validity),
                                               static_cast<int64_t>(nullCount));
  std::string why;
  if (!column->validate(&why)) return corrupt(columnLabel(field) + ": " + why);
  return ColumnPtr(std::move(column));
}

/// The batch's schema; `lastSchema` when the fields are the same, so that
/// consecutive batches share one SchemaPtr.
Result<SchemaPtr> readSchema(capnp::List<wire::Field>::Reader in, SchemaPtr& lastSchema) {
  // The common case, the same fields as the previous batch, allocates nothing.
  bool sameAsLast = lastSchema && lastSchema->numFields() == static_cast<int>(in.size());
  for (unsigned i = 0; sameAsLast && i < in.size(); ++i) {
    auto fieldIn = in[i];
    auto name = fieldIn.getName();
    const Field& last = lastSchema->field(static_cast<int>(i));
    sameAsLast = fromWire(fieldIn.getType()) == last.type && last.name == std::string_view(name.cStr(), name.size());
  }
  if (sameAsLast) return lastSchema;

  std::vector<Field> fields;
  fields.reserve(in.size());
  for (unsigned i = 0; i < in.size(); ++i) {
    auto fieldIn = in[i];
    auto wireType = fieldIn.getType();
    auto type = fromWire(wireType);
    if (!type) {
      return corrupt("field " + std::to_string(i) + " has unknown type code " +
                     std::to_string(static_cast<unsigned>(wireType)));
    }
    auto name = fieldIn.getName();
    fields.push_back(Field{std::string(name.cStr(), name.size()), *type});
  }
  auto schema = Schema::make(std::move(fields));
  if (!schema.ok()) return corrupt("invalid batch schema: " + schema.status().message());
  lastSchema = *schema;
  return lastSchema;
}

Result<RecordBatch> readBatch(wire::Batch::Reader in, SchemaPtr& lastSchema, const std::shared_ptr<const void>& owner) {
  uint64_t wireRows = in.getNumRows();
  if (wireRows > static_cast<uint64_t>(kMaxRowsPerMessage)) {
    return corrupt("batch claims " + std::to_string(wireRows) + " rows, more than the limit " +
                   std::to_string(kMaxRowsPerMessage));
  }
  auto numRows = static_cast<int64_t>(wireRows);
  auto fieldsIn = in.getFields();
  auto columnsIn = in.getColumns();
  if (columnsIn.size() != fieldsIn.size()) {
    return corrupt("batch has " + std::to_string(columnsIn.size()) + " columns for " + std::to_string(fieldsIn.size()) +
                   " fields");
  }
  SLUICE_ASSIGN_OR_RETURN(SchemaPtr schema, readSchema(fieldsIn, lastSchema));
  int32_t eventTimeIndex = in.getEventTimeIndex();
  if (eventTimeIndex < -1 || eventTimeIndex >= schema->numFields()) {
    return corrupt("event-time index " + std::to_string(eventTimeIndex) + " is out of range for " +
                   std::to_string(schema->numFields()) + " fields");
  }
  if (eventTimeIndex >= 0 && !isInt64Like(schema->field(eventTimeIndex).type)) {
    return corrupt("event-time field '" + schema->field(eventTimeIndex).name + "' has type " +
                   typeName(schema->field(eventTimeIndex).type) + ", expected timestamp or int64");
  }
  std::vector<ColumnPtr> columns;
  columns.reserve(columnsIn.size());
  for (unsigned i = 0; i < columnsIn.size(); ++i) {
    SLUICE_ASSIGN_OR_RETURN(ColumnPtr column,
                            readColumn(columnsIn[i], schema->field(static_cast<int>(i)), numRows, owner));
    columns.push_back(std::move(column));
  }
  return RecordBatch(std::move(schema), numRows, std::move(columns), eventTimeIndex);
}

/// Decodes a message whose `words` are aligned and kept alive by `owner`.
Result<DecodedMessage> readMessage(const capnp::word* words, size_t wordCount, SchemaPtr& lastSchema,
                                   const std::shared_ptr<const void>& owner) {
  capnp::ReaderOptions options;
  // A well-formed message reads each word about once; the slack allows small
  // messages while still bounding amplification by shared pointers.
  options.traversalLimitInWords = wordCount * 4 + 1024;
  // StreamMessage > Batch > columns > Column > values needs 5 levels.
  options.nestingLimit = 16;
  capnp::FlatArrayMessageReader reader(kj::arrayPtr(words, wordCount), options);
  if (reader.getEnd() != words + wordCount) {
    return corrupt(std::to_string((words + wordCount - reader.getEnd()) * sizeof(capnp::word)) +
                   " trailing bytes after the message");
  }
  auto message = reader.getRoot<wire::StreamMessage>();
  auto headerIn = message.getHeader();
  if (headerIn.getVersion() != kWireFormatVersion) {
    return corrupt("unsupported wire format version " + std::to_string(headerIn.getVersion()) +
                   " (this build speaks version " + std::to_string(kWireFormatVersion) +
                   "); run the same Sluice release on every worker");
  }
  FrameHeader header{headerIn.getJobAttempt(), headerIn.getChannelId(), headerIn.getSequence(), headerIn.getJobKey()};
  auto body = message.getBody();
  using Which = wire::StreamMessage::Body::Which;
  switch (body.which()) {
    case Which::BATCH: {
      SLUICE_ASSIGN_OR_RETURN(RecordBatch batch, readBatch(body.getBatch(), lastSchema, owner));
      return DecodedMessage{header, StreamElement(std::move(batch))};
    }
    case Which::WATERMARK: return DecodedMessage{header, StreamElement(Watermark{body.getWatermark().getTimestamp()})};
    case Which::CHECKPOINT_BARRIER: {
      auto barrier = body.getCheckpointBarrier();
      if (barrier.getUnaligned()) return corrupt("unaligned checkpoint barriers are not supported by this build");
      return DecodedMessage{header,
                            StreamElement(CheckpointBarrier{barrier.getCheckpointId(), barrier.getTimestamp()})};
    }
    case Which::END_OF_STREAM: return DecodedMessage{header, StreamElement(EndOfStream{})};
    case Which::CREDIT: {
      auto credit = body.getCredit();
      return DecodedMessage{header, CreditGrant{credit.getChannelId(), credit.getCredits()}};
    }
  }
  return corrupt("unknown message kind " + std::to_string(static_cast<unsigned>(body.which())));
}

}  // namespace

Result<EncodedMessage> encodeElement(const StreamElement& element, const FrameHeader& header) {
  if (const auto* batch = std::get_if<RecordBatch>(&element)) {
    return buildMessage(estimateBatchWords(*batch), header, [batch](wire::StreamMessage::Body::Builder body) {
      return writeBatch(*batch, body.initBatch());
    });
  }
  return buildMessage(kControlMessageWords, header, [&element](wire::StreamMessage::Body::Builder body) {
    if (const auto* watermark = std::get_if<Watermark>(&element)) {
      body.initWatermark().setTimestamp(watermark->timestamp);
    } else if (const auto* barrier = std::get_if<CheckpointBarrier>(&element)) {
      auto out = body.initCheckpointBarrier();
      out.setCheckpointId(barrier->checkpointId);
      out.setTimestamp(barrier->timestamp);
    } else {
      body.setEndOfStream();
    }
    return Status::OK();
  });
}

Result<EncodedMessage> encodeCredit(const CreditGrant& credit, const FrameHeader& header) {
  return buildMessage(kControlMessageWords, header, [&credit](wire::StreamMessage::Body::Builder body) {
    auto out = body.initCredit();
    out.setChannelId(credit.channelId);
    out.setCredits(credit.credits);
    return Status::OK();
  });
}

Result<DecodedMessage> MessageDecoder::decode(const uint8_t* data, size_t size, std::shared_ptr<const void> owner) {
  if (size == 0) return corrupt("empty message");
  if (data == nullptr) return Status::invalidArgument("stream message: null data with size " + std::to_string(size));
  if (size % sizeof(capnp::word) != 0) {
    return corrupt("size " + std::to_string(size) + " is not a multiple of 8 bytes (truncated?)");
  }
  size_t wordCount = size / sizeof(capnp::word);
  const uint8_t* bytes = data;
  if (!owner || reinterpret_cast<uintptr_t>(data) % alignof(capnp::word) != 0) {
    // Read in place only when aligned and kept alive; otherwise copy once.
    std::shared_ptr<uint64_t[]> copy(new (std::nothrow) uint64_t[wordCount]);
    if (!copy) return Status::internal("out of memory copying a " + std::to_string(size) + "-byte stream message");
    std::memcpy(copy.get(), data, size);
    bytes = reinterpret_cast<const uint8_t*>(copy.get());
    owner = std::move(copy);
  }
  try {
    return readMessage(reinterpret_cast<const capnp::word*>(bytes), wordCount, lastSchema_, owner);
  } catch (const kj::Exception& exception) {
    return corrupt("malformed: " + describe(exception));
  } catch (const std::bad_alloc&) {
    return Status::internal("out of memory decoding a " + std::to_string(size) + "-byte stream message");
  }
}

Result<DecodedMessage> MessageDecoder::decode(const Buffer& message) {
  auto owner = std::make_shared<const Buffer>(message);
  return decode(owner->data(), owner->size(), owner);
}

Result<DecodedMessage> decodeMessage(const uint8_t* data, size_t size, std::shared_ptr<const void> owner) {
  return MessageDecoder().decode(data, size, std::move(owner));
}

Result<DecodedMessage> decodeMessage(const Buffer& message) { return MessageDecoder().decode(message); }

}  // namespace sluice::transport
