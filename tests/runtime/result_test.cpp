// Description: result<T, E> holds a value or an error, result<void> works,
// moves keep the payload, PRIO_TRY propagates errors, prio_category names
// every errc, and a bad value() access terminates with a message.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "prio/runtime/result.hpp"

namespace {

using prio::errc;
using prio::result;

result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return prio::failure(prio::errno_error(EINVAL));
  return c - '0';
}

result<int> sum_digits(const char* s) {
  int total = 0;
  for (; *s; ++s) {
    auto d = parse_digit(*s);
    PRIO_TRY(d);
    total += *d;
  }
  return total;
}

result<void> check_positive(int v) {
  if (v <= 0) return prio::failure(errc::config_bad_value);
  return prio::success();
}

result<void> check_all(int a, int b) {
  PRIO_TRY(check_positive(a));
  PRIO_TRY(check_positive(b));
  return {};
}

TEST(Result, HoldsValue) {
  result<int> r = 42;
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(r.value_or(7), 42);
}

TEST(Result, HoldsError) {
  result<int> r = prio::failure(prio::errno_error(ENOENT));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), std::errc::no_such_file_or_directory);
  EXPECT_EQ(r.value_or(7), 7);
}

TEST(Result, PrioErrcConvertsToErrorCode) {
  result<int> r = prio::failure(errc::executor_closed);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::executor_closed);
  EXPECT_EQ(&r.error().category(), &prio::prio_category());
  std::error_code ec = errc::task_busy;  // is_error_code_enum
  EXPECT_EQ(ec.value(), static_cast<int>(errc::task_busy));
}

TEST(Result, CategoryNamesEveryErrc) {
  EXPECT_STREQ(prio::prio_category().name(), "prio");
  for (int e = 0; e <= static_cast<int>(errc::foreign_handle); ++e) {
    const std::string msg = prio::prio_category().message(e);
    EXPECT_FALSE(msg.empty());
    EXPECT_EQ(msg.find("unknown prio error"), std::string::npos) << e;
  }
  EXPECT_NE(prio::prio_category().message(999).find("999"), std::string::npos);
  // Config errors compare equal to EINVAL's portable condition.
  EXPECT_EQ(prio::make_error_code(errc::config_syntax), std::errc::invalid_argument);
}

TEST(Result, VoidResult) {
  result<void> ok = prio::success();
  EXPECT_TRUE(ok);
  ok.value();  // does not terminate
  result<void> bad = prio::failure(prio::errno_error(EAGAIN));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), std::errc::resource_unavailable_try_again);
}

TEST(Result, MoveOnlyValueAndMoves) {
  result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r);
  result<std::unique_ptr<int>> moved = std::move(r);
  ASSERT_TRUE(moved);
  EXPECT_EQ(**moved, 5);
  std::unique_ptr<int> p = std::move(moved).value();
  EXPECT_EQ(*p, 5);

  result<std::string> a = std::string(100, 'x');
  result<std::string> b = prio::failure(prio::errno_error(EIO));
  b = std::move(a);  // error -> value assignment
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size(), 100u);
  b = prio::failure(prio::errno_error(EIO));  // value -> error assignment
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error(), std::errc::io_error);
  result<std::string> c = b;  // copy of an error
  EXPECT_EQ(c.error(), std::errc::io_error);
}

TEST(Result, CustomErrorType) {
  struct my_error {
    std::string what;
  };
  result<int, my_error> r = prio::failure(my_error{"nope"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what, "nope");
}

TEST(Result, TryPropagates) {
  auto good = sum_digits("1234");
  ASSERT_TRUE(good);
  EXPECT_EQ(*good, 10);
  auto bad = sum_digits("12x4");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), std::errc::invalid_argument);

  EXPECT_TRUE(check_all(1, 2));
  auto r = check_all(1, -2);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::config_bad_value);
}

TEST(ResultDeathTest, ValueOfErrorTerminates) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  result<int> r = prio::failure(prio::errno_error(EINVAL));
  EXPECT_DEATH((void)r.value(), "value\\(\\) of an errored result");
  result<int> ok = 1;
  EXPECT_DEATH((void)ok.error(), "error\\(\\) of a successful result");
}

}  // namespace
