// Tests of the Nexmark generator: proportions, id arithmetic, hot keys and determinism.
#include "operators/nexmark/nexmark_generator.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace sluice::nexmark {
namespace {

std::string jsonOf(Generator& generator, int64_t eventNumber) {
  std::string line;
  switch (eventKindOf(eventNumber)) {
    case EventKind::kPerson: appendJsonLine(line, generator.person(eventNumber)); break;
    case EventKind::kAuction: appendJsonLine(line, generator.auction(eventNumber)); break;
    case EventKind::kBid: appendJsonLine(line, generator.bid(eventNumber)); break;
  }
  return line;
}

TEST(NexmarkGeneratorTest, KindsComeInOneToThreeToFortySix) {
  std::map<EventKind, int64_t> counts;
  for (int64_t n = 0; n < 5000; ++n) ++counts[eventKindOf(n)];
  EXPECT_EQ(counts[EventKind::kPerson], 100);
  EXPECT_EQ(counts[EventKind::kAuction], 300);
  EXPECT_EQ(counts[EventKind::kBid], 4600);
  EXPECT_EQ(eventKindOf(0), EventKind::kPerson);
  EXPECT_EQ(eventKindOf(1), EventKind::kAuction);
  EXPECT_EQ(eventKindOf(3), EventKind::kAuction);
  EXPECT_EQ(eventKindOf(4), EventKind::kBid);
  EXPECT_EQ(eventKindOf(50), EventKind::kPerson);
}

TEST(NexmarkGeneratorTest, PersonAndAuctionIdsFollowTheEventNumber) {
  Generator generator(GeneratorConfig{});
  int64_t nextPerson = kFirstPersonId;
  int64_t nextAuction = kFirstAuctionId;
  for (int64_t n = 0; n < 2000; ++n) {
    switch (eventKindOf(n)) {
      case EventKind::kPerson: EXPECT_EQ(generator.person(n).id, nextPerson++) << n; break;
      case EventKind::kAuction: EXPECT_EQ(generator.auction(n).id, nextAuction++) << n; break;
      case EventKind::kBid: break;
    }
    EXPECT_EQ(lastBase0PersonId(n), nextPerson - 1 - kFirstPersonId) << n;
    EXPECT_EQ(lastBase0AuctionId(n), nextAuction - 1 - kFirstAuctionId) << n;
  }
  EXPECT_EQ(nextPerson, kFirstPersonId + 40);
  EXPECT_EQ(nextAuction, kFirstAuctionId + 120);
}

TEST(NexmarkGeneratorTest, HotAuctionsBiddersAndSellers) {
  Generator generator(GeneratorConfig{});
  int64_t bids = 0;
  int64_t hotAuctionBids = 0;
  int64_t hotBidderBids = 0;
  int64_t auctions = 0;
  int64_t hotSellerAuctions = 0;
  std::set<int64_t> categories;
  for (int64_t n = 0; n < 100000; ++n) {
    const int64_t lastPerson = lastBase0PersonId(n);
    const int64_t lastAuction = lastBase0AuctionId(n);
    if (eventKindOf(n) == EventKind::kBid) {
      const Bid bid = generator.bid(n);
      ++bids;
      hotAuctionBids += bid.auction == kFirstAuctionId + lastAuction / 2 * 2;
      hotBidderBids += bid.bidder == kFirstPersonId + lastPerson / 4 * 4 + 1;
      // Bids go to recent auctions and people, up to a lead of 10 ids ahead.
      EXPECT_LE(bid.auction, kFirstAuctionId + lastAuction + 10);
      EXPECT_GE(bid.auction, kFirstAuctionId + std::max<int64_t>(lastAuction - 100, 0));
      EXPECT_LE(bid.bidder, kFirstPersonId + lastPerson + 10);
      EXPECT_GE(bid.price, 100);
      EXPECT_LE(bid.price, 100000000);
      EXPECT_EQ(bid.dateTime, generator.timestampOf(n));
    } else if (eventKindOf(n) == EventKind::kAuction) {
      const Auction auction = generator.auction(n);
      ++auctions;
      hotSellerAuctions += auction.seller == kFirstPersonId + lastPerson / 4 * 4;
      categories.insert(auction.category);
      EXPECT_GT(auction.expires, auction.dateTime);
      EXPECT_GE(auction.reserve, auction.initialBid);
    }
  }
  // Expected shares: hot auction 1/2 plus the random hits; hot bidder 3/4; hot seller 3/4.
  EXPECT_GT(hotAuctionBids, bids * 45 / 100);
  EXPECT_LT(hotAuctionBids, bids * 60 / 100);
  EXPECT_GT(hotBidderBids, bids * 70 / 100);
  EXPECT_LT(hotBidderBids, bids * 80 / 100);
  EXPECT_GT(hotSellerAuctions, auctions * 70 / 100);
  EXPECT_LT(hotSellerAuctions, auctions * 80 / 100);
  EXPECT_EQ(categories, (std::set<int64_t>{10, 11, 12, 13, 14}));
}

TEST(NexmarkGeneratorTest, EventTimeFollowsTheRate) {
  GeneratorConfig config;
  config.eventsPerSecond = 2000;
  config.baseTime = 5000;
  Generator generator(config);
  EXPECT_EQ(generator.timestampOf(0), 5000);
  EXPECT_EQ(generator.timestampOf(1), 5000);
  EXPECT_EQ(generator.timestampOf(2), 5001);
  EXPECT_EQ(generator.timestampOf(4000), 7000);
  EXPECT_EQ(generator.person(4000).dateTime, 7000);
}

TEST(NexmarkGeneratorTest, SameSeedSameEventsInAnyOrder) {
  Generator first(GeneratorConfig{});
  Generator second(GeneratorConfig{});
  std::vector<std::string> forward;
  for (int64_t n = 0; n < 500; ++n) forward.push_back(jsonOf(first, n));
  for (int64_t n = 499; n >= 0; --n) EXPECT_EQ(jsonOf(second, n), forward[n]) << n;

  GeneratorConfig otherSeed;
  otherSeed.seed = 43;
  Generator third(otherSeed);
  int64_t differing = 0;
  for (int64_t n = 0; n < 500; ++n) differing += jsonOf(third, n) != forward[n];
  EXPECT_GT(differing, 490);
  // Ids do not depend on the seed.
  EXPECT_EQ(third.person(50).id, first.person(50).id);
}

TEST(NexmarkGeneratorTest, JsonLinesHaveTheExampleSchemas) {
  Generator generator(GeneratorConfig{});
  const std::string person = jsonOf(generator, 0);
  EXPECT_EQ(person.rfind("{\"type\":\"person\",\"id\":1000,\"name\":\"", 0), 0u) << person;
  EXPECT_NE(person.find(",\"dateTime\":1700000000000,\"extra\":\""), std::string::npos) << person;
  EXPECT_EQ(person.back(), '\n');
  const std::string bid = jsonOf(generator, 10);
  EXPECT_EQ(bid.rfind("{\"type\":\"bid\",\"auction\":", 0), 0u) << bid;
  for (const char* field : {"\"bidder\":", "\"price\":", "\"channel\":\"", "\"url\":\"https://www.nexmark.com/"}) {
    EXPECT_NE(bid.find(field), std::string::npos) << field << " in " << bid;
  }
  const Bid parsed = generator.bid(10);
  // About avgBidByteSize - 32 = 68 characters of padding, within +-20%.
  EXPECT_GE(parsed.extra.size(), 54u);
  EXPECT_LE(parsed.extra.size(), 82u);
}

}  // namespace
}  // namespace sluice::nexmark
