#include "runtime/base/result.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

Result<int> parsePositive(int value) {
  if (value <= 0) return Status::invalidArgument("not positive: " + std::to_string(value));
  return value;
}

Status useParsed(int value, int* out) {
  SLUICE_ASSIGN_OR_RETURN(*out, parsePositive(value));
  return Status::OK();
}

TEST(StatusTest, OkHasNoMessage) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.toString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndContext) {
  Status status = Status::notFound("file x").withContext("source 'events'");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.toString(), "not found: source 'events': file x");
}

TEST(StatusTest, AssignOrReturnPropagates) {
  int value = 0;
  ASSERT_OK(useParsed(3, &value));
  EXPECT_EQ(value, 3);
  Status failed = useParsed(-1, &value);
  EXPECT_EQ(failed.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(value, 3);
}

TEST(StatusDeathTest, ValueOfErrorAborts) {
  Result<int> result = Status::internal("boom");
  EXPECT_DEATH((void)result.value(), "check failed");
}

}  // namespace
}  // namespace sluice
