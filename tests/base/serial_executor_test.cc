// SerialExecutor: FIFO order on one thread, drain, and nothing lost at shutdown.
#include "runtime/base/serial_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace sluice {
namespace {

TEST(SerialExecutorTest, RunsJobsInOrderOnOneThreadOtherThanTheCaller) {
  SerialExecutor executor("test-serial");
  std::vector<int> order;  // touched only by the executor's thread until drain returns
  std::vector<std::thread::id> threads;
  for (int i = 0; i < 100; ++i) {
    executor.submit([&, i] {
      order.push_back(i);
      threads.push_back(std::this_thread::get_id());
    });
  }
  executor.drain();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  for (const auto& id : threads) {
    EXPECT_EQ(id, threads.front());
    EXPECT_NE(id, std::this_thread::get_id());
  }
}

TEST(SerialExecutorTest, ShutdownRunsQueuedJobsAndLaterOnesRunInline) {
  std::atomic<int> ran{0};
  SerialExecutor executor("test-serial");
  for (int i = 0; i < 50; ++i) executor.submit([&] { ran.fetch_add(1); });
  executor.shutdown();
  EXPECT_EQ(ran.load(), 50);
  std::thread::id where;
  executor.submit([&] { where = std::this_thread::get_id(); });
  EXPECT_EQ(where, std::this_thread::get_id());
  executor.shutdown();  // idempotent
}

TEST(SerialExecutorTest, DrainWaitsForTheRunningJob) {
  SerialExecutor executor("test-serial");
  std::atomic<bool> done{false};
  executor.submit([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    done.store(true);
  });
  executor.drain();
  EXPECT_TRUE(done.load());
}

}  // namespace
}  // namespace sluice
