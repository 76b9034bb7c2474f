// PaymentsGenerator: per-account Poisson processes merged through a heap of next-transaction times,
// fraud episodes started from genuine transactions, and a reorder heap that writes every record at
// its arrival time (ts plus jitter for T, the label time for L).
#include "operators/payments/generator.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace sluice::payments {
namespace {

constexpr int64_t kMinuteMs = 60000;
constexpr int64_t kHourMs = 3600000;
constexpr int64_t kDayMs = 86400000;
constexpr uint64_t kFirstMerchantId = 100000;
constexpr double kPi = 3.141592653589793;

// Per-scenario rates: the chance that a genuine transaction starts an episode (fraudRate = 1).
constexpr double kCardTestingRate = 0.0006;
constexpr double kImpossibleTravelRate = 0.0008;  // only card-present transactions trigger it
constexpr double kAccountTakeoverRate = 0.0004;
constexpr double kAmountSpikeRate = 0.0005;
// Fraction of merchants compromised for a few days, and the fraud share of their payments then.
constexpr double kCompromisedMerchantShare = 0.03;
constexpr double kCompromisedFraudShare = 0.3;

// Salts that give every derived quantity its own hash stream.
constexpr uint64_t kProfileSalt = 1;
constexpr uint64_t kAccountStreamSalt = 2;
constexpr uint64_t kMerchantSalt = 3;
constexpr uint64_t kCompromiseSalt = 4;
constexpr uint64_t kEpisodeSalt = 5;

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t hashOf(uint64_t seed, uint64_t value, uint64_t salt) {
  return mix64(mix64(seed + 0x9E3779B97F4A7C15ULL) ^ mix64(value * 0x9E3779B97F4A7C15ULL + salt));
}

/// SplitMix64 with portable distributions (no std:: distributions, whose output varies by library).
class Random {
 public:
  explicit Random(uint64_t state) : state_(state) {}
  uint64_t state() const { return state_; }
  uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    return mix64(state_);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double between(double low, double high) { return low + (high - low) * uniform(); }
  /// Uniform integer in [low, high].
  int64_t integer(int64_t low, int64_t high) {
    return low + static_cast<int64_t>(next() % static_cast<uint64_t>(high - low + 1));
  }
  bool chance(double probability) { return uniform() < probability; }
  double exponential(double mean) { return -mean * std::log1p(-uniform()); }
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
  }

 private:
  uint64_t state_;
};

struct City {
  char country[3];
  double latitude;
  double longitude;
  int utcOffsetHours;
  double weight;
};

// Home cities, weighted roughly like the sample (China-heavy issuer).
constexpr City kCities[] = {
    {"CN", 31.2304, 121.4737, 8, 14},  {"CN", 39.9042, 116.4074, 8, 12},  {"CN", 22.5431, 114.0579, 8, 10},
    {"SG", 1.3521, 103.8198, 8, 7},    {"GB", 51.5074, -0.1278, 0, 6},    {"US", 40.7128, -74.0060, -5, 3},
    {"US", 37.7749, -122.4194, -8, 2}, {"NG", 6.5244, 3.3792, 1, 5},      {"BR", -23.5505, -46.6333, -3, 5},
    {"DE", 52.5200, 13.4050, 1, 2},    {"FR", 48.8566, 2.3522, 1, 2},     {"JP", 35.6762, 139.6503, 9, 2},
    {"IN", 19.0760, 72.8777, 5, 2},    {"AU", -33.8688, 151.2093, 10, 1}, {"CA", 43.6532, -79.3832, -5, 1},
    {"MX", 19.4326, -99.1332, -6, 1},  {"AE", 25.2048, 55.2708, 4, 1},    {"RU", 55.7558, 37.6173, 3, 1},
};
constexpr int kNumCities = static_cast<int>(sizeof(kCities) / sizeof(kCities[0]));

constexpr int16_t kMccs[] = {5411, 5541, 5812, 5311, 5732, 5691, 5999, 4121, 5814, 5912};
constexpr int16_t kAtmMcc = 6011;

double distanceKm(double latitude1, double longitude1, double latitude2, double longitude2) {
  const double radians = kPi / 180.0;
  const double s1 = std::sin((latitude2 - latitude1) * radians / 2);
  const double s2 = std::sin((longitude2 - longitude1) * radians / 2);
  const double h = s1 * s1 + std::cos(latitude1 * radians) * std::cos(latitude2 * radians) * s2 * s2;
  return 2 * 6371.0 * std::asin(std::min(1.0, std::sqrt(h)));
}

int32_t toE6(double degrees) { return static_cast<int32_t>(std::llround(degrees * 1e6)); }

/// Night hours (local 0-5) get weight 0.2, day hours the rest, so the mean weight is 1.
double hourWeight(int localHour) { return localHour < 6 ? 0.2 : (24.0 - 6 * 0.2) / 18.0; }
const double kMaxHourWeight = (24.0 - 6 * 0.2) / 18.0;

struct AccountProfile {
  int city = 0;
  double homeLatitude = 0;
  double homeLongitude = 0;
  double medianAmount = 0;
  double ecomShare = 0;
  double activity = 0;
  int numDevices = 0;
  std::array<uint64_t, 2> devices{};
  int numUsualMerchants = 0;
  std::array<uint64_t, 6> usualMerchants{};  // merchant indexes
};

struct Episode {
  FraudScenario scenario = FraudScenario::kLegit;
  uint32_t account = 0;
  int remaining = 0;
  uint64_t random = 0;
  uint64_t device = 0;
  int city = 0;
  uint64_t merchant = 0;
  bool withLocation = false;
};

struct GenerationEvent {
  int64_t time;
  uint32_t isEpisode;
  uint32_t index;
  bool operator>(const GenerationEvent& other) const {
    if (time != other.time) return time > other.time;
    if (isEpisode != other.isEpisode) return isEpisode > other.isEpisode;
    return index > other.index;
  }
};

struct PendingRecord {
  int64_t arrival;
  uint64_t sequence;
  GeneratedPayment record;
  bool operator>(const PendingRecord& other) const {
    if (arrival != other.arrival) return arrival > other.arrival;
    return sequence > other.sequence;
  }
};

template <typename T>
void pushHeap(std::vector<T>& heap, T value) {
  heap.push_back(std::move(value));
  std::push_heap(heap.begin(), heap.end(), std::greater<T>());
}

template <typename T>
T popHeap(std::vector<T>& heap) {
  std::pop_heap(heap.begin(), heap.end(), std::greater<T>());
  T value = std::move(heap.back());
  heap.pop_back();
  return value;
}

char* appendInteger(char* cursor, int64_t value) { return std::to_chars(cursor, cursor + 24, value).ptr; }
char* appendUnsigned(char* cursor, uint64_t value) { return std::to_chars(cursor, cursor + 24, value).ptr; }

std::string formatDouble(double value) {
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  (void)error;
  return std::string(buffer, end);
}

}  // namespace

std::string_view fraudScenarioName(FraudScenario scenario) {
  switch (scenario) {
    case FraudScenario::kLegit: return "legit";
    case FraudScenario::kCardTesting: return "card_testing";
    case FraudScenario::kImpossibleTravel: return "impossible_travel";
    case FraudScenario::kAccountTakeover: return "ato";
    case FraudScenario::kCompromisedMerchant: return "compromised_merchant";
    case FraudScenario::kAmountSpike: return "amount_spike";
  }
  return "unknown";
}

std::string_view generatedChannelName(GeneratedChannel channel) {
  switch (channel) {
    case GeneratedChannel::kPos: return "POS";
    case GeneratedChannel::kEcom: return "ECOM";
    case GeneratedChannel::kAtm: return "ATM";
    case GeneratedChannel::kP2p: return "P2P";
  }
  return "POS";
}

Status PaymentsGeneratorOptions::validate() const {
  auto outOfRange = [](const std::string& name, const std::string& range, const std::string& value) {
    return Status::invalidArgument(name + " must be " + range + ", not " + value);
  };
  constexpr int64_t kMaxIndex = std::numeric_limits<uint32_t>::max();
  if (accounts < 1 || accounts > kMaxIndex) {
    return outOfRange("accounts", "between 1 and 4294967295", std::to_string(accounts));
  }
  if (merchants < 1 || merchants > kMaxIndex) {
    return outOfRange("merchants", "between 1 and 4294967295", std::to_string(merchants));
  }
  if (days < 1 || days > 3650) return outOfRange("days", "between 1 and 3650", std::to_string(days));
  if (startTimeMs < 0 || startTimeMs > 4'000'000'000'000'000) {
    return outOfRange("start time", "between 0 and 4e15 ms", std::to_string(startTimeMs));
  }
  if (!(transactionsPerAccountPerDay > 0 && transactionsPerAccountPerDay <= 10000)) {
    return outOfRange("transactions per account per day", "in (0, 10000]", formatDouble(transactionsPerAccountPerDay));
  }
  if (maxJitterMs < 0 || maxJitterMs > kDayMs) {
    return outOfRange("jitter", "between 0 and 86400000 ms", std::to_string(maxJitterMs));
  }
  if (!(lateFraction >= 0 && lateFraction <= 1))
    return outOfRange("late fraction", "in [0, 1]", formatDouble(lateFraction));
  if (lateDelayMs < 0 || lateDelayMs > kDayMs) {
    return outOfRange("late delay", "between 0 and 86400000 ms", std::to_string(lateDelayMs));
  }
  if (labelDelayMs < 0 || labelDelayMs > 365 * kDayMs) {
    return outOfRange("label delay", "between 0 and 365 days in ms", std::to_string(labelDelayMs));
  }
  if (!(genuineLabelFraction >= 0 && genuineLabelFraction <= 1)) {
    return outOfRange("genuine label fraction", "in [0, 1]", formatDouble(genuineLabelFraction));
  }
  if (!(fraudRate >= 0 && fraudRate <= 100)) return outOfRange("fraud rate", "in [0, 100]", formatDouble(fraudRate));
  return Status::OK();
}

std::string PaymentsGeneratorOptions::fingerprint() const {
  return "accounts=" + std::to_string(accounts) + ";merchants=" + std::to_string(merchants) +
         ";days=" + std::to_string(days) + ";start=" + std::to_string(startTimeMs) + ";seed=" + std::to_string(seed) +
         ";rate=" + formatDouble(transactionsPerAccountPerDay) + ";jitter=" + std::to_string(maxJitterMs) +
         ";late=" + formatDouble(lateFraction) + "/" + std::to_string(lateDelayMs) +
         ";label_delay=" + std::to_string(labelDelayMs) + ";genuine_labels=" + formatDouble(genuineLabelFraction) +
         ";fraud=" + formatDouble(fraudRate);
}

class PaymentsGenerator::Impl {
 public:
  explicit Impl(const PaymentsGeneratorOptions& options)
      : options_(options),
        endMs_(options.startTimeMs + options.days * kDayMs),
        accountRandom_(static_cast<size_t>(options.accounts)),
        busy_(static_cast<size_t>(options.accounts), 0) {
    double totalWeight = 0;
    for (const auto& city : kCities) totalWeight += city.weight;
    double cumulative = 0;
    for (const auto& city : kCities) {
      cumulative += city.weight / totalWeight;
      cityCumulative_.push_back(cumulative);
    }
    for (int i = 0; i < kNumCities; ++i) {
      std::vector<int> far;
      for (int j = 0; j < kNumCities; ++j) {
        if (distanceKm(kCities[i].latitude, kCities[i].longitude, kCities[j].latitude, kCities[j].longitude) > 2000) {
          far.push_back(j);
        }
      }
      farCities_.push_back(std::move(far));
    }
    generation_.reserve(static_cast<size_t>(options.accounts));
    for (int64_t account = 0; account < options.accounts; ++account) {
      Random random(hashOf(options.seed, static_cast<uint64_t>(account), kAccountStreamSalt));
      const AccountProfile profile = profileOf(static_cast<uint32_t>(account));
      const int64_t first = options.startTimeMs + nextGap(random, profile);
      accountRandom_[account] = random.state();
      if (first < endMs_) generation_.push_back({first, 0, static_cast<uint32_t>(account)});
    }
    std::make_heap(generation_.begin(), generation_.end(), std::greater<GenerationEvent>());
  }

  bool done() const { return generation_.empty() && pending_.empty(); }

  /// Moves the next record in file order to `out`; false when there is none left.
  bool next(GeneratedPayment& out) {
    while (true) {
      if (!pending_.empty() && (generation_.empty() || pending_.front().arrival <= generation_.front().time)) {
        out = popHeap(pending_).record;
        return true;
      }
      if (generation_.empty()) return false;
      step();
    }
  }

 private:
  AccountProfile profileOf(uint32_t account) const {
    Random random(hashOf(options_.seed, account, kProfileSalt));
    AccountProfile profile;
    const double pick = random.uniform();
    profile.city = kNumCities - 1;
    for (int i = 0; i < kNumCities; ++i) {
      if (pick < cityCumulative_[i]) {
        profile.city = i;
        break;
      }
    }
    profile.homeLatitude = kCities[profile.city].latitude + random.between(-0.06, 0.06);
    profile.homeLongitude = kCities[profile.city].longitude + random.between(-0.06, 0.06);
    profile.medianAmount = std::clamp(3000.0 * std::exp(0.6 * random.normal()), 400.0, 30000.0);
    profile.ecomShare = random.between(0.05, 0.45);
    profile.activity = random.between(0.3, 1.7);
    profile.numDevices = 1 + static_cast<int>(random.integer(0, 1));
    for (int i = 0; i < profile.numDevices; ++i) profile.devices[i] = deviceId(random.next());
    profile.numUsualMerchants = static_cast<int>(random.integer(3, 6));
    for (int i = 0; i < profile.numUsualMerchants; ++i) {
      profile.usualMerchants[i] = shopMerchant(random.next() % static_cast<uint64_t>(options_.merchants));
    }
    return profile;
  }

  static uint64_t deviceId(uint64_t bits) { return 100'000'000'000ULL + bits % 1'000'000'000'000ULL; }

  bool isAtmOperator(uint64_t merchant) const { return options_.merchants >= 20 && merchant % 20 == 0; }
  /// A merchant index that is not an ATM operator.
  uint64_t shopMerchant(uint64_t merchant) const {
    return isAtmOperator(merchant) ? (merchant + 1) % static_cast<uint64_t>(options_.merchants) : merchant;
  }
  int16_t mccOf(uint64_t merchant) const {
    if (isAtmOperator(merchant)) return kAtmMcc;
    constexpr uint64_t kNumMccs = sizeof(kMccs) / sizeof(kMccs[0]);
    return kMccs[hashOf(options_.seed, merchant, kMerchantSalt) % kNumMccs];
  }
  /// Whether `merchant` is compromised at `time` (a few days per compromised merchant).
  bool compromisedAt(uint64_t merchant, int64_t time) const {
    if (isAtmOperator(merchant)) return false;
    Random random(hashOf(options_.seed, merchant, kCompromiseSalt));
    if (!random.chance(std::min(1.0, options_.fraudRate * kCompromisedMerchantShare))) return false;
    const int64_t start =
        options_.startTimeMs + static_cast<int64_t>(random.uniform() * static_cast<double>(options_.days * kDayMs));
    const int64_t end = start + random.integer(3, 7) * kDayMs;
    return time >= start && time < end;
  }

  int64_t nextGap(Random& random, const AccountProfile& profile) const {
    const double perDay = options_.transactionsPerAccountPerDay * profile.activity * kMaxHourWeight;
    return std::max<int64_t>(1000, static_cast<int64_t>(random.exponential(static_cast<double>(kDayMs) / perDay)));
  }

  void step() {
    const GenerationEvent event = popHeap(generation_);
    if (event.isEpisode != 0) {
      stepEpisode(event);
    } else {
      stepAccount(event);
    }
  }

  void stepAccount(const GenerationEvent& event) {
    const uint32_t account = event.index;
    Random random(accountRandom_[account]);
    const AccountProfile profile = profileOf(account);
    const int localHour =
        static_cast<int>(((event.time / kHourMs + kCities[profile.city].utcOffsetHours) % 24 + 24) % 24);
    if (random.chance(hourWeight(localHour) / kMaxHourWeight)) genuineTransaction(account, profile, event.time, random);
    const int64_t next = event.time + nextGap(random, profile);
    accountRandom_[account] = random.state();
    if (next < endMs_) pushHeap(generation_, GenerationEvent{next, 0, account});
  }

  void genuineTransaction(uint32_t account, const AccountProfile& profile, int64_t time, Random& random) {
    GeneratedPayment record;
    record.tsMs = time;
    record.accountId = account + 1;
    const double channelPick = random.uniform();
    if (channelPick < profile.ecomShare) {
      record.channel = GeneratedChannel::kEcom;
    } else if (channelPick < profile.ecomShare + 0.03 && options_.merchants >= 20) {
      record.channel = GeneratedChannel::kAtm;
    } else if (channelPick < profile.ecomShare + 0.05) {
      record.channel = GeneratedChannel::kP2p;
    } else {
      record.channel = GeneratedChannel::kPos;
    }
    uint64_t merchant = 0;
    if (record.channel == GeneratedChannel::kAtm) {
      merchant = (random.next() % static_cast<uint64_t>(options_.merchants / 20)) * 20;
      record.amountMinor = random.integer(1, 20) * 2000;
    } else {
      merchant = random.chance(0.8)
                     ? profile.usualMerchants[random.next() % static_cast<uint64_t>(profile.numUsualMerchants)]
                     : shopMerchant(random.next() % static_cast<uint64_t>(options_.merchants));
      const double amount = profile.medianAmount * std::exp(0.55 * random.normal());
      record.amountMinor = std::clamp<int64_t>(std::llround(amount), 50, 5'000'000);
    }
    record.merchantId = kFirstMerchantId + merchant;
    record.mcc = mccOf(merchant);
    const City& home = kCities[profile.city];
    record.country = {home.country[0], home.country[1]};
    const bool cardPresent = record.channel == GeneratedChannel::kPos || record.channel == GeneratedChannel::kAtm;
    if (cardPresent) {
      record.latE6 = toE6(profile.homeLatitude + random.between(-0.04, 0.04));
      record.lonE6 = toE6(profile.homeLongitude + random.between(-0.04, 0.04));
    } else {
      record.deviceId = profile.devices[random.next() % static_cast<uint64_t>(profile.numDevices)];
      const double countryPick = random.uniform();
      if (countryPick < 0.01) {
        record.country = {'-', '-'};
      } else if (countryPick < 0.02) {
        const City& abroad = kCities[random.next() % kNumCities];
        record.country = {abroad.country[0], abroad.country[1]};
      }
    }
    if (compromisedAt(merchant, time) && random.chance(kCompromisedFraudShare)) {
      record.scenario = FraudScenario::kCompromisedMerchant;
    }
    emitTransaction(record, random);
    if (busy_[account] == 0 && options_.fraudRate > 0) maybeStartEpisode(account, profile, record, random);
  }

  void maybeStartEpisode(uint32_t account, const AccountProfile& profile, const GeneratedPayment& trigger,
                         Random& random) {
    const double rate = options_.fraudRate;
    const double pick = random.uniform();
    const bool located = trigger.latE6 != kGeneratedNoLocation;
    double threshold = kCardTestingRate * rate;
    Episode episode;
    episode.account = account;
    episode.random = hashOf(options_.seed, random.next(), kEpisodeSalt);
    Random episodeRandom(episode.random);
    int64_t start = 0;
    if (pick < threshold) {
      episode.scenario = FraudScenario::kCardTesting;
      episode.remaining = static_cast<int>(episodeRandom.integer(6, 14));
      episode.device = deviceId(episodeRandom.next());
      episode.city = episodeRandom.chance(0.5) ? profile.city : static_cast<int>(episodeRandom.next() % kNumCities);
      episode.merchant = shopMerchant(episodeRandom.next() % static_cast<uint64_t>(options_.merchants));
      start = trigger.tsMs + episodeRandom.integer(1, 30) * kMinuteMs;
    } else if (pick < (threshold += kImpossibleTravelRate * rate)) {
      if (!located || farCities_[profile.city].empty()) return;
      const auto& far = farCities_[profile.city];
      episode.scenario = FraudScenario::kImpossibleTravel;
      episode.remaining = static_cast<int>(episodeRandom.integer(1, 2));
      episode.city = far[episodeRandom.next() % far.size()];
      episode.withLocation = true;
      start = trigger.tsMs + episodeRandom.integer(5, 45) * kMinuteMs;
    } else if (pick < (threshold += kAccountTakeoverRate * rate)) {
      episode.scenario = FraudScenario::kAccountTakeover;
      episode.remaining = static_cast<int>(episodeRandom.integer(2, 5));
      episode.device = deviceId(episodeRandom.next());
      const char* homeCountry = kCities[profile.city].country;
      do {
        episode.city = static_cast<int>(episodeRandom.next() % kNumCities);
      } while (std::strcmp(kCities[episode.city].country, homeCountry) == 0);
      start = trigger.tsMs + episodeRandom.integer(10, 360) * kMinuteMs;
    } else if (pick < (threshold += kAmountSpikeRate * rate)) {
      episode.scenario = FraudScenario::kAmountSpike;
      episode.remaining = 1;
      episode.city = profile.city;
      episode.withLocation = true;
      start = trigger.tsMs + episodeRandom.integer(60, 48 * 60) * kMinuteMs;
    } else {
      return;
    }
    if (start >= endMs_) return;
    episode.random = episodeRandom.state();
    uint32_t slot = 0;
    if (!freeEpisodes_.empty()) {
      slot = freeEpisodes_.back();
      freeEpisodes_.pop_back();
      episodes_[slot] = episode;
    } else {
      slot = static_cast<uint32_t>(episodes_.size());
      episodes_.push_back(episode);
    }
    busy_[account] = 1;
    pushHeap(generation_, GenerationEvent{start, 1, slot});
  }

  void stepEpisode(const GenerationEvent& event) {
    Episode& episode = episodes_[event.index];
    Random random(episode.random);
    const AccountProfile profile = profileOf(episode.account);
    const City& city = kCities[episode.city];
    GeneratedPayment record;
    record.tsMs = event.time;
    record.accountId = episode.account + 1;
    record.scenario = episode.scenario;
    record.country = {city.country[0], city.country[1]};
    uint64_t merchant = episode.merchant;
    int64_t gapMs = 0;
    switch (episode.scenario) {
      case FraudScenario::kCardTesting:
        record.channel = GeneratedChannel::kEcom;
        record.deviceId = episode.device;
        record.amountMinor = random.integer(100, 300);
        gapMs = random.integer(15, 100) * 1000;
        break;
      case FraudScenario::kImpossibleTravel:
        record.channel = GeneratedChannel::kPos;
        merchant = shopMerchant(random.next() % static_cast<uint64_t>(options_.merchants));
        record.amountMinor =
            std::clamp<int64_t>(std::llround(profile.medianAmount * random.between(1.5, 6.0)), 500, 5'000'000);
        record.latE6 = toE6(city.latitude + random.between(-0.05, 0.05));
        record.lonE6 = toE6(city.longitude + random.between(-0.05, 0.05));
        gapMs = random.integer(3, 20) * kMinuteMs;
        break;
      case FraudScenario::kAccountTakeover:
        record.channel = GeneratedChannel::kEcom;
        record.deviceId = episode.device;
        merchant = shopMerchant(random.next() % static_cast<uint64_t>(options_.merchants));
        record.amountMinor = random.integer(25000, 250000);
        gapMs = random.integer(2, 25) * kMinuteMs;
        break;
      case FraudScenario::kAmountSpike:
        record.channel = GeneratedChannel::kPos;
        merchant = profile.usualMerchants[random.next() % static_cast<uint64_t>(profile.numUsualMerchants)];
        record.amountMinor =
            std::clamp<int64_t>(std::llround(profile.medianAmount * random.between(15, 40)), 25000, 5'000'000);
        record.latE6 = toE6(profile.homeLatitude + random.between(-0.04, 0.04));
        record.lonE6 = toE6(profile.homeLongitude + random.between(-0.04, 0.04));
        break;
      case FraudScenario::kLegit:
      case FraudScenario::kCompromisedMerchant: break;
    }
    record.merchantId = kFirstMerchantId + merchant;
    record.mcc = mccOf(merchant);
    emitTransaction(record, random);
    episode.random = random.state();
    episode.remaining -= 1;
    const int64_t next = event.time + gapMs;
    if (episode.remaining > 0 && next < endMs_) {
      pushHeap(generation_, GenerationEvent{next, 1, event.index});
    } else {
      busy_[episode.account] = 0;
      freeEpisodes_.push_back(event.index);
    }
  }

  /// Numbers a T, schedules its arrival (ts plus jitter) and its label, if any.
  void emitTransaction(GeneratedPayment& record, Random& random) {
    record.txnId = ++lastTransactionId_;
    int64_t arrival = record.tsMs;
    if (options_.lateFraction > 0 && random.chance(options_.lateFraction)) {
      arrival += random.integer(options_.lateDelayMs / 2, options_.lateDelayMs);
    } else if (options_.maxJitterMs > 0) {
      arrival += random.integer(0, options_.maxJitterMs);
    }
    const double labelDelay = static_cast<double>(options_.labelDelayMs);
    int64_t labelTime = -1;
    if (record.isFraud()) {
      const bool chargeback = record.scenario == FraudScenario::kCompromisedMerchant;
      labelTime = record.tsMs + (chargeback ? 6 * kHourMs : kHourMs) +
                  static_cast<int64_t>(random.exponential(chargeback ? labelDelay / 2 : labelDelay));
    } else if (options_.genuineLabelFraction > 0 && random.chance(options_.genuineLabelFraction)) {
      labelTime = record.tsMs + kHourMs + static_cast<int64_t>(random.exponential(2 * labelDelay));
    }
    if (labelTime >= 0) {
      GeneratedPayment label;
      label.kind = 'L';
      label.tsMs = labelTime;
      label.txnId = record.txnId;
      label.accountId = record.accountId;
      label.merchantId = record.merchantId;
      label.label = record.isFraud() ? 1 : 0;
      label.scenario = record.scenario;
      pushHeap(pending_, PendingRecord{labelTime, ++lastSequence_, label});
    }
    pushHeap(pending_, PendingRecord{arrival, ++lastSequence_, record});
  }

  PaymentsGeneratorOptions options_;
  int64_t endMs_;
  std::vector<double> cityCumulative_;
  std::vector<std::vector<int>> farCities_;
  std::vector<uint64_t> accountRandom_;
  std::vector<uint8_t> busy_;  // 1 while the account has a fraud episode in progress
  std::vector<Episode> episodes_;
  std::vector<uint32_t> freeEpisodes_;
  std::vector<GenerationEvent> generation_;  // min-heap of the next account or episode event
  std::vector<PendingRecord> pending_;       // min-heap by arrival of records generated but not written
  uint64_t lastTransactionId_ = 0;
  uint64_t lastSequence_ = 0;
};

Result<std::unique_ptr<PaymentsGenerator>> PaymentsGenerator::make(const PaymentsGeneratorOptions& options) {
  SLUICE_RETURN_NOT_OK(options.validate());
  return std::unique_ptr<PaymentsGenerator>(new PaymentsGenerator(options));
}

PaymentsGenerator::PaymentsGenerator(const PaymentsGeneratorOptions& options)
    : options_(options), impl_(std::make_unique<Impl>(options)) {}

PaymentsGenerator::~PaymentsGenerator() = default;

bool PaymentsGenerator::done() const { return impl_->done(); }

size_t PaymentsGenerator::nextBatch(std::vector<GeneratedPayment>& out, size_t maxRecords) {
  size_t count = 0;
  GeneratedPayment record;
  while (count < maxRecords && impl_->next(record)) {
    if (record.isTransaction()) {
      summary_.transactions += 1;
      summary_.transactionsByScenario[static_cast<int>(record.scenario)] += 1;
      if (record.isFraud()) summary_.fraudTransactions += 1;
    } else {
      summary_.labels += 1;
    }
    out.push_back(record);
    ++count;
  }
  emitted_ += static_cast<int64_t>(count);
  return count;
}

int64_t PaymentsGenerator::skip(int64_t records) {
  std::vector<GeneratedPayment> scratch;
  int64_t skipped = 0;
  while (skipped < records) {
    scratch.clear();
    const size_t got = nextBatch(scratch, static_cast<size_t>(std::min<int64_t>(records - skipped, 4096)));
    if (got == 0) break;
    skipped += static_cast<int64_t>(got);
  }
  return skipped;
}

std::string_view paymentsCsvHeader() {
  return "type,txn_id,ts_ms,account_id,merchant_id,mcc,amount_minor,country,lat_e6,lon_e6,device_id,channel\n";
}

std::string_view paymentsTruthHeader() { return "txn_id,is_fraud,scenario\n"; }

void appendPaymentCsvLine(const GeneratedPayment& record, std::string& out) {
  char buffer[256];
  char* cursor = buffer;
  *cursor++ = record.kind;
  *cursor++ = ',';
  cursor = appendUnsigned(cursor, record.txnId);
  *cursor++ = ',';
  cursor = appendInteger(cursor, record.tsMs);
  *cursor++ = ',';
  cursor = appendUnsigned(cursor, record.accountId);
  *cursor++ = ',';
  cursor = appendUnsigned(cursor, record.merchantId);
  *cursor++ = ',';
  if (record.isTransaction()) {
    cursor = appendInteger(cursor, record.mcc);
    *cursor++ = ',';
    cursor = appendInteger(cursor, record.amountMinor);
    *cursor++ = ',';
    *cursor++ = record.country[0];
    *cursor++ = record.country[1];
    *cursor++ = ',';
    cursor = appendInteger(cursor, record.latE6);
    *cursor++ = ',';
    cursor = appendInteger(cursor, record.lonE6);
    *cursor++ = ',';
    cursor = appendUnsigned(cursor, record.deviceId);
    *cursor++ = ',';
    const std::string_view channel = generatedChannelName(record.channel);
    std::memcpy(cursor, channel.data(), channel.size());
    cursor += channel.size();
  } else {
    *cursor++ = static_cast<char>('0' + record.label);
  }
  *cursor++ = '\n';
  out.append(buffer, cursor);
}

void appendPaymentTruthLine(const GeneratedPayment& record, std::string& out) {
  char buffer[64];
  char* cursor = appendUnsigned(buffer, record.txnId);
  *cursor++ = ',';
  *cursor++ = record.isFraud() ? '1' : '0';
  *cursor++ = ',';
  out.append(buffer, cursor);
  out.append(fraudScenarioName(record.scenario));
  out.push_back('\n');
}

namespace {

/// A buffered output file whose errors become IOErrors naming the path.
class OutputFile {
 public:
  static Result<std::unique_ptr<OutputFile>> open(const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr) return Status::ioError("cannot create '" + path + "': " + std::strerror(errno));
    return std::unique_ptr<OutputFile>(new OutputFile(path, file));
  }
  ~OutputFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  Status write(std::string_view bytes) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
      return Status::ioError("cannot write '" + path_ + "': " + std::strerror(errno));
    }
    return Status::OK();
  }
  Status close() {
    std::FILE* file = file_;
    file_ = nullptr;
    if (std::fclose(file) != 0) return Status::ioError("cannot write '" + path_ + "': " + std::strerror(errno));
    return Status::OK();
  }

 private:
  OutputFile(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  std::string path_;
  std::FILE* file_;
};

}  // namespace

Result<PaymentsGeneratorSummary> writePaymentsCsv(const PaymentsGeneratorOptions& options,
                                                  const std::string& eventsPath, const std::string& truthPath) {
  SLUICE_ASSIGN_OR_RETURN(auto generator, PaymentsGenerator::make(options));
  SLUICE_ASSIGN_OR_RETURN(auto events, OutputFile::open(eventsPath));
  SLUICE_ASSIGN_OR_RETURN(auto truth, OutputFile::open(truthPath));
  SLUICE_RETURN_NOT_OK(events->write(paymentsCsvHeader()));
  SLUICE_RETURN_NOT_OK(truth->write(paymentsTruthHeader()));
  std::vector<GeneratedPayment> batch;
  std::string eventsText;
  std::string truthText;
  while (true) {
    batch.clear();
    if (generator->nextBatch(batch, 8192) == 0) break;
    eventsText.clear();
    truthText.clear();
    for (const auto& record : batch) {
      appendPaymentCsvLine(record, eventsText);
      if (record.isTransaction()) appendPaymentTruthLine(record, truthText);
    }
    SLUICE_RETURN_NOT_OK(events->write(eventsText));
    SLUICE_RETURN_NOT_OK(truth->write(truthText));
  }
  SLUICE_RETURN_NOT_OK(events->close());
  SLUICE_RETURN_NOT_OK(truth->close());
  return generator->summary();
}

}  // namespace sluice::payments
