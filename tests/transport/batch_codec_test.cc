// Tests for the stream message codec: round trips, zero-copy decoding, and that
// truncated, flipped or hand-crafted bad messages are rejected, never crash.
#include "runtime/transport/batch_codec.h"

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tests/testing/status_matchers.h"
#include "transport_wire/stream.capnp.h"

namespace sluice::transport {
namespace {

namespace wire = ::sluice::transport::wire;

SchemaPtr makeSchema(std::vector<Field> fields) { return Schema::make(std::move(fields)).value(); }

/// One column of every type, `rows` rows, with nulls in every column when `withNulls`.
RecordBatch allTypesBatch(int64_t rows, bool withNulls) {
  auto schema = makeSchema({{"flag", DataType::kBool},
                            {"count", DataType::kInt64},
                            {"id", DataType::kUInt64},
                            {"price", DataType::kFloat64},
                            {"name", DataType::kString},
                            {"ts", DataType::kTimestamp}});
  RecordBatchBuilder builder(schema, 5);
  for (int64_t row = 0; row < rows; ++row) {
    auto isNull = [&](int column) { return withNulls && (row + column) % 5 == 0; };
    isNull(0) ? builder.column(0).appendNull() : builder.column(0).appendBool(row % 3 == 0);
    isNull(1) ? builder.column(1).appendNull() : builder.column(1).appendInt64(row * -7);
    isNull(2) ? builder.column(2).appendNull() : builder.column(2).appendUInt64(~uint64_t{0} - row);
    isNull(3) ? builder.column(3).appendNull() : builder.column(3).appendFloat64(row * 0.25);
    isNull(4) ? builder.column(4).appendNull() : builder.column(4).appendString(std::string(row % 4, 'a' + row % 26));
    // The event-time column has no nulls.
    builder.column(5).appendInt64(1'700'000'000'000 + row);
  }
  return builder.finish();
}

void expectSameBatch(const RecordBatch& expected, const RecordBatch& actual) {
  ASSERT_TRUE(expected.schema() != nullptr && actual.schema() != nullptr);
  EXPECT_EQ(*expected.schema(), *actual.schema());
  ASSERT_EQ(expected.numRows(), actual.numRows());
  ASSERT_EQ(expected.numColumns(), actual.numColumns());
  EXPECT_EQ(expected.eventTimeIndex(), actual.eventTimeIndex());
  for (int i = 0; i < expected.numColumns(); ++i) {
    const Column& want = *expected.column(i);
    const Column& got = *actual.column(i);
    std::string why;
    EXPECT_TRUE(got.validate(&why)) << why;
    ASSERT_EQ(want.type(), got.type());
    ASSERT_EQ(want.nullCount(), got.nullCount()) << "column " << i;
    for (int64_t row = 0; row < want.length(); ++row) {
      ASSERT_EQ(want.isNull(row), got.isNull(row)) << "column " << i << " row " << row;
      if (want.isNull(row)) continue;
      switch (want.type()) {
        case DataType::kBool: ASSERT_EQ(want.boolAt(row), got.boolAt(row)); break;
        case DataType::kInt64:
        case DataType::kTimestamp: ASSERT_EQ(want.int64s()[row], got.int64s()[row]); break;
        case DataType::kUInt64: ASSERT_EQ(want.uint64s()[row], got.uint64s()[row]); break;
        case DataType::kFloat64: ASSERT_EQ(want.float64s()[row], got.float64s()[row]); break;
        case DataType::kString: ASSERT_EQ(want.stringAt(row), got.stringAt(row)); break;
      }
    }
  }
}

/// Reads every value of a decoded batch, so that ASan sees any out-of-bounds view.
int64_t touchEverything(const RecordBatch& batch) {
  int64_t sum = 0;
  for (const auto& column : batch.columns()) {
    for (int64_t row = 0; row < column->length(); ++row) {
      if (column->isNull(row)) continue;
      switch (column->type()) {
        case DataType::kBool: sum += column->boolAt(row); break;
        case DataType::kString: sum += static_cast<int64_t>(column->stringAt(row).size()); break;
        default: sum += column->int64s()[row] & 1; break;
      }
    }
  }
  return sum;
}

Result<RecordBatch> roundTrip(const RecordBatch& batch) {
  SLUICE_ASSIGN_OR_RETURN(EncodedMessage message, encodeElement(batch, FrameHeader{}));
  SLUICE_ASSIGN_OR_RETURN(DecodedMessage decoded, decodeMessage(std::move(message).toBuffer()));
  return std::get<RecordBatch>(decoded.element());
}

bool pointsInto(const Buffer& buffer, const uint8_t* begin, size_t size) {
  return buffer.data() >= begin && buffer.data() + buffer.size() <= begin + size;
}

/// Decodes a message built by hand with the generated Cap'n Proto API.
template <typename Fill>
Result<DecodedMessage> decodeCrafted(Fill fill) {
  capnp::MallocMessageBuilder builder;
  auto message = builder.initRoot<wire::StreamMessage>();
  message.initHeader().setVersion(kWireFormatVersion);
  fill(message);
  auto owner = std::make_shared<kj::Array<capnp::word>>(capnp::messageToFlatArray(builder));
  return decodeMessage(reinterpret_cast<const uint8_t*>(owner->begin()), owner->size() * sizeof(capnp::word), owner);
}

/// A valid two-column, three-row batch ("a": int64, "s": string) that `mutate` then breaks.
template <typename Mutate>
Result<DecodedMessage> decodeCraftedBatch(Mutate mutate) {
  return decodeCrafted([&](wire::StreamMessage::Builder message) {
    auto batch = message.initBody().initBatch();
    auto fields = batch.initFields(2);
    fields[0].setName("a");
    fields[0].setType(wire::ColumnType::INT64);
    fields[1].setName("s");
    fields[1].setType(wire::ColumnType::STRING);
    batch.setNumRows(3);
    auto columns = batch.initColumns(2);
    columns[0].setType(wire::ColumnType::INT64);
    auto ints = columns[0].getValues().initInt64s(3);
    for (unsigned i = 0; i < 3; ++i) ints.set(i, i * 10);
    columns[1].setType(wire::ColumnType::STRING);
    auto strings = columns[1].getValues().initStrings();
    auto offsets = strings.initOffsets(4);
    offsets.set(0, 0);
    offsets.set(1, 1);
    offsets.set(2, 3);
    offsets.set(3, 6);
    std::memcpy(strings.initData(6).begin(), "abbccc", 6);
    mutate(batch);
  });
}

void expectCorruption(const Result<DecodedMessage>& result, const std::string& fragment) {
  ASSERT_FALSE(result.ok()) << "expected an error mentioning '" << fragment << "'";
  EXPECT_EQ(result.status().code(), StatusCode::kCorruption) << result.status().toString();
  EXPECT_NE(result.status().message().find(fragment), std::string::npos) << result.status().toString();
  EXPECT_EQ(result.status().message().find('\n'), std::string::npos) << "message must be one line";
}

TEST(BatchCodecTest, RoundTripsEveryTypeWithNulls) {
  RecordBatch batch = allTypesBatch(37, /*withNulls=*/true);
  for (const auto& column : batch.columns()) {
    if (column->type() != DataType::kTimestamp) {
      ASSERT_TRUE(column->hasNulls());
    }
  }
  ASSERT_OK_AND_ASSIGN(RecordBatch decoded, roundTrip(batch));
  expectSameBatch(batch, decoded);
}

TEST(BatchCodecTest, RoundTripsBatchWithoutNulls) {
  RecordBatch batch = allTypesBatch(64, /*withNulls=*/false);
  ASSERT_OK_AND_ASSIGN(RecordBatch decoded, roundTrip(batch));
  expectSameBatch(batch, decoded);
  for (const auto& column : decoded.columns()) EXPECT_TRUE(column->validity().empty());
}

TEST(BatchCodecTest, RoundTripsZeroRows) {
  RecordBatch batch = allTypesBatch(0, /*withNulls=*/false);
  ASSERT_OK_AND_ASSIGN(RecordBatch decoded, roundTrip(batch));
  expectSameBatch(batch, decoded);
  EXPECT_EQ(decoded.numColumns(), 6);
}

TEST(BatchCodecTest, RoundTripsZeroColumns) {
  RecordBatch batch(makeSchema({}), 0, {});
  ASSERT_OK_AND_ASSIGN(RecordBatch decoded, roundTrip(batch));
  EXPECT_EQ(decoded.numColumns(), 0);
  EXPECT_EQ(decoded.numRows(), 0);
  EXPECT_EQ(decoded.schema()->numFields(), 0);
  EXPECT_EQ(decoded.eventTimeIndex(), -1);

  // A batch without columns still carries its row count (e.g. after projecting everything away).
  ASSERT_OK_AND_ASSIGN(RecordBatch counted, roundTrip(RecordBatch(makeSchema({}), 12, {})));
  EXPECT_EQ(counted.numRows(), 12);
}

TEST(BatchCodecTest, RoundTripsLongStrings) {
  auto schema = makeSchema({{"text", DataType::kString}});
  RecordBatchBuilder builder(schema);
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
  builder.column(0).appendString("before");
  builder.column(0).appendString(big);
  builder.column(0).appendNull();
  builder.column(0).appendString(big.substr(0, 1000));
  RecordBatch batch = builder.finish();
  ASSERT_OK_AND_ASSIGN(RecordBatch decoded, roundTrip(batch));
  expectSameBatch(batch, decoded);
  EXPECT_EQ(decoded.column(0)->stringAt(1).size(), size_t{1} << 20);
}

TEST(BatchCodecTest, RoundTripsManyColumns) {
  std::vector<Field> fields;
  for (int i = 0; i < 200; ++i) {
    fields.push_back({"column_" + std::to_string(i), static_cast<DataType>(i % 6)});
  }
  auto schema = makeSchema(fields);
  RecordBatchBuilder builder(schema);
  for (int row = 0; row < 10; ++row) {
    for (int i = 0; i < 200; ++i) {
      ColumnBuilder& column = builder.column(i);
      if ((row + i) % 7 == 0) {
        column.appendNull();
        continue;
      }
      switch (column.type()) {
        case DataType::kBool: column.appendBool((row ^ i) & 1); break;
        case DataType::kInt64:
        case DataType::kTimestamp: column.appendInt64(row * 1000 + i); break;
        case DataType::kUInt64: column.appendUInt64(static_cast<uint64_t>(row) << 40 | i); break;
        case DataType::kFloat64: column.appendFloat64(row / 3.0 + i); break;
        case DataType::kString: column.appendString("r" + std::to_string(row) + "c" + std::to_string(i)); break;
      }
    }
  }
  RecordBatch batch = builder.finish();
  ASSERT_OK_AND_ASSIGN(RecordBatch decoded, roundTrip(batch));
  expectSameBatch(batch, decoded);
}

TEST(BatchCodecTest, PacksBoolsAsBits) {
  auto schema = makeSchema({{"flag", DataType::kBool}});
  RecordBatchBuilder builder(schema);
  for (int row = 0; row < 10'000; ++row) builder.column(0).appendBool(row % 3 == 1 || row % 7 == 0);
  RecordBatch batch = builder.finish();
  ASSERT_OK_AND_ASSIGN(EncodedMessage message, encodeElement(batch, FrameHeader{}));
  // 10,000 bits are 1,250 bytes; a byte per value would be 10,000.
  EXPECT_LT(message.size(), 1'500u);
  ASSERT_OK_AND_ASSIGN(DecodedMessage decoded, decodeMessage(std::move(message).toBuffer()));
  expectSameBatch(batch, std::get<RecordBatch>(decoded.element()));
}

TEST(BatchCodecTest, RoundTripsControlEventsAndHeader) {
  FrameHeader header{7, 42, 1'234'567'890'123ull};
  std::vector<StreamElement> elements = {Watermark{kMinWatermark}, Watermark{kMaxWatermark}, Watermark{-5},
                                         CheckpointBarrier{17, 1'700'000'000'000}, EndOfStream{}};
  for (const auto& element : elements) {
    ASSERT_OK_AND_ASSIGN(EncodedMessage message, encodeElement(element, header));
    ASSERT_OK_AND_ASSIGN(DecodedMessage decoded, decodeMessage(std::move(message).toBuffer()));
    EXPECT_EQ(decoded.header, header);
    ASSERT_FALSE(decoded.isCredit());
    ASSERT_EQ(decoded.element().index(), element.index());
    if (const auto* watermark = std::get_if<Watermark>(&element)) {
      EXPECT_EQ(std::get<Watermark>(decoded.element()).timestamp, watermark->timestamp);
    } else if (const auto* barrier = std::get_if<CheckpointBarrier>(&element)) {
      const auto& got = std::get<CheckpointBarrier>(decoded.element());
      EXPECT_EQ(got.checkpointId, barrier->checkpointId);
      EXPECT_EQ(got.timestamp, barrier->timestamp);
    }
  }
}

TEST(BatchCodecTest, RoundTripsCreditGrant) {
  ASSERT_OK_AND_ASSIGN(EncodedMessage message, encodeCredit(CreditGrant{3, 64}, FrameHeader{1, 3, 9}));
  ASSERT_OK_AND_ASSIGN(DecodedMessage decoded, decodeMessage(std::move(message).toBuffer()));
  ASSERT_TRUE(decoded.isCredit());
  EXPECT_EQ(decoded.credit(), (CreditGrant{3, 64}));
  EXPECT_EQ(decoded.header, (FrameHeader{1, 3, 9}));
}

TEST(BatchCodecTest, EncodesOneSegmentWithoutSlack) {
  std::vector<RecordBatch> batches = {allTypesBatch(0, false), allTypesBatch(1, true), allTypesBatch(1000, true),
                                      RecordBatch(makeSchema({}), 0, {})};
  for (const auto& batch : batches) {
    ASSERT_OK_AND_ASSIGN(EncodedMessage message, encodeElement(batch, FrameHeader{}));
    ASSERT_EQ(message.size() % 8, 0u);
    uint32_t table[2];
    std::memcpy(table, message.data(), sizeof(table));
    EXPECT_EQ(table[0], 0u) << "the size estimate fell short: " << table[0] + 1 << " segments";
    EXPECT_EQ((size_t{table[1]} + 1) * 8, message.size());
  }
}

TEST(BatchCodecTest, DecodesAlignedMessagesWithoutCopying) {
  RecordBatch batch = allTypesBatch(100, /*withNulls=*/true);
  ASSERT_OK_AND_ASSIGN(EncodedMessage message, encodeElement(batch, FrameHeader{}));
  Buffer bytes = std::move(message).toBuffer();
  ASSERT_EQ(reinterpret_cast<uintptr_t>(bytes.data()) % 8, 0u);
  ASSERT_OK_AND_ASSIGN(DecodedMessage decoded, decodeMessage(bytes));
  const auto& got = std::get<RecordBatch>(decoded.element());
  for (const auto& column : got.columns()) {
    EXPECT_TRUE(pointsInto(column->values(), bytes.data(), bytes.size())) << dataTypeName(column->type());
    if (column->hasNulls()) {
      EXPECT_TRUE(pointsInto(column->validity(), bytes.data(), bytes.size()));
    }
    if (column->type() == DataType::kString) {
      EXPECT_TRUE(pointsInto(column->data(), bytes.data(), bytes.size()));
    }
  }
  // The columns keep the message alive on their own.
  bytes = Buffer();
  expectSameBatch(batch, got);
}

TEST(BatchCodecTest, CopiesUnalignedMessagesOnce) {
  RecordBatch batch = allTypesBatch(50, /*withNulls=*/true);
  ASSERT_OK_AND_ASSIGN(EncodedMessage message, encodeElement(batch, FrameHeader{0, 5, 6}));
  auto shifted = std::make_shared<std::vector<uint8_t>>(message.size() + 1);
  std::memcpy(shifted->data() + 1, message.data(), message.size());
  const uint8_t* unaligned = shifted->data() + 1;
  ASSERT_NE(reinterpret_cast<uintptr_t>(unaligned) % 8, 0u);
  ASSERT_OK_AND_ASSIGN(DecodedMessage decoded, decodeMessage(unaligned, message.size(), shifted));
  const auto& got = std::get<RecordBatch>(decoded.element());
  EXPECT_FALSE(pointsInto(got.column(1)->values(), shifted->data(), shifted->size()));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(got.column(1)->values().data()) % 8, 0u);
  // The copy does not depend on the received bytes.
  std::fill(shifted->begin(), shifted->end(), 0xAB);
  shifted.reset();
  EXPECT_EQ(decoded.header, (FrameHeader{0, 5, 6}));
  expectSameBatch(batch, got);
}

TEST(BatchCodecTest, CopiesWhenNoOwnerIsGiven) {
  RecordBatch batch = allTypesBatch(10, /*withNulls=*/false);
  ASSERT_OK_AND_ASSIGN(EncodedMessage message, encodeElement(batch, FrameHeader{}));
  ASSERT_OK_AND_ASSIGN(DecodedMessage decoded, decodeMessage(message.data(), message.size(), nullptr));
  const auto& got = std::get<RecordBatch>(decoded.element());
  EXPECT_FALSE(pointsInto(got.column(1)->values(), message.data(), message.size()));
  message = EncodedMessage();
  expectSameBatch(batch, got);
}

TEST(BatchCodecTest, DecoderSharesTheSchemaOfConsecutiveBatches) {
  MessageDecoder decoder;
  auto decodeBatch = [&decoder](const RecordBatch& batch) {
    auto message = encodeElement(batch, FrameHeader{}).value();
    return std::get<RecordBatch>(decoder.decode(std::move(message).toBuffer()).value().element());
  };
  RecordBatch first = decodeBatch(allTypesBatch(3, false));
  RecordBatch second = decodeBatch(allTypesBatch(5, true));
  EXPECT_EQ(first.schema().get(), second.schema().get());
  RecordBatch other =
      decodeBatch(RecordBatch(makeSchema({{"flag", DataType::kInt64}}), 0, {ColumnBuilder(DataType::kInt64).finish()}));
  EXPECT_NE(other.schema().get(), first.schema().get());
  EXPECT_EQ(other.schema()->field(0).type, DataType::kInt64);
  RecordBatch renamed = decodeBatch(
      RecordBatch(makeSchema({{"renamed", DataType::kInt64}}), 0, {ColumnBuilder(DataType::kInt64).finish()}));
  EXPECT_NE(renamed.schema().get(), other.schema().get());
  EXPECT_EQ(renamed.schema()->field(0).name, "renamed");
}

TEST(BatchCodecTest, EncodedMessageReleasesItsStorage) {
  ASSERT_OK_AND_ASSIGN(EncodedMessage message, encodeElement(EndOfStream{}, FrameHeader{}));
  size_t size = message.size();
  EncodedMessage moved = std::move(message);
  EXPECT_TRUE(message.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(moved.size(), size);
  uint8_t* raw = moved.release();
  EXPECT_TRUE(moved.empty());
  EXPECT_EQ(moved.data(), nullptr);
  ASSERT_OK(decodeMessage(raw, size, nullptr).status());
  EncodedMessage::freeStorage(raw, nullptr);
}

TEST(BatchCodecTest, RejectsBatchesThatBreakTheirSchema) {
  auto schema = makeSchema({{"a", DataType::kInt64}, {"b", DataType::kInt64}});
  ColumnBuilder a(DataType::kInt64);
  a.appendInt64(1);
  ColumnPtr column = a.finish();
  auto tooFew = encodeElement(RecordBatch(schema, 1, {column}), FrameHeader{});
  ASSERT_FALSE(tooFew.ok());
  EXPECT_EQ(tooFew.status().code(), StatusCode::kInvalidArgument);

  auto wrongRows = encodeElement(RecordBatch(schema, 2, {column, column}), FrameHeader{});
  ASSERT_FALSE(wrongRows.ok());
  EXPECT_NE(wrongRows.status().message().find("column 'a'"), std::string::npos) << wrongRows.status().toString();

  auto strings = makeSchema({{"s", DataType::kString}});
  auto noOffsets = std::make_shared<const Column>(DataType::kString, 1, Buffer(), Buffer(), Buffer(), 0);
  auto missing = encodeElement(RecordBatch(strings, 1, {noOffsets}), FrameHeader{});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
}

TEST(BatchCodecTest, RejectsEveryTruncation) {
  RecordBatch batch = allTypesBatch(20, /*withNulls=*/true);
  ASSERT_OK_AND_ASSIGN(EncodedMessage message, encodeElement(batch, FrameHeader{}));
  for (size_t cut = 0; cut < message.size(); ++cut) {
    auto copy = std::make_shared<std::vector<uint64_t>>((cut + 7) / 8);
    if (cut > 0) std::memcpy(copy->data(), message.data(), cut);
    auto result = decodeMessage(reinterpret_cast<const uint8_t*>(copy->data()), cut, copy);
    ASSERT_FALSE(result.ok()) << "cut at " << cut;
    EXPECT_EQ(result.status().code(), StatusCode::kCorruption) << result.status().toString();
  }
}

TEST(BatchCodecTest, SurvivesRandomByteFlips) {
  RecordBatch batch = allTypesBatch(24, /*withNulls=*/true);
  ASSERT_OK_AND_ASSIGN(EncodedMessage message, encodeElement(batch, FrameHeader{1, 2, 3}));
  std::mt19937_64 random(20240611);
  int accepted = 0;
  for (int iteration = 0; iteration < 4000; ++iteration) {
    auto copy = std::make_shared<std::vector<uint64_t>>(message.size() / 8);
    std::memcpy(copy->data(), message.data(), message.size());
    auto* bytes = reinterpret_cast<uint8_t*>(copy->data());
    int flips = 1 + static_cast<int>(random() % 4);
    for (int flip = 0; flip < flips; ++flip) {
      size_t at = random() % message.size();
      bytes[at] = iteration % 2 == 0 ? static_cast<uint8_t>(random()) : bytes[at] ^ (1u << (random() % 8));
    }
    // Alternate the zero-copy and the copying path.
    bool aligned = iteration % 3 != 0;
    auto result = aligned ? decodeMessage(bytes, message.size(), copy) : decodeMessage(bytes, message.size(), nullptr);
    if (!result.ok()) {
      ASSERT_EQ(result.status().code(), StatusCode::kCorruption) << result.status().toString();
      continue;
    }
    ++accepted;
    if (result->isCredit()) continue;  // a flip in the union tag can turn a batch into a credit grant
    if (const auto* decoded = std::get_if<RecordBatch>(&result->element())) {
      for (const auto& column : decoded->columns()) {
        std::string why;
        ASSERT_TRUE(column->validate(&why)) << why;
        ASSERT_EQ(column->length(), decoded->numRows());
      }
      touchEverything(*decoded);
    }
  }
  // Flipped value bytes still make valid batches, so some must get through.
  EXPECT_GT(accepted, 0);
}

TEST(BatchCodecTest, RejectsOtherWireVersions) {
  auto result = decodeCrafted([](wire::StreamMessage::Builder message) {
    message.getHeader().setVersion(kWireFormatVersion + 1);
    message.initBody().setEndOfStream();
  });
  expectCorruption(result, "version 2");
  auto missingHeader = decodeCrafted([](wire::StreamMessage::Builder message) {
    message.disownHeader();
    message.initBody().setEndOfStream();
  });
  expectCorruption(missingHeader, "version 0");
}

TEST(BatchCodecTest, AcceptsTheHandCraftedBaseline) {
  auto result = decodeCraftedBatch([](wire::Batch::Builder) {});
  ASSERT_OK(result.status());
  const auto& batch = std::get<RecordBatch>(result->element());
  EXPECT_EQ(batch.column(0)->int64s()[2], 20);
  EXPECT_EQ(batch.column(1)->stringAt(2), "ccc");
}

TEST(BatchCodecTest, RejectsMalformedFraming) {
  expectCorruption(decodeMessage(nullptr, 0, nullptr), "empty");
  RecordBatch batch = allTypesBatch(4, false);
  ASSERT_OK_AND_ASSIGN(EncodedMessage message, encodeElement(batch, FrameHeader{}));
  auto padded = std::make_shared<std::vector<uint64_t>>(message.size() / 8 + 1, 0);
  std::memcpy(padded->data(), message.data(), message.size());
  expectCorruption(decodeMessage(reinterpret_cast<const uint8_t*>(padded->data()), padded->size() * 8, padded),
                   "8 trailing bytes");
  auto hugeSegment = std::make_shared<std::vector<uint64_t>>(2, 0);
  uint32_t table[2] = {0, 0x7fffffff};
  std::memcpy(hugeSegment->data(), table, sizeof(table));
  expectCorruption(decodeMessage(reinterpret_cast<const uint8_t*>(hugeSegment->data()), 16, hugeSegment), "malformed");
}

TEST(BatchCodecTest, RejectsColumnsThatDisagreeWithTheSchema) {
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) { batch.setNumRows(4); }),
                   "column 'a' has 3 values, expected 4");
  expectCorruption(
      decodeCraftedBatch([](wire::Batch::Builder batch) { batch.getColumns()[0].setType(wire::ColumnType::UINT64); }),
      "holds uint64 but its field says int64");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) {
                     batch.getColumns()[0].getValues().initFloat64s(3);
                     batch.getColumns()[0].setType(wire::ColumnType::INT64);
                   }),
                   "carries values of another type");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) {
                     batch.getFields()[1].setType(static_cast<wire::ColumnType>(17));
                   }),
                   "unknown type code 17");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) {
                     batch.getColumns()[1].setType(static_cast<wire::ColumnType>(9));
                   }),
                   "unknown type code 9");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) { batch.getFields()[1].setName("a"); }),
                   "invalid batch schema");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) { batch.getFields()[1].setName(""); }),
                   "invalid batch schema");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) {
                     auto columns = batch.initColumns(1);
                     columns[0].setType(wire::ColumnType::INT64);
                   }),
                   "1 columns for 2 fields");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) { batch.setEventTimeIndex(2); }),
                   "event-time index 2");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) { batch.setEventTimeIndex(1); }),
                   "event-time field 's'");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) { batch.setNumRows(uint64_t{1} << 40); }), "rows");
}

TEST(BatchCodecTest, RejectsBadStringsAndNulls) {
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) {
                     batch.getColumns()[1].getValues().getStrings().getOffsets().set(2, 0);
                   }),
                   "string offsets decrease");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) {
                     batch.getColumns()[1].getValues().getStrings().getOffsets().set(3, 7);
                   }),
                   "past the data");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) {
                     batch.getColumns()[1].getValues().getStrings().getOffsets().set(0, 1);
                   }),
                   "first string offset");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) {
                     batch.getColumns()[1].getValues().getStrings().initOffsets(3);
                   }),
                   "has 3 string offsets, expected 4");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) { batch.getColumns()[0].setNullCount(1); }),
                   "validity bitmap of 0 bytes");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) {
                     batch.getColumns()[0].setNullCount(2);
                     batch.getColumns()[0].initValidity(1)[0] = 0b110;  // one null, not two
                   }),
                   "null count does not match");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) { batch.getColumns()[0].setNullCount(4); }),
                   "4 nulls in 3 rows");
}

TEST(BatchCodecTest, RejectsValuesThatAreNotPackedLists) {
  // Cap'n Proto would read a struct list (or fail on a narrower list) where
  // List(Int64) is declared; neither has the Column layout.
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) {
                     auto pointers = capnp::toAny(batch.getColumns()[0]).getPointerSection();
                     pointers[1].initAsListOfAnyStruct(2, 0, 3);
                   }),
                   "not a packed list");
  expectCorruption(decodeCraftedBatch([](wire::Batch::Builder batch) {
                     auto pointers = capnp::toAny(batch.getColumns()[0]).getPointerSection();
                     pointers[1].initAs<capnp::List<int32_t>>(3);
                   }),
                   "malformed");
}

TEST(BatchCodecTest, RejectsUnalignedBarriersAndUnknownKinds) {
  expectCorruption(decodeCrafted([](wire::StreamMessage::Builder message) {
                     message.initBody().initCheckpointBarrier().setUnaligned(true);
                   }),
                   "unaligned checkpoint barriers");
  expectCorruption(decodeCrafted([](wire::StreamMessage::Builder message) {
                     message.initBody().setEndOfStream();
                     // The body's discriminant is the first 16 bits of the data section.
                     auto data = capnp::toAny(message).getDataSection();
                     data[0] = 9;
                     data[1] = 0;
                   }),
                   "unknown message kind 9");
}

}  // namespace
}  // namespace sluice::transport
