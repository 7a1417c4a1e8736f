// Description: the examples' command-line values are read strictly: digits
// only, in range, no trailing characters; a refusal names the option and
// the accepted range on stderr; seconds must be finite and positive; the
// switcher is one of the four that can suspend.
#include <gtest/gtest.h>

#include <string>

#include "examples/common/cli.hpp"

namespace prio::test {
namespace {

using examples::parse_seconds;
using examples::parse_switcher;
using examples::parse_uint;

TEST(ExampleCli, WholeNumbersInRangeAreTaken) {
  unsigned long n = 7;
  EXPECT_TRUE(parse_uint("p", "--port", "0", 0, 65535, n));
  EXPECT_EQ(n, 0u);
  EXPECT_TRUE(parse_uint("p", "--port", "65535", 0, 65535, n));
  EXPECT_EQ(n, 65535u);
  EXPECT_TRUE(parse_uint("p", "--depth", "0012", 1, 1024, n));
  EXPECT_EQ(n, 12u);
}

TEST(ExampleCli, BadNumbersAreRefusedNamingTheOption) {
  for (const char* bad : {"99999", "65536", "abc", "", "-1", "+5", " 5", "5x", "1e3", "18446744073709551616"}) {
    unsigned long n = 42;
    ::testing::internal::CaptureStderr();
    EXPECT_FALSE(parse_uint("echo_server", "--port", bad, 0, 65535, n)) << "'" << bad << "'";
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("echo_server: --port: '" + std::string(bad) + "'"), std::string::npos) << err;
    EXPECT_NE(err.find("0..65535"), std::string::npos) << err;
    EXPECT_EQ(n, 42u) << "left as it was";
  }
  unsigned long n = 0;
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(parse_uint("echo_load", "--connections", "0", 1, 10000, n)) << "below the range";
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("1..10000"), std::string::npos);
}

TEST(ExampleCli, SecondsArePositiveFiniteAndBounded) {
  double s = 0;
  EXPECT_TRUE(parse_seconds("p", "--duration", "0.25", 3600, s));
  EXPECT_DOUBLE_EQ(s, 0.25);
  EXPECT_TRUE(parse_seconds("p", "--duration", "3600", 3600, s));
  for (const char* bad : {"0", "-1", "abc", "", "1s", "nan", "inf", "3601", "1e400"}) {
    double v = 9;
    ::testing::internal::CaptureStderr();
    EXPECT_FALSE(parse_seconds("p", "--duration", bad, 3600, v)) << "'" << bad << "'";
    EXPECT_NE(::testing::internal::GetCapturedStderr().find("--duration"), std::string::npos);
    EXPECT_EQ(v, 9) << "left as it was";
  }
}

TEST(ExampleCli, SwitcherNames) {
  switcher_kind k = switcher_kind::none;
  EXPECT_TRUE(parse_switcher("p", "coroutine", k));
  EXPECT_EQ(k, switcher_kind::coroutine);
  EXPECT_TRUE(parse_switcher("p", "asm", k));
  EXPECT_EQ(k, switcher_kind::asm_switch);
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(parse_switcher("p", "none", k)) << "cannot suspend: no use to a server";
  EXPECT_FALSE(parse_switcher("p", "fibers", k));
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("'fibers' is not one of"), std::string::npos);
  EXPECT_EQ(k, switcher_kind::asm_switch);
}

}  // namespace
}  // namespace prio::test
