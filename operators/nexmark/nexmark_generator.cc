// NexmarkGenerator: per-event random streams, the standard id arithmetic, and text drawn from precomputed pools.
#include "operators/nexmark/nexmark_generator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>

namespace sluice::nexmark {
namespace {

constexpr int64_t kPersonIdLead = 10;
constexpr int64_t kAuctionIdLead = 10;
constexpr int64_t kHotChannelsRatio = 2;
constexpr int64_t kChannelsNumber = 10000;
constexpr size_t kPoolSize = 1 << 16;

constexpr std::array<std::string_view, 11> kFirstNames = {"Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
                                                          "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::array<std::string_view, 9> kLastNames = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                                        "Walton", "Smith",  "Jones",   "Noris"};
constexpr std::array<std::string_view, 6> kStates = {"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::array<std::string_view, 10> kCities = {"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
                                                      "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
constexpr std::array<std::string_view, 4> kHotChannels = {"Google", "Facebook", "Baidu", "Apple"};

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

/// SplitMix64: a small, fast stream whose state is one word, so seeding one per event costs nothing.
struct Generator::Random {
  explicit Random(uint64_t seed) : state(seed) {}
  uint64_t next() {
    state += 0x9e3779b97f4a7c15ULL;
    return mix64(state);
  }
  /// Uniform in [0, bound). REQUIRES: bound > 0.
  int64_t nextInt(int64_t bound) {
    return static_cast<int64_t>((static_cast<unsigned __int128>(next()) * static_cast<uint64_t>(bound)) >> 64);
  }
  double nextDouble() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  uint64_t state;
};

int64_t lastBase0PersonId(int64_t eventNumber) {
  const int64_t epoch = eventNumber / kProportionDenominator;
  const int64_t offset = std::min(eventNumber % kProportionDenominator, kPersonProportion - 1);
  return epoch * kPersonProportion + offset;
}

int64_t lastBase0AuctionId(int64_t eventNumber) {
  int64_t epoch = eventNumber / kProportionDenominator;
  int64_t offset = eventNumber % kProportionDenominator;
  if (offset < kPersonProportion) {
    --epoch;  // about to generate a person: the last auction of the previous epoch
    offset = kAuctionProportion - 1;
  } else if (offset >= kPersonProportion + kAuctionProportion) {
    offset = kAuctionProportion - 1;  // a bid: the last auction of this epoch
  } else {
    offset -= kPersonProportion;
  }
  return epoch * kAuctionProportion + offset;
}

Generator::Generator(const GeneratorConfig& config) : config_(config) {
  for (int64_t* value : {&config_.eventsPerSecond, &config_.numActivePeople, &config_.numInFlightAuctions,
                         &config_.hotAuctionRatio, &config_.hotSellersRatio, &config_.hotBiddersRatio}) {
    *value = std::max<int64_t>(1, *value);
  }
  Random random(mix64(config_.seed ^ 0x6e65786d61726bULL));
  letters_.resize(kPoolSize);
  text_.resize(kPoolSize);
  for (size_t i = 0; i < kPoolSize; ++i) {
    letters_[i] = static_cast<char>('a' + random.nextInt(26));
    text_[i] = random.nextInt(13) == 0 ? ' ' : static_cast<char>('a' + random.nextInt(26));
  }
  auto baseUrl = [&] {
    std::string url = "https://www.nexmark.com/";
    for (int part = 0; part < 3; ++part) {
      const int64_t length = 3 + random.nextInt(3);
      for (int64_t i = 0; i < length; ++i) {
        url += random.nextInt(13) == 0 ? '_' : static_cast<char>('a' + random.nextInt(26));
      }
      url += '/';
    }
    return url + "item.htm?query=1";
  };
  for (auto& url : hotUrls_) url = baseUrl();
  std::vector<std::string> texts;  // channel 0, its URL, channel 1, ...
  texts.reserve(2 * kChannelsNumber);
  for (int64_t channel = 0; channel < kChannelsNumber; ++channel) {
    texts.push_back("channel-" + std::to_string(channel));
    std::string url = baseUrl();
    if (random.nextInt(10) > 0) {
      std::string reversed = std::to_string(channel);
      std::reverse(reversed.begin(), reversed.end());
      url += "&channel_id=" + reversed;
    }
    texts.push_back(std::move(url));
  }
  size_t total = 0;
  for (const auto& text : texts) total += text.size();
  channelText_.reserve(total);  // no reallocation below, so the views stay valid
  for (const auto& text : texts) channelText_ += text;
  size_t offset = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string_view view = std::string_view(channelText_).substr(offset, texts[i].size());
    offset += texts[i].size();
    (i % 2 == 0 ? channels_ : channelUrls_).push_back(view);
  }
}

std::string_view Generator::poolSlice(Random& random, const std::string& pool, int64_t length) const {
  length = std::clamp<int64_t>(length, 0, static_cast<int64_t>(pool.size()));
  const int64_t offset = random.nextInt(static_cast<int64_t>(pool.size()) - length + 1);
  return std::string_view(pool).substr(static_cast<size_t>(offset), static_cast<size_t>(length));
}

std::string_view Generator::nextString(Random& random, int64_t maxLength) const {
  std::string_view text = poolSlice(random, text_, 3 + random.nextInt(maxLength - 3));
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

std::string_view Generator::nextExtra(Random& random, int64_t currentSize, int64_t desiredAverageSize) const {
  if (currentSize > desiredAverageSize) return {};
  desiredAverageSize -= currentSize;
  const int64_t delta = std::llround(static_cast<double>(desiredAverageSize) * 0.2);
  const int64_t minSize = desiredAverageSize - delta;
  const int64_t size = minSize + (delta == 0 ? 0 : random.nextInt(2 * delta));
  return poolSlice(random, letters_, size);
}

int64_t Generator::nextBase0PersonId(Random& random, int64_t eventNumber) const {
  const int64_t numPeople = lastBase0PersonId(eventNumber) + 1;
  const int64_t activePeople = std::min(numPeople, config_.numActivePeople);
  return numPeople - activePeople + random.nextInt(activePeople + kPersonIdLead);
}

int64_t Generator::nextBase0AuctionId(Random& random, int64_t eventNumber) const {
  const int64_t maxAuction = lastBase0AuctionId(eventNumber);
  const int64_t minAuction = std::max<int64_t>(maxAuction - config_.numInFlightAuctions, 0);
  return minAuction + random.nextInt(maxAuction - minAuction + 1 + kAuctionIdLead);
}

namespace {

// round(10^(6u) * 100), as the standard PriceGenerator; exp2 is a good deal cheaper than pow.
int64_t nextPrice(double uniform) { return std::llround(std::exp2(uniform * 19.931568569324174) * 100.0); }

void appendDigits4(std::string& out, int64_t value) {
  out += static_cast<char>('0' + value / 1000);
  out += static_cast<char>('0' + value / 100 % 10);
  out += static_cast<char>('0' + value / 10 % 10);
  out += static_cast<char>('0' + value % 10);
}

}  // namespace

Person Generator::person(int64_t eventNumber) {
  Random random(mix64(config_.seed ^ mix64(static_cast<uint64_t>(eventNumber))));
  Person person;
  person.id = lastBase0PersonId(eventNumber) + kFirstPersonId;
  person.dateTime = timestampOf(eventNumber);
  name_.assign(kFirstNames[random.nextInt(kFirstNames.size())]);
  name_ += ' ';
  name_ += kLastNames[random.nextInt(kLastNames.size())];
  email_.assign(nextString(random, 7));
  email_ += '@';
  email_ += nextString(random, 5);
  email_ += ".com";
  creditCard_.clear();
  for (int group = 0; group < 4; ++group) {
    if (group > 0) creditCard_ += ' ';
    appendDigits4(creditCard_, random.nextInt(10000));
  }
  person.name = name_;
  person.emailAddress = email_;
  person.creditCard = creditCard_;
  person.city = kCities[random.nextInt(kCities.size())];
  person.state = kStates[random.nextInt(kStates.size())];
  const int64_t currentSize =
      8 + static_cast<int64_t>(person.name.size() + person.emailAddress.size() + person.creditCard.size() +
                               person.city.size() + person.state.size());
  person.extra = nextExtra(random, currentSize, config_.avgPersonByteSize);
  return person;
}

Auction Generator::auction(int64_t eventNumber) {
  Random random(mix64(config_.seed ^ mix64(static_cast<uint64_t>(eventNumber))));
  Auction auction;
  auction.id = lastBase0AuctionId(eventNumber) + kFirstAuctionId;
  auction.dateTime = timestampOf(eventNumber);
  int64_t seller;
  if (random.nextInt(config_.hotSellersRatio) > 0) {
    seller = (lastBase0PersonId(eventNumber) / config_.hotSellersRatio) * config_.hotSellersRatio;
  } else {
    seller = nextBase0PersonId(random, eventNumber);
  }
  auction.seller = seller + kFirstPersonId;
  auction.category = kFirstCategoryId + random.nextInt(kNumCategories);
  auction.initialBid = nextPrice(random.nextDouble());
  auction.reserve = auction.initialBid + nextPrice(random.nextDouble());
  // An auction lasts up to twice the event time in which numInFlightAuctions auctions are generated.
  const int64_t eventsForAuctions = config_.numInFlightAuctions * kProportionDenominator / kAuctionProportion;
  const int64_t horizonMs = timestampOf(eventNumber + eventsForAuctions) - auction.dateTime;
  auction.expires = auction.dateTime + 1 + random.nextInt(std::max<int64_t>(horizonMs * 2, 1));
  auction.itemName = nextString(random, 20);
  auction.description = nextString(random, 100);
  const int64_t currentSize = 8 + static_cast<int64_t>(auction.itemName.size() + auction.description.size()) + 40;
  auction.extra = nextExtra(random, currentSize, config_.avgAuctionByteSize);
  return auction;
}

Bid Generator::bid(int64_t eventNumber) {
  Random random(mix64(config_.seed ^ mix64(static_cast<uint64_t>(eventNumber))));
  Bid bid;
  int64_t auction;
  if (random.nextInt(config_.hotAuctionRatio) > 0) {
    auction = (lastBase0AuctionId(eventNumber) / config_.hotAuctionRatio) * config_.hotAuctionRatio;
  } else {
    auction = nextBase0AuctionId(random, eventNumber);
  }
  bid.auction = auction + kFirstAuctionId;
  int64_t bidder;
  if (random.nextInt(config_.hotBiddersRatio) > 0) {
    bidder = (lastBase0PersonId(eventNumber) / config_.hotBiddersRatio) * config_.hotBiddersRatio + 1;
  } else {
    bidder = nextBase0PersonId(random, eventNumber);
  }
  bid.bidder = bidder + kFirstPersonId;
  bid.price = nextPrice(random.nextDouble());
  if (random.nextInt(kHotChannelsRatio) > 0) {
    const int64_t index = random.nextInt(kHotChannels.size());
    bid.channel = kHotChannels[index];
    bid.url = hotUrls_[index];
  } else {
    const int64_t index = random.nextInt(kChannelsNumber);
    bid.channel = channels_[index];
    bid.url = channelUrls_[index];
  }
  bid.dateTime = timestampOf(eventNumber);
  bid.extra = nextExtra(random, 32, config_.avgBidByteSize);
  return bid;
}

namespace {

void appendNumber(std::string& out, std::string_view key, int64_t value) {
  out += ",\"";
  out += key;
  out += "\":";
  char digits[24];
  auto [end, error] = std::to_chars(digits, digits + sizeof(digits), value);
  (void)error;
  out.append(digits, end);
}

void appendText(std::string& out, std::string_view key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":\"";
  out += value;
  out += '"';
}

}  // namespace

void appendJsonLine(std::string& out, const Person& event) {
  out += "{\"type\":\"person\"";
  appendNumber(out, "id", event.id);
  appendText(out, "name", event.name);
  appendText(out, "emailAddress", event.emailAddress);
  appendText(out, "creditCard", event.creditCard);
  appendText(out, "city", event.city);
  appendText(out, "state", event.state);
  appendNumber(out, "dateTime", event.dateTime);
  appendText(out, "extra", event.extra);
  out += "}\n";
}

void appendJsonLine(std::string& out, const Auction& event) {
  out += "{\"type\":\"auction\"";
  appendNumber(out, "id", event.id);
  appendText(out, "itemName", event.itemName);
  appendText(out, "description", event.description);
  appendNumber(out, "initialBid", event.initialBid);
  appendNumber(out, "reserve", event.reserve);
  appendNumber(out, "dateTime", event.dateTime);
  appendNumber(out, "expires", event.expires);
  appendNumber(out, "seller", event.seller);
  appendNumber(out, "category", event.category);
  appendText(out, "extra", event.extra);
  out += "}\n";
}

void appendJsonLine(std::string& out, const Bid& event) {
  out += "{\"type\":\"bid\"";
  appendNumber(out, "auction", event.auction);
  appendNumber(out, "bidder", event.bidder);
  appendNumber(out, "price", event.price);
  appendText(out, "channel", event.channel);
  appendText(out, "url", event.url);
  appendNumber(out, "dateTime", event.dateTime);
  appendText(out, "extra", event.extra);
  out += "}\n";
}

}  // namespace sluice::nexmark
