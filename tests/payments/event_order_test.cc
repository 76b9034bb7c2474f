// Unit tests of the CSV record parser, the reference reorder (late decision,
// key order, watermark) and the sequence buffer, plus the stats sink's output.
#include <gtest/gtest.h>

#include <vector>

#include "operators/payments/event_order.h"
#include "operators/payments/payments_io.h"
#include "operators/payments/stage_operators.h"
#include "runtime/state/keyed_state_backend.h"

namespace sluice::payments {
namespace {

PaymentRow row(int64_t kind, uint64_t txnId, int64_t timestampMs) {
  PaymentRow out;
  out.kind = kind;
  out.txnId = txnId;
  out.timestampMs = timestampMs;
  return out;
}

TEST(PaymentLineTest, ParsesBothKindsAndSkipsHeaders) {
  PaymentRow parsed;
  auto t = parsePaymentLine("T,48704,1704067235472,1823,100194,5541,6531,GB,51464586,-83076,0,POS", parsed);
  ASSERT_TRUE(t.ok() && *t);
  EXPECT_EQ(parsed.kind, kTransactionKind);
  EXPECT_EQ(parsed.txnId, 48704u);
  EXPECT_EQ(parsed.longitudeE6, -83076);
  EXPECT_EQ(parsed.countryCode(), "GB");
  EXPECT_EQ(formatPaymentLine(parsed), "T,48704,1704067235472,1823,100194,5541,6531,GB,51464586,-83076,0,POS");
  auto l = parsePaymentLine("L,48704,1704067999999,1823,100194,1\r", parsed);
  ASSERT_TRUE(l.ok() && *l);
  EXPECT_EQ(parsed.kind, kLabelKind);
  EXPECT_EQ(parsed.label, 1);
  for (const char* skipped : {"type,txn_id,ts_ms", "# comment", ""}) {
    auto result = parsePaymentLine(skipped, parsed);
    ASSERT_TRUE(result.ok());
    EXPECT_FALSE(*result);
  }
  auto noLocation = parsePaymentLine("T,1,0,1,1,1,1,--,2147483647,2147483647,0,ATM", parsed);
  ASSERT_TRUE(noLocation.ok());
  EXPECT_FALSE(parsed.hasLocation());
  EXPECT_FALSE(parsed.hasCountry());
}

TEST(PaymentLineTest, MalformedLinesNameTheField) {
  PaymentRow parsed;
  auto check = [&](const std::string& line, const std::string& needle) {
    auto result = parsePaymentLine(line, parsed);
    ASSERT_FALSE(result.ok()) << line;
    EXPECT_NE(result.status().message().find(needle), std::string::npos) << result.status().message();
  };
  check("X,1,2", "neither T nor L");
  check("T,1,2,3", "12 fields");
  check("L,1,2,3,4,1,9", "6 fields");
  check("T,1,abc,1,1,1,1,GB,0,0,0,POS", "'ts_ms'");
  check("T,1,5,1,1,1,0,GB,0,0,0,POS", "'amount_minor'");
  check("T,1,5,1,1,1,10,gb,0,0,0,POS", "'country'");
  check("T,1,5,1,1,1,10,GB,0,0,0,WIRE", "'channel'");
  check("T,0,5,1,1,1,10,GB,0,0,0,POS", "'txn_id'");
  check("T,1,5,1,1,10000,10,GB,0,0,0,POS", "'mcc'");
  check("L,1,5,1,1,2", "'label'");
  check("T,1,5,-1,1,1,10,GB,0,0,0,POS", "'account_id'");
}

TEST(EventTimeReorderTest, LateDecisionAndKeyOrder) {
  EventTimeReorder reorder(5);
  std::vector<PaymentRow> released;
  std::vector<PaymentRow> late;
  auto onRelease = [&](const PaymentRow& r) { released.push_back(r); };
  auto onLate = [&](const PaymentRow& r) { late.push_back(r); };
  reorder.add(row(kTransactionKind, 1, 10), onRelease, onLate);  // WM = 5
  EXPECT_EQ(reorder.watermark(), 5);
  EXPECT_TRUE(released.empty());
  reorder.add(row(kTransactionKind, 2, 5), onRelease, onLate);  // ts == WM: not late, released at once
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].txnId, 2u);
  EXPECT_EQ(released[0].sequence, 0);
  reorder.add(row(kTransactionKind, 3, 4), onRelease, onLate);  // ts < WM: late
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].txnId, 3u);
  // Equal times: L (kind 0) before T (kind 2), then txn_id.
  reorder.add(row(kTransactionKind, 9, 12), onRelease, onLate);
  reorder.add(row(kLabelKind, 9, 12), onRelease, onLate);
  reorder.add(row(kTransactionKind, 4, 12), onRelease, onLate);
  EXPECT_EQ(reorder.buffered(), 4u);
  std::string saved = reorder.encode();
  reorder.finish(onRelease);
  ASSERT_EQ(released.size(), 5u);
  EXPECT_EQ(released[1].txnId, 1u);
  EXPECT_EQ(released[2].kind, kLabelKind);
  EXPECT_EQ(released[3].txnId, 4u);
  EXPECT_EQ(released[4].txnId, 9u);
  EXPECT_EQ(released[4].sequence, 4);

  EventTimeReorder restored(5);
  ASSERT_TRUE(restored.restore(saved).ok());
  std::vector<PaymentRow> again;
  restored.finish([&](const PaymentRow& r) { again.push_back(r); });
  ASSERT_EQ(again.size(), 4u);
  EXPECT_EQ(again[0].sequence, 1);
  EXPECT_EQ(again[3].txnId, 9u);
  EXPECT_FALSE(restored.restore("short").ok());
}

TEST(EventTimeReorderTest, ZeroBoundReleasesImmediately) {
  EventTimeReorder reorder(0);
  int released = 0;
  int late = 0;
  reorder.add(
      row(kTransactionKind, 1, 100), [&](const PaymentRow&) { ++released; }, [&](const PaymentRow&) { ++late; });
  reorder.add(
      row(kTransactionKind, 2, 100), [&](const PaymentRow&) { ++released; }, [&](const PaymentRow&) { ++late; });
  reorder.add(
      row(kTransactionKind, 3, 99), [&](const PaymentRow&) { ++released; }, [&](const PaymentRow&) { ++late; });
  EXPECT_EQ(released, 2);
  EXPECT_EQ(late, 1);
}

TEST(SequenceBufferTest, ReleasesBehindTheWatermarkInSequenceOrder) {
  SequenceBuffer buffer;
  auto at = [](int64_t sequence, int64_t timestampMs) {
    PaymentRow r = row(kTransactionKind, static_cast<uint64_t>(sequence + 1), timestampMs);
    r.sequence = sequence;
    return r;
  };
  buffer.add(at(2, 5), 7);
  buffer.add(at(0, 3), 8);
  buffer.add(at(1, 4), 9);
  std::vector<int64_t> order;
  std::vector<int32_t> tags;
  auto collect = [&](const PaymentRow& r, int32_t tag) {
    order.push_back(r.sequence);
    tags.push_back(tag);
    return Status::OK();
  };
  ASSERT_TRUE(buffer.releaseUpTo(4, collect).ok());
  EXPECT_EQ(order, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(tags, (std::vector<int32_t>{8, 9}));
  SequenceBuffer copy;
  ASSERT_TRUE(copy.restore(buffer.encode()).ok());
  ASSERT_TRUE(copy.releaseUpTo(kMaxWatermark, collect).ok());
  EXPECT_EQ(order, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(tags.back(), 7);
  auto failing = [](const PaymentRow&, int32_t) { return Status::internal("boom"); };
  buffer.add(at(3, 6), 0);
  EXPECT_FALSE(buffer.releaseUpTo(kMaxWatermark, failing).ok());
}

TEST(StatsSinkTest, SumsCountersAndKeepsTheModel) {
  StatsSink sink("/dev/null");
  RecordBatchBuilder builder(statsSchema());
  auto add = [&](const char* name, int64_t value, const char* text) {
    builder.column(0).appendString(name);
    builder.column(1).appendInt64(value);
    builder.column(2).appendString(text);
  };
  add("txns", 10, "");
  add("alerts", 2, "");
  add("alerts", 3, "");
  add("final_model", 0, R"({"bias":1,"weights":[]})");
  struct NullOutput final : Output {
    Status emit(RecordBatch) override { return Status::OK(); }
    Status emitSide(std::string_view, RecordBatch) override { return Status::OK(); }
    Status emitWatermark(int64_t) override { return Status::OK(); }
  } out;
  ASSERT_TRUE(sink.processBatch(0, builder.finish(), out).ok());
  EXPECT_EQ(
      sink.render(),
      R"({"txns":10,"alerts":5,"late":0,"late_labels":0,"model_updates":0,"final_model":{"bias":1,"weights":[]}})");
  OperatorSnapshot snapshot;
  ASSERT_TRUE(sink.snapshotState(1, snapshot).ok());
  StatsSink restored("/dev/null");
  ASSERT_TRUE(restored.restoreState(snapshot).ok());
  EXPECT_EQ(restored.render(), sink.render());
}

}  // namespace
}  // namespace sluice::payments

namespace sluice::payments {
namespace {

TEST(KeyedBlobStateTest, WritesBackOnFlushAndWhenFull) {
  StateBackendOptions options;
  options.type = "hashmap";
  options.keyGroups = KeyGroupRange{0, 127};
  auto backend = createKeyedStateBackend(options);
  ASSERT_TRUE(backend.ok()) << backend.status().toString();
  KeyedBlobState state(/*capacity=*/2);
  ASSERT_TRUE(state.open(backend->get(), "history").ok());
  auto value = state.get(3, 42);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, nullptr);
  ASSERT_TRUE(state.put(3, 42, "a").ok());
  ASSERT_TRUE(state.put(4, 43, "b").ok());
  // Not yet in the backend: a second view of it sees nothing.
  KeyedBlobState other;
  ASSERT_TRUE(other.open(backend->get(), "history").ok());
  ASSERT_EQ(*other.get(3, 42), nullptr);
  ASSERT_TRUE(state.flush().ok());
  KeyedBlobState fresh;
  ASSERT_TRUE(fresh.open(backend->get(), "history").ok());
  ASSERT_NE(*fresh.get(3, 42), nullptr);
  EXPECT_EQ(**fresh.get(3, 42), "a");
  // A third key overflows the cache of 2: dirty entries are written back first.
  ASSERT_TRUE(state.put(3, 42, "a2").ok());
  ASSERT_TRUE(state.put(5, 44, "c").ok());
  KeyedBlobState after;
  ASSERT_TRUE(after.open(backend->get(), "history").ok());
  EXPECT_EQ(**after.get(3, 42), "a2");
  EXPECT_EQ(**state.get(5, 44), "c");
  EXPECT_FALSE(KeyedBlobState().open(nullptr, "history").ok());
}

}  // namespace
}  // namespace sluice::payments
