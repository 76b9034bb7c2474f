// Writes the standard Nexmark events (operators/nexmark: persons, auctions, bids 1:3:46, hot auctions, sellers
// and bidders) as JSON lines for the file-parsing benchmarks; the same seed gives the `nexmark` source's events.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "operators/nexmark/nexmark_generator.h"

int main(int argc, char** argv) {
  CLI::App app{"nexmark-file-generator: writes Nexmark events as JSON lines (the `nexmark` source's events)"};
  int64_t events = 1000000;
  std::string output;
  uint64_t seed = 42;
  int64_t rate = 10000;
  int64_t startTime = 1700000000000;
  app.add_option("-n,--events", events, "number of events")->check(CLI::NonNegativeNumber);
  app.add_option("-o,--output", output, "output file")->required();
  app.add_option("--seed", seed, "random seed (the source's `seed`)");
  app.add_option("--rate", rate, "event-time events per second (the source's `rate`)")->check(CLI::PositiveNumber);
  app.add_option("--start-time", startTime, "dateTime of event 0, epoch ms (the source's `start_time`)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  FILE* out = std::fopen(output.c_str(), "w");
  if (out == nullptr) {
    std::fprintf(stderr, "nexmark-file-generator: cannot open '%s'\n", output.c_str());
    return 1;
  }
  sluice::nexmark::GeneratorConfig config;
  config.seed = seed;
  config.eventsPerSecond = rate;
  config.baseTime = startTime;
  sluice::nexmark::Generator generator(config);
  std::string buffer;
  for (int64_t eventNumber = 0; eventNumber < events; ++eventNumber) {
    switch (sluice::nexmark::eventKindOf(eventNumber)) {
      case sluice::nexmark::EventKind::kPerson:
        sluice::nexmark::appendJsonLine(buffer, generator.person(eventNumber));
        break;
      case sluice::nexmark::EventKind::kAuction:
        sluice::nexmark::appendJsonLine(buffer, generator.auction(eventNumber));
        break;
      case sluice::nexmark::EventKind::kBid: sluice::nexmark::appendJsonLine(buffer, generator.bid(eventNumber)); break;
    }
    if (buffer.size() >= (1 << 20)) {
      if (std::fwrite(buffer.data(), 1, buffer.size(), out) != buffer.size()) break;
      buffer.clear();
    }
  }
  const bool written = std::fwrite(buffer.data(), 1, buffer.size(), out) == buffer.size();
  if (std::fclose(out) != 0 || !written) {
    std::fprintf(stderr, "nexmark-file-generator: cannot write '%s'\n", output.c_str());
    return 1;
  }
  return 0;
}
