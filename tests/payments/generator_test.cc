// Tests of the payment transaction generator: determinism, file order and bounded disorder, labels
// and truth, the fraud scenarios' shapes, option validation, the CSV writer, the command and the
// `payments_generator` source.
#include "operators/payments/generator.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include <gtest/gtest.h>

#include "operators/payments/generator_source.h"
#include "tests/testing/operator_harness.h"
#include "tests/testing/process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice::payments {
namespace {

using testing::TempDir;

constexpr int64_t kDayMs = 86400000;

PaymentsGeneratorOptions smallOptions() {
  PaymentsGeneratorOptions options;
  options.accounts = 400;
  options.merchants = 120;
  options.days = 10;
  options.seed = 7;
  options.fraudRate = 4;  // enough episodes of every kind in a small run
  return options;
}

std::vector<GeneratedPayment> generateAll(const PaymentsGeneratorOptions& options, size_t batchSize = 4096) {
  auto generator = PaymentsGenerator::make(options);
  EXPECT_TRUE(generator.ok()) << generator.status().toString();
  std::vector<GeneratedPayment> records;
  while ((*generator)->nextBatch(records, batchSize) > 0) {
  }
  EXPECT_TRUE((*generator)->done());
  return records;
}

std::string csvOf(const std::vector<GeneratedPayment>& records) {
  std::string text;
  for (const auto& record : records) appendPaymentCsvLine(record, text);
  return text;
}

TEST(PaymentsGeneratorTest, SameOptionsGiveTheSameRecordsAndASeedChangesThem) {
  const auto options = smallOptions();
  const auto first = generateAll(options);
  ASSERT_GT(first.size(), 5000u);
  EXPECT_EQ(csvOf(first), csvOf(generateAll(options)));
  auto otherSeed = options;
  otherSeed.seed = 8;
  EXPECT_NE(csvOf(first), csvOf(generateAll(otherSeed)));
}

TEST(PaymentsGeneratorTest, BatchSizeAndSkipDoNotChangeTheSequence) {
  auto options = smallOptions();
  options.accounts = 100;
  options.days = 5;
  const auto whole = generateAll(options);
  EXPECT_EQ(csvOf(whole), csvOf(generateAll(options, 1)));
  EXPECT_EQ(csvOf(whole), csvOf(generateAll(options, 7)));

  ASSERT_OK_AND_ASSIGN(auto generator, PaymentsGenerator::make(options));
  const int64_t cut = static_cast<int64_t>(whole.size()) / 3;
  EXPECT_EQ(generator->skip(cut), cut);
  EXPECT_EQ(generator->recordsEmitted(), cut);
  std::vector<GeneratedPayment> rest;
  while (generator->nextBatch(rest, 1000) > 0) {
  }
  EXPECT_EQ(csvOf(rest), csvOf(std::vector<GeneratedPayment>(whole.begin() + cut, whole.end())));
  EXPECT_EQ(generator->skip(10), 0);
}

TEST(PaymentsGeneratorTest, FieldsAreInRangeAndDisorderIsBounded) {
  auto options = smallOptions();
  options.lateFraction = 0.01;
  const auto records = generateAll(options);
  const int64_t end = options.startTimeMs + options.days * kDayMs;
  std::set<uint64_t> transactionIds;
  int64_t maxTimestamp = INT64_MIN;
  int64_t lateWithBound5000 = 0;
  std::set<std::string> channels;
  for (const auto& record : records) {
    ASSERT_TRUE(record.kind == 'T' || record.kind == 'L');
    ASSERT_GT(record.txnId, 0u);
    ASSERT_GE(record.accountId, 1u);
    ASSERT_LE(record.accountId, static_cast<uint64_t>(options.accounts));
    ASSERT_GE(record.merchantId, 100000u);
    ASSERT_LT(record.merchantId, 100000u + static_cast<uint64_t>(options.merchants));
    if (record.isTransaction()) {
      ASSERT_TRUE(transactionIds.insert(record.txnId).second) << "duplicate txn_id " << record.txnId;
      ASSERT_GE(record.tsMs, options.startTimeMs);
      ASSERT_LT(record.tsMs, end);
      ASSERT_GE(record.mcc, 0);
      ASSERT_LE(record.mcc, 9999);
      ASSERT_GT(record.amountMinor, 0);
      const bool unknownCountry = record.country[0] == '-' && record.country[1] == '-';
      ASSERT_TRUE(unknownCountry || (std::isupper(record.country[0]) && std::isupper(record.country[1])));
      ASSERT_EQ(record.latE6 == kGeneratedNoLocation, record.lonE6 == kGeneratedNoLocation);
      if (record.latE6 != kGeneratedNoLocation) {
        ASSERT_LE(std::abs(record.latE6), 90'000'000);
        ASSERT_LE(std::abs(record.lonE6), 180'000'000);
      }
      channels.insert(std::string(generatedChannelName(record.channel)));
      // A T is written at most lateDelayMs after its time, so it trails the newest one by at most that.
      if (maxTimestamp != INT64_MIN) {
        ASSERT_GE(record.tsMs, maxTimestamp - options.lateDelayMs);
      }
      if (maxTimestamp != INT64_MIN && record.tsMs < maxTimestamp - 5000) ++lateWithBound5000;
    } else {
      // Labels are written at their own time, after every T written so far minus the jitter.
      if (maxTimestamp != INT64_MIN) {
        ASSERT_GE(record.tsMs, maxTimestamp - options.maxJitterMs);
      }
    }
    maxTimestamp = std::max(maxTimestamp, record.tsMs);
  }
  EXPECT_GT(lateWithBound5000, 0);
  EXPECT_EQ(channels, (std::set<std::string>{"ATM", "ECOM", "P2P", "POS"}));
}

TEST(PaymentsGeneratorTest, EveryFraudIsLabelledOnceAndLabelsMatchTheirTransaction) {
  auto options = smallOptions();
  options.genuineLabelFraction = 0.05;
  const auto records = generateAll(options);
  std::unordered_map<uint64_t, GeneratedPayment> transactions;
  std::unordered_map<uint64_t, int> labelsPerTransaction;
  int64_t genuineLabels = 0;
  for (const auto& record : records) {
    if (record.isTransaction()) {
      transactions[record.txnId] = record;
      continue;
    }
    auto found = transactions.find(record.txnId);
    ASSERT_NE(found, transactions.end()) << "label before (or without) its transaction " << record.txnId;
    const GeneratedPayment& transaction = found->second;
    EXPECT_GT(record.tsMs, transaction.tsMs);
    EXPECT_EQ(record.accountId, transaction.accountId);
    EXPECT_EQ(record.merchantId, transaction.merchantId);
    EXPECT_EQ(record.label, transaction.isFraud() ? 1 : 0);
    if (record.label == 0) ++genuineLabels;
    ++labelsPerTransaction[record.txnId];
  }
  int64_t fraud = 0;
  for (const auto& [id, transaction] : transactions) {
    if (!transaction.isFraud()) continue;
    ++fraud;
    EXPECT_EQ(labelsPerTransaction[id], 1) << "fraud " << id << " not labelled exactly once";
  }
  EXPECT_GT(fraud, 100);
  const double genuineShare =
      static_cast<double>(genuineLabels) / static_cast<double>(transactions.size() - static_cast<size_t>(fraud));
  EXPECT_NEAR(genuineShare, 0.05, 0.01);
}

TEST(PaymentsGeneratorTest, FraudScenariosHaveTheirShape) {
  const auto options = smallOptions();
  const auto records = generateAll(options);
  // The home country of an account: the country of most of its card-present genuine payments.
  std::map<uint64_t, std::map<std::string, int>> countries;
  std::map<FraudScenario, int64_t> counts;
  for (const auto& record : records) {
    if (record.isTransaction() && !record.isFraud() && record.latE6 != kGeneratedNoLocation) {
      ++countries[record.accountId][std::string(record.country.data(), 2)];
    }
  }
  auto homeOf = [&](uint64_t account) {
    const auto& seen = countries[account];
    return std::max_element(seen.begin(), seen.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
  };
  std::map<uint64_t, int64_t> previousTime;
  for (const auto& record : records) {
    if (!record.isTransaction()) continue;
    ++counts[record.scenario];
    const std::string country(record.country.data(), 2);
    switch (record.scenario) {
      case FraudScenario::kCardTesting:
        EXPECT_LE(record.amountMinor, 300);
        EXPECT_EQ(record.channel, GeneratedChannel::kEcom);
        EXPECT_NE(record.deviceId, 0u);
        break;
      case FraudScenario::kAccountTakeover:
        EXPECT_GE(record.amountMinor, 25000);
        EXPECT_EQ(record.channel, GeneratedChannel::kEcom);
        EXPECT_NE(record.deviceId, 0u);
        if (countries.count(record.accountId) != 0) {
          EXPECT_NE(country, homeOf(record.accountId));
        }
        break;
      case FraudScenario::kImpossibleTravel:
        EXPECT_NE(record.latE6, kGeneratedNoLocation);
        EXPECT_EQ(record.channel, GeneratedChannel::kPos);
        break;
      case FraudScenario::kAmountSpike:
        EXPECT_GE(record.amountMinor, 25000);
        EXPECT_NE(record.latE6, kGeneratedNoLocation);
        break;
      case FraudScenario::kCompromisedMerchant:
      case FraudScenario::kLegit: break;
    }
  }
  for (int scenario = 1; scenario < kNumFraudScenarios; ++scenario) {
    EXPECT_GT(counts[static_cast<FraudScenario>(scenario)], 3)
        << fraudScenarioName(static_cast<FraudScenario>(scenario));
  }
  // Card testing comes in bursts: at least 5 small payments of one account within 10 minutes.
  std::map<uint64_t, std::vector<int64_t>> burstTimes;
  for (const auto& record : records) {
    if (record.isTransaction() && record.scenario == FraudScenario::kCardTesting) {
      burstTimes[record.accountId].push_back(record.tsMs);
    }
  }
  bool sawBurst = false;
  for (auto& [account, times] : burstTimes) {
    std::sort(times.begin(), times.end());
    for (size_t i = 4; i < times.size(); ++i) sawBurst |= times[i] - times[i - 4] < 600000;
  }
  EXPECT_TRUE(sawBurst);

  auto noFraud = options;
  noFraud.fraudRate = 0;
  for (const auto& record : generateAll(noFraud)) ASSERT_FALSE(record.isFraud());
}

TEST(PaymentsGeneratorTest, RejectsBadOptionsWithOneLine) {
  struct Case {
    PaymentsGeneratorOptions options;
    std::string message;
  };
  std::vector<Case> cases;
  auto add = [&](auto change, std::string message) {
    PaymentsGeneratorOptions options;
    change(options);
    cases.push_back({options, std::move(message)});
  };
  add([](auto& o) { o.accounts = 0; }, "accounts must be between 1 and 4294967295, not 0");
  add([](auto& o) { o.merchants = -3; }, "merchants must be between 1 and 4294967295, not -3");
  add([](auto& o) { o.days = 0; }, "days must be between 1 and 3650, not 0");
  add([](auto& o) { o.transactionsPerAccountPerDay = 0; }, "transactions per account per day must be in (0, 10000]");
  add([](auto& o) { o.maxJitterMs = -1; }, "jitter must be between 0 and 86400000 ms, not -1");
  add([](auto& o) { o.lateFraction = 1.5; }, "late fraction must be in [0, 1], not 1.5");
  add([](auto& o) { o.fraudRate = 1000; }, "fraud rate must be in [0, 100], not 1000");
  for (const auto& testCase : cases) {
    auto generator = PaymentsGenerator::make(testCase.options);
    ASSERT_FALSE(generator.ok()) << testCase.message;
    EXPECT_EQ(generator.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(generator.status().message().find(testCase.message), std::string::npos) << generator.status().message();
    EXPECT_EQ(generator.status().message().find('\n'), std::string::npos);
  }
}

std::vector<std::string> linesOf(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(PaymentsGeneratorTest, WritesEventsAndTruthFiles) {
  TempDir dir;
  auto options = smallOptions();
  options.accounts = 50;
  ASSERT_OK_AND_ASSIGN(auto summary, writePaymentsCsv(options, dir.file("events.csv"), dir.file("truth.csv")));
  const auto events = linesOf(testing::readFile(dir.file("events.csv")));
  const auto truth = linesOf(testing::readFile(dir.file("truth.csv")));
  ASSERT_EQ(events.size(), static_cast<size_t>(1 + summary.transactions + summary.labels));
  ASSERT_EQ(truth.size(), static_cast<size_t>(1 + summary.transactions));
  EXPECT_EQ(events[0] + "\n", paymentsCsvHeader());
  EXPECT_EQ(truth[0], "txn_id,is_fraud,scenario");
  int64_t fraudLines = 0;
  size_t truthRow = 1;
  for (size_t i = 1; i < events.size(); ++i) {
    const auto& line = events[i];
    const auto fields = std::count(line.begin(), line.end(), ',') + 1;
    if (line[0] == 'T') {
      EXPECT_EQ(fields, 12) << line;
      // truth.csv lists the T records in the same order.
      const std::string id = line.substr(2, line.find(',', 2) - 2);
      ASSERT_EQ(truth[truthRow].substr(0, id.size() + 1), id + ",") << truth[truthRow] << " vs " << line;
      ++truthRow;
    } else {
      EXPECT_EQ(line[0], 'L');
      EXPECT_EQ(fields, 6) << line;
    }
  }
  for (size_t i = 1; i < truth.size(); ++i) fraudLines += truth[i].find(",1,") != std::string::npos ? 1 : 0;
  EXPECT_EQ(fraudLines, summary.fraudTransactions);
  EXPECT_GT(summary.fraudTransactions, 0);

  auto failed = writePaymentsCsv(options, dir.file("missing/events.csv"), dir.file("truth.csv"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kIOError);
  EXPECT_NE(failed.status().message().find("missing/events.csv"), std::string::npos) << failed.status().message();
}

TEST(PaymentsGeneratorTest, CsvLinesMatchTheInputFormat) {
  GeneratedPayment transaction;
  transaction.txnId = 17;
  transaction.tsMs = 1704067235472;
  transaction.accountId = 3;
  transaction.merchantId = 100194;
  transaction.mcc = 5541;
  transaction.amountMinor = 6531;
  transaction.country = {'G', 'B'};
  transaction.latE6 = 51464586;
  transaction.lonE6 = -83076;
  transaction.channel = GeneratedChannel::kPos;
  transaction.scenario = FraudScenario::kAmountSpike;
  std::string text;
  appendPaymentCsvLine(transaction, text);
  appendPaymentTruthLine(transaction, text);
  GeneratedPayment label;
  label.kind = 'L';
  label.txnId = 17;
  label.tsMs = 1704416560130;
  label.accountId = 3;
  label.merchantId = 100194;
  label.label = 1;
  appendPaymentCsvLine(label, text);
  EXPECT_EQ(text,
            "T,17,1704067235472,3,100194,5541,6531,GB,51464586,-83076,0,POS\n"
            "17,1,amount_spike\n"
            "L,17,1704416560130,3,100194,1\n");
}

TEST(PaymentsGeneratorCommandTest, WritesFilesAndRefusesBadFlags) {
#if defined(SLUICE_UNIT_ONLY_BUILD)
  GTEST_SKIP() << "the unit-only (sanitizer) build has no binaries";
#endif
  TempDir dir;
  const std::string out = dir.file("out");
  auto result = testing::runProcess({testing::binary("sluice-payments-gen"), "--accounts", "30", "--merchants", "40",
                                     "--days", "2", "--seed", "5", "--out", out});
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.out.find("transactions"), std::string::npos) << result.out;
  PaymentsGeneratorOptions options;
  options.accounts = 30;
  options.merchants = 40;
  options.days = 2;
  options.seed = 5;
  ASSERT_OK(writePaymentsCsv(options, dir.file("events.csv"), dir.file("truth.csv")).status());
  EXPECT_EQ(testing::readFile(out + "/events.csv"), testing::readFile(dir.file("events.csv")));
  EXPECT_EQ(testing::readFile(out + "/truth.csv"), testing::readFile(dir.file("truth.csv")));

  for (const auto& arguments : std::vector<std::vector<std::string>>{
           {"--accounts", "0", "--out", out}, {"--accounts", "many", "--out", out}, {"--bogus", "--out", out}, {}}) {
    std::vector<std::string> argv = {testing::binary("sluice-payments-gen")};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    auto bad = testing::runProcess(argv);
    EXPECT_EQ(bad.exitCode, 2) << bad.err;
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
    EXPECT_EQ(bad.err.rfind("sluice-payments-gen: ", 0), 0u) << bad.err;
  }
}

NodeSpec sourceSpec(const std::string& yaml) {
  NodeSpec spec;
  spec.id = "txns";
  spec.role = NodeRole::kSource;
  spec.options = YAML::Load(yaml);
  return spec;
}

/// Every row the reader emits, read back as PaymentRows.
std::vector<PaymentRow> drainRows(PaymentsGeneratorSourceReader& reader, int64_t maxPolls = -1) {
  testing::CollectingOutput out;
  for (int64_t polls = 0; maxPolls < 0 || polls < maxPolls; ++polls) {
    auto more = reader.pollNext(out);
    EXPECT_TRUE(more.ok()) << more.status().toString();
    if (!more.ok() || !*more) break;
  }
  std::vector<PaymentRow> rows;
  for (const auto& batch : out.batches) {
    EXPECT_TRUE(*batch.schema() == *paymentRowSchema());
    EXPECT_EQ(batch.eventTimeIndex(), paymentEventTimeIndex());
    for (int64_t row = 0; row < batch.numRows(); ++row) rows.push_back(readPaymentRow(batch, row));
  }
  EXPECT_TRUE(out.watermarks.empty());  // the reorder stage owns event time, as after payments_csv
  return rows;
}

TEST(PaymentsGeneratorSourceTest, EmitsTheRowsTheCsvSourceWouldReadFromTheGeneratedFile) {
  ASSERT_OK_AND_ASSIGN(PlannedNode node,
                       planPaymentsGeneratorSource(sourceSpec(R"yaml({accounts: 60, merchants: 50, days: 3, seed: 9,
                           fraud_rate: 5, jitter_ms: 1s, batch_size: 100})yaml"),
                                                   {}, PlanContext{}));
  ASSERT_EQ(node.outputs.count(""), 1u);
  EXPECT_TRUE(*node.outputs[""].schema == *paymentRowSchema());
  EXPECT_EQ(node.fixedParallelism, std::optional<int>(1));
  auto reader = node.createReader(0, 1);
  auto* generatorReader = dynamic_cast<PaymentsGeneratorSourceReader*>(reader.get());
  ASSERT_NE(generatorReader, nullptr);
  ASSERT_OK(generatorReader->open({}));
  const auto rows = drainRows(*generatorReader);

  PaymentsGeneratorOptions options;
  options.accounts = 60;
  options.merchants = 50;
  options.days = 3;
  options.seed = 9;
  options.fraudRate = 5;
  options.maxJitterMs = 1000;
  const auto records = generateAll(options);
  ASSERT_EQ(rows.size(), records.size());
  EXPECT_EQ(generatorReader->recordsRead(), static_cast<int64_t>(records.size()));
  for (size_t i = 0; i < records.size(); ++i) {
    std::string line;
    appendPaymentCsvLine(records[i], line);
    line.pop_back();
    PaymentRow parsed;
    ASSERT_OK_AND_ASSIGN(bool isRecord, parsePaymentLine(line, parsed));
    ASSERT_TRUE(isRecord) << line;
    // The job's own CSV parser accepts the line and reads the row the source emits.
    ASSERT_EQ(formatPaymentLine(rows[i]), formatPaymentLine(parsed)) << line;
    ASSERT_EQ(rows[i].kind, parsed.kind);
    ASSERT_EQ(rows[i].label, parsed.label);
  }
}

TEST(PaymentsGeneratorSourceTest, ResumesFromASavedPosition) {
  auto options = std::make_shared<PaymentsGeneratorSourceOptions>();
  options->sourceId = "txns";
  options->generator.accounts = 80;
  options->generator.days = 2;
  options->batchSize = 50;
  PaymentsGeneratorSourceReader whole(options);
  ASSERT_OK(whole.open({}));
  const auto all = drainRows(whole);

  PaymentsGeneratorSourceReader first(options);
  ASSERT_OK(first.open({}));
  const auto head = drainRows(first, 3);
  ASSERT_EQ(head.size(), 150u);
  const std::string position = first.snapshotPosition();

  PaymentsGeneratorSourceReader resumed(options);
  ASSERT_OK(resumed.restorePosition(position));
  ASSERT_OK(resumed.open({}));
  const auto tail = drainRows(resumed);
  ASSERT_EQ(head.size() + tail.size(), all.size());
  for (size_t i = 0; i < tail.size(); ++i) ASSERT_EQ(formatPaymentLine(tail[i]), formatPaymentLine(all[150 + i]));

  auto otherSeed = std::make_shared<PaymentsGeneratorSourceOptions>(*options);
  otherSeed->generator.seed = 43;
  PaymentsGeneratorSourceReader mismatched(otherSeed);
  Status refused = mismatched.restorePosition(position);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("different generator options"), std::string::npos) << refused.message();
  EXPECT_EQ(mismatched.restorePosition("garbage").code(), StatusCode::kCorruption);
  PaymentsGeneratorSourceReader pastEnd(options);
  ASSERT_OK(pastEnd.restorePosition("payments-generator-v1 999999999 " + position.substr(position.rfind(' ') + 1)));
  EXPECT_EQ(pastEnd.open({}).code(), StatusCode::kCorruption);
}

TEST(PaymentsGeneratorSourceTest, RefusesBadOptionsNamingTheSource) {
  for (const auto& [yaml, message] : std::vector<std::pair<std::string, std::string>>{
           {"{accounts: 0}", "accounts must be between 1 and 4294967295, not 0"},
           {"{seed: -1}", "seed must not be negative"},
           {"{batch_size: 0}", "batch_size must be positive"},
           {"{fraud_rate: -2}", "fraud rate must be in [0, 100], not -2"},
           {"{acounts: 5}", "acounts"},
           {"{days: many}", "days"}}) {
    auto planned = planPaymentsGeneratorSource(sourceSpec(yaml), {}, PlanContext{});
    ASSERT_FALSE(planned.ok()) << yaml;
    EXPECT_NE(planned.status().message().find("txns"), std::string::npos) << planned.status().message();
    EXPECT_NE(planned.status().message().find(message), std::string::npos) << planned.status().message();
    EXPECT_EQ(planned.status().message().find('\n'), std::string::npos);
  }
  registerPaymentsGeneratorSource();
  registerPaymentsGeneratorSource();
  ASSERT_OK_AND_ASSIGN(auto factory, NodeRegistry::instance().lookup(sourceSpec("{type: payments_generator}")));
  EXPECT_TRUE(factory != nullptr);
}

}  // namespace
}  // namespace sluice::payments
