// Unit tests of the CSV record parser, the reference reorder (late decision,
// key order, watermark) and the sequence buffer, plus the stats sink's output.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "operators/payments/event_order.h"
#include "operators/payments/payments_factories.h"
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
  // Room for two one-byte entries.
  KeyedBlobState state(/*budgetBytes=*/2 * KeyedBlobState::kEntryOverheadBytes + 2);
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

TEST(KeyedObjectCacheTest, KeepsDecodedHistoriesAndWritesThemBackEncoded) {
  StateBackendOptions options;
  options.type = "hashmap";
  options.keyGroups = KeyGroupRange{0, 127};
  auto backend = createKeyedStateBackend(options);
  ASSERT_TRUE(backend.ok()) << backend.status().toString();
  // Room for two histories (each counts at least kMinEntryBytes).
  using Cache = KeyedObjectCache<MerchantHistory>;
  Cache cache(/*budgetBytes=*/2 * Cache::kMinEntryBytes + 1);
  ASSERT_TRUE(cache.open(backend->get(), "merchant-history").ok());
  Features features;
  auto first = cache.update(3, 42);
  ASSERT_TRUE(first.ok());
  (*first)->observeTransaction(1000, features);
  auto again = cache.update(3, 42);  // a hit: the same object, nothing decoded
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  (*again)->observeTransaction(2000, features);
  EXPECT_EQ(features.merchantTx30d, 2);  // both T of this merchant, in the one object
  // Nothing in the backend before a flush.
  KeyedBlobState blobs;
  ASSERT_TRUE(blobs.open(backend->get(), "merchant-history").ok());
  EXPECT_EQ(*blobs.get(3, 42), nullptr);
  ASSERT_TRUE(cache.flush().ok());
  KeyedBlobState afterFlush;
  ASSERT_TRUE(afterFlush.open(backend->get(), "merchant-history").ok());
  auto stored = afterFlush.get(3, 42);
  ASSERT_TRUE(stored.ok() && *stored != nullptr);
  auto decoded = MerchantHistory::decode(**stored);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->transactionCount(), 2u);
  // A third merchant exceeds the budget: everything is written back, the
  // cache starts over, and merchant 42 comes back decoded from the backend.
  ASSERT_TRUE(cache.update(4, 43).ok());
  (*cache.update(4, 43))->observeLabel(2500, 1);
  ASSERT_TRUE(cache.update(5, 44).ok());
  auto reloaded = cache.update(3, 42);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ((*reloaded)->transactionCount(), 2u);
  KeyedBlobState afterOverflow;
  ASSERT_TRUE(afterOverflow.open(backend->get(), "merchant-history").ok());
  auto label = afterOverflow.get(4, 43);
  ASSERT_TRUE(label.ok() && *label != nullptr);
  EXPECT_EQ(MerchantHistory::decode(**label)->fraudCount(), 1u);
  // A damaged value is reported, naming the state.
  auto stateId = (*backend)->registerState(StateDescriptor{"merchant-history", StateKind::kValue, std::nullopt});
  ASSERT_TRUE(stateId.ok());
  std::string damagedKey = serializedKeyOf(45);
  ASSERT_TRUE((*backend)->put(StateKey{*stateId, 6, damagedKey, {}}, "xx").ok());
  Cache damaged;
  ASSERT_TRUE(damaged.open(backend->get(), "merchant-history").ok());
  auto broken = damaged.update(6, 45);
  EXPECT_FALSE(broken.ok());
  EXPECT_NE(broken.status().toString().find("merchant history"), std::string::npos) << broken.status().toString();
  EXPECT_FALSE(Cache().open(nullptr, "merchant-history").ok());
}

}  // namespace
}  // namespace sluice::payments

namespace sluice::payments {
namespace {

NodeSpec stageSpec(const std::string& yaml) {
  NodeSpec spec;
  spec.id = "stage";
  spec.options = YAML::Load(yaml);
  return spec;
}

TEST(PaymentsFactoriesTest, StateCacheBudgetAndTheKeyedLearner) {
  const std::vector<StreamInfo> inputs{StreamInfo{paymentRowSchema(), paymentEventTimeIndex()}};
  for (auto plan : {planMerchantStageNode, planAccountStageNode}) {
    auto planned = plan(stageSpec("{state_cache_mb: 64}"), inputs, PlanContext{});
    ASSERT_TRUE(planned.ok()) << planned.status().toString();
    EXPECT_TRUE(planned->keyed);
    ASSERT_NE(planned->createOperator(), nullptr);
    for (const char* bad : {"{state_cache_mb: 0}", "{state_cache_mb: -3}", "{state_cache_mb: lots}"}) {
      auto refused = plan(stageSpec(bad), inputs, PlanContext{});
      ASSERT_FALSE(refused.ok()) << bad;
      EXPECT_NE(refused.status().message().find("state_cache_mb"), std::string::npos) << refused.status().message();
      EXPECT_EQ(refused.status().message().find('\n'), std::string::npos);
    }
  }
  // The learner is keyed (its pending vectors are keyed state) and hash-partitioned on txn_id.
  auto learner = planOnlineLearnerNode(
      stageSpec(R"yaml({model: )yaml" + std::string(SLUICE_SOURCE_DIR) +
                R"yaml(/examples/payments/model.json, maturity_ms: 604800000, publish_ms: 3600000})yaml"),
      inputs, PlanContext{});
  ASSERT_TRUE(learner.ok()) << learner.status().toString();
  EXPECT_TRUE(learner->keyed);
  ASSERT_EQ(learner->inputs.size(), 1u);
  EXPECT_EQ(learner->inputs[0].kind, PartitionKind::kHash);
  EXPECT_EQ(learner->inputs[0].keyColumns, std::vector<int>{paymentTxnIdIndex()});
}

}  // namespace
}  // namespace sluice::payments
