// Runs a job file with a sort and an over node through the real `sluice`
// binary and compares the committed output and late rows with exact rows.
#include <gtest/gtest.h>

#include "tests/testing/jsonl_compare.h"
#include "tests/testing/process.h"
#include "tests/testing/temp_dir.h"

namespace sluice::testing {
namespace {

// account, amount, merchant, ts, id. Out of order within the bound of 5 ms
// (source batches of one line, so the watermark follows every line); id 10
// arrives at ts 14 after the watermark reached 22 - 5 - 1 = 16, so it is late.
constexpr const char* kInput =
    "# account,amount,merchant,ts,id\n"
    "1,100,m1,1,1\n"
    "2,500,m2,2,2\n"
    "1,200,m2,4,3\n"
    "1,400,m1,3,4\n"
    "2,50,m3,12,5\n"
    "1,300,m1,11,7\n"
    "1,250,m3,11,6\n"
    "1,700,m2,21,8\n"
    "2,80,m2,22,9\n"
    "1,90,m1,14,10\n"
    "1,60,m3,30,11\n";

constexpr const char* kJob = R"(name: over-job-test
sources:
  - id: txns
    type: file
    format: csv
    path: ${input}
    parallelism: 1
    batch_size: 1
    skip_prefixes: ["#"]
    schema: {account: int64, amount: int64, merchant: string, ts: timestamp, id: int64}
    event_time: ts
    watermark: {max_out_of_orderness: 5ms}
nodes:
  - id: sorted
    type: sort
    from: [txns]
    order_by: [ts, id]
  - id: velocity
    type: over
    from: [sorted]
    key_by: account
    order_by: [ts, id]
    ties: sequential
    aggregates:
      cnt_10: {fn: count, window: 10ms}
      sum_20: {fn: sum, arg: amount, window: 20ms}
      small_10: {fn: count, window: 10ms, filter: "amount <= 300"}
      dmerch_20: {fn: count_distinct, arg: merchant, window: 20ms}
sinks:
  - {id: out, from: [velocity], type: file, format: jsonl, path: "${output}"}
  - {id: late_out, from: [sorted.late], type: file, format: jsonl, path: "${late}"}
)";

std::string row(int account, int amount, const char* merchant, int ts, int id, int cnt10, int sum20, int small10,
                int dmerch20) {
  char buffer[256];
  std::snprintf(buffer, sizeof(buffer),
                R"({"account":%d,"amount":%d,"merchant":"%s","ts":%d,"id":%d,"cnt_10":%d,"sum_20":%d,)"
                R"("small_10":%d,"dmerch_20":%d})",
                account, amount, merchant, ts, id, cnt10, sum20, small10, dmerch20);
  return buffer;
}

TEST(OverJobTest, SortAndOverJobProducesExactRows) {
  TempDir dir;
  writeFile(dir.file("input.csv"), kInput);
  writeFile(dir.file("job.yaml"), kJob);
  auto result = runProcess({binary("sluice"), "run", "--local", "-p", "2", dir.file("job.yaml"), "--set",
                            "input=" + dir.file("input.csv"), "--set", "output=" + dir.file("out"), "--set",
                            "late=" + dir.file("late")});
  ASSERT_EQ(result.exitCode, 0) << result.err;
  const std::vector<std::string> expected = {
      row(1, 100, "m1", 1, 1, 1, 100, 1, 1),   row(1, 400, "m1", 3, 4, 2, 500, 1, 1),
      row(1, 200, "m2", 4, 3, 3, 700, 2, 2),   row(1, 250, "m3", 11, 6, 3, 950, 2, 3),
      row(1, 300, "m1", 11, 7, 4, 1250, 3, 3), row(1, 700, "m2", 21, 8, 1, 1850, 0, 3),
      row(1, 60, "m3", 30, 11, 2, 1310, 1, 3), row(2, 500, "m2", 2, 2, 1, 500, 0, 1),
      row(2, 50, "m3", 12, 5, 1, 550, 1, 2),   row(2, 80, "m2", 22, 9, 1, 130, 1, 2)};
  EXPECT_EQ(compareJsonRows(expected, readCommittedLines(dir.file("out"))), "");
  EXPECT_EQ(compareJsonRows({R"({"account":1,"amount":90,"merchant":"m1","ts":14,"id":10})"},
                            readCommittedLines(dir.file("late"))),
            "");
}

}  // namespace
}  // namespace sluice::testing
