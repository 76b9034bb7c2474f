// Tests of the payment job's IO pieces: the alert latency histogram carried as
// stats counters, its summary in the stats sink, and the CSV source's ingest
// time stamp.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "operators/payments/payments_io.h"
#include "operators/payments/stage_operators.h"
#include "tests/testing/temp_dir.h"

namespace sluice::payments {
namespace {

struct CollectingOutput final : Output {
  Status emit(RecordBatch batch) override {
    batches.push_back(std::move(batch));
    return Status::OK();
  }
  Status emitSide(std::string_view, RecordBatch) override { return Status::OK(); }
  Status emitWatermark(int64_t) override { return Status::OK(); }
  std::vector<RecordBatch> batches;
};

TEST(AlertLatencyTest, BucketsAreExactBelow32MicrosAndWithin3PercentAbove) {
  EXPECT_EQ(alert_latency::bucketUpperBound(-5), 0);
  EXPECT_EQ(alert_latency::bucketUpperBound(0), 0);
  EXPECT_EQ(alert_latency::bucketUpperBound(31), 31);
  EXPECT_EQ(alert_latency::bucketUpperBound(32), 32);
  EXPECT_EQ(alert_latency::bucketUpperBound(64), 65);  // width 2 from 64
  EXPECT_EQ(alert_latency::bucketUpperBound(65), 65);
  for (int64_t micros : {100, 1'000, 4'999, 123'456, 10'000'000}) {
    int64_t bound = alert_latency::bucketUpperBound(micros);
    EXPECT_GE(bound, micros);
    EXPECT_LE(static_cast<double>(bound - micros), static_cast<double>(micros) / 32.0) << micros;
    EXPECT_EQ(alert_latency::bucketUpperBound(bound), bound) << micros;
  }
  EXPECT_EQ(alert_latency::parseCounterName(alert_latency::counterName(1'000)), alert_latency::bucketUpperBound(1'000));
  EXPECT_FALSE(alert_latency::parseCounterName("alerts").has_value());
  EXPECT_FALSE(alert_latency::parseCounterName("latency_us_le:x1").has_value());
  EXPECT_FALSE(alert_latency::parseCounterName("latency_us_le:").has_value());
  EXPECT_FALSE(alert_latency::parseCounterName("latency_us_le:-3").has_value());
}

TEST(AlertLatencyTest, QuantilesPickTheBucketOfTheRank) {
  std::vector<std::pair<int64_t, int64_t>> buckets = {{10, 98}, {100, 1}, {1'000, 1}};
  EXPECT_EQ(alert_latency::quantile(buckets, 0.5), 10);
  EXPECT_EQ(alert_latency::quantile(buckets, 0.98), 10);
  EXPECT_EQ(alert_latency::quantile(buckets, 0.99), 100);
  EXPECT_EQ(alert_latency::quantile(buckets, 0.999), 1'000);
  EXPECT_EQ(alert_latency::quantile({}, 0.5), 0);
  EXPECT_EQ(alert_latency::renderMilliseconds(buckets),
            R"({"alerts":100,"p50":0.010,"p99":0.100,"p999":1.000,"max":1.000})");
}

TEST(StatsSinkTest, SummarisesLatencyCountersUnderTheirOwnKey) {
  StatsSink sink("/dev/null");
  RecordBatchBuilder builder(statsSchema());
  auto add = [&](const std::string& name, int64_t value) {
    builder.column(0).appendString(name);
    builder.column(1).appendInt64(value);
    builder.column(2).appendString("");
  };
  add("alerts", 4);
  add(alert_latency::counterName(2'000), 1);  // two subtasks report the same bucket
  add(alert_latency::counterName(2'000), 2);
  add(alert_latency::counterName(30), 1);
  CollectingOutput out;
  ASSERT_TRUE(sink.processBatch(0, builder.finish(), out).ok());
  EXPECT_EQ(sink.render(), R"({"txns":0,"alerts":4,"late":0,"late_labels":0,"model_updates":0,)"
                           R"("latency_ms":{"alerts":4,"p50":2.015,"p99":2.015,"p999":2.015,"max":2.015}})");
  OperatorSnapshot snapshot;
  ASSERT_TRUE(sink.snapshotState(1, snapshot).ok());
  StatsSink restored("/dev/null");
  ASSERT_TRUE(restored.restoreState(snapshot).ok());
  EXPECT_EQ(restored.render(), sink.render());
}

TEST(PaymentsCsvReaderTest, StampsEachRecordWithTheIngestClock) {
  sluice::testing::TempDir dir;
  const std::string path = dir.file("events.csv");
  {
    std::ofstream file(path);
    file << "type,txn_id,ts_ms,account_id,merchant_id,mcc_or_label,amount_minor,country,lat_e6,lon_e6,device_id,"
            "channel\n"
         << "T,1,1000,7,9,5411,1250,DE,52520000,13405000,3,POS\n"
         << "L,1,2000,7,9,1\n";
  }
  PaymentsCsvReader reader(path, 16);
  ASSERT_TRUE(reader.open(OperatorContext{}).ok());
  const int64_t before = ingestClockNanos();
  CollectingOutput out;
  auto more = reader.pollNext(out);
  ASSERT_TRUE(more.ok()) << more.status().toString();
  const int64_t after = ingestClockNanos();
  ASSERT_EQ(out.batches.size(), 1u);
  ASSERT_EQ(out.batches[0].numRows(), 2);
  for (int64_t row = 0; row < 2; ++row) {
    PaymentRow read = readPaymentRow(out.batches[0], row);
    EXPECT_GE(read.ingestNs, before);
    EXPECT_LE(read.ingestNs, after);
  }
  EXPECT_EQ(readPaymentRow(out.batches[0], 0).txnId, 1u);
}

}  // namespace
}  // namespace sluice::payments
