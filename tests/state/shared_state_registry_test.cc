// SharedStateRegistry: reference counting of checkpoint files.
#include "runtime/state/shared_state_registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class SharedStateRegistryTest : public ::testing::Test {
 protected:
  void touch(const std::string& relative) {
    fs::create_directories((temp_.path() / relative).parent_path());
    std::ofstream(temp_.path() / relative) << "x";
  }
  bool exists(const std::string& relative) const { return fs::exists(temp_.path() / relative); }

  testing::TempDir temp_;
};

TEST_F(SharedStateRegistryTest, DeletesAFileWhenItsLastCheckpointIsReleased) {
  for (const char* file : {"shared/a.sst", "shared/b.sst", "shared/c.sst", "chk-1/m", "chk-2/m"}) touch(file);
  SharedStateRegistry registry(temp_.path().string());
  ASSERT_OK(registry.registerCheckpoint(1, std::vector<std::string>{"shared/a.sst", "shared/b.sst", "chk-1/m"}));
  ASSERT_OK(registry.registerCheckpoint(
      2, std::vector<std::string>{"shared/b.sst", "shared/c.sst", "chk-2/m", "shared/c.sst"}));
  EXPECT_EQ(registry.referenceCount("shared/b.sst"), 2);
  EXPECT_EQ(registry.referenceCount("shared/c.sst"), 1);  // duplicates within a checkpoint count once
  EXPECT_EQ(registry.retainedCheckpoints(), (std::vector<int64_t>{1, 2}));

  ASSERT_OK_AND_ASSIGN(std::vector<std::string> deleted, registry.releaseCheckpoint(1));
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<std::string>{"chk-1/m", "shared/a.sst"}));
  EXPECT_FALSE(exists("shared/a.sst"));
  EXPECT_TRUE(exists("shared/b.sst"));
  EXPECT_EQ(registry.referenceCount("shared/b.sst"), 1);

  ASSERT_OK_AND_ASSIGN(deleted, registry.releaseCheckpoint(2));
  EXPECT_EQ(deleted.size(), 3u);
  EXPECT_FALSE(exists("shared/b.sst"));
  EXPECT_FALSE(exists("shared/c.sst"));
  EXPECT_TRUE(registry.retainedCheckpoints().empty());
}

TEST_F(SharedStateRegistryTest, RejectsUnknownAndDuplicateCheckpoints) {
  SharedStateRegistry registry(temp_.path().string());
  EXPECT_EQ(registry.releaseCheckpoint(9).status().code(), StatusCode::kNotFound);
  ASSERT_OK(registry.registerCheckpoint(1, std::vector<std::string>{"x"}));
  EXPECT_EQ(registry.registerCheckpoint(1, std::vector<std::string>{"y"}).code(), StatusCode::kAlreadyExists);
  // A file that is already gone counts as deleted.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> deleted, registry.releaseCheckpoint(1));
  EXPECT_EQ(deleted, std::vector<std::string>{"x"});
}

}  // namespace
}  // namespace sluice
