// Baselines for the exchange between processes, measured in the same run as the
// engine: memory copy of the same bytes, and raw ZeroMQ throughput (DEALER →
// ROUTER over TCP loopback) for Cap'n Proto batch messages of the engine's size
// and row width: by default Nexmark bid rows from the same generator the q0
// cluster workload ships between processes. Prints one JSON object.
#include <zmq.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "operators/nexmark/nexmark_generator.h"
#include "runtime/data/record_batch.h"
#include "runtime/transport/batch_codec.h"

namespace {

/// Narrow rows (about 44 bytes each): four integers and a short string.
sluice::RecordBatch narrowBatch(int rows) {
  auto schema = sluice::Schema::make({{"auction", sluice::DataType::kInt64},
                                      {"bidder", sluice::DataType::kInt64},
                                      {"price", sluice::DataType::kInt64},
                                      {"dateTime", sluice::DataType::kTimestamp},
                                      {"extra", sluice::DataType::kString}})
                    .value();
  sluice::RecordBatchBuilder builder(schema, 3);
  for (int i = 0; i < rows; ++i) {
    builder.column(0).appendInt64(1000 + i % 977);
    builder.column(1).appendInt64(2000 + i % 313);
    builder.column(2).appendInt64(i * 37 % 1000000);
    builder.column(3).appendInt64(1700000000000 + i);
    builder.column(4).appendString("extra-" + std::to_string(i % 100));
  }
  return builder.finish();
}

/// Rows as the `nexmark` source emits bids (seven fields, about 130 bytes with
/// the channel, url and extra strings): the rows the q0 exchange carries.
sluice::RecordBatch bidBatch(int rows) {
  auto schema = sluice::Schema::make({{"auction", sluice::DataType::kInt64},
                                      {"bidder", sluice::DataType::kInt64},
                                      {"price", sluice::DataType::kInt64},
                                      {"channel", sluice::DataType::kString},
                                      {"url", sluice::DataType::kString},
                                      {"dateTime", sluice::DataType::kTimestamp},
                                      {"extra", sluice::DataType::kString}})
                    .value();
  sluice::nexmark::Generator generator(sluice::nexmark::GeneratorConfig{});
  sluice::RecordBatchBuilder builder(schema, 5);
  int64_t eventNumber = 0;
  for (int i = 0; i < rows; ++eventNumber) {
    if (sluice::nexmark::eventKindOf(eventNumber) != sluice::nexmark::EventKind::kBid) continue;
    auto bid = generator.bid(eventNumber);
    builder.column(0).appendInt64(bid.auction);
    builder.column(1).appendInt64(bid.bidder);
    builder.column(2).appendInt64(bid.price);
    builder.column(3).appendString(bid.channel);
    builder.column(4).appendString(bid.url);
    builder.column(5).appendInt64(bid.dateTime);
    builder.column(6).appendString(bid.extra);
    ++i;
  }
  return builder.finish();
}

double seconds(std::chrono::steady_clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

}  // namespace

int main(int argc, char** argv) {
  int rows = argc > 1 ? std::atoi(argv[1]) : 4096;
  int messages = argc > 2 ? std::atoi(argv[2]) : 4000;
  std::string rowKind = argc > 3 ? argv[3] : "bid";
  if (rowKind != "bid" && rowKind != "narrow") {
    std::fprintf(stderr, "transport-baseline: unknown row kind '%s' (expected bid or narrow)\n", rowKind.c_str());
    return 1;
  }
  auto encoded = sluice::transport::encodeElement(rowKind == "bid" ? bidBatch(rows) : narrowBatch(rows),
                                                  sluice::transport::FrameHeader{});
  if (!encoded.ok()) {
    std::fprintf(stderr, "transport-baseline: %s\n", encoded.status().toString().c_str());
    return 1;
  }
  const size_t bytes = encoded->size();
  std::vector<uint8_t> source(encoded->data(), encoded->data() + bytes);

  // Memory copy of the same bytes.
  std::vector<uint8_t> target(bytes);
  auto copyStart = std::chrono::steady_clock::now();
  for (int i = 0; i < messages; ++i) {
    std::memcpy(target.data(), source.data(), bytes);
    source[i % bytes] ^= target[(i * 7) % bytes] & 1;  // keep the copies observable
  }
  double copySeconds = seconds(std::chrono::steady_clock::now() - copyStart);

  // Raw ZeroMQ: one sender thread, one receiver thread, like two processes' I/O threads.
  void* context = zmq_ctx_new();
  void* router = zmq_socket(context, ZMQ_ROUTER);
  int zero = 0;
  zmq_setsockopt(router, ZMQ_RCVHWM, &zero, sizeof(zero));
  zmq_bind(router, "tcp://127.0.0.1:*");
  char endpoint[256];
  size_t endpointSize = sizeof(endpoint);
  zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, endpoint, &endpointSize);
  std::thread sender([&] {
    void* dealer = zmq_socket(context, ZMQ_DEALER);
    zmq_setsockopt(dealer, ZMQ_SNDHWM, &zero, sizeof(zero));
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_connect(dealer, endpoint);
    for (int i = 0; i < messages; ++i) zmq_send(dealer, source.data(), bytes, 0);
    // Wait for the receiver before closing (LINGER 0 would drop queued messages).
    zmq_recv(dealer, nullptr, 0, 0);
    zmq_close(dealer);
  });
  auto zmqStart = std::chrono::steady_clock::now();
  std::string identity;
  for (int i = 0; i < messages; ++i) {
    zmq_msg_t part;
    zmq_msg_init(&part);
    zmq_msg_recv(&part, router, 0);
    if (i == 0) identity.assign(static_cast<char*>(zmq_msg_data(&part)), zmq_msg_size(&part));
    zmq_msg_close(&part);
    zmq_msg_init(&part);
    zmq_msg_recv(&part, router, 0);
    zmq_msg_close(&part);
  }
  double zmqSeconds = seconds(std::chrono::steady_clock::now() - zmqStart);
  zmq_send(router, identity.data(), identity.size(), ZMQ_SNDMORE);
  zmq_send(router, "", 0, 0);
  sender.join();
  zmq_close(router);
  zmq_ctx_term(context);

  double rowsTotal = static_cast<double>(rows) * messages;
  std::printf(
      "{\"row_kind\": \"%s\", \"rows_per_message\": %d, \"bytes_per_message\": %zu, \"memcpy_mb_per_second\": %.0f, "
      "\"zmq_mb_per_second\": %.0f, \"zmq_rows_per_second\": %.0f, \"zmq_messages_per_second\": %.0f}\n",
      rowKind.c_str(), rows, bytes, bytes * messages / copySeconds / 1e6, bytes * messages / zmqSeconds / 1e6,
      rowsTotal / zmqSeconds, messages / zmqSeconds);
  return 0;
}
