// Test-only helpers for the window tests: build batches from literal rows,
// print output rows as comparable text, and create keyed state backends.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "runtime/data/record_batch.h"
#include "runtime/state/keyed_state_backend.h"

namespace sluice::window::testing {

/// One cell: null, int64 (also timestamps), float64, string or bool.
using Value = std::variant<std::monostate, int64_t, double, std::string, bool>;

SchemaPtr makeSchema(std::vector<Field> fields);

/// Keyed prices: key int64, price int64, t timestamp (the event time, index 2).
inline SchemaPtr keyPriceTimeSchema() {
  static const SchemaPtr schema =
      makeSchema({{"key", DataType::kInt64}, {"price", DataType::kInt64}, {"t", DataType::kTimestamp}});
  return schema;
}

/// The output of a window node counting bids per auction: auction int64, num int64, window_start,
/// window_end and window_time timestamps (window_time, index 4, is the event time).
inline SchemaPtr auctionCountsSchema() {
  static const SchemaPtr schema = makeSchema({{"auction", DataType::kInt64},
                                              {"num", DataType::kInt64},
                                              {"window_start", DataType::kTimestamp},
                                              {"window_end", DataType::kTimestamp},
                                              {"window_time", DataType::kTimestamp}});
  return schema;
}

/// A batch of `rows` (each row one Value per field) with event-time field `eventTimeIndex`.
RecordBatch makeBatch(const SchemaPtr& schema, int eventTimeIndex, const std::vector<std::vector<Value>>& rows);

/// Every row of `batches` as "name=value name=value ..." (nulls as "null"), in order.
std::vector<std::string> rowsOf(const std::vector<RecordBatch>& batches);
/// rowsOf, sorted (for multiset comparisons).
std::vector<std::string> sortedRowsOf(const std::vector<RecordBatch>& batches);

/// A backend of `type` ("hashmap" | "rocksdb") owning key groups [first, last] of 128, under `directory`.
std::unique_ptr<KeyedStateBackend> makeBackend(const std::string& type, const std::string& directory, int first = 0,
                                               int last = 127);

}  // namespace sluice::window::testing
