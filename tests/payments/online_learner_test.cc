// The F2 online learner and its keyed-state layout: training and epochs,
// timers at the exact key boundary, the paged timer queue, restore from a
// backend snapshot, and agreement with an in-memory reference on many
// pending transactions.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "operators/payments/online_learner.h"
#include "operators/payments/risk_model.h"
#include "runtime/task/stream_element.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice::payments {
namespace {

constexpr int kMaxParallelism = 128;

std::unique_ptr<KeyedStateBackend> makeBackend(const std::string& type, const std::string& directory) {
  StateBackendOptions options;
  options.type = type;
  options.directory = directory;
  options.keyGroups = KeyGroupRange{0, kMaxParallelism - 1};
  options.maxParallelism = kMaxParallelism;
  auto backend = createKeyedStateBackend(options);
  EXPECT_TRUE(backend.ok()) << backend.status().toString();
  return backend.ok() ? std::move(*backend) : nullptr;
}

PaymentRow transaction(uint64_t txnId, int64_t timestampMs, int64_t amountMinor = 1000) {
  PaymentRow row;
  row.kind = kTransactionKind;
  row.txnId = txnId;
  row.timestampMs = timestampMs;
  row.amountMinor = amountMinor;
  row.features.gapMs = 1000;
  row.features.merchantTx30d = 1;
  return row;
}

PaymentRow label(uint64_t txnId, int64_t timestampMs, int64_t value) {
  PaymentRow row;
  row.kind = kLabelKind;
  row.txnId = txnId;
  row.timestampMs = timestampMs;
  row.label = value;
  return row;
}

LogisticModel smallModel() {
  LogisticModel model;
  model.bias = -1;
  model.weights.fill(0.1);
  return model;
}

/// Counts the entries of one state of `backend`.
int64_t countEntries(KeyedStateBackend& backend, const std::string& name) {
  auto state = backend.registerState(StateDescriptor{name, StateKind::kValue, std::nullopt});
  EXPECT_TRUE(state.ok());
  int64_t count = 0;
  EXPECT_TRUE(backend
                  .scanAll(*state,
                           [&](int, std::string_view, std::string_view, std::string_view) {
                             count += 1;
                             return true;
                           })
                  .ok());
  return count;
}

class OnlineLearnerTest : public ::testing::Test {
 protected:
  testing::TempDir temp_;
  std::unique_ptr<KeyedStateBackend> backend_ = makeBackend("hashmap", temp_.file("hashmap"));
};

TEST_F(OnlineLearnerTest, LabelsTrainAndSnapshotsPublishPerEpoch) {
  LogisticModel initial = smallModel();
  OnlineLearner learner(initial, /*maturityMs=*/100, /*publishMs=*/50);
  ASSERT_OK(learner.open(backend_.get(), kMaxParallelism));
  PaymentRow first = transaction(11, 10);
  ASSERT_OK(learner.process(first));
  EXPECT_EQ(first.modelVersion, 0);
  EXPECT_EQ(first.probability, initial.probability(modelInput(first)));

  PaymentRow trainLabel = label(11, 20, 1);
  ASSERT_OK(learner.process(trainLabel));
  EXPECT_EQ(learner.modelUpdates(), 1);
  LogisticModel trained = initial;
  sgdStep(trained, modelInput(first), 1.0, 1.0);
  EXPECT_EQ(learner.model(), trained);

  PaymentRow sameEpoch = transaction(12, 49);  // still epoch 0: scored with S_0 (the initial model)
  ASSERT_OK(learner.process(sameEpoch));
  EXPECT_EQ(sameEpoch.modelVersion, 0);
  EXPECT_EQ(sameEpoch.probability, initial.probability(modelInput(sameEpoch)));

  PaymentRow nextEpoch = transaction(13, 50);  // epoch 1 sees the update
  ASSERT_OK(learner.process(nextEpoch));
  EXPECT_EQ(nextEpoch.modelVersion, 1);
  EXPECT_EQ(nextEpoch.probability, trained.probability(modelInput(nextEpoch)));

  PaymentRow unknown = label(99, 60, 1);  // never seen: a late label
  ASSERT_OK(learner.process(unknown));
  EXPECT_EQ(learner.lateLabels(), 1);

  // Timers at 110 (txn 11, trained already), 149 and 150 fire once the
  // watermark passes them; only txn ids with splitmix64 % 100 < 10 train.
  EXPECT_EQ(learner.pendingTimers(), 3);
  ASSERT_OK(learner.advanceTo(148));
  EXPECT_EQ(learner.pendingTimers(), 2);
  ASSERT_OK(learner.advanceTo(kMaxWatermark));
  EXPECT_EQ(learner.pendingTimers(), 0);
  int64_t expectedUpdates = 1 + (splitmix64(12) % 100 < 10) + (splitmix64(13) % 100 < 10);
  EXPECT_EQ(learner.modelUpdates(), expectedUpdates);
  // Every pending vector and timer page is gone from the backend.
  ASSERT_OK(learner.flush());
  EXPECT_EQ(countEntries(*backend_, "learner-pending"), 0);
  EXPECT_EQ(countEntries(*backend_, "learner-timers"), 1);  // the flushed tail page, its timers fired
}

TEST_F(OnlineLearnerTest, TimerMaturesExactlyAtTheKeyBoundary) {
  // Find a txn id whose timer trains (splitmix64 % 100 < 10), so firing is visible.
  uint64_t sampled = 1;
  while (splitmix64(sampled) % 100 >= 10) sampled += 1;
  LogisticModel initial = smallModel();

  // A label at exactly t + M sorts before the timer (kind L = 0 < MATURE = 1): it trains.
  {
    OnlineLearner learner(initial, 100, 1000);
    ASSERT_OK(learner.open(backend_.get(), kMaxParallelism));
    PaymentRow t = transaction(sampled, 0);
    ASSERT_OK(learner.process(t));
    PaymentRow onTime = label(sampled, 100, 1);
    ASSERT_OK(learner.process(onTime));
    EXPECT_EQ(learner.lateLabels(), 0);
    EXPECT_EQ(learner.modelUpdates(), 1);
    ASSERT_OK(learner.advanceTo(kMaxWatermark));
    EXPECT_EQ(learner.modelUpdates(), 1);  // the timer found nothing pending
  }
  // A transaction at exactly t + M sorts after the timer (kind T = 2): the
  // timer fires first (a weight-10 step with label 0), then a label is late.
  testing::TempDir other;
  auto fresh = makeBackend("hashmap", other.file("hashmap"));
  {
    OnlineLearner learner(initial, 100, 1000);
    ASSERT_OK(learner.open(fresh.get(), kMaxParallelism));
    PaymentRow t = transaction(sampled, 0);
    ASSERT_OK(learner.process(t));
    PaymentRow atBoundary = transaction(sampled + 1000, 100);
    ASSERT_OK(learner.process(atBoundary));
    EXPECT_EQ(learner.modelUpdates(), 1);
    LogisticModel matured = initial;
    sgdStep(matured, modelInput(t), 0.0, 10.0);
    EXPECT_EQ(learner.model(), matured);
    PaymentRow tooLate = label(sampled, 101, 1);  // the transaction matured: its label is late
    ASSERT_OK(learner.process(tooLate));
    EXPECT_EQ(learner.lateLabels(), 1);
  }
  // A watermark one below the timer's time leaves it; at its time fires it.
  testing::TempDir third;
  auto another = makeBackend("hashmap", third.file("hashmap"));
  OnlineLearner learner(initial, 100, 1000);
  ASSERT_OK(learner.open(another.get(), kMaxParallelism));
  PaymentRow t = transaction(sampled, 0);
  ASSERT_OK(learner.process(t));
  ASSERT_OK(learner.advanceTo(99));
  EXPECT_EQ(learner.modelUpdates(), 0);
  EXPECT_EQ(learner.pendingTimers(), 1);
  ASSERT_OK(learner.advanceTo(100));
  EXPECT_EQ(learner.modelUpdates(), 1);
  EXPECT_EQ(learner.pendingTimers(), 0);
}

TEST_F(OnlineLearnerTest, TimerQueueCrossesPagesAndRemovesFiredPages) {
  TimerQueue queue;
  ASSERT_OK(queue.open(backend_.get(), kMaxParallelism));
  const int64_t total = 3 * TimerQueue::kTimersPerPage + 17;
  int64_t popped = 0;
  for (int64_t i = 0; i < total; ++i) {
    ASSERT_OK(queue.push({i / 3, static_cast<uint64_t>(i)}));
    if (i % 2 == 1) {  // pop at half the push rate, so head and tail pages differ and meet
      ASSERT_OK_AND_ASSIGN(const TimerQueue::Timer* front, queue.front());
      ASSERT_NE(front, nullptr);
      EXPECT_EQ(front->second, static_cast<uint64_t>(popped));
      ASSERT_OK(queue.pop());
      popped += 1;
    }
  }
  EXPECT_EQ(queue.size(), total - popped);
  // Pages entirely fired are removed; the others (full ones) are stored.
  EXPECT_EQ(countEntries(*backend_, "learner-timers"), 3 - popped / TimerQueue::kTimersPerPage);
  while (true) {
    ASSERT_OK_AND_ASSIGN(const TimerQueue::Timer* front, queue.front());
    if (front == nullptr) break;
    EXPECT_EQ(front->second, static_cast<uint64_t>(popped));
    ASSERT_OK(queue.pop());
    popped += 1;
  }
  EXPECT_EQ(popped, total);
  EXPECT_EQ(countEntries(*backend_, "learner-timers"), 0);  // the tail page was never flushed

  // Out of key order is refused, naming both timers.
  Status refused = queue.push({0, 1});
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.toString().find("sorts before the previous one"), std::string::npos) << refused.toString();
}

// A reference learner with everything in memory (the spec's algorithm as the
// learner had it before the keyed layout).
struct ReferenceLearner {
  LogisticModel model;
  LogisticModel published;
  int64_t updates = 0;
  int64_t publishedUpdates = 0;
  int64_t epoch = -1;
  int64_t late = 0;
  std::unordered_map<uint64_t, FeatureVector> pending;
  std::set<std::pair<int64_t, uint64_t>> timers;

  void enter(int64_t time, int64_t publishMs) {
    if (time / publishMs > epoch) {
      epoch = time / publishMs;
      published = model;
      publishedUpdates = updates;
    }
  }
  void fireBefore(int64_t time, int64_t kind, uint64_t txnId, int64_t publishMs) {
    while (!timers.empty()) {
      auto [timerTime, timerTxn] = *timers.begin();
      if (std::make_tuple(timerTime, kMatureKind, timerTxn) >= std::make_tuple(time, kind, txnId)) break;
      timers.erase(timers.begin());
      enter(timerTime, publishMs);
      auto found = pending.find(timerTxn);
      if (found == pending.end()) continue;
      if (splitmix64(timerTxn) % 100 < 10) {
        sgdStep(model, found->second, 0.0, 10.0);
        updates += 1;
      }
      pending.erase(found);
    }
  }
  void process(PaymentRow& row, int64_t maturityMs, int64_t publishMs) {
    fireBefore(row.timestampMs, row.kind, row.txnId, publishMs);
    enter(row.timestampMs, publishMs);
    if (row.kind == kLabelKind) {
      auto found = pending.find(row.txnId);
      if (found == pending.end()) {
        late += 1;
        return;
      }
      sgdStep(model, found->second, static_cast<double>(row.label), 1.0);
      updates += 1;
      pending.erase(found);
      return;
    }
    FeatureVector x = modelInput(row);
    row.probability = published.probability(x);
    row.modelVersion = publishedUpdates;
    pending[row.txnId] = x;
    timers.insert({row.timestampMs + maturityMs, row.txnId});
  }
};

TEST(OnlineLearnerRocksDbTest, ManyPendingMatchTheReferenceAcrossARestore) {
  // 6,000 transactions and some labels in key order, M spanning about 2,000
  // of them (4 timer pages pending); a RocksDB snapshot and restore in the middle.
  constexpr int64_t kMaturity = 20000;
  constexpr int64_t kPublish = 3000;
  testing::TempDir temp;
  std::mt19937_64 random(7);
  std::vector<PaymentRow> rows;
  std::vector<uint64_t> seen;
  int64_t time = 0;
  for (uint64_t txn = 1; txn <= 6000; ++txn) {
    time += static_cast<int64_t>(random() % 20);
    rows.push_back(transaction(txn * 7919, time, 100 + static_cast<int64_t>(random() % 5000)));
    seen.push_back(txn * 7919);
    if (random() % 4 == 0) {
      uint64_t target = random() % 5 == 0 ? 123456789 + txn : seen[random() % seen.size()];
      rows.push_back(label(target, time, static_cast<int64_t>(random() % 2)));
    }
  }
  // Key order: (ts, kind, txn_id).
  std::sort(rows.begin(), rows.end(), [](const PaymentRow& left, const PaymentRow& right) {
    return std::make_tuple(left.timestampMs, left.kind, left.txnId) <
           std::make_tuple(right.timestampMs, right.kind, right.txnId);
  });

  LogisticModel initial = smallModel();
  ReferenceLearner reference{initial, initial};
  auto backend = makeBackend("rocksdb", temp.file("db"));
  ASSERT_NE(backend, nullptr);
  auto learner = std::make_unique<OnlineLearner>(initial, kMaturity, kPublish);
  ASSERT_OK(learner->open(backend.get(), kMaxParallelism));
  const size_t cut = rows.size() / 2;
  std::string saved;
  StateSnapshot snapshot;
  int64_t maxPending = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i == cut) {
      // Checkpoint: the operator blob and the backend's snapshot, then keep
      // going on a new learner restored from both (the old one is dropped).
      ASSERT_OK(learner->flush());
      saved = learner->encode();
      EXPECT_LT(saved.size(), 512u);  // model, snapshot, counters, queue positions: no per-transaction state
      ASSERT_OK_AND_ASSIGN(snapshot, backend->snapshot(1, temp.file("chk-1")));
      backend = makeBackend("rocksdb", temp.file("db2"));
      ASSERT_OK(backend->restore({snapshot}, temp.path().string()));
      learner = std::make_unique<OnlineLearner>(initial, kMaturity, kPublish);
      ASSERT_OK(learner->restore(saved));
      ASSERT_OK(learner->open(backend.get(), kMaxParallelism));
    }
    PaymentRow actual = rows[i];
    PaymentRow expected = rows[i];
    ASSERT_OK(learner->process(actual));
    reference.process(expected, kMaturity, kPublish);
    ASSERT_EQ(actual.probability, expected.probability) << "row " << i;
    ASSERT_EQ(actual.modelVersion, expected.modelVersion) << "row " << i;
    maxPending = std::max(maxPending, learner->pendingTimers());
  }
  EXPECT_GT(maxPending, 2 * TimerQueue::kTimersPerPage);
  EXPECT_EQ(learner->model(), reference.model);
  EXPECT_EQ(learner->modelUpdates(), reference.updates);
  EXPECT_EQ(learner->lateLabels(), reference.late);
  EXPECT_GT(reference.late, 0);
  EXPECT_GT(reference.updates, 100);
  ASSERT_OK(learner->advanceTo(kMaxWatermark));
  reference.fireBefore(kMaxWatermark, kMatureKind, 0, kPublish);
  EXPECT_EQ(learner->model(), reference.model);
  EXPECT_EQ(learner->modelUpdates(), reference.updates);
  EXPECT_EQ(countEntries(*backend, "learner-pending"), 0);
}

TEST_F(OnlineLearnerTest, DamagedOrOldStateIsRefused) {
  OnlineLearner learner(smallModel(), 100, 1000);
  Status status = learner.restore("xx");
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.toString().find("online learner state"), std::string::npos) << status.toString();
  // The pre-keyed layout started with the model; its first bytes are not the format tag.
  std::string old(400, '\0');
  status = learner.restore(old);
  EXPECT_NE(status.toString().find("unknown layout"), std::string::npos) << status.toString();
  // Positions that point at a timer page the backend does not have.
  OnlineLearner source(smallModel(), 100, 1000);
  ASSERT_OK(source.open(backend_.get(), kMaxParallelism));
  PaymentRow t = transaction(1, 0);
  ASSERT_OK(source.process(t));
  std::string saved = source.encode();  // tail page not flushed: the backend lacks it
  OnlineLearner restored(smallModel(), 100, 1000);
  ASSERT_OK(restored.restore(saved));
  testing::TempDir empty;
  auto emptyBackend = makeBackend("hashmap", empty.file("hashmap"));
  status = restored.open(emptyBackend.get(), kMaxParallelism);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.toString().find("timer page 0 is missing"), std::string::npos) << status.toString();
  // Without keyed state the learner cannot run.
  OnlineLearner unkeyed(smallModel(), 100, 1000);
  EXPECT_FALSE(unkeyed.open(nullptr, kMaxParallelism).ok());
}

}  // namespace
}  // namespace sluice::payments
