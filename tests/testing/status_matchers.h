// GoogleTest helpers for Status and Result.
#pragma once

#include <gtest/gtest.h>

#include "runtime/base/result.h"

#define ASSERT_OK(expr)                                      \
  do {                                                       \
    const ::sluice::Status _testStatus = (expr);             \
    ASSERT_TRUE(_testStatus.ok()) << _testStatus.toString(); \
  } while (false)

#define EXPECT_OK(expr)                                      \
  do {                                                       \
    const ::sluice::Status _testStatus = (expr);             \
    EXPECT_TRUE(_testStatus.ok()) << _testStatus.toString(); \
  } while (false)

#define SLUICE_TEST_CONCAT_INNER(a, b) a##b
#define SLUICE_TEST_CONCAT(a, b) SLUICE_TEST_CONCAT_INNER(a, b)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)   \
  auto tmp = (expr);                                \
  ASSERT_TRUE(tmp.ok()) << tmp.status().toString(); \
  lhs = std::move(tmp).value()

/// ASSERT_OK_AND_ASSIGN(auto value, resultExpression);
#define ASSERT_OK_AND_ASSIGN(lhs, expr) ASSERT_OK_AND_ASSIGN_IMPL(SLUICE_TEST_CONCAT(_testResult, __LINE__), lhs, expr)
