// Slow tier: keyed state far larger than RocksDB's memory budget must still work.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/testing/process.h"
#include "tests/testing/temp_dir.h"

namespace sluice::testing {
namespace {

TEST(LargeStateTest, TenMillionDistinctKeysInRocksDbStayUnderTwoGibibytes) {
  TempDir dir;
  writeFile(dir.file("job.yaml"), R"yaml(name: ten-million-keys
config: {state.backend.type: rocksdb}
sources:
  - {id: gen, type: generator, count: 10000000, keys: 10000000, interval_ms: 1}
nodes:
  - {id: totals, from: [gen], type: window, key_by: key, window: {tumble: 1d}, aggregate: {n: "count()", total: "sum(value)"}}
sinks:
  - {id: out, from: [totals], type: discard}
)yaml");
  auto result = runProcess({binary("sluice"), "run", "--local", "-p", "2", dir.file("job.yaml")},
                           std::chrono::seconds(1500), dir.path().string());
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.err.find("10,000,000 records out"), std::string::npos) << result.err;
  std::fprintf(stderr, "10M distinct keys: %.1f s, peak resident memory %.0f MiB\n", result.seconds,
               result.maxResidentKb / 1024.0);
  EXPECT_LT(result.maxResidentKb, 2L * 1024 * 1024);
}

}  // namespace
}  // namespace sluice::testing
