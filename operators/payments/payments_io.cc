// PaymentsCsvReader, StatsSink and the alert latency histogram; see payments_io.h.
#include "operators/payments/payments_io.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "operators/payments/byte_codec.h"
#include "operators/payments/stage_operators.h"
#include "runtime/base/logging.h"

namespace sluice::payments {

namespace alert_latency {

constexpr int kSubBucketBits = 5;  // 32 buckets per power of two

int64_t bucketUpperBound(int64_t micros) {
  if (micros < (int64_t{1} << kSubBucketBits)) return std::max<int64_t>(micros, 0);
  const int shift = std::bit_width(static_cast<uint64_t>(micros)) - 1 - kSubBucketBits;
  return (((micros >> shift) + 1) << shift) - 1;
}

std::string counterName(int64_t micros) { return fmt::format("{}{}", kCounterPrefix, bucketUpperBound(micros)); }

std::optional<int64_t> parseCounterName(std::string_view name) {
  if (!name.starts_with(kCounterPrefix)) return std::nullopt;
  name.remove_prefix(kCounterPrefix.size());
  int64_t bound = 0;
  auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), bound);
  if (name.empty() || error != std::errc() || end != name.data() + name.size() || bound < 0) return std::nullopt;
  return bound;
}

int64_t quantile(const std::vector<std::pair<int64_t, int64_t>>& buckets, double quantile) {
  int64_t total = 0;
  for (const auto& [bound, count] : buckets) total += count;
  if (total == 0) return 0;
  const auto rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(quantile * static_cast<double>(total))));
  int64_t seen = 0;
  for (const auto& [bound, count] : buckets) {
    seen += count;
    if (seen >= rank) return bound;
  }
  return buckets.back().first;
}

std::string renderMilliseconds(const std::vector<std::pair<int64_t, int64_t>>& buckets) {
  int64_t total = 0;
  for (const auto& [bound, count] : buckets) total += count;
  auto milliseconds = [](int64_t micros) { return fmt::format("{:.3f}", static_cast<double>(micros) / 1000.0); };
  return fmt::format(R"({{"alerts":{},"p50":{},"p99":{},"p999":{},"max":{}}})", total,
                     milliseconds(quantile(buckets, 0.5)), milliseconds(quantile(buckets, 0.99)),
                     milliseconds(quantile(buckets, 0.999)), milliseconds(buckets.empty() ? 0 : buckets.back().first));
}

}  // namespace alert_latency

Status PaymentsCsvReader::open(const OperatorContext& context) {
  (void)context;
  if (restored_) return lines_.openAt(0, 1, restored_->first, restored_->second);
  return lines_.open(0, 1);
}

Result<bool> PaymentsCsvReader::pollNext(Output& out) {
  PaymentRowBatchBuilder builder;
  SplitLineReader::Line line;
  bool more = true;
  while (builder.numRows() < batchSize_) {
    SLUICE_ASSIGN_OR_RETURN(more, lines_.next(line));
    if (!more) break;
    PaymentRow row;
    auto parsed = parsePaymentLine(line.text, row);
    if (!parsed.ok()) {
      return Status::invalidArgument(fmt::format("{}:{}: {}", lines_.path(), line.number, parsed.status().message()));
    }
    if (!*parsed) continue;
    row.ingestNs = ingestClockNanos();
    builder.append(row);
    recordsRead_ += 1;
  }
  if (builder.numRows() > 0) SLUICE_RETURN_NOT_OK(out.emit(builder.finish()));
  return more;
}

std::string PaymentsCsvReader::snapshotPosition() const {
  return fmt::format("{} {}", lines_.offset(), lines_.lineNumber());
}

Status PaymentsCsvReader::restorePosition(const std::string& position) {
  long long offset = 0;
  long long lineNumber = 0;
  if (std::sscanf(position.c_str(), "%lld %lld", &offset, &lineNumber) != 2) {
    return Status::corruption("payments_csv: bad saved position '" + position + "'");
  }
  restored_ = std::make_pair(static_cast<int64_t>(offset), static_cast<int64_t>(lineNumber));
  return Status::OK();
}

Status StatsSink::restoreState(const OperatorSnapshot& snapshot) {
  auto found = snapshot.blobs.find("payments-stats");
  if (found == snapshot.blobs.end()) return Status::OK();
  ByteReader reader(found->second, "stats sink snapshot");
  SLUICE_ASSIGN_OR_RETURN(uint64_t sums, reader.get<uint64_t>());
  for (uint64_t i = 0; i < sums; ++i) {
    SLUICE_ASSIGN_OR_RETURN(std::string_view name, reader.getBytes());
    SLUICE_ASSIGN_OR_RETURN(sums_[std::string(name)], reader.get<int64_t>());
  }
  SLUICE_ASSIGN_OR_RETURN(uint64_t texts, reader.get<uint64_t>());
  for (uint64_t i = 0; i < texts; ++i) {
    SLUICE_ASSIGN_OR_RETURN(std::string_view name, reader.getBytes());
    SLUICE_ASSIGN_OR_RETURN(std::string_view text, reader.getBytes());
    texts_[std::string(name)] = std::string(text);
  }
  return Status::OK();
}

Status StatsSink::snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) {
  (void)checkpointId;
  std::string blob;
  ByteWriter writer(blob);
  writer.put<uint64_t>(sums_.size());
  for (const auto& [name, value] : sums_) {
    writer.putBytes(name);
    writer.put(value);
  }
  writer.put<uint64_t>(texts_.size());
  for (const auto& [name, text] : texts_) {
    writer.putBytes(name);
    writer.putBytes(text);
  }
  snapshot.blobs["payments-stats"] = std::move(blob);
  return Status::OK();
}

Status StatsSink::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)input;
  (void)out;
  if (!(*batch.schema() == *statsSchema())) {
    return Status::invalidArgument("payments_stats: input is not a stats stream (name, value, text)");
  }
  for (int64_t i = 0; i < batch.numRows(); ++i) {
    std::string name(batch.column(0)->stringAt(i));
    std::string_view text = batch.column(2)->stringAt(i);
    if (text.empty()) {
      sums_[name] += batch.column(1)->int64s()[i];
    } else {
      texts_[name] = std::string(text);
    }
  }
  return Status::OK();
}

std::string StatsSink::render() const {
  auto sum = [&](const char* name) {
    auto found = sums_.find(name);
    return found == sums_.end() ? int64_t{0} : found->second;
  };
  std::string json = fmt::format(R"({{"txns":{},"alerts":{},"late":{},"late_labels":{},"model_updates":{})",
                                 sum("txns"), sum("alerts"), sum("late"), sum("late_labels"), sum("model_updates"));
  std::vector<std::pair<int64_t, int64_t>> latency;
  for (const auto& [name, value] : sums_) {
    if (auto bound = alert_latency::parseCounterName(name)) {
      if (value > 0) latency.emplace_back(*bound, value);
    } else if (name != "txns" && name != "alerts" && name != "late" && name != "late_labels" &&
               name != "model_updates") {
      json += fmt::format(R"(,"{}":{})", name, value);
    }
  }
  for (const auto& [name, text] : texts_) json += fmt::format(R"(,"{}":{})", name, text);
  std::sort(latency.begin(), latency.end());
  if (!latency.empty()) json += R"(,"latency_ms":)" + alert_latency::renderMilliseconds(latency);
  json += "}";
  return json;
}

Status StatsSink::finish(Output& out) {
  (void)out;
  std::string json = render();
  std::filesystem::path target(path_);
  std::filesystem::path temporary = target;
  temporary += ".inprogress";
  std::error_code error;
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), error);
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file << json << '\n';
    file.flush();
    if (!file) return Status::ioError("payments_stats: cannot write '" + temporary.string() + "'");
  }
  std::filesystem::rename(temporary, target, error);
  if (error) return Status::ioError("payments_stats: cannot rename to '" + target.string() + "': " + error.message());
  written_ = true;
  logger("payments")->info("payment stats: {}", json);
  return Status::OK();
}

}  // namespace sluice::payments
