// Writes a Nexmark-style JSON-lines event file (persons, auctions, bids in the
// standard 1:3:46 proportions, bounded event-time disorder) for benchmarks.
#include <CLI/CLI.hpp>

#include <cinttypes>
#include <cstdio>
#include <random>
#include <string>

namespace {

const char* kStates[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
const char* kCities[] = {"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle"};
const char* kChannels[] = {"Google", "Facebook", "Baidu", "Apple"};

std::string randomWord(std::mt19937_64& random, int minLength, int maxLength) {
  std::uniform_int_distribution<int> length(minLength, maxLength);
  std::uniform_int_distribution<int> letter('a', 'z');
  std::string word;
  int size = length(random);
  for (int i = 0; i < size; ++i) word += static_cast<char>(letter(random));
  return word;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nexmark-file-generator: writes Nexmark-style events as JSON lines"};
  int64_t events = 1000000;
  std::string output;
  uint64_t seed = 42;
  app.add_option("-n,--events", events, "number of events")->check(CLI::PositiveNumber);
  app.add_option("-o,--output", output, "output file")->required();
  app.add_option("--seed", seed, "random seed");
  CLI11_PARSE(app, argc, argv);

  FILE* out = std::fopen(output.c_str(), "w");
  if (out == nullptr) {
    std::fprintf(stderr, "nexmark-file-generator: cannot open '%s'\n", output.c_str());
    return 1;
  }
  std::mt19937_64 random(seed);
  const int64_t baseTime = 1700000000000;
  int64_t nextPerson = 1000;
  int64_t nextAuction = 1000;
  for (int64_t i = 0; i < events; ++i) {
    int64_t time = baseTime + i / 10 + static_cast<int64_t>(random() % 1000);  // up to 1 s of disorder
    int64_t slot = i % 50;
    if (slot == 0 || nextPerson == 1000) {
      std::fprintf(out,
                   "{\"type\":\"person\",\"id\":%" PRId64
                   ",\"name\":\"%s %s\",\"emailAddress\":\"%s@%s.com\","
                   "\"creditCard\":\"%04d %04d %04d %04d\",\"city\":\"%s\",\"state\":\"%s\",\"dateTime\":%" PRId64
                   ",\"extra\":\"%s\"}\n",
                   nextPerson++, randomWord(random, 3, 7).c_str(), randomWord(random, 4, 8).c_str(),
                   randomWord(random, 4, 6).c_str(), randomWord(random, 2, 4).c_str(),
                   static_cast<int>(random() % 10000), static_cast<int>(random() % 10000),
                   static_cast<int>(random() % 10000), static_cast<int>(random() % 10000), kCities[random() % 8],
                   kStates[random() % 6], time, randomWord(random, 0, 20).c_str());
    } else if (slot <= 3 || nextAuction == 1000) {
      int64_t seller = 1000 + static_cast<int64_t>(random() % static_cast<uint64_t>(nextPerson - 1000));
      std::fprintf(out,
                   "{\"type\":\"auction\",\"id\":%" PRId64
                   ",\"itemName\":\"%s\",\"description\":\"%s\","
                   "\"initialBid\":%" PRId64 ",\"reserve\":%" PRId64 ",\"dateTime\":%" PRId64 ",\"expires\":%" PRId64
                   ",\"seller\":%" PRId64 ",\"category\":%d,\"extra\":\"%s\"}\n",
                   nextAuction++, randomWord(random, 5, 10).c_str(), randomWord(random, 10, 20).c_str(),
                   static_cast<int64_t>(random() % 100000), static_cast<int64_t>(random() % 1000000), time,
                   time + 1000 + static_cast<int64_t>(random() % 100000), seller, 10 + static_cast<int>(random() % 10),
                   randomWord(random, 0, 20).c_str());
    } else {
      // Hot auctions and bidders: half the bids go to the most recent few.
      int64_t auctions = nextAuction - 1000;
      int64_t auction = (random() % 2 == 0)
                            ? nextAuction - 1 - static_cast<int64_t>(random() % std::min<int64_t>(auctions, 10))
                            : 1000 + static_cast<int64_t>(random() % static_cast<uint64_t>(auctions));
      int64_t persons = nextPerson - 1000;
      int64_t bidder = 1000 + static_cast<int64_t>(random() % static_cast<uint64_t>(persons));
      std::fprintf(out,
                   "{\"type\":\"bid\",\"auction\":%" PRId64 ",\"bidder\":%" PRId64 ",\"price\":%" PRId64
                   ",\"channel\":\"%s\",\"url\":\"https://www.nexmark.com/%s/item.htm?query=1\",\"dateTime\":%" PRId64
                   ",\"extra\":\"%s\"}\n",
                   auction, bidder, static_cast<int64_t>(random() % 10000000), kChannels[random() % 4],
                   randomWord(random, 3, 5).c_str(), time, randomWord(random, 0, 12).c_str());
    }
  }
  std::fclose(out);
  return 0;
}
