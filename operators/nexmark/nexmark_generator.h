// NexmarkGenerator: the standard Nexmark event generator (Beam/Flink GeneratorConfig and NextEvent), computing
// any event from its event number alone, shared by the `nexmark` source and bench/nexmark_file_generator.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::nexmark {

/// The generator's parameters. Two generators with equal configs produce equal events.
struct GeneratorConfig {
  uint64_t seed = 42;
  int64_t eventsPerSecond = 10000;    // event-time rate: event n has dateTime baseTime + n * 1000 / rate
  int64_t baseTime = 1700000000000;   // dateTime of event 0, epoch ms
  int64_t numActivePeople = 1000;     // bidders and sellers are drawn from the most recent people
  int64_t numInFlightAuctions = 100;  // bids go to the most recent auctions
  int64_t hotAuctionRatio = 2;        // 1 - 1/ratio of bids go to the hot auction
  int64_t hotSellersRatio = 4;        // 1 - 1/ratio of auctions come from a hot seller
  int64_t hotBiddersRatio = 4;        // 1 - 1/ratio of bids come from a hot bidder
  int64_t avgPersonByteSize = 200;
  int64_t avgAuctionByteSize = 500;
  int64_t avgBidByteSize = 100;
};

inline constexpr int64_t kPersonProportion = 1;
inline constexpr int64_t kAuctionProportion = 3;
inline constexpr int64_t kBidProportion = 46;
inline constexpr int64_t kProportionDenominator = kPersonProportion + kAuctionProportion + kBidProportion;
inline constexpr int64_t kFirstPersonId = 1000;
inline constexpr int64_t kFirstAuctionId = 1000;
inline constexpr int64_t kFirstCategoryId = 10;
inline constexpr int64_t kNumCategories = 5;

enum class EventKind { kPerson, kAuction, kBid };

/// The kind of event `eventNumber` (>= 0): of every 50 consecutive numbers, 1 person, 3 auctions, 46 bids.
inline EventKind eventKindOf(int64_t eventNumber) {
  const int64_t slot = eventNumber % kProportionDenominator;
  if (slot < kPersonProportion) return EventKind::kPerson;
  if (slot < kPersonProportion + kAuctionProportion) return EventKind::kAuction;
  return EventKind::kBid;
}

/// The 0-based id of the last person generated at or before event `eventNumber`.
int64_t lastBase0PersonId(int64_t eventNumber);
/// The 0-based id of the last auction generated at or before event `eventNumber` (-1 before the first).
int64_t lastBase0AuctionId(int64_t eventNumber);

// Events as views: strings point into the generator's buffers and stay valid until its next call.
struct Person {
  int64_t id;
  std::string_view name, emailAddress, creditCard, city, state;
  int64_t dateTime;
  std::string_view extra;
};
struct Auction {
  int64_t id;
  std::string_view itemName, description;
  int64_t initialBid, reserve, dateTime, expires, seller, category;
  std::string_view extra;
};
struct Bid {
  int64_t auction, bidder, price;
  std::string_view channel, url;
  int64_t dateTime;
  std::string_view extra;
};

/// Computes events from their numbers: each event draws from its own random stream seeded by (seed, event
/// number), so any reader can generate any subset of the sequence and the union is always the same.
/// Construction precomputes text pools and the channel cache (about a millisecond). Not thread-safe (views
/// point into per-instance buffers); use one per thread.
class Generator {
 public:
  explicit Generator(const GeneratorConfig& config);
  Generator(const Generator&) = delete;  // views point into its own buffers
  Generator& operator=(const Generator&) = delete;

  const GeneratorConfig& config() const { return config_; }
  /// The event time of event `eventNumber`, epoch ms.
  int64_t timestampOf(int64_t eventNumber) const {
    return config_.baseTime + static_cast<int64_t>(static_cast<__int128>(eventNumber) * 1000 / config_.eventsPerSecond);
  }

  /// REQUIRES: eventKindOf(eventNumber) is the matching kind.
  Person person(int64_t eventNumber);
  Auction auction(int64_t eventNumber);
  Bid bid(int64_t eventNumber);

 private:
  struct Random;
  std::string_view poolSlice(Random& random, const std::string& pool, int64_t length) const;
  std::string_view nextString(Random& random, int64_t maxLength) const;
  std::string_view nextExtra(Random& random, int64_t currentSize, int64_t desiredAverageSize) const;
  int64_t nextBase0PersonId(Random& random, int64_t eventNumber) const;
  int64_t nextBase0AuctionId(Random& random, int64_t eventNumber) const;

  GeneratorConfig config_;
  std::string letters_;      // random lowercase letters: `extra` fields
  std::string text_;         // random lowercase letters and spaces: names and descriptions
  std::string channelText_;  // every channel name and URL, back to back, so bids touch less memory
  std::vector<std::string_view> channels_;
  std::vector<std::string_view> channelUrls_;
  std::array<std::string, 4> hotUrls_;
  std::string name_;
  std::string email_;
  std::string creditCard_;
};

/// Appends `event` as one JSON line (with "type" first and a newline), the format of bench/nexmark_file_generator
/// and examples/nexmark/q*.yaml. Generated strings never need escaping.
void appendJsonLine(std::string& out, const Person& event);
void appendJsonLine(std::string& out, const Auction& event);
void appendJsonLine(std::string& out, const Bid& event);

}  // namespace sluice::nexmark
