// sluice-payments-gen: writes a deterministic payment-risk input (events.csv) and its fraud truth
// (truth.csv) to a directory, for demos and benchmarks at any scale.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include <CLI/CLI.hpp>

#include "operators/payments/generator.h"

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

}  // namespace

int main(int argc, char** argv) {
  using sluice::payments::PaymentsGeneratorOptions;
  PaymentsGeneratorOptions options;
  std::string outputDirectory;
  bool quiet = false;

  CLI::App app{"Writes <out>/events.csv (the payment job's input) and <out>/truth.csv (txn_id,is_fraud,scenario)."};
  app.add_option("--out", outputDirectory, "output directory (created if missing)")->required();
  app.add_option("--accounts", options.accounts, "number of accounts")->capture_default_str();
  app.add_option("--merchants", options.merchants, "number of merchants")->capture_default_str();
  app.add_option("--days", options.days, "days of transactions")->capture_default_str();
  app.add_option("--seed", options.seed, "random seed")->capture_default_str();
  app.add_option("--start-ms", options.startTimeMs, "first day's start, epoch ms")->capture_default_str();
  app.add_option("--txns-per-day", options.transactionsPerAccountPerDay, "mean transactions per account per day")
      ->capture_default_str();
  app.add_option("--jitter-ms", options.maxJitterMs, "max delay of a transaction in the file")->capture_default_str();
  app.add_option("--late-fraction", options.lateFraction, "fraction of transactions written much later")
      ->capture_default_str();
  app.add_option("--late-delay-ms", options.lateDelayMs, "how much later (between half of it and all of it)")
      ->capture_default_str();
  app.add_option("--label-delay-ms", options.labelDelayMs, "mean delay of a label after its transaction")
      ->capture_default_str();
  app.add_option("--genuine-label-fraction", options.genuineLabelFraction,
                 "fraction of genuine transactions that get a label 0")
      ->capture_default_str();
  app.add_option("--fraud-rate", options.fraudRate, "multiplier of every fraud scenario's rate (0 = none)")
      ->capture_default_str();
  app.add_flag("--quiet", quiet, "do not print the summary");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    std::fprintf(stderr, "sluice-payments-gen: %s (see --help)\n", error.what());
    return kExitUsage;
  }
  if (sluice::Status valid = options.validate(); !valid.ok()) {
    std::fprintf(stderr, "sluice-payments-gen: %s\n", valid.message().c_str());
    return kExitUsage;
  }
  std::error_code error;
  std::filesystem::create_directories(outputDirectory, error);
  if (error) {
    std::fprintf(stderr, "sluice-payments-gen: cannot create '%s': %s\n", outputDirectory.c_str(),
                 error.message().c_str());
    return kExitFailure;
  }
  const std::filesystem::path directory(outputDirectory);
  const auto started = std::chrono::steady_clock::now();
  auto summary = sluice::payments::writePaymentsCsv(options, (directory / "events.csv").string(),
                                                    (directory / "truth.csv").string());
  if (!summary.ok()) {
    std::fprintf(stderr, "sluice-payments-gen: %s\n", summary.status().message().c_str());
    return kExitFailure;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!quiet) {
    const auto& counts = *summary;
    const int64_t records = counts.transactions + counts.labels;
    std::printf(
        "wrote %lld transactions (%lld fraud: card_testing %lld, impossible_travel %lld, ato %lld, "
        "compromised_merchant %lld, amount_spike %lld) and %lld labels to %s in %.2f s (%.0f records/s)\n",
        static_cast<long long>(counts.transactions), static_cast<long long>(counts.fraudTransactions),
        static_cast<long long>(counts.transactionsByScenario[1]),
        static_cast<long long>(counts.transactionsByScenario[2]),
        static_cast<long long>(counts.transactionsByScenario[3]),
        static_cast<long long>(counts.transactionsByScenario[4]),
        static_cast<long long>(counts.transactionsByScenario[5]), static_cast<long long>(counts.labels),
        outputDirectory.c_str(), seconds, seconds > 0 ? static_cast<double>(records) / seconds : 0.0);
  }
  return 0;
}
