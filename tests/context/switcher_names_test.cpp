// Description: switcher names round-trip through to_string/parse_switcher and
// unknown names are EINVAL; make_context rejects an unknown kind.
#include "switcher_param.hpp"

namespace prio::test {
namespace {

TEST(switcher_names, round_trip) {
  for (switcher_kind k : all_switchers) {
    auto r = parse_switcher(to_string(k));
    ASSERT_TRUE(r) << to_string(k);
    EXPECT_EQ(*r, k);
  }
  EXPECT_EQ(to_string(switcher_kind::asm_switch), "asm");
  EXPECT_EQ(to_string(switcher_kind::coroutine), "coroutine");
}

TEST(switcher_names, unknown_is_einval) {
  for (const char* bad : {"", "ASM", "fiber", "asm ", "coro"}) {
    auto r = parse_switcher(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
  }
  auto c = make_context(static_cast<switcher_kind>(99));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), std::errc::invalid_argument);
}

}  // namespace
}  // namespace prio::test
